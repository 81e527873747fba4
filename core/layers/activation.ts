/** Activations: ReLU, LeakyReLU, ELU, Sigmoid, Tanh, GELU, SiLU, Softmax, LogSoftmax, Maxout. */
import { normAxis } from '../shape/dim.ts';
import type { InferContext, LayerSpec, ParamSchema } from './spec.ts';
import { ONE_INPUT, ONE_OUTPUT, expectFloat, knownDim, only, tensor } from './common.ts';

function activation(op: string, formula: string, params: Record<string, ParamSchema> = {}): LayerSpec {
  return {
    op,
    category: 'Activation',
    summary: formula,
    doc: `Applies ${formula} element by element. No parameters; the shape is unchanged.`,
    params,
    inputs: ONE_INPUT,
    outputs: ONE_OUTPUT,
    infer(ctx: InferContext) {
      const x = only(ctx);
      expectFloat(ctx, x);
      return { outputs: [x] };
    },
  };
}

const DIM: ParamSchema = { type: 'int', label: 'Dim', help: 'Dimension to normalise over; -1 is the last (the classes).', default: -1 };

function softmax(op: string, formula: string): LayerSpec {
  return {
    ...activation(op, formula, { dim: DIM }),
    doc: `Applies ${formula} along \`dim\`. No parameters; the shape is unchanged.`,
    infer(ctx: InferContext) {
      const x = only(ctx);
      expectFloat(ctx, x);
      if (normAxis(ctx.int('dim'), x.shape.length) < 0) ctx.fail(`dim ${ctx.int('dim')} is out of range for a ${x.shape.length}-D input`, { field: 'dim' });
      return { outputs: [x] };
    },
  };
}

const Maxout: LayerSpec = {
  op: 'Maxout',
  category: 'Activation',
  summary: 'Max over groups of poolSize features: max(w₁ᵀx + b₁, w₂ᵀx + b₂).',
  doc: "The course's maxout neuron max(w₁ᵀx + b₁, w₂ᵀx + b₂) is a Linear (or Conv) with poolSize× the outputs followed by this layer, which takes the maximum over each group of poolSize consecutive features along `dim`. No parameters of its own.",
  params: {
    poolSize: { type: 'int', label: 'Pieces', help: 'Number of linear pieces k per output feature.', default: 2, min: 1, key: true },
    dim: { type: 'int', label: 'Dim', help: 'Feature dimension to pool over (1 = channels or features).', default: 1 },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    const axis = normAxis(ctx.int('dim'), x.shape.length);
    if (axis <= 0) ctx.fail(`dim ${ctx.int('dim')} is out of range for a ${x.shape.length}-D input`, { field: 'dim' });
    const size = knownDim(ctx, x.shape[axis], 'feature size');
    const k = ctx.int('poolSize');
    if (size % k !== 0) ctx.fail(`feature size ${size} is not divisible by poolSize ${k}`, { field: 'poolSize', suggestion: `Give the layer before this one a multiple of ${k} outputs.` });
    ctx.formula(`features = ${size}/k = ${size}/${k} = ${size / k}`);
    const shape = x.shape.slice();
    shape[axis] = size / k;
    return { outputs: [tensor(shape)], macs: 0 };
  },
};

export const activationLayers: LayerSpec[] = [
  activation('ReLU', 'max(0, x)'),
  activation('LeakyReLU', 'max(αx, x)', {
    negativeSlope: { type: 'float', label: 'Negative slope', help: 'Slope α for x < 0.', default: 0.01, key: true },
  }),
  activation('ELU', 'x if x > 0 else α(eˣ − 1)', {
    alpha: { type: 'float', label: 'Alpha', help: 'Saturation value α for negative inputs.', default: 1, key: true },
  }),
  activation('Sigmoid', 'σ(x) = 1/(1 + e⁻ˣ)'),
  activation('Tanh', 'tanh(x)'),
  activation('GELU', 'x·Φ(x)', {
    approximate: { type: 'enum', label: 'Approximation', help: "'none' for the exact erf form, 'tanh' for the tanh approximation (GPT).", default: 'none', values: ['none', 'tanh'] },
  }),
  activation('SiLU', 'x·σ(x) (swish)'),
  softmax('Softmax', 'eˣⁱ / Σⱼ eˣʲ'),
  softmax('LogSoftmax', 'log(eˣⁱ / Σⱼ eˣʲ)'),
  Maxout,
];
