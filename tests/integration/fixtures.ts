/** Reading the PyTorch-made fixtures (base64 little-endian tensors). */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { Weights } from '../../core/graph/weights.ts';

export interface FixtureTensor {
  shape: number[];
  dtype?: 'float32' | 'int64';
  data: string;
}

export function loadFixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export function floats(t: FixtureTensor): Float32Array {
  const bytes = Buffer.from(t.data, 'base64');
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function toOrt(t: FixtureTensor): ort.Tensor {
  const bytes = Buffer.from(t.data, 'base64');
  if (t.dtype === 'int64') {
    const out = new BigInt64Array(bytes.length / 8);
    new Uint8Array(out.buffer).set(bytes);
    return new ort.Tensor('int64', out, t.shape);
  }
  return new ort.Tensor('float32', floats(t), t.shape);
}

export function weightsOf(prefix: string, tensors: Record<string, FixtureTensor>): Weights {
  return new Map(Object.entries(tensors).map(([name, t]) => [`${prefix}.${name}`, { shape: t.shape, data: floats(t) }]));
}

/** The largest |a − b| beyond atol + rtol·|b|, or 0 when all are within tolerance. */
export function worstError(actual: ArrayLike<number | bigint>, expected: ArrayLike<number | bigint>, atol = 1e-4, rtol = 1e-4): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [Number(actual[i]), Number(expected[i])];
    if (a === e) continue; // equal infinities too (masked attention scores)
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (!(excess <= 0)) worst = Math.max(worst, Number.isNaN(excess) ? Infinity : excess);
  }
  return worst;
}
