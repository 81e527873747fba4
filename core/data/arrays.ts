/**
 * NumPy arrays as a dataset (a .npz archive, or .npy files picked together): samples in "x" and targets
 * in "y" (or the model input's name and "target"), the first dimension counting the samples.
 */
import type { Tensor } from '../engine/engine.ts';
import { DatasetError, type Dataset, type SampleArray } from './dataset.ts';
import { imagesFromArrays } from './images.ts';

export function datasetFromArrays(name: string, arrays: Map<string, Tensor>, inputName: string): Dataset {
  const x = arrays.get('x') ?? arrays.get(inputName);
  const y = arrays.get('y') ?? arrays.get('target');
  if (!x || !y) throw new DatasetError(`${name}: needs arrays "x" and "y" (or "${inputName}" and "target"); it has ${[...arrays.keys()].join(', ') || 'none'}`);
  if (x.dims.length === 0 || y.dims.length === 0) throw new DatasetError(`${name}: x and y must be arrays of samples (their first dimension counts the samples)`);
  if (x.dims[0] !== y.dims[0]) throw new DatasetError(`${name}: x has ${x.dims[0]} samples but y has ${y.dims[0]}`);
  // uint8 images (as MNIST is stored) become floats in [0, 1].
  if (x.dtype === 'uint8' && (x.dims.length === 3 || x.dims.length === 4)) return imagesFromArrays(name, x, y);
  const sample = (t: Tensor, what: string): SampleArray => {
    if (t.dtype === 'float64') return { dims: t.dims.slice(1), dtype: 'float32', data: Float32Array.from(t.data as Float64Array) };
    if (t.dtype === 'int32') return { dims: t.dims.slice(1), dtype: 'int64', data: BigInt64Array.from(t.data as Int32Array, (v) => BigInt(v)) };
    if (t.dtype !== 'float32' && t.dtype !== 'int64') throw new DatasetError(`${name}: ${what} is ${t.dtype}; use float32 or int64`);
    return { dims: t.dims.slice(1), dtype: t.dtype, data: t.data as Float32Array | BigInt64Array };
  };
  return { name, size: x.dims[0], x: sample(x, 'x'), y: sample(y, 'y') };
}
