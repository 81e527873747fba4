/**
 * MaxPool's gradient without the pool's Indices output, for engines whose MaxPool never writes it
 * (ONNX Runtime Web's WebGPU provider). Each window's maximum is found again by comparing every
 * position of the window with the pooled output, and the gradient goes back through a transposed
 * convolution. It sends each window's gradient where the Indices form sends it, ties included: to the
 * first maximum in window order (row by row), as ONNX Runtime and PyTorch pick it.
 *
 * Only convolutions, comparisons and arithmetic, which ONNX Runtime Web 1.30's WebGPU provider gets
 * right (a first form, strided Slices of the input padded with −∞, did not give the right values there).
 */
import type { OnnxBuilder } from '../onnx/builder.ts';

export interface PoolWindow {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** ONNX order: every spatial axis's start, then every end. */
  pads: number[];
}

/**
 * ∂L/∂x of y = MaxPool(x), given g = ∂L/∂y. xDims and yDims are the input's and output's static sizes
 * (all but the batch, which may be -1).
 */
export function maxPoolGradByComparison(b: OnnxBuilder, x: string, y: string, g: string, window: PoolWindow, xDims: number[], yDims: number[]): string {
  const { kernel, strides, dilations, pads } = window;
  const rank = kernel.length;
  const spatialX = xDims.slice(2);
  const spatialY = yDims.slice(2);
  // The window offsets in window order (row-major), K of them.
  const offsets = kernel.reduce<number[][]>((all, k) => all.flatMap((o) => Array.from({ length: k }, (_, j) => [...o, j])), [[]]);
  const K = offsets.length;
  const oneHot = new Array<number>(K * K).fill(0);
  for (let k = 0; k < K; k++) oneHot[k * K + k] = 1;
  const perOffset = b.floats(oneHot, [K, 1, ...kernel]);
  // Batch and channels folded together: every channel is pooled alone.
  const single = (v: string) => b.reshape(v, [-1, 1, ...spatialY]);

  // Channel k of `seen`: the value at offset k of every window, by a convolution whose kernel is one-hot
  // at k (x·1 plus zeros, exact). Where the offset lies in the padding it reads 0, which must not count.
  const reach = spatialY.map((o, i) => (o - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1);
  // The last window (ceil_mode) may reach past the end padding; the convolution pads that far with zeros.
  const endPads = spatialX.map((size, i) => Math.max(pads[rank + i], reach[i] - pads[i] - size));
  const convPads = [...pads.slice(0, rank), ...endPads];
  const seen = b.op('Conv', [b.reshape(x, [-1, 1, ...spatialX]), perOffset], { kernel_shape: kernel, strides, dilations, pads: convPads });
  let isMax = b.op('Cast', [b.op('Equal', [seen, single(y)])], { to: 1 });
  const inside = insideMask(offsets, window, spatialX, spatialY);
  if (inside) isMax = b.op('Mul', [isMax, b.floats(inside, [1, K, ...spatialY])]);

  // First maximum wins: how many earlier offsets of the same window hold it (a 1×1 convolution over
  // the offsets with a strictly lower-triangular kernel; small whole numbers, exact), and only where none.
  const earlier = new Array<number>(K * K).fill(0);
  for (let k = 0; k < K; k++) for (let j = 0; j < k; j++) earlier[k * K + j] = 1;
  const before = b.op('Conv', [isMax, b.floats(earlier, [K, K, ...kernel.map(() => 1)])], { kernel_shape: kernel.map(() => 1) });
  const wins = b.op('Mul', [isMax, b.op('Cast', [b.op('Equal', [before, b.floats([0])])], { to: 1 })]);

  // Each window's gradient at its winning offset, sent back to where that offset looks by the transposed
  // convolution with the same one-hot kernels: where windows overlap, their gradients add up. Its output
  // spans reach − 2·start pads + output padding. Pads are kept symmetric (ONNX Runtime Web 1.30's WebGPU
  // ConvTranspose gets uneven ones wrong): the output padding makes up the input's end, and where the last
  // window reaches further (ceil_mode), the surplus, all padding, is cut off.
  const surplus = spatialX.map((size, i) => reach[i] - 2 * pads[i] - size);
  let back = b.op('ConvTranspose', [b.op('Mul', [wins, single(g)]), perOffset], {
    kernel_shape: kernel,
    strides,
    dilations,
    pads: [...pads.slice(0, rank), ...pads.slice(0, rank)],
    output_padding: surplus.map((p) => Math.max(0, -p)),
  });
  if (surplus.some((p) => p > 0)) back = b.op('Slice', [back, b.ints(spatialX.map(() => 0)), b.ints(spatialX), b.ints(spatialX.map((_, i) => 2 + i))]);
  return b.op('Reshape', [back, b.op('Shape', [x])]);
}

/** 1 where window offset k of output position p lies in the input, 0 where in the padding; null when it always lies in it. */
function insideMask(offsets: number[][], { strides, dilations, pads }: PoolWindow, spatialX: number[], spatialY: number[]): number[] | null {
  const positions = spatialY.reduce<number[][]>((all, n) => all.flatMap((p) => Array.from({ length: n }, (_, j) => [...p, j])), [[]]);
  const mask = offsets.flatMap((offset) => positions.map((p) => (p.every((q, i) => inRange(q * strides[i] - pads[i] + offset[i] * dilations[i], spatialX[i])) ? 1 : 0)));
  return mask.includes(0) ? mask : null;
}

const inRange = (at: number, size: number) => at >= 0 && at < size;
