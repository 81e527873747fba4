/**
 * MaxPool's gradient without the pool's Indices output, for engines whose MaxPool never writes it
 * (ONNX Runtime Web's WebGPU provider). Each window's maximum is found again by comparing the input
 * with the pooled output, one window offset at a time, and the gradient goes back through one
 * transposed convolution. It gives exactly what the Indices form gives, ties included: the first
 * maximum in window order (row by row), as ONNX Runtime and PyTorch pick it.
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
  const axes = spatialX.map((_, i) => 2 + i);
  // Every window's extent, padding included: the last window (ceil_mode) may reach past the end padding.
  const reach = spatialY.map((o, i) => (o - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1);
  const endPads = spatialX.map((size, i) => Math.max(pads[rank + i], reach[i] - pads[i] - size));
  // Padding never wins: ONNX Runtime's pool does not look at it, and −∞ is below every real maximum.
  const padded = pads.some((p) => p > 0) || endPads.some((p, i) => p > pads[rank + i]) ? b.op('Pad', [x, b.ints([0, 0, ...pads.slice(0, rank), 0, 0, ...endPads]), b.floats([-Infinity])]) : x;

  // For each window offset (row-major order), the positions it looks at that hold the window's maximum,
  // less the windows whose maximum an earlier offset already took (first maximum wins ties).
  const offsets = kernel.reduce<number[][]>((all, k) => all.flatMap((o) => Array.from({ length: k }, (_, j) => [...o, j])), [[]]);
  const flatY = [-1, 1, ...spatialY];
  let free: string | null = null;
  const shares = offsets.map((offset, n) => {
    const starts = offset.map((j, i) => j * dilations[i]);
    const seen = b.op('Slice', [padded, b.ints(starts), b.ints(starts.map((s, i) => s + (spatialY[i] - 1) * strides[i] + 1)), b.ints(axes), b.ints(strides)]);
    const isMax = b.op('Cast', [b.op('Equal', [seen, y])], { to: 1 });
    const wins = free ? b.op('Mul', [isMax, free]) : isMax;
    if (n < offsets.length - 1) free = b.op('Sub', [free ?? b.floats([1]), wins]);
    return b.reshape(b.op('Mul', [wins, g]), flatY);
  });

  // One channel per offset (batch and channels folded together), sent back to where that offset looks by
  // a transposed convolution whose kernel is one-hot at the offset: overlapping windows add up there.
  const K = offsets.length;
  const oneHot = new Array<number>(K * K).fill(0);
  for (let k = 0; k < K; k++) oneHot[k * K + k] = 1;
  // Its output spans reach − start pads; the part past the input's end (padding) is cut or, short of it, added.
  const past = spatialX.map((size, i) => reach[i] - pads[i] - size);
  const back = b.op('ConvTranspose', [b.op('Concat', shares, { axis: 1 }), b.floats(oneHot, [K, 1, ...kernel])], {
    kernel_shape: kernel,
    strides,
    dilations,
    pads: [...pads.slice(0, rank), ...past.map((p) => Math.max(0, p))],
    output_padding: past.map((p) => Math.max(0, -p)),
  });
  return b.op('Reshape', [back, b.op('Shape', [x])]);
}
