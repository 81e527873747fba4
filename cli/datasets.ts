/** The datasets `netloom train` reads: .npz files, the built-in MNIST and Fashion-MNIST assets, synthetic sets. */
import { promises as fs } from 'node:fs';
import { freemem } from 'node:os';
import { extname, join } from 'node:path';
import { decode as decodeJpeg } from 'jpeg-js';
import { decode as decodePng } from 'fast-png';
import { headerDecision, parseCsv } from '../core/data/csv.ts';
import { IMAGE_FILE, imageFolderDataset, type DecodedImage, type ImageClass } from '../core/data/imagefolder.ts';
import type { GraphValue } from '../core/convert/compile.ts';
import type { TensorType } from '../core/graph/dim.ts';
import { datasetFromArrays } from '../core/data/arrays.ts';
import { DatasetError, type Dataset } from '../core/data/dataset.ts';
import { parseNpz } from '../core/data/npz.ts';
import { builtInData } from '../host/datasets.ts';
import { readBytes, UserError } from '../host/fs.ts';
import { readText } from './files.ts';

export async function loadNpz(file: string, inputName: string): Promise<Dataset> {
  try {
    return datasetFromArrays(file, parseNpz(await readBytes(file), freemem()), inputName);
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof DatasetError) throw new UserError(e.message);
    throw new UserError(`${file}: ${(e as Error).message}`);
  }
}

export async function loadCsv(file: string, label?: string): Promise<Dataset> {
  const column = label !== undefined && /^\d+$/.test(label) ? Number(label) - 1 : label;
  try {
    const csv = parseCsv(file, await readText(file), column);
    console.error(`${file}: ${headerDecision(csv)}; label column "${csv.label}"`);
    return csv.dataset;
  } catch (e) {
    if (e instanceof DatasetError) throw new UserError(e.message);
    throw e;
  }
}

/** One image file, decoded to interleaved 8-bit pixels. */
function decodeImage(file: string, bytes: Uint8Array): DecodedImage {
  try {
    if (/\.png$/i.test(file)) {
      const png = decodePng(bytes);
      // 16-bit samples keep their high byte; palette images come back as RGB(A).
      const data = png.depth === 16 ? Uint8Array.from(png.data as Uint16Array, (v) => v >> 8) : (png.data as Uint8Array);
      if (png.depth !== 8 && png.depth !== 16) throw new Error(`${png.depth}-bit samples are not supported; save as 8-bit`);
      return { width: png.width, height: png.height, channels: png.channels, data };
    }
    const jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: jpeg.width, height: jpeg.height, channels: 4, data: jpeg.data };
  } catch (e) {
    throw new UserError(`${file}: not a readable ${/\.png$/i.test(file) ? 'PNG' : 'JPEG'} image (${(e as Error).message})`);
  }
}

/** A folder with one subfolder of PNG or JPEG images per class (classes in name order), sized to the model input. */
export async function loadImageFolder(folder: string, input: TensorType): Promise<{ dataset: Dataset; resized: boolean }> {
  const subfolders = (await fs.readdir(folder, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const classes: ImageClass[] = [];
  for (const name of subfolders) {
    const files = (await fs.readdir(join(folder, name))).filter((f) => IMAGE_FILE.test(f)).sort();
    const images = [];
    for (const f of files) images.push({ file: f, image: decodeImage(join(folder, name, f), await readBytes(join(folder, name, f))) });
    classes.push({ name, images });
  }
  const shape = input.shape.slice(1);
  const size = shape.length === 3 && shape.every((d) => typeof d === 'number') ? (shape as [number, number, number]) : undefined;
  try {
    return imageFolderDataset(folder, classes, size);
  } catch (e) {
    if (e instanceof DatasetError) throw new UserError(e.message);
    throw e;
  }
}

/** A dataset file by its kind: .npz, .csv (label column by name or 1-based number), or an image folder. */
export async function loadDataFile(file: string, input: GraphValue, label?: string): Promise<{ dataset: Dataset; notes: string[] }> {
  const stat = await fs.stat(file).catch(() => null);
  if (!stat) throw new UserError(`${file}: no such file or folder`);
  if (stat.isDirectory()) {
    const { dataset, resized } = await loadImageFolder(file, input.type);
    return { dataset, notes: resized ? [`resized the images to ${dataset.x.dims.slice(1).join('×')}`] : [] };
  }
  if (extname(file).toLowerCase() === '.csv') return { dataset: await loadCsv(file, label), notes: [] };
  if (label !== undefined) throw new UserError('--label names a column of a .csv file');
  return { dataset: await loadNpz(file, input.name), notes: [] };
}

/** A built-in dataset, split the same way each time (see core/data/builtin.ts). */
export async function builtIn(name: string, seed: number): Promise<{ train: Dataset; val: Dataset }> {
  try {
    return await builtInData(name, seed);
  } catch (e) {
    if (e instanceof DatasetError) throw new UserError(e.message);
    throw e;
  }
}
