/** Normalisation: BatchNorm1d, BatchNorm2d, LayerNorm, RMSNorm. */
import { formatShape } from '../graph/dim.ts';
import { attrFloat, attrInt } from '../onnx/attributes.ts';
import { floatArray, singleOutput } from '../onnx/import-forms.ts';
import type { ImportPattern, InferContext, LayerSpec, LowerContext, ParamSchema, ParamTensor } from './spec.ts';
import { ONES, ZEROS, ONE_INPUT, ONE_OUTPUT, expectFloat, expectRank, knownDim, mulOrNull, only, param, perSample } from './common.ts';

const EPS: ParamSchema = { type: 'float', label: 'Epsilon', help: 'Added to the variance for numerical stability.', default: 1e-5, min: 0 };

/**
 * Inference-mode BatchNormalization with constant statistics. Imported as BatchNorm2d; the importer
 * makes it BatchNorm1d once shapes show a 2-D or 3-D input (ONNX's node is the same for both).
 */
const batchNormFromOnnx: ImportPattern = {
  onnx: ['BatchNormalization'],
  take(n, ctx) {
    const x = n.input[0];
    const [, s, b, m, v] = n.input.map((i) => ctx.constant(i));
    if (!singleOutput(n) || !ctx.isValue(x) || !s || !b || !m || !v || attrInt(n, 'training_mode', 0) !== 0) return false;
    // ONNX's momentum weighs the running value, PyTorch's the batch's.
    const id = ctx.add('BatchNorm2d', { eps: attrFloat(n, 'epsilon', 1e-5), momentum: Math.round((1 - attrFloat(n, 'momentum', 0.9)) * 1e6) / 1e6 }, [x], n.output, n);
    const C = s.dims![0];
    ctx.setWeight(id, 'weight', [C], floatArray(s));
    ctx.setWeight(id, 'bias', [C], floatArray(b));
    ctx.setWeight(id, 'running_mean', [C], floatArray(m));
    ctx.setWeight(id, 'running_var', [C], floatArray(v));
    return true;
  },
};

function batchNorm(rank: 1 | 2): LayerSpec {
  return {
    op: `BatchNorm${rank}d`,
    imports: rank === 2 ? [batchNormFromOnnx] : undefined,
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
      const params: ParamTensor[] = ctx.bool('affine') ? [param('weight', [C], 'C', ONES), param('bias', [C], 'C', ZEROS)] : [];
      const buffers: ParamTensor[] = ctx.bool('trackRunningStats') ? [param('running_mean', [C], 'C', ZEROS), param('running_var', [C], 'C', ONES)] : [];
      return { outputs: [x], params, buffers, macs: mulOrNull(perSample(x), 2) };
    },
    lower(ctx: LowerContext) {
      const b = ctx.b;
      const C = ctx.inputTypes[0]!.shape[1] as number;
      const scale = ctx.bool('affine') ? ctx.weight('weight') : b.floats(new Array(C).fill(1), [C]);
      const shift = ctx.bool('affine') ? ctx.weight('bias') : b.floats(new Array(C).fill(0), [C]);
      const eps = { float: ctx.float('eps') };
      const running = ctx.bool('trackRunningStats');
      if (running && !ctx.training) {
        // ONNX's momentum weighs the running value, PyTorch's the new batch: they are complements.
        b.op(
          'BatchNormalization',
          [ctx.inputs[0], scale, shift, ctx.weight('running_mean'), ctx.weight('running_var')],
          { epsilon: eps, momentum: { float: 1 - ctx.float('momentum') } },
          ctx.outputs[0],
        );
        return;
      }
      if (ctx.training) {
        // One node normalises with the batch's statistics, and the backward pass differentiates it as one op
        // (core/autodiff/batchnorm.ts). With momentum 0 its "running" outputs are exactly those statistics
        // (mean, biased variance) and the statistics it is given weigh nothing: the running ones, or without
        // them γ and β stand in (ONNX requires the inputs; constants made for them would go unused once the
        // step graph runs the node in inference form, batchNormsAsInference).
        const given = running ? [ctx.weight('running_mean'), ctx.weight('running_var')] : [scale, shift];
        const [, mean, variance] = b.node('BatchNormalization', [ctx.inputs[0], scale, shift, ...given], { epsilon: eps, momentum: { float: 0 }, training_mode: 1 }, [
          ctx.outputs[0],
          b.fresh(`${ctx.nodeId}/batch_mean`),
          b.fresh(`${ctx.nodeId}/batch_var`),
        ]);
        if (!running) return;
        // PyTorch: running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance.
        const m = ctx.float('momentum');
        const count = b.op('Cast', [b.op('Div', [b.op('Size', [ctx.inputs[0]]), b.ints([C], true)])], { to: 1 });
        const unbiased = b.op('Div', [b.op('Mul', [variance, count]), b.op('Sub', [count, b.floats([1])])]);
        const blend = (buffer: string, batch: string) => b.op('Add', [b.op('Mul', [ctx.weight(buffer), b.floats([1 - m])]), b.op('Mul', [batch, b.floats([m])])]);
        ctx.updateBuffer('running_mean', blend('running_mean', mean));
        ctx.updateBuffer('running_var', blend('running_var', unbiased));
        return;
      }
      // Evaluation without running statistics normalises with the batch's too (PyTorch), written out in inference ops.
      const rank = ctx.inputTypes[0]!.shape.length;
      const axes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
      const perChannel = (v: string) => b.reshape(v, [C, ...new Array(rank - 2).fill(1)]);
      const mean = b.reduce('ReduceMean', ctx.inputs[0], axes, true);
      const centred = b.op('Sub', [ctx.inputs[0], mean]);
      const variance = b.reduce('ReduceMean', b.op('Mul', [centred, centred]), axes, true);
      const normalised = b.op('Div', [centred, b.op('Sqrt', [b.op('Add', [variance, b.floats([ctx.float('eps')])])])]);
      b.op('Add', [b.op('Mul', [normalised, perChannel(scale)]), perChannel(shift)], {}, ctx.outputs[0]);
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

/** A γ or β over the normalised dimensions: "D" for one, "D₁·D₂ = 4·8" for several (the count follows). */
const normalizedFormula = (shape: number[]) => (shape.length === 1 ? 'D' : `${shape.map((_, i) => `D${'₁₂₃₄₅₆₇₈₉'[i] ?? i + 1}`).join('·')} = ${shape.join('·')}`);

const LayerNorm: LayerSpec = {
  op: 'LayerNorm',
  imports: [
    {
      onnx: ['LayerNormalization'],
      take(n, ctx) {
        const x = n.input[0];
        const s = ctx.constant(n.input[1]);
        const b = n.input[2] ? ctx.constant(n.input[2]) : undefined;
        // The catalogue's LayerNorm normalises trailing dimensions of each sample, never across the batch.
        const rank = ctx.type(x)?.shape.length;
        if (!singleOutput(n) || !ctx.isValue(x) || !s || (n.input[2] && !b) || attrInt(n, 'axis', -1) !== -s.dims!.length || (rank !== undefined && rank <= s.dims!.length)) return false;
        const shape = s.dims!;
        const id = ctx.add('LayerNorm', { normalizedShape: shape, eps: attrFloat(n, 'epsilon', 1e-5), bias: !!b }, [x], n.output, n);
        ctx.setWeight(id, 'weight', shape, floatArray(s));
        if (b) ctx.setWeight(id, 'bias', shape, floatArray(b));
        return true;
      },
    },
  ],
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
      params.push(param('weight', shape, normalizedFormula(shape), ONES));
      if (ctx.bool('bias')) params.push(param('bias', shape, normalizedFormula(shape), ZEROS));
    }
    return { outputs: [x], params, macs: mulOrNull(perSample(x), 2) };
  },
  lower(ctx: LowerContext) {
    const b = ctx.b;
    const shape = normalizedOf(ctx);
    const count = shape.reduce((a, c) => a * c, 1);
    const affine = ctx.bool('elementwiseAffine');
    const inputs = [ctx.inputs[0], affine ? ctx.weight('weight') : b.floats(new Array(count).fill(1), shape)];
    if (affine && ctx.bool('bias')) inputs.push(ctx.weight('bias'));
    b.op('LayerNormalization', inputs, { axis: -shape.length, epsilon: { float: ctx.float('eps') } }, ctx.outputs[0]);
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
    const params = ctx.bool('elementwiseAffine') ? [param('weight', shape, normalizedFormula(shape), ONES)] : [];
    return { outputs: [x], params, macs: mulOrNull(perSample(x), 2) };
  },
  lower(ctx: LowerContext) {
    const b = ctx.b;
    const shape = normalizedOf(ctx);
    const axes = shape.map((_, i) => -shape.length + i);
    const meanSquare = b.reduce('ReduceMean', b.op('Mul', [ctx.inputs[0], ctx.inputs[0]]), axes, true);
    const scaled = b.op('Div', [ctx.inputs[0], b.op('Sqrt', [b.op('Add', [meanSquare, b.floats([ctx.float('eps')])])])], {}, ctx.bool('elementwiseAffine') ? undefined : ctx.outputs[0]);
    if (ctx.bool('elementwiseAffine')) b.op('Mul', [scaled, ctx.weight('weight')], {}, ctx.outputs[0]);
  },
};

/** The normalised trailing shape, at lowering time (already validated). */
function normalizedOf(ctx: LowerContext): number[] {
  const given = ctx.params.normalizedShape as number[] | null;
  const shape = ctx.inputTypes[0]!.shape;
  return given ?? [shape[shape.length - 1] as number];
}

export const normLayers: LayerSpec[] = [batchNorm(1), batchNorm(2), LayerNorm, RMSNorm];
