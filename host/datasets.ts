/**
 * The built-in datasets on Node, for the CLI and the desktop's engine process: MNIST and Fashion-MNIST
 * from assets/datasets/<name>.npz (made by scripts/make-datasets.ts), read once, and the synthetic sets.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtInSplit, isImageSet, type ImageSetName } from '../core/data/builtin.ts';
import { DatasetError, type Dataset } from '../core/data/dataset.ts';
import { imagesFromArrays } from '../core/data/images.ts';
import { parseNpz } from '../core/data/npz.ts';
import { readBytes } from './fs.ts';

/** Where the assets are beside the sources; a bundle (the desktop app's) names its own folder. */
export const DATASETS_FOLDER = fileURLToPath(new URL('../assets/datasets/', import.meta.url));

const loaded = new Map<string, Promise<Dataset>>();

/** All images of a built-in set, read once per folder. */
export function loadImageSet(name: ImageSetName, folder = DATASETS_FOLDER): Promise<Dataset> {
  const file = join(folder, `${name}.npz`);
  let images = loaded.get(file);
  if (!images) {
    images = (async () => {
      const bytes = await readBytes(file).catch((e: Error) => {
        throw new DatasetError(`the ${name} dataset could not be loaded: ${e.message}`);
      });
      const arrays = parseNpz(bytes);
      return imagesFromArrays(name, arrays.get('x')!, arrays.get('y')!);
    })();
    images.catch(() => loaded.delete(file));
    loaded.set(file, images);
  }
  return images;
}

/** A built-in dataset with the split of core/data/builtin.ts. */
export async function builtInData(name: string, seed = 0, folder = DATASETS_FOLDER): Promise<{ train: Dataset; val: Dataset }> {
  return builtInSplit(name, seed, isImageSet(name) ? await loadImageSet(name, folder) : undefined);
}
