/**
 * Accuracy, the complement of the zero-one loss ℓ(ŷ, y) = 1[ŷ ≠ y] (deck 003), for what a training graph
 * predicts: a class by argmax against integer targets, or a side by sign₊ (sign of 0 is +1) against ±1 labels
 * for the binary losses.
 */
import type { Tensor } from '../engine/engine.ts';
import { getLayer } from '../layers/index.ts';
import type { TrainingGraph } from './step.ts';

/** Counts the correct predictions in a batch. */
export type HitCounter = (prediction: Tensor, target: Tensor) => number;

/** Correct predictions in a batch: argmax over the classes against integer targets. */
export function argmaxHits(prediction: Tensor, target: Tensor): number {
  const [n, c] = prediction.dims;
  const p = prediction.data as Float32Array;
  const y = target.data as BigInt64Array;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (p[i * c + k] > p[i * c + best]) best = k;
    if (BigInt(best) === y[i]) hits++;
  }
  return hits;
}

/** Correct signs: sign₊(score) against labels ±1, one score per sample. */
export function signHits(prediction: Tensor, target: Tensor): number {
  const p = prediction.data as Float32Array;
  const y = target.data as Float32Array;
  let hits = 0;
  for (let i = 0; i < p.length; i++) if ((p[i] >= 0 ? 1 : -1) === Math.sign(y[i])) hits++;
  return hits;
}

/** The zero-one loss of a batch: the fraction of samples predicted wrongly. */
export const zeroOneLoss = (count: HitCounter, prediction: Tensor, target: Tensor): number => 1 - count(prediction, target) / prediction.dims[0];

/** How a training graph's accuracy is counted, or null where it has none (regression). */
export function hitCounter(graph: TrainingGraph): HitCounter | null {
  const target = graph.target.type;
  if (target.dtype === 'int64' && target.shape.length === 1) return argmaxHits;
  const loss = graph.doc.nodes.find((n) => getLayer(n.op)?.category === 'Loss');
  const perSample = graph.predictionType.shape.slice(1).every((d) => d === 1);
  return loss && ['HingeLoss', 'PerceptronLoss'].includes(loss.op) && perSample ? signHits : null;
}
