/**
 * Datasets in the browser: the built-in MNIST and Fashion-MNIST assets, fetched from the app itself the
 * first time they are used, and PNG/JPEG files decoded by the browser (for image folders).
 */
import { builtInSplit, isImageSet, type ImageSetName } from '../../core/data/builtin.ts';
import type { Dataset } from '../../core/data/dataset.ts';
import type { DecodedImage } from '../../core/data/imagefolder.ts';
import { imagesFromArrays } from '../../core/data/images.ts';
import { parseNpz } from '../../core/data/npz.ts';
import fashionUrl from '../../assets/datasets/fashion-mnist.npz?url';
import mnistUrl from '../../assets/datasets/mnist.npz?url';

const URLS: Record<ImageSetName, string> = { mnist: mnistUrl, 'fashion-mnist': fashionUrl };
const loaded = new Map<ImageSetName, Promise<Dataset>>();

/** All images of a built-in set, fetched once. */
export function loadImageSet(name: ImageSetName): Promise<Dataset> {
  let images = loaded.get(name);
  if (!images) {
    images = (async () => {
      const response = await fetch(new URL(URLS[name], self.location.href));
      if (!response.ok) throw new Error(`the ${name} dataset could not be loaded (${response.status} ${response.statusText})`);
      const arrays = parseNpz(new Uint8Array(await response.arrayBuffer()));
      return imagesFromArrays(name, arrays.get('x')!, arrays.get('y')!);
    })();
    images.catch(() => loaded.delete(name));
    loaded.set(name, images);
  }
  return images;
}

/** A built-in dataset with the CLI's split (core/data/builtin.ts). */
export async function builtInData(name: string, seed = 0): Promise<{ train: Dataset; val: Dataset }> {
  return builtInSplit(name, seed, isImageSet(name) ? await loadImageSet(name) : undefined);
}

/** A PNG or JPEG file decoded by the browser into RGBA pixels. */
export async function decodeImage(file: Blob): Promise<DecodedImage> {
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, channels: 4, data };
}
