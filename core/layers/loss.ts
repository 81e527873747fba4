/** Losses, as nodes that take a prediction and a target: CrossEntropyLoss, MSELoss, L1Loss, MultiMarginLoss, BCEWithLogitsLoss. */
import { broadcast, formatShape } from '../shape/dim.ts';
import type { InferContext, LayerSpec, TensorType } from './spec.ts';
import { expectFloat, tensor } from './common.ts';

const REDUCTION = { type: 'enum', label: 'Reduction', help: "'mean' or 'sum' over the batch gives a scalar; 'none' keeps one loss per element.", default: 'mean', values: ['mean', 'sum', 'none'] } as const;

function reduced(ctx: InferContext, perElement: TensorType['shape']): TensorType {
  return tensor(ctx.str('reduction') === 'none' ? perElement : []);
}

/** A loss whose target has one integer class index per sample (or probabilities shaped like the input). */
function classLoss(op: string, summary: string, doc: string, params: LayerSpec['params'], allowProbabilities: boolean): LayerSpec {
  return {
    op,
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
      ctx.formula(ctx.str('reduction') === 'none' ? `loss per sample: ${formatShape(expected)}` : `loss = ${ctx.str('reduction')} over ${formatShape(expected)} → scalar`);
      return { outputs: [reduced(ctx, expected)], macs: 0 };
    },
  };
}

/** A loss between a prediction and a target of the same shape. */
function pairLoss(op: string, summary: string, doc: string): LayerSpec {
  return {
    op,
    category: 'Loss',
    summary,
    doc,
    params: { reduction: REDUCTION },
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
  };
}

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
  ),
  pairLoss('MSELoss', 'Mean squared error (L2): (x − y)².', 'L = mean((x − y)²).'),
  pairLoss('L1Loss', 'Mean absolute error (L1): |x − y|.', 'L = mean(|x − y|).'),
  classLoss(
    'MultiMarginLoss',
    'Multi-class hinge (SVM) loss: Σ max(0, margin − x_y + xⱼ).',
    "The course's SVM loss Lᵢ = Σ_{j≠yᵢ} max(0, sⱼ − s_{yᵢ} + Δ), divided by the number of classes as PyTorch does.",
    {
      p: { type: 'int', label: 'p', help: '1 for the hinge, 2 for the squared hinge.', default: 1, min: 1, max: 2 },
      margin: { type: 'float', label: 'Margin', help: 'The margin Δ.', default: 1, min: 0 },
    },
    false,
  ),
  pairLoss('BCEWithLogitsLoss', 'Binary cross-entropy on logits.', 'L = −[y·log σ(x) + (1 − y)·log(1 − σ(x))], computed stably from the logits x.'),
];
