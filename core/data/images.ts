/**
 * Image datasets: uint8 pixels as stored (the built-in MNIST and Fashion-MNIST assets, image folders)
 * into float samples in [0, 1], and adapted to a model's image input the way the classic papers did:
 * 28×28 digits zero-padded in the centre to 32×32 (LeNet-5), one grey channel repeated for a colour input.
 */
import type { Tensor } from '../engine/engine.ts';
import { formatShape, type TensorType } from '../graph/dim.ts';
import { DatasetError, type Dataset } from './dataset.ts';

/** Images (N×H×W or N×C×H×W, uint8) and labels (N, any integer type) as a dataset of C×H×W floats in [0, 1]. */
export function imagesFromArrays(name: string, x: Tensor, y: Tensor): Dataset {
  if (x.dtype !== 'uint8' || (x.dims.length !== 3 && x.dims.length !== 4)) throw new DatasetError(`${name}: images must be uint8 N×H×W or N×C×H×W, not ${x.dtype} ${x.dims.join('×')}`);
  if (y.dims.length !== 1 || y.dims[0] !== x.dims[0]) throw new DatasetError(`${name}: ${x.dims[0]} images but labels of shape ${y.dims.join('×')}`);
  if (y.dtype === 'float32' || y.dtype === 'float64') throw new DatasetError(`${name}: labels must be integers, not ${y.dtype}`);
  const pixels = new Float32Array(x.data.length);
  const source = x.data as Uint8Array;
  for (let i = 0; i < source.length; i++) pixels[i] = source[i] / 255;
  const labels = BigInt64Array.from(y.data as ArrayLike<number | bigint>, (v) => BigInt(v));
  let classes = 0;
  for (const v of labels) classes = Math.max(classes, Number(v) + 1);
  const dims = x.dims.length === 3 ? [1, ...x.dims.slice(1)] : x.dims.slice(1);
  return { name, size: x.dims[0], x: { dims, dtype: 'float32', data: pixels }, y: { dims: [], dtype: 'int64', data: labels }, classes };
}

/**
 * Adapts an image dataset (C×H×W samples) to a model input of another image shape: a smaller image is
 * zero-padded in the centre, one channel is repeated for three. Returns the dataset (unchanged when it
 * already fits or is not made of images) and what was done, in words for the person training.
 */
export function fitImages(ds: Dataset, input: TensorType): { dataset: Dataset; adapted: string[] } {
  const want = input.shape.slice(1);
  const [c, h, w] = ds.x.dims;
  if (ds.x.dims.length !== 3 || want.length !== 3 || want.some((d) => typeof d !== 'number')) return { dataset: ds, adapted: [] };
  const [wc, wh, ww] = want as number[];
  if (c === wc && h === wh && w === ww) return { dataset: ds, adapted: [] };
  const cannot = (why: string) => new DatasetError(`${ds.name}'s images are ${c}×${h}×${w} but the model input is ${formatShape(input.shape)}: ${why}`);
  if (wh < h || ww < w) throw cannot('they are larger than the input, and Netloom pads images but does not crop or shrink them');
  if (c !== wc && !(c === 1 && wc === 3)) throw cannot(`${c} channels cannot become ${wc} (only one grey channel can be repeated for three)`);
  const adapted: string[] = [];
  if (wh !== h || ww !== w) adapted.push(`zero-padded ${h}×${w} to ${wh}×${ww}, centred`);
  if (c !== wc) adapted.push(`repeated the grey channel for ${wc} channels`);
  const top = Math.floor((wh - h) / 2);
  const left = Math.floor((ww - w) / 2);
  const source = ds.x.data as Float32Array;
  const out = new Float32Array(ds.size * wc * wh * ww);
  for (let n = 0; n < ds.size; n++)
    for (let k = 0; k < wc; k++) {
      const from = (n * c + (c === 1 ? 0 : k)) * h * w;
      const to = (n * wc + k) * wh * ww;
      for (let r = 0; r < h; r++) out.set(source.subarray(from + r * w, from + (r + 1) * w), to + (top + r) * ww + left);
    }
  return { dataset: { ...ds, x: { dims: [wc, wh, ww], dtype: 'float32', data: out } }, adapted };
}
