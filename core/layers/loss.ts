/** Losses, as nodes that take a prediction and a target: CrossEntropyLoss, MSELoss, L1Loss, MultiMarginLoss, BCEWithLogitsLoss. */
import { broadcast, formatShape } from '../graph/dim.ts';
import { attrInt, attrString } from '../onnx/attributes.ts';
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { ImportPattern, InferContext, LayerSpec, LowerContext, TensorType } from './spec.ts';
import { expectFloat, tensor } from './common.ts';

const REDUCTION = {
  type: 'enum',
  label: 'Reduction',
  help: "'mean' or 'sum' over the batch gives a scalar; 'none' keeps one loss per element.",
  default: 'mean',
  values: ['mean', 'sum', 'none'],
} as const;

function reduced(ctx: InferContext, perElement: TensorType['shape']): TensorType {
  return tensor(ctx.str('reduction') === 'none' ? perElement : []);
}

/** A loss whose target has one integer class index per sample (or probabilities shaped like the input). */
function classLoss(op: string, summary: string, doc: string, params: LayerSpec['params'], allowProbabilities: boolean, lower: (ctx: LowerContext) => void, imports?: ImportPattern[]): LayerSpec {
  return {
    op,
    imports,
    category: 'Loss',
    summary,
    doc,
    params: { ...params, reduction: REDUCTION },
    inputs: [
      { name: 'input', help: 'Scores (logits) N×C.' },
      { name: 'target', help: allowProbabilities ? 'Class indices N (int64), or probabilities N×C.' : 'Class indices N (int64).', dtype: 'any' },
    ],
    outputs: [{ name: 'loss', help: 'The loss.' }],
    infer(ctx: InferContext) {
      const [x, y] = ctx.inputs as TensorType[];
      expectFloat(ctx, x);
      if (x.shape.length < 2) ctx.fail(`expects scores N×C, got ${formatShape(x.shape)}`);
      const expected = [x.shape[0], ...x.shape.slice(2)];
      if (y.dtype === 'int64') {
        if (y.shape.join() !== expected.join()) ctx.fail(`target of class indices must be ${formatShape(expected)}, got ${formatShape(y.shape)}`);
      } else if (!allowProbabilities) {
        ctx.fail(`target must hold class indices (int64), got ${y.dtype}`, { suggestion: 'Set the target Input dtype to int64.' });
      } else if (y.shape.join() !== x.shape.join()) {
        ctx.fail(`a probability target must match the input ${formatShape(x.shape)}, got ${formatShape(y.shape)}`);
      }
      ctx.formula(() => (ctx.str('reduction') === 'none' ? `loss per sample: ${formatShape(expected)}` : `loss = ${ctx.str('reduction')} over ${formatShape(expected)} → scalar`));
      return { outputs: [reduced(ctx, expected)], macs: 0 };
    },
    lower,
  };
}

/** A loss between a prediction and a target of the same shape. */
function pairLoss(op: string, summary: string, doc: string, elementwise: (b: OnnxBuilder, x: string, y: string) => string, reduction: 'mean' | 'sum' = 'mean'): LayerSpec {
  return {
    op,
    category: 'Loss',
    summary,
    doc,
    params: { reduction: { ...REDUCTION, default: reduction } },
    inputs: [
      { name: 'input', help: 'Prediction.' },
      { name: 'target', help: 'Target, the same shape as the prediction.' },
    ],
    outputs: [{ name: 'loss', help: 'The loss.' }],
    infer(ctx: InferContext) {
      const [x, y] = ctx.inputs as TensorType[];
      expectFloat(ctx, x);
      if (y.dtype !== 'float32') ctx.fail(`target must be float32, got ${y.dtype}`);
      const shape = broadcast(x.shape, y.shape);
      if (!shape) ctx.fail(`prediction ${formatShape(x.shape)} and target ${formatShape(y.shape)} do not match`);
      if (shape.join() !== x.shape.join() || shape.join() !== y.shape.join()) {
        ctx.warn(`prediction ${formatShape(x.shape)} and target ${formatShape(y.shape)} differ and will broadcast to ${formatShape(shape)}; this is usually a mistake`);
      }
      return { outputs: [reduced(ctx, shape)], macs: 0 };
    },
    lower(ctx: LowerContext) {
      reduce(ctx, elementwise(ctx.b, ctx.inputs[0], ctx.inputs[1]), ctx.outputTypes[0].shape.length || ctx.inputTypes[0]!.shape.length);
    },
  };
}

/** Applies the reduction to per-element losses of the given rank, writing the loss output. */
function reduce(ctx: LowerContext, perElement: string, rank: number, count?: string): void {
  const { b } = ctx;
  const how = ctx.str('reduction');
  if (how === 'none') return void b.op('Identity', [perElement], {}, ctx.outputs[0]);
  const axes = Array.from({ length: rank }, (_, i) => i);
  if (how === 'sum') return void b.reduce('ReduceSum', perElement, axes, false, ctx.outputs[0]);
  if (count) return void b.op('Div', [b.reduce('ReduceSum', perElement, axes, false), count], {}, ctx.outputs[0]);
  b.reduce('ReduceMean', perElement, axes, false, ctx.outputs[0]);
}

function lowerCrossEntropy(ctx: LowerContext): void {
  const { b } = ctx;
  const [x, y] = ctx.inputs;
  const [xt, yt] = ctx.inputTypes as TensorType[];
  const rank = xt.shape.length;
  const C = xt.shape[1] as number;
  const eps = ctx.float('labelSmoothing');
  if (yt.dtype === 'int64') {
    const ignore = ctx.int('ignoreIndex');
    // ONNX's own op where it means the same: one node, and the shortest gradient (softmax − one-hot).
    if (eps === 0) return void b.op('SoftmaxCrossEntropyLoss', [x, y], { reduction: ctx.str('reduction'), ignore_index: ignore }, ctx.outputs[0]);
    const logp = b.op('LogSoftmax', [x], { axis: 1 });
    const nll = b.op('NegativeLogLikelihoodLoss', [logp, y], { reduction: 'none', ignore_index: ignore });
    let perSample = nll;
    if (eps > 0) {
      // PyTorch's label smoothing: (1 − ε)·nll + ε·mean over classes of −log p, ignored targets excluded.
      const keep = b.op('Cast', [b.op('Not', [b.op('Equal', [y, b.ints([ignore], true)])])], { to: 1 });
      const smooth = b.op('Mul', [b.op('Neg', [b.reduce('ReduceMean', logp, [1], false)]), keep]);
      perSample = b.op('Add', [b.op('Mul', [nll, b.floats([1 - eps])]), b.op('Mul', [smooth, b.floats([eps])])]);
    }
    // The mean is over the targets that are not ignored, as in PyTorch.
    const counted = b.reduce(
      'ReduceSum',
      b.op('Cast', [b.op('Not', [b.op('Equal', [y, b.ints([ignore], true)])])], { to: 1 }),
      Array.from({ length: rank - 1 }, (_, i) => i),
      false,
    );
    return reduce(ctx, perSample, rank - 1, counted);
  }
  const logp = b.op('LogSoftmax', [x], { axis: 1 });
  const target = eps > 0 ? b.op('Add', [b.op('Mul', [y, b.floats([1 - eps])]), b.floats([eps / C])]) : y;
  reduce(ctx, b.op('Neg', [b.reduce('ReduceSum', b.op('Mul', [target, logp]), [1], false)]), rank - 1);
}

/** PyTorch's MultiMarginLoss: Σ_{j≠y} max(0, margin − x_y + x_j)^p / C per sample. */
function lowerMultiMargin(ctx: LowerContext): void {
  const { b } = ctx;
  const [x, y] = ctx.inputs;
  const C = ctx.inputTypes[0]!.shape[1] as number;
  const margin = ctx.float('margin');
  const p = ctx.int('p');
  const picked = b.op('GatherElements', [x, b.unsqueeze(y, [1])], { axis: 1 });
  let hinge = b.op('Relu', [b.op('Add', [b.op('Sub', [x, picked]), b.floats([margin])])]);
  if (p === 2) hinge = b.op('Mul', [hinge, hinge]);
  // The sum includes j = y, whose term is margin^p: take it out again.
  const perSample = b.op('Div', [b.op('Sub', [b.reduce('ReduceSum', hinge, [1], false), b.floats([margin ** p])]), b.floats([C])]);
  reduce(ctx, perSample, 1);
}

/** The catalogue's cross-entropy on class indices: no class weights, and no log-probability output read. */
const crossEntropyFromOnnx: ImportPattern = {
  onnx: ['SoftmaxCrossEntropyLoss'],
  take(n, ctx) {
    const [scores, labels] = n.input;
    if (n.input.length !== 2 || !ctx.isValue(scores) || !labels || ctx.constant(labels) || ctx.type(labels)?.dtype !== 'int64' || (n.output[1] ?? '') !== '') return false;
    const reduction = attrString(n, 'reduction') || 'mean';
    ctx.add('CrossEntropyLoss', { reduction, ignoreIndex: attrInt(n, 'ignore_index', -100) }, n.input, n.output.slice(0, 1), n);
    return true;
  },
};

export const lossLayers: LayerSpec[] = [
  classLoss(
    'CrossEntropyLoss',
    'Softmax cross-entropy: −log softmax(x)[y].',
    'L = −log(e^{x_y} / Σⱼ e^{xⱼ}) averaged over the batch. Takes raw scores (logits); the softmax is built in. Targets are class indices or class probabilities.',
    {
      labelSmoothing: { type: 'float', label: 'Label smoothing', help: 'Mix ε of a uniform distribution into the targets.', default: 0, min: 0, max: 1 },
      ignoreIndex: { type: 'int', label: 'Ignore index', help: 'Target value that contributes no loss.', default: -100 },
    },
    true,
    lowerCrossEntropy,
    [crossEntropyFromOnnx],
  ),
  pairLoss('MSELoss', 'Mean squared error (L2): (x − y)².', 'L = mean((x − y)²).', (b, x, y) => {
    const d = b.op('Sub', [x, y]);
    return b.op('Mul', [d, d]);
  }),
  pairLoss('L1Loss', 'Mean absolute error (L1): |x − y|.', 'L = mean(|x − y|).', (b, x, y) => b.op('Abs', [b.op('Sub', [x, y])])),
  classLoss(
    'MultiMarginLoss',
    'Multi-class hinge (SVM) loss: Σ max(0, margin − x_y + xⱼ).',
    "The course's SVM loss Lᵢ = Σ_{j≠yᵢ} max(0, sⱼ − s_{yᵢ} + Δ), divided by the number of classes as PyTorch does.",
    {
      p: { type: 'int', label: 'p', help: '1 for the hinge, 2 for the squared hinge.', default: 1, min: 1, max: 2 },
      margin: { type: 'float', label: 'Margin', help: 'The margin Δ.', default: 1, min: 0 },
    },
    false,
    lowerMultiMargin,
  ),
  pairLoss('BCEWithLogitsLoss', 'Binary cross-entropy on logits.', 'L = −[y·log σ(x) + (1 − y)·log(1 − σ(x))], computed stably from the logits x.', (b, x, y) =>
    // max(x, 0) − x·y + log(1 + e^−|x|): never overflows.
    b.op('Add', [b.op('Sub', [b.op('Relu', [x]), b.op('Mul', [x, y])]), b.op('Softplus', [b.op('Neg', [b.op('Abs', [x])])])]),
  ),
  ...binaryLosses(),
];

/** sign₊(ŷ) = +1 where ŷ ≥ 0, −1 elsewhere: deck 003's perceptron output ("sign of zero is +1"). */
export function signPlus(b: OnnxBuilder, score: string): string {
  return b.op('Where', [b.op('GreaterOrEqual', [score, b.floats([0])]), b.floats([1]), b.floats([-1])]);
}

/** Losses on a score ŷ and a label y ∈ {−1, +1} (deck 003). */
function binaryLosses(): LayerSpec[] {
  return [
    pairLoss(
      'HingeLoss',
      'Binary hinge loss: max(0, 1 − y·ŷ), labels ±1.',
      "Deck 003's hinge loss ℓ(ŷ, y) = max(0, 1 − y·ŷ) for a score ŷ and a label y ∈ {−1, +1}; zero once the score is on the right side by a margin of 1.",
      (b, x, y) => b.op('Relu', [b.op('Sub', [b.floats([1]), b.op('Mul', [x, y])])]),
    ),
    pairLoss(
      'PerceptronLoss',
      'Perceptron criterion: −y·ŷ on a mistake (sign₊(ŷ) ≠ y), 0 otherwise; labels ±1.',
      "The loss whose gradient step is Rosenblatt's rule (deck 003): ℓ = −y·ŷ·1[y ≠ sign₊(ŷ)] with sign₊(0) = +1, so plain SGD with rate η gives w ← w + η·y·x on a mistake and nothing otherwise. The mistake indicator carries no gradient. Summed over the batch (the online rule takes one sample at a time).",
      (b, x, y) => {
        const mistake = b.op('Cast', [b.op('Not', [b.op('Equal', [signPlus(b, x), y])])], { to: 1 });
        return b.op('Neg', [b.op('Mul', [b.op('Mul', [x, y]), mistake])]);
      },
      'sum',
    ),
  ];
}
