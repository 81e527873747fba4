/**
 * Small conversions from ONNX's forms to the catalogue's, shared by the import patterns (core/layers)
 * and the importer (core/convert).
 */
import { tensorValues, type NodeProto, type TensorProto } from './proto.ts';

/** Symmetric pads [b1, b2, ..., e1, e2, ...] as one number per axis, or null when they differ. */
export function symmetricPads(pads: number[] | undefined, rank: number): number[] | null {
  if (!pads) return new Array(rank).fill(0);
  const begin = pads.slice(0, rank);
  return begin.every((p, i) => p === pads[rank + i]) ? begin : null;
}

/** A single number when all entries agree (PyTorch's int form), else the list. */
export const compact = (values: number[]): number | number[] => (values.every((v) => v === values[0]) ? values[0] : values);

export const floatArray = (t: TensorProto): Float32Array => tensorValues(t) as Float32Array;

/** A row-major rows × cols matrix transposed (ONNX's [in, out] weights to PyTorch's [out, in]). */
export function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Whether the node has exactly one output that is named (optional outputs such as BatchNorm's statistics unused). */
export const singleOutput = (n: NodeProto): boolean => n.output.filter(Boolean).length === 1;
