/** Activations: ReLU, LeakyReLU, ELU, Sigmoid, Tanh, GELU, SiLU, Softmax, LogSoftmax, Maxout. */
import { normAxis } from '../graph/dim.ts';
import { attrFloat, attrInt, attrString } from '../onnx/attributes.ts';
import type { AttrValue } from '../onnx/builder.ts';
import { gelu, silu } from '../onnx/lowering.ts';
import type { ImportPattern, InferContext, LayerSpec, LowerContext, ParamSchema } from './spec.ts';
import { ONE_INPUT, ONE_OUTPUT, expectFloat, importUnary, knownDim, only, tensor } from './common.ts';

function activation(op: string, formula: string, params: Record<string, ParamSchema>, lower: (ctx: LowerContext) => void, imports?: ImportPattern[]): LayerSpec {
  return {
    op,
    imports,
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
    lower,
  };
}

/** An activation that is one ONNX op, with attributes from the params. */
const single =
  (onnxOp: string, attrs: (ctx: LowerContext) => Record<string, AttrValue> = () => ({})) =>
  (ctx: LowerContext) =>
    void ctx.b.op(onnxOp, [ctx.inputs[0]], attrs(ctx), ctx.outputs[0]);

const DIM: ParamSchema = { type: 'int', label: 'Dim', help: 'Dimension to normalise over; -1 is the last (the classes).', default: -1 };

function softmax(op: string, formula: string): LayerSpec {
  return {
    ...activation(
      op,
      formula,
      { dim: DIM },
      single(op, (ctx) => ({ axis: ctx.int('dim') })),
    ),
    // Before opset 13, ONNX's Softmax flattened the trailing axes into one: not PyTorch's softmax.
    imports: [
      {
        onnx: [op],
        take(n, ctx) {
          if (ctx.opset < 13 || !ctx.isValue(n.input[0])) return false;
          ctx.add(op, { dim: attrInt(n, 'axis', -1) }, [n.input[0]], n.output, n);
          return true;
        },
      },
    ],
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
    ctx.formula(() => `features = ${size}/k = ${size}/${k} = ${size / k}`);
    const shape = x.shape.slice();
    shape[axis] = size / k;
    return { outputs: [tensor(shape)], macs: 0 };
  },
  lower(ctx: LowerContext) {
    // Split the feature axis into (features/k, k) and take the max over the k pieces.
    const shape = ctx.inputTypes[0]!.shape;
    const axis = ctx.int('dim') < 0 ? ctx.int('dim') + shape.length : ctx.int('dim');
    const k = ctx.int('poolSize');
    const target = shape.flatMap((d, i) => (i === 0 ? [0] : i === axis ? [(d as number) / k, k] : [typeof d === 'number' ? d : -1]));
    ctx.b.reduce('ReduceMax', ctx.b.reshape(ctx.inputs[0], target), [axis + 1], false, ctx.outputs[0]);
  },
};

export const activationLayers: LayerSpec[] = [
  activation('ReLU', 'max(0, x)', {}, single('Relu'), [importUnary('Relu', 'ReLU')]),
  activation(
    'LeakyReLU',
    'max(αx, x)',
    { negativeSlope: { type: 'float', label: 'Negative slope', help: 'Slope α for x < 0.', default: 0.01, key: true } },
    single('LeakyRelu', (ctx) => ({ alpha: { float: ctx.float('negativeSlope') } })),
    [importUnary('LeakyRelu', 'LeakyReLU', (n) => ({ negativeSlope: attrFloat(n, 'alpha', 0.01) }))],
  ),
  activation(
    'ELU',
    'x if x > 0 else α(eˣ − 1)',
    { alpha: { type: 'float', label: 'Alpha', help: 'Saturation value α for negative inputs.', default: 1, key: true } },
    single('Elu', (ctx) => ({ alpha: { float: ctx.float('alpha') } })),
    [importUnary('Elu', 'ELU', (n) => ({ alpha: attrFloat(n, 'alpha', 1) }))],
  ),
  activation('Sigmoid', 'σ(x) = 1/(1 + e⁻ˣ)', {}, single('Sigmoid'), [importUnary('Sigmoid', 'Sigmoid')]),
  activation('Tanh', 'tanh(x)', {}, single('Tanh'), [importUnary('Tanh', 'Tanh')]),
  activation(
    'GELU',
    'x·Φ(x)',
    { approximate: { type: 'enum', label: 'Approximation', help: "'none' for the exact erf form, 'tanh' for the tanh approximation (GPT).", default: 'none', values: ['none', 'tanh'] } },
    (ctx) => void gelu(ctx.b, ctx.inputs[0], ctx.str('approximate') === 'tanh', ctx.outputs[0]),
    [importUnary('Gelu', 'GELU', (n) => ({ approximate: attrString(n, 'approximate') === 'tanh' ? 'tanh' : 'none' }))],
  ),
  activation('SiLU', 'x·σ(x) (swish)', {}, (ctx) => void silu(ctx.b, ctx.inputs[0], ctx.outputs[0])),
  softmax('Softmax', 'eˣⁱ / Σⱼ eˣʲ'),
  softmax('LogSoftmax', 'log(eˣⁱ / Σⱼ eˣʲ)'),
  Maxout,
];
