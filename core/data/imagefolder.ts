/**
 * Image folders (one subfolder per class, as torchvision's ImageFolder) as datasets. Decoding is the
 * platform's (createImageBitmap in the browser, a decoder package in Node); this turns decoded pixels
 * into samples of the model's input size: resized (bilinear), grey or RGB as the input has 1 or 3 channels.
 */
import { DatasetError, type Dataset } from './dataset.ts';

/** The image files an image folder's classes hold (the CLI and the app alike). */
export const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** Interleaved 8-bit pixels: 1 (grey), 2 (grey, alpha), 3 (RGB) or 4 (RGBA) channels. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface ImageClass {
  name: string;
  images: { file: string; image: DecodedImage }[];
}

/** One channel plane (C=1: luminance; C=3: red, green, blue) of an image, as floats in [0, 1]. */
function plane(image: DecodedImage, channel: number, grey: boolean): Float32Array {
  const { width, height, channels, data } = image;
  const out = new Float32Array(width * height);
  const colour = channels >= 3;
  for (let i = 0; i < width * height; i++) {
    const p = i * channels;
    out[i] = (grey ? (colour ? 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2] : data[p]) : colour ? data[p + channel] : data[p]) / 255;
  }
  return out;
}

/** Bilinear resampling with aligned pixel centres (as PIL and torchvision's antialias-free resize). */
function resize(src: Float32Array, w: number, h: number, ow: number, oh: number, out: Float32Array, at: number): void {
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / oh - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / ow - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, x0 + 1);
      const fx = sx - x0;
      const top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
      const bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
      out[at + y * ow + x] = top * (1 - fy) + bottom * fy;
    }
  }
}

/**
 * One image as a C×H×W sample (C = 1: grey, 3: RGB), resized to H×W, written into `out` at `at`: how an
 * image folder trains, and how the app runs a model on an image file.
 */
export function imageSample(image: DecodedImage, [c, h, w]: [number, number, number], out = new Float32Array(c * h * w), at = 0): Float32Array {
  for (let k = 0; k < c; k++) resize(plane(image, k, c === 1), image.width, image.height, w, h, out, at + k * h * w);
  return out;
}

/**
 * The images of every class as C×H×W samples (classes numbered in the order given, which the caller
 * sorts by name). `size` is [C, H, W], the model input's; absent, the first image's size in grey.
 */
export function imageFolderDataset(name: string, classes: ImageClass[], size?: [number, number, number]): { dataset: Dataset; classNames: string[]; resized: boolean } {
  const all = classes.flatMap((c, label) => c.images.map((i) => ({ ...i, label })));
  if (classes.length < 2) throw new DatasetError(`${name}: an image folder needs one subfolder per class, at least two; found ${classes.length}`);
  const empty = classes.find((c) => c.images.length === 0);
  if (empty) throw new DatasetError(`${name}: the class folder "${empty.name}" has no PNG or JPEG images`);
  const [c, h, w] = size ?? [1, all[0].image.height, all[0].image.width];
  if (c !== 1 && c !== 3) throw new DatasetError(`${name}: images become 1 (grey) or 3 (RGB) channels, but the model input has ${c}`);
  const per = c * h * w;
  const x = new Float32Array(all.length * per);
  let resized = false;
  all.forEach(({ image }, n) => {
    resized ||= image.width !== w || image.height !== h;
    imageSample(image, [c, h, w], x, n * per);
  });
  const y = BigInt64Array.from(all, (i) => BigInt(i.label));
  return {
    dataset: { name, size: all.length, x: { dims: [c, h, w], dtype: 'float32', data: x }, y: { dims: [], dtype: 'int64', data: y }, classes: classes.length },
    classNames: classes.map((cl) => cl.name),
    resized,
  };
}
