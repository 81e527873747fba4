/**
 * Gradient rules, one per ONNX op, each written in standard ONNX ops (no training-only kernels), so
 * every execution provider runs the backward pass. A rule gets the forward node and the gradients of
 * its outputs, and returns the gradient of each input (null where it has none or none is needed).
 */
import { attr, attrInt, attrInts, attrString } from '../onnx/attributes.ts';
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { NodeProto } from '../onnx/proto.ts';
import type { TensorType } from '../graph/dim.ts';
import { batchNormGrad } from './batchnorm.ts';
import { maxPoolGradByComparison, maxPoolGradForTiles, tiledInput } from './maxpool.ts';
import { UnrollError, unrollRecurrent } from './recurrent.ts';

export interface GradContext {
  b: OnnxBuilder;
  node: NodeProto;
  /** Gradients of the node's outputs (null where no gradient flows back). */
  grads: (string | null)[];
  /** Which inputs need a gradient. */
  needs: boolean[];
  typeOf(value: string): TensorType | undefined;
  /** The engine's MaxPool never writes its Indices output (see BackwardOptions). */
  maxPoolWithoutIndices?: boolean;
  /** The engine has no float64 arithmetic: sums stay in float32 (see BackwardOptions). */
  withoutFloat64?: boolean;
  /** Gradients of `wrt` through `nodes` (already emitted), given the gradients of some of their values. */
  differentiate(nodes: NodeProto[], seeds: Map<string, string>, wrt: string[]): Map<string, string>;
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
  if (!t || t.shape.some((d, i) => i > 0 && typeof d !== 'number'))
    throw new GradientError(`${ctx.node.op_type} ${ctx.node.name}: the gradient needs a known ${what} (got ${t ? t.shape.join('×') : 'unknown'})`);
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
  // Of the same rank, the kept dimensions are x's already; otherwise x's leading axes go.
  return tx.shape.length === tg.shape.length ? summed : b.op('Reshape', [summed, b.op('Shape', [x])]);
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
  Sub: ({ b, node, grads: [g], needs, typeOf }) => [g && needs[0] ? unbroadcast(b, g, node.input[0], typeOf) : null, g && needs[1] ? unbroadcast(b, b.op('Neg', [g]), node.input[1], typeOf) : null],
  Mul: ({ b, node, grads: [g], needs, typeOf }) => {
    const [x, y] = node.input;
    return [g && needs[0] ? unbroadcast(b, b.op('Mul', [g, y]), x, typeOf) : null, g && needs[1] ? unbroadcast(b, b.op('Mul', [g, x]), y, typeOf) : null];
  },
  Div: ({ b, node, grads: [g], needs, typeOf }) => {
    const [x, y] = node.input;
    return [g && needs[0] ? unbroadcast(b, b.op('Div', [g, y]), x, typeOf) : null, g && needs[1] ? unbroadcast(b, b.op('Neg', [b.op('Div', [b.op('Mul', [g, node.output[0]]), y])]), y, typeOf) : null];
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
    const {
      b,
      node,
      grads: [g],
      needs,
      typeOf,
    } = ctx;
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
    if (attrInt(node, 'transA', 0) !== 0 || (attr(node, 'alpha')?.f ?? 1) !== 1 || (attr(node, 'beta')?.f ?? 1) !== 1)
      throw new GradientError(`Gemm ${node.name}: gradients are written for transA = 0 and alpha = beta = 1`);
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
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null, null];
    if (attrString(node, 'reduction', 'mean') !== 'none') throw new GradientError(`NegativeLogLikelihoodLoss ${node.name}: gradients are written for reduction 'none'`);
    if (rankOf(ctx, node.input[0]) !== 2 || node.input[2]) throw new GradientError(`NegativeLogLikelihoodLoss ${node.name}: gradients are written for N×C scores without class weights`);
    const [logp, target] = node.input;
    const ignore = attr(node, 'ignore_index') ? attrInt(node, 'ignore_index', 0) : undefined;
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
    const {
      b,
      node,
      grads: [g, gLogProb],
    } = ctx;
    if (!g) return [null, null];
    if (gLogProb || node.input[2]) throw new GradientError(`SoftmaxCrossEntropyLoss ${node.name}: gradients are written for the loss output without class weights`);
    const [scores, labels] = node.input;
    const reduction = attrString(node, 'reduction', 'mean');
    const ignore = attr(node, 'ignore_index') ? attrInt(node, 'ignore_index', 0) : undefined;
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
    const {
      b,
      node,
      grads: [g],
      needs,
    } = ctx;
    if (!g || !needs[0]) return [null, null];
    const [table, ids] = node.input;
    const rank = rankOf(ctx, table);
    const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + rank : attrInt(node, 'axis', 0);
    const index = ctx.typeOf(ids);
    if (index?.shape.length === 0 && typeof index.value?.[0] === 'number') {
      // One constant index (RoPE's even and odd halves): the gradient padded back around it.
      // Only the gathered axis needs a known size.
      const size = ctx.typeOf(table)!.shape[axis];
      if (typeof size !== 'number') throw new GradientError(`Gather ${node.name}: the gradient needs a known size along axis ${axis} (got ${ctx.typeOf(table)!.shape.join('×')})`);
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
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null];
    // The gradient of a slice is the gradient padded with zeros back to the input's size. Only the sliced
    // axes matter; a size not known statically is read at run time.
    const x = node.input[0];
    const rank = rankOf(ctx, x);
    const constant = (i: number) => (node.input[i] ? (ctx.typeOf(node.input[i])?.value as number[] | undefined) : undefined);
    const starts = constant(1);
    const ends = constant(2);
    const axes = constant(3) ?? starts?.map((_, i) => i);
    const steps = constant(4);
    if (!starts || !ends || !axes || [starts, ends, axes].some((v) => v.some((d) => typeof d !== 'number')) || steps?.some((s) => s < 1)) {
      throw new GradientError(`Slice ${node.name}: the gradient needs constant starts, ends and axes, and positive steps`);
    }
    const shape = ctx.typeOf(x)!.shape;
    const begin: (number | string)[] = new Array(rank).fill(0);
    const after: (number | string)[] = new Array(rank).fill(0);
    let grad = g;
    axes.forEach((axis, i) => {
      const k = axis < 0 ? axis + rank : axis;
      const size = shape[k];
      const step = steps?.[i] ?? 1;
      if (step > 1) {
        // Every step-th element: the gradient spread out with step − 1 zeros after each, then placed.
        const taken = ctx.typeOf(node.output[0])?.shape[k];
        if (typeof size !== 'number' || typeof taken !== 'number') throw new GradientError(`Slice ${node.name}: a strided slice's gradient needs a known size along axis ${k}`);
        const spread = new Array(2 * (rank + 1)).fill(0);
        spread[rank + 1 + k + 1] = step - 1;
        const padded = b.op('Pad', [b.unsqueeze(grad, [k + 1]), b.ints(spread)]);
        const dims = b.op('Shape', [grad]);
        const merged = b.op('Concat', [b.op('Slice', [dims, b.ints([0]), b.ints([k])]), b.ints([taken * step]), b.op('Slice', [dims, b.ints([k + 1]), b.ints([rank])])], { axis: 0 });
        const first = Math.min(Math.max(starts[i] < 0 ? starts[i] + size : starts[i], 0), size);
        const length = Math.min(taken * step, size - first);
        grad = b.slice(b.op('Reshape', [padded, merged]), k, 0, length);
        begin[k] = first;
        after[k] = size - first - length;
        return;
      }
      if (typeof size === 'number') {
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + size : v, 0), size);
        begin[k] = clamp(starts[i]);
        after[k] = size - clamp(ends[i]);
        return;
      }
      // size − clamp(v) and clamp(v), written as ONNX int64 arithmetic on the run-time size.
      const n = b.op('Gather', [b.op('Shape', [x]), b.ints([k])], { axis: 0 });
      const clamp = (v: number) => (v >= 0 ? b.op('Min', [b.ints([v]), n]) : b.op('Max', [b.op('Add', [n, b.ints([v])]), b.ints([0])]));
      begin[k] = starts[i] >= 0 && typeof starts[i] === 'number' ? starts[i] : clamp(starts[i]);
      after[k] = ends[i] >= 2 ** 62 ? 0 : b.op('Sub', [n, clamp(ends[i])]);
    });
    const all = [...begin, ...after];
    const pads = all.every((p) => typeof p === 'number')
      ? b.ints(all as number[])
      : b.op(
          'Concat',
          all.map((p) => (typeof p === 'number' ? b.ints([p]) : p)),
          { axis: 0 },
        );
    return [b.op('Pad', [grad, pads]), null, null, null, null];
  },
  Concat: (ctx) => {
    const {
      b,
      node,
      grads: [g],
      needs,
    } = ctx;
    if (!g) return node.input.map(() => null);
    const rank = rankOf(ctx, node.input[0]);
    const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + rank : attrInt(node, 'axis', 0);
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
    const {
      b,
      node,
      grads: [g],
      needs,
    } = ctx;
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
    const dx = needs[0]
      ? b.op('Mul', [inverse, b.op('Sub', [b.op('Sub', [gs, b.reduce('ReduceMean', gs, normAxes, true)]), b.op('Mul', [xhat, b.reduce('ReduceMean', b.op('Mul', [gs, xhat]), normAxes, true)])])])
      : null;
    const dscale = needs[1] ? b.reduce('ReduceSum', b.op('Mul', [g, xhat]), batchAxes, false) : null;
    const dbias = bias && needs[2] ? b.reduce('ReduceSum', g, batchAxes, false) : null;
    return [dx, dscale, dbias];
  },
  BatchNormalization: (ctx) => batchNormGrad(ctx, rankOf(ctx, ctx.node.input[0]), staticDims(ctx, ctx.node.input[1], 'number of channels')[0]),
  Conv: (ctx) => {
    const {
      b,
      node,
      grads: [g],
      needs,
    } = ctx;
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
      // The input's gradient is the transposed convolution of the output's gradient; at stride 1 that is a
      // plain convolution with the kernel flipped, which ONNX Runtime runs 10–35% faster where the layer
      // keeps its size. Where it shrinks the image ("valid" padding), that Conv computes every input position
      // from a zero-padded gradient, and ConvTranspose is faster (CA2's conv2, 12² → 8²: 6.20 → 1.65 ms).
      const flippedPads = pads.map((p, i) => dilations[i % rank] * (ws[2 + (i % rank)] - 1) - p);
      const keepsSize = xs.slice(2).every((size, i) => size <= ys[2 + i]);
      if (keepsSize && strides.every((s) => s === 1) && flippedPads.every((p) => p >= 0)) {
        grads[0] = b.op('Conv', [g, flippedKernel(b, w, ws, group)], { dilations, pads: flippedPads, group, kernel_shape: ws.slice(2) });
      } else {
        const outputPadding = xs.slice(2).map((size, i) => size - ((ys[2 + i] - 1) * strides[i] - pads[i] - pads[i + rank] + dilations[i] * (ws[2 + i] - 1) + 1));
        grads[0] = b.op('ConvTranspose', [g, w], { strides, dilations, pads, group, output_padding: outputPadding, kernel_shape: ws.slice(2) });
      }
    }
    if (needs[1]) grads[1] = convWeightGrad(b, x, g, { rank, group, strides, dilations, pads, kernel: ws.slice(2), inPerGroup: ws[1], outChannels: ws[0], inSize: xs.slice(2), outSize: ys.slice(2) });
    if (node.input[2] && needs[2]) grads[2] = b.reduce('ReduceSum', g, [0, ...Array.from({ length: rank }, (_, i) => i + 2)], false);
    return grads;
  },
  ConvTranspose: (ctx) => {
    const {
      b,
      node,
      grads: [g],
      needs,
    } = ctx;
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
    const {
      b,
      node,
      grads: [g],
    } = ctx;
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
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null, null];
    // The gradient goes to the elements equal to the maximum.
    const [spread] = reduceGrad(ctx, false);
    const keptMax = attrInt(node, 'keepdims', 1) === 1 ? node.output[0] : b.unsqueeze(node.output[0], axesOf(ctx));
    const winners = b.op('Cast', [b.op('Equal', [node.input[0], keptMax])], { to: 1 });
    return [b.op('Mul', [spread!, winners]), null];
  },
  MaxPool: (ctx) => {
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null];
    const x = node.input[0];
    const kernel = attrInts(node, 'kernel_shape')!;
    const { strides, dilations, pads } = windowAttributes(node, kernel.length);
    const window = { kernel, strides, dilations, pads };
    if (ctx.maxPoolWithoutIndices) {
      return [maxPoolGradByComparison(b, x, node.output[0], g, window, staticDims(ctx, x, 'input size'), staticDims(ctx, node.output[0], 'output size'))];
    }
    // Windows that tile the input need no Indices, which cost ONNX Runtime's CPU pool ~12× its own time;
    // unless the model itself reads the Indices (then the pool writes them anyway).
    const tiled = node.output[1] ? null : tiledInput(window, ctx.typeOf(x)?.shape);
    if (tiled) return [maxPoolGradForTiles(b, x, node.output[0], g, kernel, tiled)];
    // The forward pool gives its Indices too, rather than the pool being run again for them (a training
    // graph's forward nodes are its own); column-major ones (storage_order 1) are recomputed row-major.
    const rowMajor = attrInt(node, 'storage_order', 0) === 0;
    if (rowMajor && !node.output[1]) node.output[1] = b.fresh(`${node.output[0]}_indices`);
    const attrs = Object.fromEntries((node.attribute ?? []).filter((a) => a.name !== 'storage_order').map((a) => [a.name, a.ints ?? a.i]));
    const indices = rowMajor ? node.output[1] : b.node('MaxPool', [x], attrs as Record<string, number | number[]>, 2)[1];
    // Windows that do not overlap send each position at most one gradient: MaxUnpool places them. Not with
    // ceil_mode: its last window may end past the input, and MaxUnpool refuses an output smaller than that.
    const ceil = attrInt(node, 'ceil_mode', 0) === 1;
    if (!ceil && kernel.every((k, i) => dilations[i] === 1 && k <= strides[i])) return [b.op('MaxUnpool', [g, indices, b.op('Shape', [x])], { kernel_shape: kernel, strides, pads })];
    // Overlapping windows can pick the same position: the gradients there add up.
    const flat = zerosLike(b, b.reshape(x, [-1]));
    const scattered = b.op('ScatterElements', [flat, b.reshape(indices, [-1]), b.reshape(g, [-1])], { axis: 0, reduction: 'add' });
    return [b.op('Reshape', [scattered, b.op('Shape', [x])])];
  },
  GlobalAveragePool: (ctx) => {
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null];
    const xs = staticDims(ctx, node.input[0], 'input size');
    const area = xs.slice(2).reduce((p, d) => p * d, 1);
    // Scaled before it is spread: 1/(H·W) of N×C values, not of the whole input.
    return [b.op('Expand', [b.op('Mul', [g, b.floats([1 / area])]), b.op('Shape', [node.input[0]])])];
  },
  // y = x·d^−β with d = bias + (α/size)·Σ x² over a window of channels. Each x also sits in its
  // neighbours' windows, so its gradient gathers g·x·d^(−β−1) over the mirrored window.
  LRN: (ctx) => {
    const {
      b,
      node,
      grads: [g],
    } = ctx;
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
 * A Conv kernel [G·out, in, …] as the kernel of its adjoint at stride 1: each group's in and out swapped
 * ([G·in, out, …]) and every spatial axis reversed.
 */
function flippedKernel(b: OnnxBuilder, w: string, ws: number[], group: number): string {
  const [outPerGroup, inPerGroup, kernel] = [ws[0] / group, ws[1], ws.slice(2)];
  const spatial = kernel.map((_, i) => i + 2);
  let swapped = w;
  if (group === 1) swapped = b.op('Transpose', [w], { perm: [1, 0, ...spatial] });
  else if (outPerGroup > 1 || inPerGroup > 1)
    swapped = b.reshape(b.op('Transpose', [b.reshape(w, [group, outPerGroup, inPerGroup, ...kernel])], { perm: [0, 2, 1, ...spatial.map((a) => a + 1)] }), [
      group * inPerGroup,
      outPerGroup,
      ...kernel,
    ]);
  if (kernel.every((k) => k === 1)) return swapped;
  // Reversed by gathering, not by a Slice with step −1: ONNX Runtime Web's WebGPU Slice (1.30) clamps a
  // negative step's end to 0 and so drops the first element.
  return kernel.reduce((flipped, k, i) => (k === 1 ? flipped : b.op('Gather', [flipped, b.ints(Array.from({ length: k }, (_, j) => k - 1 - j))], { axis: spatial[i] })), swapped);
}

/**
 * A convolution's weight gradient: dW[k, c] = Σₙ x[n, c] ⋆ g[n, k], one convolution with strides and
 * dilations swapped in which the batch becomes the channels summed over, cropped to the kernel. (`x` and
 * `g` swap for ConvTranspose.) Grouped too, in one op: each group's channels of x become the product's
 * batch and its N×group slices the product's grouped input channels, so one Conv of `group` groups sums
 * every group over the batch at once (not one Conv per group: depthwise layers have hundreds).
 */
function convWeightGrad(b: OnnxBuilder, x: string, g: string, c: ConvGeometry): string {
  if (c.group === 1 && c.kernel.every((k) => k === 1) && c.strides.every((s) => s === 1) && c.pads.every((p) => p === 0)) {
    // A pointwise kernel's gradient is one product summed over batch and positions, which Einsum runs as
    // a matrix product: 2–3× less CPU time than the convolution below, whose 1×1 output makes it a
    // matrix-vector product per channel (MNASNet-0.5 and EfficientNet-B0 at batch 16, 112²: 36 → 14 ms
    // and 119 → 44 ms over all their pointwise layers, one thread).
    const positions = 'hwd'.slice(0, c.rank);
    return b.reshape(b.op('Einsum', [g, x], { equation: `no${positions},ni${positions}->oi` }), [c.outChannels, c.inPerGroup, ...c.kernel]);
  }
  const spatial = Array.from({ length: c.rank }, (_, i) => i + 2);
  const swapFirstTwo = { perm: [1, 0, ...spatial] };
  // [N, G·c, …] → [c, G·N, …]: within group k, channel j of sample n sits at k·N + n.
  const input =
    c.group === 1
      ? b.op('Transpose', [x], swapFirstTwo)
      : c.inPerGroup === 1
        ? b.reshape(b.op('Transpose', [x], swapFirstTwo), [1, -1, ...c.inSize])
        : b.reshape(b.op('Transpose', [b.reshape(x, [0, c.group, c.inPerGroup, ...c.inSize])], { perm: [2, 1, 0, ...spatial.map((a) => a + 1)] }), [c.inPerGroup, -1, ...c.inSize]);
  const product = b.op('Conv', [input, b.op('Transpose', [g], swapFirstTwo)], { strides: c.dilations, dilations: c.strides, pads: c.pads, group: c.group });
  // The product's extent is at least the kernel's; crop only where the window overhangs.
  const extent = c.inSize.map((size, i) => Math.floor((size + c.pads[i] + c.pads[i + c.rank] - c.strides[i] * (c.outSize[i] - 1) - 1) / c.dilations[i]) + 1);
  const cropped = extent.every((e, i) => e === c.kernel[i]) ? product : b.op('Slice', [product, b.ints(new Array(c.rank).fill(0)), b.ints(c.kernel), b.ints(spatial)]);
  return c.inPerGroup === 1 ? b.reshape(cropped, [c.outChannels, 1, ...c.kernel]) : b.op('Transpose', [cropped], swapFirstTwo);
}

function reduceGrad(ctx: GradContext, mean: boolean): (string | null)[] {
  const {
    b,
    node,
    grads: [g],
  } = ctx;
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

// ---- Gradient rules for the ops of imported models: MobileNet's hard activations and ReLU6, Pad,
// Trilu masks, Resize, Einsum, and the element-wise ops of §2 of issue 13. ----

/** 1 where `mask` holds, else 0, as float32. */
const indicator = (b: OnnxBuilder, mask: string): string => b.op('Cast', [mask], { to: 1 });

/** The known values of a constant input, or null. */
function constantValues(ctx: GradContext, slot: number): number[] | null {
  const name = ctx.node.input[slot];
  const value = name ? ctx.typeOf(name)?.value : undefined;
  return value && value.every((v) => typeof v === 'number') ? (value as number[]) : null;
}

/** Einsum's terms with the output written out (the implicit form: letters used once, sorted). */
function einsumTerms(equation: string): { inputs: string[]; output: string } {
  const [lhs, rhs] = equation.replace(/\s/g, '').split('->');
  const letters = lhs.replace(/[^A-Za-z]/g, '');
  const output =
    rhs ??
    (lhs.includes('...') ? '...' : '') +
      [...new Set(letters)]
        .filter((c) => letters.split(c).length === 2)
        .sort()
        .join('');
  return { inputs: lhs.split(','), output };
}

const IMPORTED_OP_RULES: Record<string, GradientRule> = {
  // y = max(0, min(1, αx + β)): slope α strictly inside, 0 where clipped (as PyTorch's hardsigmoid_backward).
  HardSigmoid: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const alpha = attr(node, 'alpha')?.f ?? 0.2;
    const beta = attr(node, 'beta')?.f ?? 0.5;
    const t = b.op('Add', [b.op('Mul', [node.input[0], b.floats([alpha])]), b.floats([beta])]);
    const inside = b.op('And', [b.op('Greater', [t, b.floats([0])]), b.op('Less', [t, b.floats([1])])]);
    return [b.op('Mul', [g, b.op('Mul', [indicator(b, inside), b.floats([alpha])])])];
  },
  // y = x·relu6(x + 3)/6: 0 below −3, x/3 + 1/2 up to 3, 1 above (PyTorch's hardswish_backward).
  HardSwish: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const x = node.input[0];
    const middle = b.op('Add', [b.op('Div', [x, b.floats([3])]), b.floats([0.5])]);
    const slope = b.op('Where', [b.op('Less', [x, b.floats([-3])]), b.floats([0]), b.op('Where', [b.op('LessOrEqual', [x, b.floats([3])]), middle, b.floats([1])])]);
    return [b.op('Mul', [g, slope])];
  },
  // The gradient passes where min ≤ x ≤ max (PyTorch's clamp_backward), which is where Clip left x as
  // it was (and not where x is NaN); the bounds are settings.
  Clip: ({ b, node, grads: [g] }) => {
    if (!g) return [null, null, null];
    const bounded = b.opset >= 11 ? !!(node.input[1] || node.input[2]) : !!(attr(node, 'min') || attr(node, 'max'));
    return [bounded ? b.op('Where', [b.op('Equal', [node.input[0], node.output[0]]), g, b.floats([0])]) : g, null, null];
  },
  // Constant padding: the gradient is the padded gradient cut back to the input.
  Pad: (ctx) => {
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null, null, null, null];
    const mode = attrString(node, 'mode', 'constant');
    const pads = b.opset >= 11 ? constantValues(ctx, 1) : (attrInts(node, 'pads') ?? null);
    if (mode !== 'constant' || !pads || pads.some((p) => p < 0)) throw new GradientError(`Pad ${node.name}: gradients are written for constant padding by known, non-negative amounts`);
    const rank = rankOf(ctx, node.input[0]);
    const axes = (node.input[3] ? constantValues(ctx, 3) : null)?.map((a) => (a < 0 ? a + rank : a)) ?? Array.from({ length: rank }, (_, i) => i);
    const n = axes.length;
    const kept = axes.map((_, i) => i).filter((i) => pads[i] > 0 || pads[i + n] > 0);
    if (kept.length === 0) return [g, null, null, null];
    // Ends counted from the back (−after), or to the end (INT64_MAX saturated) where nothing was added.
    const starts = kept.map((i) => pads[i]);
    const ends = kept.map((i) => (pads[i + n] > 0 ? -pads[i + n] : Number.MAX_SAFE_INTEGER));
    return [b.op('Slice', [g, b.ints(starts), b.ints(ends), b.ints(kept.map((i) => axes[i]))]), null, null, null];
  },
  // Trilu keeps a triangle: its gradient is the same triangle of the output's gradient.
  Trilu: ({ b, node, grads: [g] }) => [g ? b.op('Trilu', node.input[1] ? [g, node.input[1]] : [g], { upper: attrInt(node, 'upper', 1) }) : null, null],
  /**
   * Resize is linear and separable: along each resized axis y = M·x. Mᵀ comes from resizing an identity
   * with the same settings (each row of the identity one "image"), and the gradient is g multiplied by
   * it along each axis. Works for every mode and coordinate transformation that does not crop.
   */
  Resize: (ctx) => {
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null, null, null, null];
    const x = node.input[0];
    const rank = rankOf(ctx, x);
    const scales0 = node.input[2] ? constantValues(ctx, 2)?.[0] : 1;
    if (
      b.opset < 11 ||
      attrString(node, 'coordinate_transformation_mode', 'half_pixel') === 'tf_crop_and_resize' ||
      attr(node, 'axes') ||
      attrInt(node, 'antialias', 0) !== 0 ||
      (node.input[2] && scales0 !== 1)
    ) {
      throw new GradientError(`Resize ${node.name}: gradients are written for resizes (opset ≥ 11) by known scales or sizes that keep the batch, without cropping or antialiasing`);
    }
    const scales = node.input[2] ? constantValues(ctx, 2) : null;
    const sizeOf = (v: string, k: number) => b.op('Gather', [b.op('Shape', [v]), b.ints([k])], { axis: 0 });
    let grad = g;
    for (let k = 1; k < rank; k++) {
      if (scales?.[k] === 1) continue;
      const n = sizeOf(x, k);
      // The identity as n one-dimensional images along axis k: shaped [n, 1, …, n (axis k), …, 1].
      const eye = b.op('EyeLike', [b.op('ConstantOfShape', [b.op('Concat', [n, n], { axis: 0 })])]);
      const images = b.op('Reshape', [eye, b.op('Concat', [n, b.ints(Array.from({ length: rank - 1 }, (_, i) => (i + 1 === k ? -1 : 1)))], { axis: 0 })]);
      const resizeInputs = scales
        ? [
            images,
            '',
            b.floats(
              Array.from({ length: rank }, (_, i) => (i === k ? scales[k] : 1)),
              [rank],
            ),
          ]
        : [
            images,
            '',
            '',
            b.op(
              'Concat',
              Array.from({ length: rank }, (_, i) => (i === 0 ? n : i === k ? sizeOf(node.output[0], k) : b.ints([1]))),
              { axis: 0 },
            ),
          ];
      const resized = b.op('Resize', resizeInputs);
      b.nodes[b.nodes.length - 1].attribute = node.attribute;
      // Mᵀ as [n, out]; along axis k the gradient is g ×ₖ Mᵀ: move axis k last, multiply, move it back.
      const mT = b.op('Reshape', [resized, b.op('Concat', [n, b.ints([-1])], { axis: 0 })]);
      const perm = Array.from({ length: rank }, (_, i) => i)
        .filter((i) => i !== k)
        .concat(k);
      const product = b.op('MatMul', [b.op('Transpose', [grad], { perm }), b.op('Transpose', [mT], { perm: [1, 0] })]);
      grad = b.op('Transpose', [product], { perm: perm.map((_, i) => perm.indexOf(i)) });
    }
    return [grad, null, null, null];
  },
  // Each operand's gradient is the Einsum of the output's gradient with the other operands.
  Einsum: (ctx) => {
    const {
      b,
      node,
      grads: [g],
      needs,
      typeOf,
    } = ctx;
    if (!g) return node.input.map(() => null);
    const { inputs, output } = einsumTerms(attrString(node, 'equation', ''));
    return node.input.map((x, k) => {
      if (!needs[k]) return null;
      const term = inputs[k];
      const others = inputs.filter((_, i) => i !== k);
      const elsewhere = output + others.join('');
      if (new Set(term.replace('...', '')).size !== term.replace('...', '').length || [...term.replace('...', '')].some((c) => !elsewhere.includes(c))) {
        throw new GradientError(`Einsum ${node.name}: gradients are written for operands without repeated or operand-only subscripts ("${term}")`);
      }
      const equation = `${[output, ...others].join(',')}->${term}`;
      const result = b.op('Einsum', [g, ...node.input.filter((_, i) => i !== k)], { equation });
      return term.includes('...') ? unbroadcast(b, result, x, typeOf) : result;
    });
  },
  Cast: ({ grads: [g], node }) => [g && [1, 10, 11].includes(attrInt(node, 'to', 1)) ? g : null],
  Sin: unary((b, x) => b.op('Cos', [x])),
  Cos: unary((b, x) => b.op('Neg', [b.op('Sin', [x])])),
  Softsign: unary((b, x) => {
    const d = b.op('Add', [b.floats([1]), b.op('Abs', [x])]);
    return b.op('Reciprocal', [b.op('Mul', [d, d])]);
  }),
  Elu: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const alpha = attr(node, 'alpha')?.f ?? 1;
    const x = node.input[0];
    return [b.op('Mul', [g, b.op('Where', [b.op('Greater', [x, b.floats([0])]), b.floats([1]), b.op('Add', [node.output[0], b.floats([alpha])])])])];
  },
  Selu: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const alpha = attr(node, 'alpha')?.f ?? 1.67326319217681884765625;
    const gamma = attr(node, 'gamma')?.f ?? 1.05070102214813232421875;
    const x = node.input[0];
    return [b.op('Mul', [g, b.op('Where', [b.op('Greater', [x, b.floats([0])]), b.floats([gamma]), b.op('Add', [node.output[0], b.floats([alpha * gamma])])])])];
  },
  Pow: ({ b, node, grads: [g], needs, typeOf }) => {
    if (!g) return [null, null];
    const [x, p] = node.input;
    // d/dx xᵖ = p·xᵖ⁻¹; d/dp xᵖ = xᵖ·ln x (for positive x).
    const dx = needs[0] ? unbroadcast(b, b.op('Mul', [g, b.op('Mul', [p, b.op('Pow', [x, b.op('Sub', [p, b.floats([1])])])])]), x, typeOf) : null;
    const dp = needs[1] ? unbroadcast(b, b.op('Mul', [g, b.op('Mul', [node.output[0], b.op('Log', [x])])]), p, typeOf) : null;
    return [dx, dp];
  },
  Max: (ctx) => extremumGrad(ctx),
  Min: (ctx) => extremumGrad(ctx),
  Split: (ctx) => {
    const { b, node, grads } = ctx;
    if (grads.every((g) => !g)) return [null, null];
    const rank = rankOf(ctx, node.input[0]);
    const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + rank : attrInt(node, 'axis', 0);
    // The pieces' gradients side by side, zeros for pieces the loss does not read.
    const parts = node.output.map((o, i) => grads[i] ?? zerosLike(b, o));
    return [b.op('Concat', parts, { axis }), null];
  },
  Tile: (ctx) => {
    const {
      b,
      node,
      grads: [g],
    } = ctx;
    if (!g) return [null, null];
    const x = node.input[0];
    const reps = constantValues(ctx, 1);
    const dims = ctx.typeOf(x)?.shape;
    if (!reps || !dims) throw new GradientError(`Tile ${node.name}: the gradient needs constant repeats`);
    // [r0·d0, r1·d1, …] → [r0, d0, r1, d1, …], summed over the repeat axes.
    const split = dims.flatMap((d, i) => [reps[i], typeof d === 'number' ? d : -1]);
    if (split.filter((d) => d === -1).length > 1) throw new GradientError(`Tile ${node.name}: the gradient needs known sizes (all but one)`);
    const summed = b.reduce(
      'ReduceSum',
      b.reshape(g, split),
      dims.map((_, i) => 2 * i),
      false,
    );
    return [b.op('Reshape', [summed, b.op('Shape', [x])]), null];
  },
  CumSum: ({ b, node, grads: [g] }) => {
    if (!g) return [null, null];
    // The adjoint of a running sum is the running sum taken the other way.
    return [b.op('CumSum', [g, node.input[1]], { exclusive: attrInt(node, 'exclusive', 0), reverse: 1 - attrInt(node, 'reverse', 0) }), null];
  },
  Tan: unary((b, _x, y) => b.op('Add', [b.floats([1]), b.op('Mul', [y, y])])),
  Asin: unary((b, x) => b.op('Reciprocal', [b.op('Sqrt', [b.op('Sub', [b.floats([1]), b.op('Mul', [x, x])])])])),
  Acos: unary((b, x) => b.op('Neg', [b.op('Reciprocal', [b.op('Sqrt', [b.op('Sub', [b.floats([1]), b.op('Mul', [x, x])])])])])),
  Atan: unary((b, x) => b.op('Reciprocal', [b.op('Add', [b.floats([1]), b.op('Mul', [x, x])])])),
  Sinh: unary((b, x) => b.op('Cosh', [x])),
  Cosh: unary((b, x) => b.op('Sinh', [x])),
  Asinh: unary((b, x) => b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [b.op('Mul', [x, x]), b.floats([1])])])])),
  Acosh: unary((b, x) => b.op('Reciprocal', [b.op('Sqrt', [b.op('Sub', [b.op('Mul', [x, x]), b.floats([1])])])])),
  Atanh: unary((b, x) => b.op('Reciprocal', [b.op('Sub', [b.floats([1]), b.op('Mul', [x, x])])])),
  ThresholdedRelu: ({ b, node, grads: [g] }) => [g ? b.op('Where', [b.op('Greater', [node.input[0], b.floats([attr(node, 'alpha')?.f ?? 1])]), g, b.floats([0])]) : null],
  // Shrink passes the gradient outside [−λ, λ].
  Shrink: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const lambd = attr(node, 'lambd')?.f ?? 0.5;
    const outside = b.op('Or', [b.op('Less', [node.input[0], b.floats([-lambd])]), b.op('Greater', [node.input[0], b.floats([lambd])])]);
    return [b.op('Where', [outside, g, b.floats([0])])];
  },
  // x·tanh(softplus(x)): tanh(sp) + x·sigmoid(x)·(1 − tanh²(sp)).
  Mish: unary((b, x) => {
    const t = b.op('Tanh', [b.op('Softplus', [x])]);
    return b.op('Add', [t, b.op('Mul', [b.op('Mul', [x, b.op('Sigmoid', [x])]), b.op('Sub', [b.floats([1]), b.op('Mul', [t, t])])])]);
  }),
  // max(0, x) + min(0, α(exp(x/α) − 1)): 1 above 0, exp(x/α) below.
  Celu: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const alpha = attr(node, 'alpha')?.f ?? 1;
    const x = node.input[0];
    return [b.op('Mul', [g, b.op('Where', [b.op('Greater', [x, b.floats([0])]), b.floats([1]), b.op('Exp', [b.op('Div', [x, b.floats([alpha])])])])])];
  },
  Gelu: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const x = node.input[0];
    if (attrString(node, 'approximate', 'none') === 'tanh') {
      // 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(√(2/π)·(x + 0.044715·x³)).
      const c = Math.sqrt(2 / Math.PI);
      const x2 = b.op('Mul', [x, x]);
      const t = b.op('Tanh', [b.op('Mul', [b.floats([c]), b.op('Add', [x, b.op('Mul', [b.floats([0.044715]), b.op('Mul', [x2, x])])])])]);
      const inner = b.op('Mul', [b.floats([c]), b.op('Add', [b.floats([1]), b.op('Mul', [b.floats([3 * 0.044715]), x2])])]);
      const d = b.op('Add', [
        b.op('Mul', [b.floats([0.5]), b.op('Add', [b.floats([1]), t])]),
        b.op('Mul', [b.op('Mul', [b.floats([0.5]), x]), b.op('Mul', [b.op('Sub', [b.floats([1]), b.op('Mul', [t, t])]), inner])]),
      ]);
      return [b.op('Mul', [g, d])];
    }
    // Φ(x) + x·φ(x).
    const cdf = b.op('Mul', [b.floats([0.5]), b.op('Add', [b.floats([1]), b.op('Erf', [b.op('Mul', [x, b.floats([Math.SQRT1_2])])])])]);
    const pdf = b.op('Mul', [b.floats([1 / Math.sqrt(2 * Math.PI)]), b.op('Exp', [b.op('Mul', [b.floats([-0.5]), b.op('Mul', [x, x])])])]);
    return [b.op('Mul', [g, b.op('Add', [cdf, b.op('Mul', [x, pdf])])])];
  },
  // Piecewise constant: no gradient anywhere (as PyTorch gives zeros).
  Floor: ({ b, node, grads: [g] }) => [g ? zerosLike(b, node.input[0]) : null],
  Ceil: ({ b, node, grads: [g] }) => [g ? zerosLike(b, node.input[0]) : null],
  Round: ({ b, node, grads: [g] }) => [g ? zerosLike(b, node.input[0]) : null],
  Mean: ({ b, node, grads: [g], needs, typeOf }) => node.input.map((x, i) => (g && needs[i] ? unbroadcast(b, b.op('Div', [g, b.floats([node.input.length])]), x, typeOf) : null)),
  ReduceMin: (ctx) => RULES.ReduceMax(ctx),
  ReduceSumSquare: (ctx) => {
    const [spread] = reduceGrad(ctx, false);
    return [spread ? ctx.b.op('Mul', [spread, ctx.b.op('Mul', [ctx.b.floats([2]), ctx.node.input[0]])]) : null, null];
  },
  ReduceL1: (ctx) => {
    const [spread] = reduceGrad(ctx, false);
    return [spread ? ctx.b.op('Mul', [spread, ctx.b.op('Sign', [ctx.node.input[0]])]) : null, null];
  },
  // d‖x‖/dx = x/‖x‖.
  ReduceL2: (ctx) => {
    const { b, node } = ctx;
    const [spread] = reduceGrad(ctx, false);
    if (!spread) return [null, null];
    const norm = attrInt(node, 'keepdims', 1) === 1 ? node.output[0] : b.unsqueeze(node.output[0], axesOf(ctx));
    return [b.op('Mul', [spread, b.op('Div', [node.input[0], norm])]), null];
  },
  // d logΣexp / dx = softmax over the reduced axes.
  ReduceLogSumExp: (ctx) => {
    const { b, node } = ctx;
    const [spread] = reduceGrad(ctx, false);
    if (!spread) return [null, null];
    const lse = attrInt(node, 'keepdims', 1) === 1 ? node.output[0] : b.unsqueeze(node.output[0], axesOf(ctx));
    return [b.op('Mul', [spread, b.op('Exp', [b.op('Sub', [node.input[0], lse])])]), null];
  },
  // Rearrangements: the gradient goes through the inverse rearrangement.
  DepthToSpace: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    if (attrString(node, 'mode', 'DCR') !== 'DCR') throw new GradientError(`DepthToSpace ${node.name}: gradients are written for DCR mode`);
    return [b.op('SpaceToDepth', [g], { blocksize: attrInt(node, 'blocksize', 1) })];
  },
  SpaceToDepth: ({ b, node, grads: [g] }) => [g ? b.op('DepthToSpace', [g], { blocksize: attrInt(node, 'blocksize', 1), mode: 'DCR' }) : null],
  TopK: ({ b, node, grads: [g], needs }) => {
    if (!g || !needs[0]) return [null, null];
    // The values' gradient goes back to where they were taken from.
    const axis = attrInt(node, 'axis', -1);
    return [b.op('ScatterElements', [zerosLike(b, node.input[0]), node.output[1], g], { axis, reduction: 'add' }), null];
  },
  GlobalMaxPool: ({ b, node, grads: [g] }) => {
    if (!g) return [null];
    const winners = indicator(b, b.op('Equal', [node.input[0], node.output[0]]));
    return [b.op('Mul', [b.op('Expand', [g, b.op('Shape', [node.input[0]])]), winners])];
  },
  // As LayerNormalization's, over each sample's and channel's spatial positions, with a scale per channel.
  InstanceNormalization: (ctx) => {
    const {
      b,
      node,
      grads: [g],
      needs,
    } = ctx;
    if (!g) return [null, null, null];
    const [x, scale] = node.input;
    const rank = rankOf(ctx, x);
    const spatial = Array.from({ length: rank - 2 }, (_, i) => i + 2);
    const eps = attr(node, 'epsilon')?.f ?? 1e-5;
    const perChannel = (v: string) => b.op('Reshape', [v, b.ints([-1, ...spatial.map(() => 1)])]);
    const centred = b.op('Sub', [x, b.reduce('ReduceMean', x, spatial, true)]);
    const inverse = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [b.reduce('ReduceMean', b.op('Mul', [centred, centred]), spatial, true), b.floats([eps])])])]);
    const xhat = b.op('Mul', [centred, inverse]);
    const gs = b.op('Mul', [g, perChannel(scale)]);
    const dx = needs[0]
      ? b.op('Mul', [inverse, b.op('Sub', [b.op('Sub', [gs, b.reduce('ReduceMean', gs, spatial, true)]), b.op('Mul', [xhat, b.reduce('ReduceMean', b.op('Mul', [gs, xhat]), spatial, true)])])])
      : null;
    return [dx, needs[1] ? b.reduce('ReduceSum', b.op('Mul', [g, xhat]), [0, ...spatial], false) : null, needs[2] ? b.reduce('ReduceSum', g, [0, ...spatial], false) : null];
  },
  // Scattered-over positions lose their gradient; the updates get the gradient at their positions.
  ScatterElements: ({ b, node, grads: [g], needs }) => {
    if (!g) return [null, null, null];
    if (attrString(node, 'reduction', 'none') !== 'none') throw new GradientError(`ScatterElements ${node.name}: gradients are written for reduction 'none'`);
    const [, indices, updates] = node.input;
    const axis = attrInt(node, 'axis', 0);
    return [needs[0] ? b.op('ScatterElements', [g, indices, zerosLike(b, updates)], { axis }) : null, null, needs[2] ? b.op('GatherElements', [g, indices], { axis }) : null];
  },
  GatherND: ({ b, node, grads: [g], needs }) => {
    if (!g || !needs[0]) return [null, null];
    if (attrInt(node, 'batch_dims', 0) !== 0) throw new GradientError(`GatherND ${node.name}: gradients are written for batch_dims 0`);
    return [b.op('ScatterND', [zerosLike(b, node.input[0]), node.input[1], g], { reduction: 'add' }), null];
  },
  RNN: (ctx) => recurrentGrad(ctx),
  GRU: (ctx) => recurrentGrad(ctx),
  LSTM: (ctx) => recurrentGrad(ctx),
  PRelu: ({ b, node, grads: [g], needs, typeOf }) => {
    if (!g) return [null, null];
    const [x, slope] = node.input;
    const positive = b.op('Greater', [x, b.floats([0])]);
    return [
      needs[0] ? b.op('Mul', [g, b.op('Where', [positive, b.floats([1]), slope])]) : null,
      needs[1] ? unbroadcast(b, b.op('Where', [positive, b.floats([0]), b.op('Mul', [g, x])]), slope, typeOf) : null,
    ];
  },
};

/** ONNX's recurrent ops: their unrolled form recomputed and differentiated, seeded with the outputs' gradients. */
function recurrentGrad(ctx: GradContext): (string | null)[] {
  const { b, node, grads, needs } = ctx;
  const first = b.nodes.length;
  let outputs: string[];
  try {
    outputs = unrollRecurrent(b, node, ctx.typeOf);
  } catch (e) {
    if (e instanceof UnrollError) throw new GradientError(e.message);
    throw e;
  }
  ctx.typeOf(outputs.find(Boolean)!); // types for the unrolled values
  const seeds = new Map(outputs.flatMap((o, i) => (o && grads[i] ? [[o, grads[i]!] as [string, string]] : [])));
  const wrt = node.input.filter((v, i) => v && needs[i]);
  const found = ctx.differentiate(b.nodes.slice(first), seeds, wrt);
  return node.input.map((v, i) => (v && needs[i] ? (found.get(v) ?? null) : null));
}

/** Max and Min: the gradient goes to the inputs equal to the result (each of them, as PyTorch's max_backward does for two). */
function extremumGrad({ b, node, grads: [g], needs, typeOf }: GradContext): (string | null)[] {
  if (!g) return node.input.map(() => null);
  return node.input.map((x, i) => (needs[i] ? unbroadcast(b, b.op('Mul', [g, indicator(b, b.op('Equal', [x, node.output[0]]))]), x, typeOf) : null));
}

Object.assign(RULES, IMPORTED_OP_RULES);

/**
 * Each rule in words, for people (the debugger shows it beside the numbers): what the op's local
 * gradient does to the upstream gradient ∂L/∂y.
 */
export const RULE_EXPLANATIONS: Record<string, string> = {
  Identity: 'passes ∂L/∂y through unchanged: ∂L/∂x = ∂L/∂y',
  Add: 'Add distributes: every input receives ∂L/∂y unchanged (summed over the axes it was broadcast along)',
  Sum: 'Sum distributes: every input receives ∂L/∂y unchanged',
  Sub: 'Sub distributes with a sign: ∂L/∂a = ∂L/∂y, ∂L/∂b = −∂L/∂y',
  Mul: "Mul swaps: each input's gradient is ∂L/∂y times the other input (∂L/∂a = ∂L/∂y·b, ∂L/∂b = ∂L/∂y·a)",
  Div: 'y = a/b: ∂L/∂a = ∂L/∂y / b, ∂L/∂b = −∂L/∂y·y / b',
  Neg: 'flips the sign: ∂L/∂x = −∂L/∂y',
  Relu: "ReLU's mask: ∂L/∂x = ∂L/∂y where x > 0, and 0 where x ≤ 0",
  LeakyRelu: 'a leaky mask: ∂L/∂x = ∂L/∂y where x > 0, α·∂L/∂y elsewhere',
  Sigmoid: "σ'(x) = y(1 − y): ∂L/∂x = ∂L/∂y·y·(1 − y)",
  Tanh: "tanh'(x) = 1 − y²: ∂L/∂x = ∂L/∂y·(1 − y²)",
  Exp: 'exp is its own derivative: ∂L/∂x = ∂L/∂y·y',
  Log: '∂L/∂x = ∂L/∂y / x',
  Sqrt: '∂L/∂x = ∂L/∂y / (2y)',
  Abs: '∂L/∂x = ∂L/∂y·sign(x)',
  Erf: '∂L/∂x = ∂L/∂y·(2/√π)·exp(−x²)',
  Softplus: "softplus'(x) = σ(x): ∂L/∂x = ∂L/∂y·σ(x)",
  Reciprocal: '∂L/∂x = −∂L/∂y·y²',
  Where: 'routes ∂L/∂y to the branch the condition chose; the other branch gets 0',
  Dropout: 'the same mask as forward: ∂L/∂x = ∂L/∂y·mask/(1 − p)',
  Reshape: 'moves no numbers: ∂L/∂x is ∂L/∂y reshaped back',
  Flatten: 'moves no numbers: ∂L/∂x is ∂L/∂y reshaped back',
  Squeeze: 'moves no numbers: ∂L/∂x is ∂L/∂y reshaped back',
  Unsqueeze: 'moves no numbers: ∂L/∂x is ∂L/∂y reshaped back',
  Transpose: '∂L/∂x is ∂L/∂y transposed back (the inverse permutation)',
  MatMul: 'y = x·W: ∂L/∂x = ∂L/∂y·Wᵀ and ∂L/∂W = xᵀ·∂L/∂y',
  Gemm: 'Linear, y = x·Wᵀ + b: ∂L/∂x = ∂L/∂y·W, ∂L/∂W = ∂L/∂yᵀ·x, ∂L/∂b = Σ over the batch of ∂L/∂y',
  ReduceSum: 'a sum distributes: every summed element receives ∂L/∂y',
  ReduceMean: 'a mean distributes evenly: every element receives ∂L/∂y / n',
  LogSoftmax: '∂L/∂x = ∂L/∂y − softmax(x)·Σ ∂L/∂y',
  Softmax: '∂L/∂x = y ⊙ (∂L/∂y − Σ ∂L/∂y ⊙ y)',
  NegativeLogLikelihoodLoss: 'only the target class gets a gradient: −∂L/∂y at the label, 0 elsewhere',
  SoftmaxCrossEntropyLoss: 'softmax minus one-hot: ∂L/∂scores = (softmax(scores) − onehot(label)) / N',
  Gather: 'a lookup scatters back: each looked-up row receives the gradients of the places that read it, added',
  Expand: 'a broadcast copy adds back: ∂L/∂x sums ∂L/∂y over the expanded axes',
  Slice: '∂L/∂x is ∂L/∂y padded with zeros where the slice left elements out',
  Concat: 'splits ∂L/∂y back into the pieces that were joined',
  LayerNormalization: 'x̂ = (x − μ)/σ: ∂L/∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))/σ with ĝ = ∂L/∂y·γ; ∂L/∂γ = Σ ∂L/∂y·x̂, ∂L/∂β = Σ ∂L/∂y',
  BatchNormalization:
    'x̂ = (x − μ)/σ per channel over the batch: in training (μ, σ from the batch) ∂L/∂x = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = ∂L/∂y, with given statistics (γ/σ)·g; ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g',
  Conv: 'Conv: ∂L/∂x is the transposed convolution of ∂L/∂y with W; ∂L/∂W correlates x with ∂L/∂y; ∂L/∂b sums ∂L/∂y per channel',
  ConvTranspose: 'ConvTranspose: ∂L/∂x is the convolution of ∂L/∂y with W; ∂L/∂W correlates ∂L/∂y with x',
  AveragePool: "an average spreads evenly: each window's ∂L/∂y is shared out over its elements",
  GatherElements: 'scatters ∂L/∂y back to the positions that were gathered, adding',
  ReduceMax: 'Max routes: ∂L/∂y goes to the element that held the maximum, 0 to the others',
  MaxPool: "Max routes: each window's ∂L/∂y goes to the position that held its maximum, 0 to the others",
  GlobalAveragePool: 'an average spreads evenly: every position receives ∂L/∂y / (H·W)',
  LRN: '∂L/∂x = ∂L/∂y·d^−β − (2αβ/n)·x·Σ over the neighbouring channels of ∂L/∂y·x·d^(−β−1)',
  // The course's threshold units (issue 14) and the ops of imported models (issue 13).
  Sign: 'sign is flat wherever it is differentiable: ∂L/∂x = 0 (its jump at 0 has no gradient)',
  HardSigmoid: 'y = max(0, min(1, αx + β)): ∂L/∂x = α·∂L/∂y where 0 < αx + β < 1, and 0 where it is clipped',
  HardSwish: 'y = x·hardsigmoid(x): ∂L/∂x = ∂L/∂y·(2x + 3)/6 for −3 < x < 3, ∂L/∂y above, 0 below',
  Clip: 'a mask: ∂L/∂x = ∂L/∂y where min ≤ x ≤ max, 0 where the value was clipped',
  Pad: 'moves no numbers: ∂L/∂x is ∂L/∂y with the padding cut away',
  Trilu: 'the same triangle: ∂L/∂x = ∂L/∂y on the kept triangle, 0 elsewhere',
  Resize: 'each input pixel collects ∂L/∂y from every output pixel it was interpolated into, with the same weights',
  Einsum: "each operand's gradient is an einsum of ∂L/∂y with the other operands (its letters as the output)",
  Cast: "casts ∂L/∂y back to the input's type",
  Sin: '∂L/∂x = ∂L/∂y·cos(x)',
  Cos: '∂L/∂x = −∂L/∂y·sin(x)',
  Softsign: 'y = x/(1 + |x|): ∂L/∂x = ∂L/∂y/(1 + |x|)²',
  Elu: '∂L/∂x = ∂L/∂y where x > 0, ∂L/∂y·(y + α) elsewhere',
  Selu: '∂L/∂x = λ·∂L/∂y where x > 0, ∂L/∂y·(y + λα) elsewhere',
  Pow: 'y = aᵇ: ∂L/∂a = ∂L/∂y·b·aᵇ⁻¹, ∂L/∂b = ∂L/∂y·y·ln a',
  Max: 'Max routes: ∂L/∂y goes to the input that held the maximum, 0 to the others',
  Min: 'Min routes: ∂L/∂y goes to the input that held the minimum, 0 to the others',
  Split: "moves no numbers: ∂L/∂x is the pieces' gradients put back together (0 for an unused piece)",
  Tile: 'each input element collects ∂L/∂y from every copy of it (a sum over the tiles)',
  CumSum: 'a running sum backwards: ∂L/∂xᵢ is the sum of ∂L/∂yⱼ over every j whose sum included i',
  Tan: '∂L/∂x = ∂L/∂y·(1 + y²)',
  Asin: '∂L/∂x = ∂L/∂y/√(1 − x²)',
  Acos: '∂L/∂x = −∂L/∂y/√(1 − x²)',
  Atan: '∂L/∂x = ∂L/∂y/(1 + x²)',
  Sinh: '∂L/∂x = ∂L/∂y·cosh(x)',
  Cosh: '∂L/∂x = ∂L/∂y·sinh(x)',
  Asinh: '∂L/∂x = ∂L/∂y/√(x² + 1)',
  Acosh: '∂L/∂x = ∂L/∂y/√(x² − 1)',
  Atanh: '∂L/∂x = ∂L/∂y/(1 − x²)',
  ThresholdedRelu: 'a mask: ∂L/∂x = ∂L/∂y where x > α, 0 elsewhere',
  Shrink: 'a mask: ∂L/∂x = ∂L/∂y where |x| > λ, 0 inside the dead zone',
  Mish: 'y = x·tanh(softplus(x)): ∂L/∂x = ∂L/∂y·(tanh(sp) + x·σ(x)·(1 − tanh²(sp)))',
  Celu: '∂L/∂x = ∂L/∂y where x > 0, ∂L/∂y·exp(x/α) elsewhere',
  Gelu: 'y = x·Φ(x): ∂L/∂x = ∂L/∂y·(Φ(x) + x·φ(x)) (the tanh form differentiates its approximation)',
  Floor: 'flat almost everywhere: ∂L/∂x = 0',
  Ceil: 'flat almost everywhere: ∂L/∂x = 0',
  Round: 'flat almost everywhere: ∂L/∂x = 0',
  Mean: 'Mean distributes: each of the n inputs receives ∂L/∂y/n (summed over broadcast axes)',
  ReduceMin: 'routes: ∂L/∂y goes to the element that held the minimum, 0 to the others',
  ReduceSumSquare: 'y = Σx²: ∂L/∂x = 2x·∂L/∂y',
  ReduceL1: 'y = Σ|x|: ∂L/∂x = sign(x)·∂L/∂y',
  ReduceL2: 'y = √Σx²: ∂L/∂x = ∂L/∂y·x/y',
  ReduceLogSumExp: 'y = log Σ eˣ: ∂L/∂x = ∂L/∂y·softmax(x)',
  DepthToSpace: 'moves no numbers: ∂L/∂x is ∂L/∂y rearranged back (SpaceToDepth)',
  SpaceToDepth: 'moves no numbers: ∂L/∂x is ∂L/∂y rearranged back (DepthToSpace)',
  TopK: "routes: each selected value's ∂L/∂y goes back to the position it was taken from; the rest get 0",
  GlobalMaxPool: "Max routes: each channel's ∂L/∂y goes to the position that held its maximum",
  InstanceNormalization: 'as layer norm per sample and channel: ∂L/∂x = (γ/σ)·(g − mean(g) − x̂·mean(g·x̂)); ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g',
  ScatterElements: 'the scattered updates get ∂L/∂y gathered at their indices; the data gets ∂L/∂y with those positions zeroed',
  GatherND: 'scatters ∂L/∂y back (adding) to the positions that were gathered; the rest get 0',
  RNN: 'unrolled over time and differentiated step by step (backpropagation through time)',
  GRU: 'unrolled over time and differentiated step by step (backpropagation through time)',
  LSTM: 'unrolled over time and differentiated step by step (backpropagation through time)',
  PRelu: '∂L/∂x = ∂L/∂y where x > 0, slope·∂L/∂y elsewhere; ∂L/∂slope = Σ ∂L/∂y·x where x ≤ 0',
};
