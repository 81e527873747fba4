/**
 * Threshold units of the perceptron (deck 003; deck 002's Mark I): Heaviside (step) and Sign. Their
 * derivative is zero wherever it exists (and taken as zero at 0), so no gradient passes through them:
 * the perceptron rule trains the score before them instead (PerceptronLoss).
 */
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { InferContext, LayerSpec, LowerContext } from './spec.ts';
import { ONE_INPUT, ONE_OUTPUT, expectFloat, only } from './common.ts';

/** Where x = 0 the value `atZero`, elsewhere `elsewhere`. */
const zeroCase = (b: OnnxBuilder, x: string, atZero: number, elsewhere: string, out: string) => b.op('Where', [b.op('Equal', [x, b.floats([0])]), b.floats([atZero]), elsewhere], {}, out);

function threshold(op: string, summary: string, doc: string, atZeroDefault: number, lower: (ctx: LowerContext) => void): LayerSpec {
  return {
    op,
    category: 'Activation',
    summary,
    doc: `${doc} Gradient: zero everywhere (the derivative is 0 where it exists, and 0 is taken at x = 0), so layers before it learn nothing through it; train the score before it with the perceptron rule.`,
    params: { atZero: { type: 'float', label: 'Value at 0', help: 'The output where x = 0.', default: atZeroDefault, key: true } },
    inputs: ONE_INPUT,
    outputs: ONE_OUTPUT,
    infer(ctx: InferContext) {
      const x = only(ctx);
      expectFloat(ctx, x);
      return { outputs: [x], macs: 0 };
    },
    lower,
  };
}

export const thresholdLayers: LayerSpec[] = [
  threshold(
    'Heaviside',
    'Step: 1 if x > 0, 0 if x < 0 (torch.heaviside).',
    'H(x) = 1 for x > 0, 0 for x < 0, and `atZero` at 0, as torch.heaviside(x, atZero).',
    1,
    (ctx) => void zeroCase(ctx.b, ctx.inputs[0], ctx.float('atZero'), ctx.b.op('Relu', [ctx.b.op('Sign', [ctx.inputs[0]])]), ctx.outputs[0]),
  ),
  threshold(
    'Sign',
    'Sign: +1 if x > 0, −1 if x < 0 (torch.sign).',
    'sign(x) = +1 for x > 0, −1 for x < 0, and `atZero` at 0: torch.sign gives 0 there, deck 003’s perceptron takes +1.',
    0,
    (ctx) => void zeroCase(ctx.b, ctx.inputs[0], ctx.float('atZero'), ctx.b.op('Sign', [ctx.inputs[0]]), ctx.outputs[0]),
  ),
];
