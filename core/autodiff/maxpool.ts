/**
 * MaxPool's gradient without the pool's Indices output, in two forms.
 *
 * By comparison (maxPoolGradByComparison), for engines whose MaxPool never writes the Indices (ONNX
 * Runtime Web's WebGPU provider): each window's maximum is found again by comparing every position of
 * the window with the pooled output, and the gradient goes back through a transposed convolution. Only
 * convolutions, comparisons and arithmetic, which ONNX Runtime Web 1.30's WebGPU provider gets right (a
 * first form, strided Slices of the input padded with −∞, did not give the right values there).
 *
 * For windows that tile the input (maxPoolGradForTiles), on every other engine: strided slices, because
 * a plain pool and the slices cost less than a pool that writes its Indices.
 *
 * Both send each window's gradient where the Indices form sends it, ties included: to the first maximum
 * in window order (row by row), as ONNX Runtime and PyTorch pick it.
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
  const offsets = indexTuples(kernel);
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
  const positions = indexTuples(spatialY);
  const mask = offsets.flatMap((offset) => positions.map((p) => (p.every((q, i) => inRange(q * strides[i] - pads[i] + offset[i] * dilations[i], spatialX[i])) ? 1 : 0)));
  return mask.includes(0) ? mask : null;
}

const inRange = (at: number, size: number) => at >= 0 && at < size;

/** Every index tuple below `sizes`, in row-major order ([2, 2]: [0, 0], [0, 1], [1, 0], [1, 1]). */
const indexTuples = (sizes: number[]): number[][] => sizes.reduce<number[][]>((all, n) => all.flatMap((t) => Array.from({ length: n }, (_, j) => [...t, j])), [[]]);

/**
 * The static sizes [C, ...spatial] of a pool's input whose windows tile it exactly (stride = kernel on
 * every axis, no padding or dilation, every spatial size a multiple of the kernel's: LeNet's and VGG's
 * 2×2 pools), or null.
 */
export function tiledInput(window: PoolWindow, shape: readonly (number | string)[] | undefined): number[] | null {
  const { kernel, strides, dilations, pads } = window;
  if (!shape || shape.length !== kernel.length + 2 || pads.some((p) => p !== 0)) return null;
  const sizes = shape.slice(1);
  if (sizes.some((d) => typeof d !== 'number')) return null;
  const spatial = sizes.slice(1) as number[];
  return kernel.every((k, i) => strides[i] === k && dilations[i] === 1 && spatial[i] % k === 0) ? (sizes as number[]) : null;
}

/**
 * ∂L/∂x of y = MaxPool(x) for windows that tile x exactly (see tiledInput; `sizes` is its [C, ...spatial]),
 * given g = ∂L/∂y, without the pool's Indices: ONNX Runtime's CPU MaxPool takes ~12× a plain pool's time to
 * write them (3.5 against 0.28 ms for the CA2 CNN's first pool). The values at each window offset are a
 * strided Slice of x; in window order (row by row), an offset takes g where it equals y and no earlier
 * offset did, so ties go to the first maximum as ONNX Runtime and PyTorch send them; the last offset takes
 * what is left. The pieces are then interleaved back into x's layout.
 */
export function maxPoolGradForTiles(b: OnnxBuilder, x: string, y: string, g: string, kernel: number[], sizes: number[]): string {
  const [channels, ...spatial] = sizes;
  const rank = kernel.length;
  const pooled = spatial.map((d, i) => d / kernel[i]);
  const axes = b.ints(Array.from({ length: rank }, (_, i) => 2 + i));
  const offsets = indexTuples(kernel);
  // A 1×1 window passes every value through.
  if (offsets.length === 1) return g;
  const zero = b.floats([0]);
  let taken = '';
  const pieces = offsets.map((offset, n) => {
    if (n === offsets.length - 1) return b.unsqueeze(b.op('Where', [taken, zero, g]), [2 + rank]);
    const hit = b.op('Equal', [b.op('Slice', [x, b.ints(offset), b.ints(spatial), axes, b.ints(kernel)]), y]);
    const wins = n === 0 ? hit : b.op('And', [hit, b.op('Not', [taken])]);
    taken = n === 0 ? hit : b.op('Or', [taken, hit]);
    return b.unsqueeze(b.op('Where', [wins, g, zero]), [2 + rank]);
  });
  // [N, C, ...pooled, ...kernel], each pooled axis then followed by its kernel axis, is x's layout.
  const stacked = b.reshape(b.op('Concat', pieces, { axis: 2 + rank }), [0, channels, ...pooled, ...kernel]);
  const interleaved = b.op('Transpose', [stacked], { perm: [0, 1, ...pooled.flatMap((_, i) => [2 + i, 2 + rank + i])] });
  return b.reshape(interleaved, [0, channels, ...spatial]);
}
