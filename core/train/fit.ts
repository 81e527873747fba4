/** A dataset made to fit a training graph: images adapted to the input, samples shaped to it, labels and targets checked against the loss. */
import { checkTarget, DatasetError, shapedTo, type Dataset } from '../data/dataset.ts';
import { fitImages } from '../data/images.ts';
import type { TensorType } from '../graph/dim.ts';
import { getLayer } from '../layers/index.ts';
import type { TrainingGraph } from './step.ts';

/** Losses on a score and a label ±1 (deck 003), in words. */
const SIGNED_LOSSES: Record<string, string> = { HingeLoss: 'binary hinge loss', PerceptronLoss: 'perceptron loss' };

/**
 * Labels for a ±1 loss: −1/+1 pass as they are, 0/1 (two classes, as CSV files and most datasets number
 * them) become −1/+1, anything else is an error naming the first other value. One label per sample, shaped
 * as the loss's target.
 */
function signedLabels(ds: Dataset, loss: string, target: TensorType): { dataset: Dataset; mapped: boolean } {
  const labels = Array.from(ds.y.data as ArrayLike<number | bigint>, Number);
  const signed = labels.every((v) => v === -1 || v === 1);
  const zeroOne = !signed && labels.every((v) => v === 0 || v === 1);
  if (!signed && !zeroOne) {
    const at = labels.findIndex((v) => v !== -1 && v !== 0 && v !== 1);
    const mixed = at < 0 ? ` (it has both 0 and −1)` : `: sample ${at + 1} has ${labels[at]}`;
    throw new DatasetError(`${ds.name}: the ${loss} wants labels −1/+1 (or 0/1, read as −1/+1)${mixed}`);
  }
  const want = target.shape.slice(1);
  const onePerSample = ds.y.dims.reduce((p, d) => p * d, 1) === 1 && want.every((d) => d === 1);
  const dims = onePerSample ? (want as number[]) : ds.y.dims;
  if (signed && ds.y.dtype === 'float32' && dims.join() === ds.y.dims.join()) return { dataset: ds, mapped: false };
  const y = Float32Array.from(labels, (v) => (zeroOne ? 2 * v - 1 : v));
  return { dataset: { ...ds, y: { dims, dtype: 'float32', data: y }, classes: undefined }, mapped: zeroOne };
}

/** Throws DatasetError when a dataset cannot fit; `adapted` says what was changed to make it (in words). */
export function fitData(data: { train: Dataset; val?: Dataset }, graph: TrainingGraph): { data: { train: Dataset; val?: Dataset }; adapted: string[] } {
  const input = graph.inputs[0];
  const lossOp = graph.doc.nodes.find((n) => getLayer(n.op)?.category === 'Loss')?.op ?? '';
  const signedLoss = SIGNED_LOSSES[lossOp];
  const adapted = new Set<string>();
  const fit = (d: Dataset) => {
    const images = fitImages(d, input.type);
    images.adapted.forEach((a) => adapted.add(a));
    let shaped = shapedTo(images.dataset, input.type);
    if (signedLoss) {
      const labels = signedLabels(shaped, signedLoss, graph.target.type);
      if (labels.mapped) adapted.add(`labels 0/1 mapped to −1/+1 for the ${signedLoss}`);
      shaped = labels.dataset;
    }
    checkTarget(shaped, graph.target.type, graph.predictionType);
    return shaped;
  };
  return { data: { train: fit(data.train), val: data.val ? fit(data.val) : undefined }, adapted: [...adapted] };
}
