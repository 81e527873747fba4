/** Datasets: samples with one input array x and a target array y, batching, splits, and fit checks. */
import { Rng } from '../graph/weights.ts';
import type { Tensor } from '../engine/engine.ts';
import { formatShape, type TensorType } from '../graph/dim.ts';

export interface SampleArray {
  /** Per-sample shape. */
  dims: number[];
  dtype: 'float32' | 'int64';
  data: Float32Array | BigInt64Array;
}

export interface Dataset {
  name: string;
  size: number;
  x: SampleArray;
  y: SampleArray;
  /** The number of classes, for classification targets. */
  classes?: number;
}

export class DatasetError extends Error {}

const perSample = (a: SampleArray) => a.dims.reduce((p, d) => p * d, 1);

function gather(a: SampleArray, indices: ArrayLike<number>): Tensor {
  const n = perSample(a);
  const out = a.dtype === 'int64' ? new BigInt64Array(indices.length * n) : new Float32Array(indices.length * n);
  for (let i = 0; i < indices.length; i++) (out as Float32Array).set((a.data as Float32Array).subarray(indices[i] * n, (indices[i] + 1) * n), i * n);
  return { dtype: a.dtype, dims: [indices.length, ...a.dims], data: out };
}

export function batchOf(ds: Dataset, indices: ArrayLike<number>): { x: Tensor; y: Tensor } {
  return { x: gather(ds.x, indices), y: gather(ds.y, indices) };
}

export function subset(ds: Dataset, indices: number[], name = ds.name): Dataset {
  const pick = (a: SampleArray): SampleArray => ({ dims: a.dims, dtype: a.dtype, data: gather(a, indices).data as SampleArray['data'] });
  return { name, size: indices.length, x: pick(ds.x), y: pick(ds.y), classes: ds.classes };
}

/** A fixed permutation from a seed (Fisher–Yates). */
export function permutation(size: number, seed: number): number[] {
  const rng = new Rng(seed);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** The same split every time: a seeded shuffle, then the first `trainSize` samples for training. */
export function split(ds: Dataset, trainSize: number, valSize: number, seed = 0): { train: Dataset; val: Dataset } {
  if (trainSize + valSize > ds.size) throw new DatasetError(`${ds.name} has ${ds.size} samples, fewer than ${trainSize} + ${valSize}`);
  const order = permutation(ds.size, seed);
  return { train: subset(ds, order.slice(0, trainSize), `${ds.name} (train)`), val: subset(ds, order.slice(trainSize, trainSize + valSize), `${ds.name} (validation)`) };
}

/** Reshapes x to the model's per-sample input shape, when the element counts agree. */
export function shapedTo(ds: Dataset, input: TensorType): Dataset {
  const want = input.shape.slice(1);
  if (want.some((d) => typeof d !== 'number')) return ds;
  const count = (want as number[]).reduce((p, d) => p * d, 1);
  if (count !== perSample(ds.x))
    throw new DatasetError(`${ds.name}'s samples are ${ds.x.dims.join('×')} (${perSample(ds.x)} values) but the model input is ${formatShape(input.shape)} (${count} per sample)`);
  if (input.dtype !== ds.x.dtype) throw new DatasetError(`${ds.name}'s samples are ${ds.x.dtype} but the model input is ${input.dtype}`);
  return { ...ds, x: { ...ds.x, dims: want as number[] } };
}

/** Checks the target against what the loss expects; the message names the dimension that disagrees. */
export function checkTarget(ds: Dataset, target: TensorType, prediction: TensorType): void {
  const want = target.shape.slice(1);
  if (ds.size === 0) throw new DatasetError(`${ds.name} has no samples`);
  if (target.dtype !== ds.y.dtype) throw new DatasetError(`${ds.name}'s targets are ${ds.y.dtype} but the loss wants ${target.dtype} (${target.dtype === 'int64' ? 'class indices' : 'values'})`);
  want.forEach((d, i) => {
    if (typeof d === 'number' && ds.y.dims[i] !== d)
      throw new DatasetError(`${ds.name}'s targets are ${ds.y.dims.join('×') || 'one value'} per sample but the loss wants ${want.join('×')}: dimension ${i + 1} is ${ds.y.dims[i]}, not ${d}`);
  });
  if (want.length !== ds.y.dims.length) throw new DatasetError(`${ds.name}'s targets have ${ds.y.dims.length} dimensions per sample; the loss wants ${want.length}`);
  const classes = prediction.shape[1];
  if (target.dtype === 'int64' && typeof classes === 'number') {
    let max = 0n;
    let min = 0n;
    for (const v of ds.y.data as BigInt64Array) {
      if (v > max) max = v;
      if (v < min) min = v;
    }
    if (min < 0n) throw new DatasetError(`${ds.name} has class ${min}; class labels are 0 to ${classes - 1}`);
    if (Number(max) >= classes)
      throw new DatasetError(
        `${ds.name} has class ${max} but the model predicts ${classes} ${classes === 1 ? 'class' : 'classes'} (its last layer has ${classes} ${classes === 1 ? 'output' : 'outputs'})`,
      );
  }
}

/** Synthetic 2-D classification sets: spiral (CS231n), XOR, moons and Gaussian blobs. */
export function synthetic(name: string, samples = 300, seed = 0): Dataset {
  const rng = new Rng(seed);
  const noise = () => rng.normal();
  const x: number[] = [];
  const y: number[] = [];
  const classes = name === 'spiral' || name === 'blobs' ? 3 : 2;
  for (let i = 0; i < samples; i++) {
    const k = i % classes;
    let p: [number, number];
    if (name === 'spiral') {
      const r = Math.floor(i / classes) / Math.ceil(samples / classes);
      const t = k * 4 + r * 4 + noise() * 0.2;
      p = [r * Math.sin(t), r * Math.cos(t)];
    } else if (name === 'xor') {
      const a = rng.next() * 2 - 1;
      const b = rng.next() * 2 - 1;
      p = [a, b];
      y.push(a * b > 0 ? 1 : 0);
    } else if (name === 'moons') {
      const t = Math.PI * rng.next();
      p = k === 0 ? [Math.cos(t) + noise() * 0.1, Math.sin(t) + noise() * 0.1] : [1 - Math.cos(t) + noise() * 0.1, 0.5 - Math.sin(t) + noise() * 0.1];
    } else if (name === 'blobs') {
      const centres = [
        [-2, 0],
        [2, 0],
        [0, 2.5],
      ];
      p = [centres[k][0] + noise() * 0.6, centres[k][1] + noise() * 0.6];
    } else throw new DatasetError(`no built-in dataset "${name}" (built in: mnist, fashion-mnist, spiral, xor, moons, blobs)`);
    x.push(...p);
    if (name !== 'xor') y.push(k);
  }
  return { name, size: samples, x: { dims: [2], dtype: 'float32', data: Float32Array.from(x) }, y: { dims: [], dtype: 'int64', data: BigInt64Array.from(y.map(BigInt)) }, classes };
}

export const SYNTHETIC = ['spiral', 'xor', 'moons', 'blobs'] as const;
