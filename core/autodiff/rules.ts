/**
 * Gradient rules, one per ONNX op, each written in standard ONNX ops (no training-only kernels), so
 * every execution provider runs the backward pass. A rule gets the forward node and the gradients of
 * its outputs, and returns the gradient of each input (null where it has none or none is needed).
 */
import { attr, attrInt, attrInts, attrString } from '../onnx/attributes.ts';
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { NodeProto } from '../onnx/proto.ts';
import type { TensorType } from '../graph/dim.ts';

export interface GradContext {
  b: OnnxBuilder;
  node: NodeProto;
  /** Gradients of the node's outputs (null where no gradient flows back). */
  grads: (string | null)[];
  /** Which inputs need a gradient. */
  needs: boolean[];
  typeOf(value: string): TensorType | undefined;
}

export type GradientRule = (ctx: GradContext) => (string | null)[];

export class GradientError extends Error {}

/** float32 zeros of x's shape, written without reading x (and without its NaNs). */
const zerosLike = (b: OnnxBuilder, x: string): string => b.op('ConstantOfShape', [b.op('Shape', [x])]);

/** A sliding window's strides, dilations and pads, with ONNX's defaults filled in. */
function windowAttributes(n: NodeProto, rank: number): { strides: number[]; dilations: number[]; pads: number[] } {
  return { strides: attrInts(n, 'strides') ?? new Array(rank).fill(1), dilations: attrInts(n, 'dilations') ?? new Array(rank).fill(1), pads: attrInts(n, 'pads') ?? new Array(2 * rank).fill(0) };
}

function rankOf(ctx: GradContext, value: string): number {
  const t = ctx.typeOf(value);
  if (!t) throw new GradientError(`the rank of "${value}" (input of ${ctx.node.op_type} ${ctx.node.name}) is unknown`);
  return t.shape.length;
}

/** The dims of a value, all known except perhaps the first (the batch); the first comes back as -1 then. */
function staticDims(ctx: GradContext, value: string, what: string): number[] {
  const t = ctx.typeOf(value);
  if (!t || t.shape.some((d, i) => i > 0 && typeof d !== 'number')) throw new GradientError(`${ctx.node.op_type} ${ctx.node.name}: the gradient needs a known ${what} (got ${t ? t.shape.join('×') : 'unknown'})`);
  return t.shape.map((d) => (typeof d === 'number' ? d : -1));
}

/** Sums a broadcast gradient back to the shape of `x`: over the axes where x had size 1 or no axis at all. */
export function unbroadcast(b: OnnxBuilder, grad: string, x: string, typeOf: (v: string) => TensorType | undefined): string {
  const tx = typeOf(x);
  const tg = typeOf(grad);
  if (!tx || !tg) throw new GradientError(`cannot sum a broadcast gradient back: the shape of "${!tx ? x : grad}" is unknown`);
  const padded = [...new Array(tg.shape.length - tx.shape.length).fill(1), ...tx.shape];
  const axes = padded.flatMap((d, i) => (d === 1 && tg.shape[i] !== 1 ? [i] : []));
  if (axes.length === 0 && tx.shape.length === tg.shape.length) return grad;
  const summed = axes.length > 0 ? b.reduce('ReduceSum', grad, axes, true) : grad;
  return b.op('Reshape', [summed, b.op('Shape', [x])]);
}

const only = (needs: boolean[], i: number, make: () => string): string | null => (needs[i] ? make() : null);

/** Element-wise ops whose gradient is g·f'(x), f' written with the input x and the output y. */
function unary(derivative: (b: OnnxBuilder, x: string, y: string) => string): GradientRule {
  return ({ b, node, grads: [g] }) => [g ? b.op('Mul', [g, derivative(b, node.input[0], node.output[0])]) : null];
}

function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/** Add and Sum: every input receives the output's gradient, summed back over the axes it was broadcast along. */
const passToEveryInput: GradientRule = ({ b, node, grads: [g], needs, typeOf }) => node.input.map((x, i) => (g && needs[i] ? unbroadcast(b, g, x, typeOf) : null));

export const RULES: Record<string, GradientRule> = {
  Identity: ({ grads: [g] }) => [g],
  Add: passToEveryInput,
  Sum: passToEveryInput,
  Sub: ({ b, node, grads: [g], needs, typeOf }) => [
    g && needs[0] ? unbroadcast(b, g, node.input[0], typeOf) : null,
    g && needs[1] ? unbroadcast(b, b.op('Neg', [g]), node.input[1], typeOf) : null,
  ],
  Mul: ({ b, node, grads: [g], needs, typeOf }) => {
    const [x, y] = node.input;
    return [g && needs[0] ? unbroadcast(b, b.op('Mul', [g, y]), x, typeOf) : null, g && needs[1] ? unbroadcast(b, b.op('Mul', [g, x]), y, typeOf) : null];
  },
  Div: ({ b, node, grads: [g], needs, typeOf }) => {
    const [x, y] = node.input;
    return [
      g && needs[0] ? unbroadcast(b, b.op('Div', [g, y]), x, typeOf) : null,
      g && needs[1] ? unbroadcast(b, b.op('Neg', [b.op('Div', [b.op('Mul', [g, node.output[0]]), y])]), y, typeOf) : null,
    ];
  },
  Neg: ({ b, grads: [g] }) => [g ? b.op('Neg', [g]) : null],
  // Where, as PyTorch's threshold_backward: no gradient where x ≤ 0, even a NaN one.
  Relu: ({ b, node, grads: [g] }) => [g ? b.op('Where', [b.op('Greater', [node.input[0], b.floats([0])]), g, b.floats([0])]) : null],
  LeakyRelu: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const slope = attr(node, 'alpha')?.f ?? 0.01;
    return [b.op('Mul', [g, b.op('Where', [b.op('Greater', [node.input[0], b.floats([0])]), b.floats([1]), b.floats([slope])])])];
  },
  Sigmoid: unary((b, _x, y) => b.op('Mul', [y, b.op('Sub', [b.floats([1]), y])])),
  Tanh: unary((b, _x, y) => b.op('Sub', [b.floats([1]), b.op('Mul', [y, y])])),
  Exp: unary((_b, _x, y) => y),
  Log: unary((b, x) => b.op('Reciprocal', [x])),
  Sqrt: unary((b, _x, y) => b.op('Div', [b.floats([0.5]), y])),
  Abs: unary((b, x) => b.op('Sign', [x])),
  Erf: unary((b, x) => b.op('Mul', [b.floats([2 / Math.sqrt(Math.PI)]), b.op('Exp', [b.op('Neg', [b.op('Mul', [x, x])])])])),
  Softplus: unary((b, x) => b.op('Sigmoid', [x])),
  Reciprocal: unary((b, _x, y) => b.op('Neg', [b.op('Mul', [y, y])])),
  Where: ({ b, node, grads: [g], needs, typeOf }) => {
    const [c, x, y] = node.input;
    const zero = b.floats([0]);
    return [null, g && needs[1] ? unbroadcast(b, b.op('Where', [c, g, zero]), x, typeOf) : null, g && needs[2] ? unbroadcast(b, b.op('Where', [c, zero, g]), y, typeOf) : null];
  },
  Dropout: ({ b, node, grads: [g] }) => {
    if (!g) return [null, null, null];
    // Training mode: y = x·mask/(1 − ratio), so dx = g·mask/(1 − ratio); without a mask it is the identity.
    if (!node.output[1]) return [g, null, null];
    const keep = node.input[1] ? b.op('Sub', [b.floats([1]), node.input[1]]) : b.floats([0.5]);
    return [b.op('Div', [b.op('Mul', [g, b.op('Cast', [node.output[1]], { to: 1 })]), keep]), null, null];
  },
  Reshape: ({ b, node, grads: [g] }) => [g ? b.op('Reshape', [g, b.op('Shape', [node.input[0]])]) : null, null],
  Flatten: ({ b, node, grads: [g] }) => [g ? b.op('Reshape', [g, b.op('Shape', [node.input[0]])]) : null],
  Squeeze: ({ b, node, grads: [g] }) => [g ? b.op('Reshape', [g, b.op('Shape', [node.input[0]])]) : null, null],
  Unsqueeze: ({ b, node, grads: [g] }) => [g ? b.op('Reshape', [g, b.op('Shape', [node.input[0]])]) : null, null],
  Transpose: (ctx) => {
    const [g] = ctx.grads;
    if (!g) return [null];
    const rank = rankOf(ctx, ctx.node.input[0]);
    const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [ctx.b.op('Transpose', [g], { perm: inverse })];
  },
  MatMul: (ctx) => {
    const { b, node, grads: [g], needs, typeOf } = ctx;
    if (!g) return [null, null];
    const [x, w] = node.input;
    const rx = rankOf(ctx, x);
    const rw = rankOf(ctx, w);
    let dx: string | null = null;
    let dw: string | null = null;
    if (needs[0]) dx = unbroadcast(b, b.op('MatMul', [g, b.op('Transpose', [w], { perm: lastTwoSwapped(rw) })]), x, typeOf);
    if (needs[1]) {
      if (rw === 2 && rx > 2) {
        // A batch of rows against one matrix: flatten the batch, then one product.
        const k = typeOf(w)!.shape[0] as number;
        const n = typeOf(w)!.shape[1] as number;
        dw = b.op('MatMul', [b.op('Transpose', [b.reshape(x, [-1, k])], { perm: [1, 0] }), b.reshape(g, [-1, n])]);
      } else dw = unbroadcast(b, b.op('MatMul', [b.op('Transpose', [x], { perm: lastTwoSwapped(rx) }), g]), w, typeOf);
    }
    return [dx, dw];
  },
  Gemm: ({ b, node, grads: [g], needs }) => {
    if (!g) return [null, null, null];
    if (attrInt(node, 'transA', 0) !== 0 || (attr(node, 'alpha')?.f ?? 1) !== 1 || (attr(node, 'beta')?.f ?? 1) !== 1) throw new GradientError(`Gemm ${node.name}: gradients are written for transA = 0 and alpha = beta = 1`);
    const [a, w] = node.input;
    const transB = attrInt(node, 'transB', 0) === 1;
    return [
      only(needs, 0, () => b.op('Gemm', [g, w], { transB: transB ? 0 : 1 })),
      only(needs, 1, () => (transB ? b.op('Gemm', [g, a], { transA: 1 }) : b.op('Gemm', [a, g], { transA: 1 }))),
      node.input[2] ? only(needs, 2, () => b.reduce('ReduceSum', g, [0], false)) : null,
    ];
  },
  ReduceSum: (ctx) => reduceGrad(ctx, false),
  ReduceMean: (ctx) => reduceGrad(ctx, true),
  LogSoftmax: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const axis = attrInt(node, 'axis', -1);
    return [b.op('Sub', [g, b.op('Mul', [b.op('Exp', [node.output[0]]), b.reduce('ReduceSum', g, [axis], true)])])];
  },
  Softmax: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const axis = attrInt(node, 'axis', -1);
    const y = node.output[0];
    return [b.op('Mul', [y, b.op('Sub', [g, b.reduce('ReduceSum', b.op('Mul', [g, y]), [axis], true)])])];
  },
  NegativeLogLikelihoodLoss: (ctx) => {
    const { b, node, grads: [g] } = ctx;
    if (!g) return [null, null];
    if (attrString(node, 'reduction', 'mean') !== 'none') throw new GradientError(`NegativeLogLikelihoodLoss ${node.name}: gradients are written for reduction 'none'`);
    if (rankOf(ctx, node.input[0]) !== 2 || node.input[2]) throw new GradientError(`NegativeLogLikelihoodLoss ${node.name}: gradients are written for N×C scores without class weights`);
    const [logp, target] = node.input;
    const ignore = attr(node, 'ignore_index')?.i;
    let index = target;
    let value = b.op('Neg', [g]);
    if (ignore !== undefined) {
      // Ignored targets get no gradient (and a safe index for the scatter).
      const ignored = b.op('Equal', [target, b.ints([ignore], true)]);
      index = b.op('Where', [ignored, b.ints([0], true), target]);
      value = b.op('Where', [ignored, b.floats([0]), value]);
    }
    const zeros = zerosLike(b, logp);
    return [b.op('ScatterElements', [zeros, b.unsqueeze(index, [1]), b.unsqueeze(value, [1])], { axis: 1 }), null];
  },
  SoftmaxCrossEntropyLoss: (ctx) => {
    const { b, node, grads: [g, gLogProb] } = ctx;
    if (!g) return [null, null];
    if (gLogProb || node.input[2]) throw new GradientError(`SoftmaxCrossEntropyLoss ${node.name}: gradients are written for the loss output without class weights`);
    const [scores, labels] = node.input;
    const reduction = attrString(node, 'reduction', 'mean');
    const ignore = attr(node, 'ignore_index')?.i;
    // d loss / d scores = (softmax − one-hot(label)) × each sample's weight in the reduction.
    let index = labels;
    let counted: string | null = null;
    if (ignore !== undefined) {
      const kept = b.op('Not', [b.op('Equal', [labels, b.ints([ignore], true)])]);
      index = b.op('Where', [kept, labels, b.ints([0], true)]);
      counted = b.op('Cast', [kept], { to: 1 });
    }
    const classes = b.op('Gather', [b.op('Shape', [scores]), b.ints([1], true)], { axis: 0 });
    const oneHot = b.op('OneHot', [index, classes, b.floats([0, 1], [2])], { axis: 1 });
    let scale = g;
    if (reduction === 'mean') scale = b.op('Div', [g, counted ? b.op('ReduceSum', [counted], { keepdims: 0 }) : b.op('Cast', [b.op('Size', [labels])], { to: 1 })]);
    if (counted) scale = b.op('Mul', [counted, scale]);
    const perSample = counted || reduction === 'none' ? b.unsqueeze(scale, [1]) : scale;
    return [b.op('Mul', [b.op('Sub', [b.op('Softmax', [scores], { axis: 1 }), oneHot]), perSample]), null];
  },
  Gather: (ctx) => {
    const { b, node, grads: [g], needs } = ctx;
    if (!g || !needs[0]) return [null, null];
    const [table, ids] = node.input;
    const rank = rankOf(ctx, table);
    const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + rank : attrInt(node, 'axis', 0);
    const index = ctx.typeOf(ids);
    if (index?.shape.length === 0 && typeof index.value?.[0] === 'number') {
      // One constant index (RoPE's even and odd halves): the gradient padded back around it.
      const size = staticDims(ctx, table, 'input size')[axis];
      const k = (index.value[0] as number) < 0 ? (index.value[0] as number) + size : (index.value[0] as number);
      const pads = new Array(2 * rank).fill(0);
      pads[axis] = k;
      pads[axis + rank] = size - k - 1;
      return [b.op('Pad', [b.unsqueeze(g, [axis]), b.ints(pads)]), null];
    }
    if (axis !== 0 || rank !== 2) throw new GradientError(`Gather ${node.name}: gradients are written for row lookups in a 2-D table (Embedding) and single constant indices`);
    const D = staticDims(ctx, table, 'table size')[1];
    const rows = b.reshape(g, [-1, D]);
    const expanded = b.op('Expand', [b.reshape(ids, [-1, 1]), b.op('Shape', [rows])]);
    const zeros = zerosLike(b, table);
    return [b.op('ScatterElements', [zeros, expanded, rows], { axis: 0, reduction: 'add' }), null];
  },
  Expand: ({ b, node, grads: [g], needs, typeOf }) => [g && needs[0] ? unbroadcast(b, g, node.input[0], typeOf) : null, null],
  Slice: (ctx) => {
    const { b, node, grads: [g] } = ctx;
    if (!g) return [null];
    // The gradient of a slice is the gradient padded with zeros back to the input's size.
    const dims = staticDims(ctx, node.input[0], 'input size');
    const constant = (i: number) => (node.input[i] ? (ctx.typeOf(node.input[i])?.value as number[] | undefined) : undefined);
    const starts = constant(1);
    const ends = constant(2);
    const axes = constant(3) ?? starts?.map((_, i) => i);
    const steps = constant(4);
    if (!starts || !ends || !axes || steps?.some((s) => s !== 1)) throw new GradientError(`Slice ${node.name}: the gradient needs constant starts, ends and axes, and steps of 1`);
    const rank = dims.length;
    const pads = new Array(2 * rank).fill(0);
    axes.forEach((axis, i) => {
      const k = axis < 0 ? axis + rank : axis;
      const size = dims[k];
      if (size < 0) throw new GradientError(`Slice ${node.name}: the gradient needs a known size along axis ${k}`);
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
      pads[k] = clamp(starts[i]);
      pads[k + rank] = size - clamp(ends[i]);
    });
    return [b.op('Pad', [g, b.ints(pads)]), null, null, null, null];
  },
  Concat: (ctx) => {
    const { b, node, grads: [g], needs } = ctx;
    if (!g) return node.input.map(() => null);
    const rank = rankOf(ctx, node.input[0]);
    const axis = (attr(node, 'axis')?.i ?? 0) < 0 ? (attr(node, 'axis')!.i ?? 0) + rank : (attr(node, 'axis')?.i ?? 0);
    let offset = 0;
    return node.input.map((x, i) => {
      const size = ctx.typeOf(x)?.shape[axis];
      if (typeof size !== 'number') throw new GradientError(`Concat ${node.name}: the gradient needs known sizes along axis ${axis}`);
      const start = offset;
      offset += size;
      return needs[i] ? b.slice(g, axis, start, start + size) : null;
    });
  },
  LayerNormalization: (ctx) => {
    const { b, node, grads: [g], needs } = ctx;
    if (!g) return [null, null, null];
    const [x, scale, bias] = node.input;
    const rank = rankOf(ctx, x);
    const axis = attrInt(node, 'axis', -1) < 0 ? attrInt(node, 'axis', -1) + rank : attrInt(node, 'axis', -1);
    const normAxes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const batchAxes = Array.from({ length: axis }, (_, i) => i);
    const eps = attr(node, 'epsilon')?.f ?? 1e-5;
    // x̂ = (x − μ)/σ, recomputed; dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ with ĝ = g·γ.
    const centred = b.op('Sub', [x, b.reduce('ReduceMean', x, normAxes, true)]);
    const inverse = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [b.reduce('ReduceMean', b.op('Mul', [centred, centred]), normAxes, true), b.floats([eps])])])]);
    const xhat = b.op('Mul', [centred, inverse]);
    const gs = b.op('Mul', [g, scale]);
    const dx = needs[0] ? b.op('Mul', [inverse, b.op('Sub', [b.op('Sub', [gs, b.reduce('ReduceMean', gs, normAxes, true)]), b.op('Mul', [xhat, b.reduce('ReduceMean', b.op('Mul', [gs, xhat]), normAxes, true)])])]) : null;
    const dscale = needs[1] ? b.reduce('ReduceSum', b.op('Mul', [g, xhat]), batchAxes, false) : null;
    const dbias = bias && needs[2] ? b.reduce('ReduceSum', g, batchAxes, false) : null;
    return [dx, dscale, dbias];
  },
  Conv: (ctx) => {
    const { b, node, grads: [g], needs } = ctx;
    if (!g) return [null, null, null];
    const [x, w] = node.input;
    const group = attrInt(node, 'group', 1);
    const xs = staticDims(ctx, x, 'input size');
    const ws = staticDims(ctx, w, 'kernel size');
    const ys = staticDims(ctx, node.output[0], 'output size');
    const rank = ws.length - 2;
    const { strides, dilations, pads } = windowAttributes(node, rank);
    const grads: (string | null)[] = [null, null, null];
    if (needs[0]) {
      // The input's gradient is the transposed convolution of the output's gradient.
      const outputPadding = xs.slice(2).map((size, i) => size - ((ys[2 + i] - 1) * strides[i] - pads[i] - pads[i + rank] + dilations[i] * (ws[2 + i] - 1) + 1));
      grads[0] = b.op('ConvTranspose', [g, w], { strides, dilations, pads, group, output_padding: outputPadding, kernel_shape: ws.slice(2) });
    }
    if (needs[1]) grads[1] = convWeightGrad(b, x, g, { rank, group, strides, dilations, pads, kernel: ws.slice(2), inPerGroup: ws[1], outChannels: ws[0], inSize: xs.slice(2), outSize: ys.slice(2) });
    if (node.input[2] && needs[2]) grads[2] = b.reduce('ReduceSum', g, [0, ...Array.from({ length: rank }, (_, i) => i + 2)], false);
    return grads;
  },
  ConvTranspose: (ctx) => {
    const { b, node, grads: [g], needs } = ctx;
    if (!g) return [null, null, null];
    const [x, w] = node.input;
    const group = attrInt(node, 'group', 1);
    const ws = staticDims(ctx, w, 'kernel size');
    const rank = ws.length - 2;
    const { strides, dilations, pads } = windowAttributes(node, rank);
    const xs = needs[1] ? staticDims(ctx, x, 'input size') : [];
    const ys = needs[1] ? staticDims(ctx, node.output[0], 'output size') : [];
    const grads: (string | null)[] = [null, null, null];
    // A transposed convolution's adjoint is the convolution with the same kernel.
    if (needs[0]) grads[0] = b.op('Conv', [g, w], { strides, dilations, pads, group, kernel_shape: ws.slice(2) });
    // Its weight gradient is a convolution's with the roles of input and output swapped ([C_in, C_out/g, k…]).
    if (needs[1]) grads[1] = convWeightGrad(b, g, x, { rank, group, strides, dilations, pads, kernel: ws.slice(2), inPerGroup: ws[1], outChannels: ws[0], inSize: ys.slice(2), outSize: xs.slice(2) });
    if (node.input[2] && needs[2]) grads[2] = b.reduce('ReduceSum', g, [0, ...Array.from({ length: rank }, (_, i) => i + 2)], false);
    return grads;
  },
  AveragePool: (ctx) => {
    const { b, node, grads: [g] } = ctx;
    if (!g) return [null];
    const x = node.input[0];
    const xs = staticDims(ctx, x, 'input size');
    const ys = staticDims(ctx, node.output[0], 'output size');
    const kernel = attrInts(node, 'kernel_shape')!;
    const rank = kernel.length;
    const { strides, pads } = windowAttributes(node, rank);
    const C = xs[1];
    // Each output spreads g/count evenly over its window: a transposed convolution with a ones kernel per
    // channel. The count is the window size, or (count_include_pad = 0) the real elements in it.
    let share = b.op('Div', [g, b.floats([kernel.reduce((p, k) => p * k, 1)])]);
    if (attrInt(node, 'count_include_pad', 0) === 0 && pads.some((p) => p > 0)) {
      const attrs = Object.fromEntries((node.attribute ?? []).filter((a) => a.name !== 'count_include_pad').map((a) => [a.name, a.ints ?? a.i]));
      const inside = b.node('AveragePool', [b.op('Add', [b.op('Mul', [x, b.floats([0])]), b.floats([1])])], { ...(attrs as Record<string, number | number[]>), count_include_pad: 1 }, 1)[0];
      share = b.op('Div', [g, b.op('Mul', [inside, b.floats([kernel.reduce((p, k) => p * k, 1)])])]);
    }
    const ones = b.floats(new Array(C * kernel.reduce((p, k) => p * k, 1)).fill(1), [C, 1, ...kernel]);
    const outputPadding = xs.slice(2).map((size, i) => size - ((ys[2 + i] - 1) * strides[i] - pads[i] - pads[i + rank] + kernel[i]));
    return [b.op('ConvTranspose', [share, ones], { strides, pads, group: C, kernel_shape: kernel, output_padding: outputPadding.map((p) => Math.max(0, p)) })];
  },
  GatherElements: ({ b, node, grads: [g], needs }) => {
    if (!g || !needs[0]) return [null, null];
    const zeros = zerosLike(b, node.input[0]);
    return [b.op('ScatterElements', [zeros, node.input[1], g], { axis: attrInt(node, 'axis', 0), reduction: 'add' }), null];
  },
  ReduceMax: (ctx) => {
    const { b, node, grads: [g] } = ctx;
    if (!g) return [null, null];
    // The gradient goes to the elements equal to the maximum.
    const [spread] = reduceGrad(ctx, false);
    const keptMax = attrInt(node, 'keepdims', 1) === 1 ? node.output[0] : b.unsqueeze(node.output[0], axesOf(ctx));
    const winners = b.op('Cast', [b.op('Equal', [node.input[0], keptMax])], { to: 1 });
    return [b.op('Mul', [spread!, winners]), null];
  },
  MaxPool: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    // Recompute the pool with its Indices output and scatter the gradient to the winners.
    const attrs = Object.fromEntries((node.attribute ?? []).filter((a) => a.name !== 'storage_order').map((a) => [a.name, a.ints ?? a.i]));
    const [, indices] = b.node('MaxPool', [node.input[0]], attrs as Record<string, number | number[]>, 2);
    const flat = zerosLike(b, b.reshape(node.input[0], [-1]));
    const scattered = b.op('ScatterElements', [flat, b.reshape(indices, [-1]), b.reshape(g, [-1])], { axis: 0, reduction: 'add' });
    return [b.op('Reshape', [scattered, b.op('Shape', [node.input[0]])])];
  },
  GlobalAveragePool: (ctx) => {
    const { b, node, grads: [g] } = ctx;
    if (!g) return [null];
    const xs = staticDims(ctx, node.input[0], 'input size');
    const area = xs.slice(2).reduce((p, d) => p * d, 1);
    return [b.op('Mul', [b.op('Expand', [g, b.op('Shape', [node.input[0]])]), b.floats([1 / area])])];
  },
  // y = x·d^−β with d = bias + (α/size)·Σ x² over a window of channels. Each x also sits in its
  // neighbours' windows, so its gradient gathers g·x·d^(−β−1) over the mirrored window.
  LRN: (ctx) => {
    const { b, node, grads: [g] } = ctx;
    if (!g) return [null];
    const x = node.input[0];
    const size = attrInt(node, 'size', 1);
    const alpha = attr(node, 'alpha')?.f ?? 1e-4;
    const beta = attr(node, 'beta')?.f ?? 0.75;
    const bias = attr(node, 'bias')?.f ?? 1;
    const dims = staticDims(ctx, x, 'channel count');
    const below = Math.floor((size - 1) / 2);
    const above = Math.ceil((size - 1) / 2);
    const d = b.op('Add', [b.floats([bias]), b.op('Mul', [b.floats([alpha / size]), channelWindowSum(b, b.op('Mul', [x, x]), dims, below, above)])]);
    const direct = b.op('Mul', [g, b.op('Pow', [d, b.floats([-beta])])]);
    const fromNeighbours = channelWindowSum(b, b.op('Mul', [b.op('Mul', [g, x]), b.op('Pow', [d, b.floats([-beta - 1])])]), dims, above, below);
    return [b.op('Sub', [direct, b.op('Mul', [b.floats([(2 * alpha * beta) / size]), b.op('Mul', [x, fromNeighbours])])])];
  },
  // Sign (and Heaviside, lowered through it) is flat wherever it has a derivative; at 0 the subgradient taken is 0 too.
  Sign: ({ b, node, grads: [g] }) => [g ? zerosLike(b, node.input[0]) : null],
};

/** Σ v[:, c − before … c + after] along the channel axis (1) of a value shaped `dims`, zero outside: a padded copy, sliced once per offset. */
function channelWindowSum(b: OnnxBuilder, v: string, dims: number[], before: number, after: number): string {
  const rank = dims.length;
  const channels = dims[1];
  const pads = new Array(2 * rank).fill(0);
  pads[1] = before;
  pads[rank + 1] = after;
  const padded = b.op('Pad', [v, b.ints(pads)]);
  const shifted = Array.from({ length: before + after + 1 }, (_, k) => b.op('Slice', [padded, b.ints([k]), b.ints([k + channels]), b.ints([1])]));
  return shifted.length === 1 ? shifted[0] : b.op('Sum', shifted);
}

/** The axes a Reduce* node reduces over, normalised. */
function axesOf(ctx: GradContext): number[] {
  const { b, node } = ctx;
  const rank = rankOf(ctx, node.input[0]);
  const axesFromInput = node.op_type === 'ReduceSum' || b.opset >= 18;
  const given = axesFromInput ? (node.input[1] ? ctx.typeOf(node.input[1])?.value : undefined) : attrInts(node, 'axes');
  if (axesFromInput && node.input[1] && !given) throw new GradientError(`${node.op_type} ${node.name}: the gradient needs constant axes`);
  return ((given as number[] | undefined) ?? Array.from({ length: rank }, (_, i) => i)).map((a) => (a < 0 ? a + rank : a));
}

interface ConvGeometry {
  rank: number;
  group: number;
  strides: number[];
  dilations: number[];
  pads: number[];
  kernel: number[];
  /** The weight's second dimension and first dimension. */
  inPerGroup: number;
  outChannels: number;
  /** The spatial sizes of the first operand (x for Conv) and of the second (g for Conv). */
  inSize: number[];
  outSize: number[];
}

/**
 * A convolution's weight gradient: dW[k, c] = Σₙ x[n, c] ⋆ g[n, k], one convolution with strides and
 * dilations swapped in which the batch becomes the channels summed over, cropped to the kernel. (`x` and
 * `g` swap for ConvTranspose.) Grouped too, in one op: each group's channels of x become the product's
 * batch and its N×group slices the product's grouped input channels, so one Conv of `group` groups sums
 * every group over the batch at once (not one Conv per group: depthwise layers have hundreds).
 */
function convWeightGrad(b: OnnxBuilder, x: string, g: string, c: ConvGeometry): string {
  const spatial = Array.from({ length: c.rank }, (_, i) => i + 2);
  const swapFirstTwo = { perm: [1, 0, ...spatial] };
  // [N, G·c, …] → [c, G·N, …]: within group k, channel j of sample n sits at k·N + n.
  const input =
    c.group === 1
      ? b.op('Transpose', [x], swapFirstTwo)
      : b.reshape(b.op('Transpose', [b.reshape(x, [0, c.group, c.inPerGroup, ...c.inSize])], { perm: [2, 1, 0, ...spatial.map((a) => a + 1)] }), [c.inPerGroup, -1, ...c.inSize]);
  const product = b.op('Conv', [input, b.op('Transpose', [g], swapFirstTwo)], { strides: c.dilations, dilations: c.strides, pads: c.pads, group: c.group });
  // The product's extent is at least the kernel's; crop only where the window overhangs.
  const extent = c.inSize.map((size, i) => Math.floor((size + c.pads[i] + c.pads[i + c.rank] - c.strides[i] * (c.outSize[i] - 1) - 1) / c.dilations[i]) + 1);
  const cropped = extent.every((e, i) => e === c.kernel[i]) ? product : b.op('Slice', [product, b.ints(new Array(c.rank).fill(0)), b.ints(c.kernel), b.ints(spatial)]);
  return c.inPerGroup === 1 ? b.reshape(cropped, [c.outChannels, 1, ...c.kernel]) : b.op('Transpose', [cropped], swapFirstTwo);
}

function reduceGrad(ctx: GradContext, mean: boolean): (string | null)[] {
  const { b, node, grads: [g] } = ctx;
  if (!g) return [null, null];
  const x = node.input[0];
  const axes = axesOf(ctx);
  const kept = attrInt(node, 'keepdims', 1) === 1 ? g : b.unsqueeze(g, axes);
  let spread = b.op('Expand', [kept, b.op('Shape', [x])]);
  if (mean) {
    const count = b.op('Div', [b.op('Cast', [b.op('Size', [x])], { to: 1 }), b.op('Cast', [b.op('Size', [node.output[0]])], { to: 1 })]);
    spread = b.op('Div', [spread, count]);
  }
  return [spread, null];
}
