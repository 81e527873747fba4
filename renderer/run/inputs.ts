/**
 * Inputs for a run, from what a person has at hand: a drawing, an image file, a dataset sample, a .npy
 * file or random values, each made into a batch of one for the model's input shape.
 */
import { isImageSet, type ImageSetName } from '../../core/data/builtin.ts';
import { fitImages } from '../../core/data/images.ts';
import { parseNpy } from '../../core/data/npy.ts';
import { Rng } from '../../core/graph/weights.ts';
import { formatShape, type TensorType } from '../../core/graph/dim.ts';
import type { Tensor } from '../../core/engine/engine.ts';
import { loadImageSet } from '../../engines/web/datasets.ts';

export class InputError extends Error {}

/** The per-sample shape of an input, with every size known (a symbolic one other than the batch cannot be run). */
export function sampleShape(name: string, type: TensorType): number[] {
  const dims = type.shape.slice(1);
  if (dims.some((d) => typeof d !== 'number')) throw new InputError(`${name} is ${formatShape(type.shape)}: give it a .npy file, whose shape sets the sizes`);
  return dims as number[];
}

/** An image input is C×H×W with 1 or 3 channels. */
export const isImageInput = (dims: number[]) => dims.length === 3 && (dims[0] === 1 || dims[0] === 3);

/** Greyscale pixels in [0, 1] (H×W) fitted to a C×H×W input: the same size, one channel repeated as needed. */
export function imageTensor(grey: Float32Array, dims: number[]): Tensor {
  const [c, h, w] = dims;
  const data = new Float32Array(c * h * w);
  for (let k = 0; k < c; k++) data.set(grey.subarray(0, h * w), k * h * w);
  return { dtype: 'float32', dims: [1, c, h, w], data };
}

/** Draws the drawing pad into H×W greyscale in [0, 1], scaled to fit. */
export function greyscale(source: CanvasImageSource, h: number, w: number): Float32Array {
  const canvas = new OffscreenCanvas(w, h);
  const context = canvas.getContext('2d')!;
  context.fillStyle = '#000';
  context.fillRect(0, 0, w, h);
  context.drawImage(source, 0, 0, w, h);
  const { data } = context.getImageData(0, 0, w, h);
  const out = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) out[i] = (0.299 * data[i * 4] + 0.587 * data[i * 4 + 1] + 0.114 * data[i * 4 + 2]) / 255;
  return out;
}

/** Sample `index` of a built-in image set, adapted to the input as training adapts it (padding, channels). */
export async function datasetSample(name: ImageSetName, index: number, type: TensorType): Promise<{ tensor: Tensor; label: number; adapted: string[] }> {
  if (!isImageSet(name)) throw new InputError(`no built-in image set "${name}"`);
  const all = await loadImageSet(name);
  if (!Number.isInteger(index) || index < 0 || index >= all.size) throw new InputError(`${name} has samples 0 to ${all.size - 1}; ${index} is not one of them`);
  const per = all.x.dims.reduce((a, b) => a * b, 1);
  const one = {
    ...all,
    size: 1,
    x: { ...all.x, data: (all.x.data as Float32Array).slice(index * per, (index + 1) * per) },
    y: { ...all.y, data: (all.y.data as BigInt64Array).slice(index, index + 1) },
  };
  const { dataset, adapted } = fitImages(one, type);
  return { tensor: { dtype: 'float32', dims: [1, ...dataset.x.dims], data: dataset.x.data as Float32Array }, label: Number(one.y.data[0]), adapted };
}

/** A .npy file as the input: a whole batch, or one sample that gets a batch of one. */
export function npyTensor(name: string, file: string, bytes: Uint8Array, type: TensorType): Tensor {
  let t: Tensor;
  try {
    t = parseNpy(bytes);
  } catch (e) {
    throw new InputError(`${file}: ${(e as Error).message}`);
  }
  const rank = type.shape.length;
  const dims = t.dims.length === rank - 1 ? [1, ...t.dims] : t.dims;
  if (dims.length !== rank || type.shape.some((d, i) => i > 0 && typeof d === 'number' && d !== dims[i]))
    throw new InputError(`${file} is ${t.dims.join('×')}, but ${name} takes ${formatShape(type.shape)}`);
  const wantInt = type.dtype === 'int64';
  if (wantInt !== (t.dtype === 'int64' || t.dtype === 'int32')) throw new InputError(`${file} holds ${t.dtype}, but ${name} takes ${type.dtype}`);
  const data = wantInt ? BigInt64Array.from(t.data as ArrayLike<number | bigint>, (v) => BigInt(v)) : Float32Array.from(t.data as ArrayLike<number>, Number);
  return { dtype: wantInt ? 'int64' : 'float32', dims, data };
}

/** Seeded random values: uniform in [0, 1) for floats, token ids below `classes` for integers. */
export function randomTensor(dims: number[], type: TensorType, seed: number, classes = 10): Tensor {
  const rng = new Rng(seed);
  const count = dims.reduce((a, b) => a * b, 1);
  if (type.dtype === 'int64') return { dtype: 'int64', dims: [1, ...dims], data: BigInt64Array.from({ length: count }, () => BigInt(Math.floor(rng.next() * classes))) };
  return { dtype: 'float32', dims: [1, ...dims], data: Float32Array.from({ length: count }, () => rng.next()) };
}

/** Probabilities from a classifier's output row: softmax of logits, or the row itself when it already is one. */
export function probabilities(row: Float32Array): Float32Array {
  const sum = row.reduce((a, b) => a + b, 0);
  if (row.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-3) return row;
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / total);
}
