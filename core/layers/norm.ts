/** Normalisation: BatchNorm1d, BatchNorm2d, LayerNorm, RMSNorm. */
import { formatShape } from '../shape/dim.ts';
import type { InferContext, LayerSpec, ParamSchema, ParamTensor } from './spec.ts';
import { ONE_INPUT, ONE_OUTPUT, expectFloat, expectRank, knownDim, mulOrNull, only, param, perSample } from './common.ts';

const EPS: ParamSchema = { type: 'float', label: 'Epsilon', help: 'Added to the variance for numerical stability.', default: 1e-5, min: 0 };

function batchNorm(rank: 1 | 2): LayerSpec {
  return {
    op: `BatchNorm${rank}d`,
    category: 'Normalisation & regularisation',
    summary: 'Normalises each channel over the batch, then scales and shifts.',
    doc: 'y = γ·(x − μ)/√(σ² + ε) + β per channel. In training μ and σ² come from the batch and update the running statistics (buffers, not parameters); in evaluation the running statistics are used. Parameters: γ and β, 2·C.',
    params: {
      eps: EPS,
      momentum: { type: 'float', label: 'Momentum', help: 'Weight of the new batch in the running statistics (PyTorch semantics).', default: 0.1, min: 0, max: 1 },
      affine: { type: 'bool', label: 'Affine', help: 'Learn the scale γ and shift β.', default: true },
      trackRunningStats: { type: 'bool', label: 'Track running stats', help: 'Keep running mean and variance for evaluation.', default: true },
    },
    inputs: ONE_INPUT,
    outputs: ONE_OUTPUT,
    infer(ctx: InferContext) {
      const x = only(ctx);
      expectFloat(ctx, x);
      expectRank(ctx, x, rank === 1 ? [2, 3] : [4], rank === 1 ? 'N×C or N×C×L' : 'N×C×H×W');
      const C = knownDim(ctx, x.shape[1], 'number of channels');
      const params: ParamTensor[] = ctx.bool('affine') ? [param('weight', [C], 'C'), param('bias', [C], 'C')] : [];
      const buffers: ParamTensor[] = ctx.bool('trackRunningStats') ? [param('running_mean', [C], 'C'), param('running_var', [C], 'C')] : [];
      return { outputs: [x], params, buffers, macs: mulOrNull(perSample(x), 2) };
    },
  };
}

/** The normalised trailing shape, by default the last dimension. */
function normalizedShape(ctx: Parameters<LayerSpec['infer']>[0], shape: readonly (number | string)[]): number[] {
  const given = ctx.params.normalizedShape as number[] | null;
  if (given === null) return [knownDim(ctx, shape[shape.length - 1], 'feature size')];
  const tail = shape.slice(shape.length - given.length);
  if (given.length >= shape.length || tail.some((d, i) => d !== given[i])) {
    ctx.fail(`normalizedShape [${given.join(', ')}] does not match the end of the input ${formatShape(shape)}`, { field: 'normalizedShape' });
  }
  return given;
}

const NORMALIZED_SHAPE: ParamSchema = { type: 'ints', label: 'Normalized shape', help: 'Trailing dimensions to normalise over; defaults to the last one.', default: null, nullable: true };

const LayerNorm: LayerSpec = {
  op: 'LayerNorm',
  category: 'Normalisation & regularisation',
  summary: 'Normalises each sample over its last dimensions.',
  doc: 'y = γ·(x − mean)/√(var + ε) + β over the trailing normalizedShape (by default the last dimension, the features of each token). Parameters: γ and β.',
  params: {
    normalizedShape: NORMALIZED_SHAPE,
    eps: EPS,
    elementwiseAffine: { type: 'bool', label: 'Affine', help: 'Learn the scale γ (and the shift β).', default: true },
    bias: { type: 'bool', label: 'Bias', help: 'Learn the shift β (with Affine).', default: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    const shape = normalizedShape(ctx, x.shape);
    const params: ParamTensor[] = [];
    if (ctx.bool('elementwiseAffine')) {
      params.push(param('weight', shape, shape.join('·')));
      if (ctx.bool('bias')) params.push(param('bias', shape, shape.join('·')));
    }
    return { outputs: [x], params, macs: mulOrNull(perSample(x), 2) };
  },
};

const RMSNorm: LayerSpec = {
  op: 'RMSNorm',
  category: 'Normalisation & regularisation',
  summary: 'Scales each sample by its root mean square (Llama).',
  doc: 'y = γ·x/√(mean(x²) + ε) over the trailing dimensions, without centring or shift. Parameters: γ.',
  params: {
    normalizedShape: NORMALIZED_SHAPE,
    eps: { ...EPS, default: 1e-6 },
    elementwiseAffine: { type: 'bool', label: 'Affine', help: 'Learn the scale γ.', default: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    const shape = normalizedShape(ctx, x.shape);
    const params = ctx.bool('elementwiseAffine') ? [param('weight', shape, shape.join('·'))] : [];
    return { outputs: [x], params, macs: mulOrNull(perSample(x), 2) };
  },
};

export const normLayers: LayerSpec[] = [batchNorm(1), batchNorm(2), LayerNorm, RMSNorm];
