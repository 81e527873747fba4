/** A dataset made to fit a training graph: images adapted to the input, samples shaped to it, targets checked against the loss. */
import { checkTarget, shapedTo, type Dataset } from '../data/dataset.ts';
import { fitImages } from '../data/images.ts';
import type { TrainingGraph } from './step.ts';

/** Throws DatasetError when a dataset cannot fit; `adapted` says what was changed to make it (in words). */
export function fitData(data: { train: Dataset; val?: Dataset }, graph: TrainingGraph): { data: { train: Dataset; val?: Dataset }; adapted: string[] } {
  const input = graph.inputs[0];
  const adapted = new Set<string>();
  const fit = (d: Dataset) => {
    const images = fitImages(d, input.type);
    images.adapted.forEach((a) => adapted.add(a));
    const shaped = shapedTo(images.dataset, input.type);
    checkTarget(shaped, graph.target.type, graph.predictionType);
    return shaped;
  };
  return { data: { train: fit(data.train), val: data.val ? fit(data.val) : undefined }, adapted: [...adapted] };
}
