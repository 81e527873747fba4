/**
 * The built-in datasets, the same for the CLI and the app: MNIST and Fashion-MNIST (as assets made by
 * scripts/make-datasets.ts, loaded by whoever can read files or fetch) and the synthetic sets.
 */
import { DatasetError, split, SYNTHETIC, synthetic, type Dataset } from './dataset.ts';

export const IMAGE_SETS = ['mnist', 'fashion-mnist'] as const;
export type ImageSetName = (typeof IMAGE_SETS)[number];
export const BUILT_IN = [...IMAGE_SETS, ...SYNTHETIC] as const;

export const isImageSet = (name: string): name is ImageSetName => (IMAGE_SETS as readonly string[]).includes(name);

/** Class names, for a classifier's output. */
export const CLASS_NAMES: Record<ImageSetName, string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};

/**
 * A built-in dataset split the same way each time. MNIST and Fashion-MNIST: 8,000 training and 2,000
 * validation images (their images, already loaded, are passed in); synthetic sets: 480 and 120 points.
 */
export function builtInSplit(name: string, seed: number, images?: Dataset): { train: Dataset; val: Dataset } {
  if (isImageSet(name)) {
    if (!images) throw new DatasetError(`the ${name} images were not loaded`);
    return split(images, 8000, 2000, 0);
  }
  if (!(SYNTHETIC as readonly string[]).includes(name)) throw new DatasetError(`no built-in dataset "${name}"; choose one of ${BUILT_IN.join(', ')}`);
  return split(synthetic(name, 600, seed), 480, 120, seed);
}
