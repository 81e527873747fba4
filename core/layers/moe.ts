/**
 * A mixture-of-experts feed-forward block (Mixtral, deck 004): a router picks the top k of n SwiGLU experts
 * for each token and mixes their outputs with a softmax over the chosen router scores.
 */
import { formatShape } from '../graph/dim.ts';
import { linear } from '../onnx/lowering.ts';
import type { InferContext, LayerSpec, LowerContext, TensorType } from './spec.ts';
import { ONE_OUTPUT, expectFloat, fanInUniform, knownDim, mulOrNull, param } from './common.ts';
import { feedForward, feedForwardParams } from './attention.ts';

const expertNames = (e: number): [string, string, string] => [`experts.${e}.w1`, `experts.${e}.w2`, `experts.${e}.w3`];

const MixtureOfExperts: LayerSpec = {
  op: 'MixtureOfExperts',
  category: 'Attention & Transformer',
  summary: 'Sparse feed-forward: a router sends each token to its top-k of n SwiGLU experts (Mixtral).',
  doc: "Router scores r = x·W_gᵀ (n per token); the k largest are kept and g = softmax over them (0 for the rest); y = Σₑ gₑ·Eₑ(x) with each expert Eₑ(x) = W₂(SiLU(W₁x) ⊙ W₃x). Parameters: n·D + n·3·D·F, named as Mixtral's block_sparse_moe (gate, experts.e.w1/w2/w3). Training: the gradient reaches the chosen experts and, through the softmax, the router's chosen scores; the choice itself (a comparison) passes none. Every expert is computed for every token here and the unchosen ones weighted 0: the same numbers as sparse dispatch, at n/k times the arithmetic.",
  params: {
    numExperts: { type: 'int', label: 'Experts', help: 'Number of experts n (8 in Mixtral).', default: 8, min: 1, key: true },
    topK: { type: 'int', label: 'Top k', help: 'Experts used per token (2 in Mixtral).', default: 2, min: 1, key: true },
    hiddenFeatures: { type: 'int', label: 'Hidden features', help: 'Hidden width F of each SwiGLU expert.', min: 1, key: true },
  },
  starting: { hiddenFeatures: 256 },
  inputs: [{ name: 'input', help: 'N×…×D.' }],
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = ctx.inputs[0] as TensorType;
    expectFloat(ctx, x);
    if (x.shape.length < 2) ctx.fail(`expects at least N×D, got ${formatShape(x.shape)}`);
    const D = knownDim(ctx, x.shape[x.shape.length - 1], 'model dimension D');
    const n = ctx.int('numExperts');
    const k = ctx.int('topK');
    const F = ctx.int('hiddenFeatures');
    if (k > n) ctx.fail(`topK ${k} is more than the ${n} experts`, { field: 'topK' });
    const params = [param('gate.weight', [n, D], `n·D = ${n}·${D}`, fanInUniform(D))];
    for (let e = 0; e < n; e++) params.push(...feedForwardParams(D, F, true, false, expertNames(e)));
    ctx.formula(() => `params = n·D + n·3·D·F = ${n}·${D} + ${n}·3·${D}·${F}`);
    const rows = x.shape.slice(1, -1).reduce<number | null>((a, d) => mulOrNull(a, typeof d === 'number' ? d : null), 1);
    // Per token: the router and the k chosen experts (the arithmetic sparse dispatch would do).
    return { outputs: [x], params, macs: mulOrNull(rows, n * D + k * 3 * D * F), macsFormula: `tokens·(n·D + k·3·D·F)` };
  },
  lower(ctx: LowerContext) {
    const { b } = ctx;
    const x = ctx.inputs[0];
    const rank = ctx.inputTypes[0]!.shape.length;
    const n = ctx.int('numExperts');
    const scores = linear(b, x, rank, ctx.weight('gate.weight'), null);
    // An expert is chosen when fewer than k experts score strictly higher: rank_e = Σⱼ [rⱼ > rₑ] < k.
    const fixed = b.detach(scores);
    const higher = b.op('Cast', [b.op('Greater', [b.unsqueeze(fixed, [-2]), b.unsqueeze(fixed, [-1])])], { to: 1 });
    const chosen = b.op('Less', [b.reduce('ReduceSum', higher, [-1], false), b.floats([ctx.int('topK')])]);
    const gates = b.op('Softmax', [b.op('Where', [chosen, scores, b.floats([-Infinity])])], { axis: -1 });
    const mixed = Array.from({ length: n }, (_, e) => b.op('Mul', [b.slice(gates, -1, e, e + 1), feedForward(ctx, x, rank, 'swiglu', false, expertNames(e), '')]));
    b.op(n === 1 ? 'Identity' : 'Sum', mixed, {}, ctx.outputs[0]);
  },
};

export const moeLayers: LayerSpec[] = [MixtureOfExperts];
