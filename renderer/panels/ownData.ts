/**
 * A person's own data for the Train panel, read in the page with the core's parsers (the CLI reads the
 * same formats with the same code): a CSV file, a .npz archive or .npy files picked together, a folder of
 * PNG/JPEG images with one subfolder per class (decoded by the browser), or a .txt text. The data then
 * moves to the engine's worker as a Dataset.
 */
import { datasetFromArrays } from '../../core/data/arrays.ts';
import { headerDecision, parseCsv } from '../../core/data/csv.ts';
import type { Dataset } from '../../core/data/dataset.ts';
import { IMAGE_FILE, imageFolderDataset, type ImageClass } from '../../core/data/imagefolder.ts';
import { parseNpy } from '../../core/data/npy.ts';
import { parseNpz } from '../../core/data/npz.ts';
import { describeVocabulary, textTrainingSet, withSequenceLength, type TextLevel } from '../../core/data/text.ts';
import type { Tensor } from '../../core/engine/engine.ts';
import type { TensorType } from '../../core/graph/dim.ts';
import type { ModelDocument } from '../../core/graph/types.ts';
import { decodeImage } from '../../engines/web/datasets.ts';
import type { TrainRequest } from '../../engines/web/client.ts';

/** A picked or dropped file, with its path inside a picked folder ("bars/vertical/0.png") or just its name. */
export interface DataFile {
  path: string;
  file: File;
}

/** How to read the files: the CSV label column (index; absent: the last), the text's level and sequence length. */
export interface ReadOptions {
  label?: number;
  level: TextLevel;
  sequenceLength: number;
}

/** The model's (first) data input, which the data is read for: its name (for .npz arrays) and type. */
export interface ModelInput {
  name: string;
  type: TensorType;
}

export interface OwnData {
  /** The file's or folder's name. */
  name: string;
  kind: 'csv' | 'arrays' | 'images' | 'text';
  dataset: Dataset;
  /** What was loaded, in words (samples, features or classes, label column, vocabulary). */
  description: string;
  /** CSV: every column's name, for choosing the label, and the label's index. */
  columns?: string[];
  label?: number;
  /** Text: the sequence length the model is trained with (its symbolic T fixed to it). */
  sequenceLength?: number;
}

/** What the Train panel trains on: a built-in dataset, or the person's own data (null until a file is read). */
export type DataChoice = { builtIn: string } | { own: OwnData | null };

export const choiceName = (choice: DataChoice) => ('builtIn' in choice ? choice.builtIn : (choice.own?.name ?? 'your data'));

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const extension = (path: string) =>
  baseName(path)
    .toLowerCase()
    .replace(/^[^.]*/, '');
const plural = (n: number, what: string) => `${n.toLocaleString('en')} ${what}${n === 1 ? '' : what.endsWith('s') ? 'es' : 's'}`;

/** The data for a training request: built-in sets load in the worker; own data is copied, since the request's arrays move there. */
export function trainingData(choice: DataChoice, seed: number): TrainRequest['data'] {
  if ('builtIn' in choice) return { builtIn: choice.builtIn, seed };
  if (!choice.own) throw new Error('choose a data file first (or a built-in dataset)');
  const d = choice.own.dataset;
  return { train: { ...d, x: { ...d.x, data: d.x.data.slice() }, y: { ...d.y, data: d.y.data.slice() } } };
}

/** The document to train: a text's sequence length fixes a symbolic token length, as `netloom train --text` does. */
export function trainingDocument(choice: DataChoice, doc: ModelDocument): ModelDocument {
  const length = 'own' in choice ? choice.own?.sequenceLength : undefined;
  return length === undefined ? doc : withSequenceLength(doc, length);
}

/** Targets in words: class labels counted, or the values' shape. */
function targets(d: Dataset): string {
  if (d.y.dtype !== 'int64' || d.y.dims.length > 0) return `targets of ${d.y.dims.join('×') || 'one value'} per sample`;
  const labels = new Set(Array.from(d.y.data as BigInt64Array, Number));
  return `${plural(labels.size, 'class')} (labels ${Math.min(...labels)}–${Math.max(...labels)})`;
}

function readCsv(file: DataFile, text: string, options: ReadOptions): OwnData {
  const csv = parseCsv(file.path, text, options.label);
  const label = csv.columns.indexOf(csv.label);
  const kinds = csv.classNames ? `${plural(csv.classNames.length, 'class')} (${csv.classNames.join(', ')})` : targets(csv.dataset);
  return {
    name: baseName(file.path),
    kind: 'csv',
    dataset: csv.dataset,
    columns: csv.columns,
    label,
    description: `${plural(csv.dataset.size, 'sample')} · ${plural(csv.features.length, 'feature')} (${csv.features.join(', ')}) · label column "${csv.label}": ${kinds} · ${headerDecision(csv)}`,
  };
}

function readArrays(name: string, arrays: Map<string, Tensor>, input: ModelInput): OwnData {
  const dataset = datasetFromArrays(name, arrays, input.name);
  return { name, kind: 'arrays', dataset, description: `${plural(dataset.size, 'sample')} of ${dataset.x.dims.join('×') || 'one value'} · ${targets(dataset)}` };
}

/** .npy files picked together: each array named by its file ("x.npy" is x). */
async function readNpyFiles(files: DataFile[], input: ModelInput): Promise<OwnData> {
  const arrays = new Map<string, Tensor>();
  for (const f of files) {
    try {
      arrays.set(baseName(f.path).replace(/\.npy$/i, ''), parseNpy(new Uint8Array(await f.file.arrayBuffer())));
    } catch (e) {
      throw new Error(`${f.path}: ${(e as Error).message}`);
    }
  }
  return readArrays(files.map((f) => baseName(f.path)).join(' + '), arrays, input);
}

/** A folder of images: each image's parent folder is its class (classes and files in name order, as the CLI reads them). */
async function readImageFolder(files: DataFile[], input: ModelInput): Promise<OwnData> {
  const images = files.filter((f) => IMAGE_FILE.test(f.path));
  const parts = images.map((f) => f.path.split('/'));
  if (parts.some((p) => p.length < 2)) throw new Error(`${baseName(images.find((f) => !f.path.includes('/'))!.path)}: pick or drop a folder with one subfolder of images per class, not single images`);
  const byClass = new Map<string, { file: string; blob: File }[]>();
  images.forEach((f, i) => {
    const name = parts[i].at(-2)!;
    byClass.set(name, [...(byClass.get(name) ?? []), { file: f.path, blob: f.file }]);
  });
  const classes: ImageClass[] = [];
  for (const name of [...byClass.keys()].sort()) {
    const members = byClass.get(name)!.sort((a, b) => (a.file < b.file ? -1 : 1));
    const decoded = [];
    for (const m of members) {
      try {
        decoded.push({ file: m.file, image: await decodeImage(m.blob) });
      } catch {
        throw new Error(`${m.file}: not a readable PNG or JPEG image`);
      }
    }
    classes.push({ name, images: decoded });
  }
  const folder = parts[0].length > 2 ? parts[0].at(-3)! : 'images';
  const shape = input.type.shape.slice(1);
  const size = shape.length === 3 && shape.every((d) => typeof d === 'number') ? (shape as [number, number, number]) : undefined;
  const { dataset, classNames, resized } = imageFolderDataset(folder, classes, size);
  return {
    name: folder,
    kind: 'images',
    dataset,
    description: `${plural(dataset.size, 'image')} · ${plural(classNames.length, 'class')} (${classNames.join(', ')})${resized ? ` · resized to ${dataset.x.dims.join('×')}` : ''}`,
  };
}

function readText(file: DataFile, text: string, options: ReadOptions, input: ModelInput): OwnData {
  const set = textTrainingSet(baseName(file.path), text, options.level, input.type, options.sequenceLength);
  return {
    name: set.dataset.name,
    kind: 'text',
    dataset: set.dataset,
    sequenceLength: set.length,
    description: `${plural(set.dataset.size, 'sequence')} of ${set.length} tokens · vocabulary of ${describeVocabulary(set.vocabulary)}`,
  };
}

/** Reads picked or dropped files as one dataset for the model input; errors name the file (and the line, column or array). */
export async function readOwnData(files: DataFile[], options: ReadOptions, input: ModelInput): Promise<OwnData> {
  if (files.length === 0) throw new Error('no files were picked');
  if (files.some((f) => IMAGE_FILE.test(f.path))) return readImageFolder(files, input);
  if (files.every((f) => extension(f.path) === '.npy')) return readNpyFiles(files, input);
  if (files.length > 1) throw new Error(`${files.map((f) => baseName(f.path)).join(', ')}: pick one .csv, .npz or .txt file, .npy files together, or a folder of images`);
  const [file] = files;
  const ext = extension(file.path);
  if (ext === '.csv') return readCsv(file, await file.file.text(), options);
  if (ext === '.txt') return readText(file, await file.file.text(), options, input);
  if (ext === '.npz') {
    let arrays;
    try {
      arrays = parseNpz(new Uint8Array(await file.file.arrayBuffer()));
    } catch (e) {
      throw new Error(`${file.path}: ${(e as Error).message}`);
    }
    return readArrays(baseName(file.path), arrays, input);
  }
  throw new Error(`${baseName(file.path)}: Netloom reads .csv, .npz, .npy and .txt files and folders of PNG/JPEG images, not ${ext || 'files without an extension'}`);
}

/** The files of a drop, folders walked (their paths kept, so an image folder's classes are its subfolders). */
export async function droppedFiles(transfer: DataTransfer): Promise<DataFile[]> {
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry()).filter((e) => e !== null);
  if (entries.length === 0) return [...transfer.files].map((file) => ({ path: file.name, file }));
  const out: DataFile[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ path: entry.fullPath.replace(/^\//, ''), file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries gives a batch at a time, until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return out;
}

/** The first data input of a model as inferred, or null when it has none with a known type. */
export function modelInput(reports: { id: string; op: string; outputs: TensorType[] | null }[]): ModelInput | null {
  const input = reports.find((r) => r.op === 'Input' && r.outputs?.[0]);
  return input ? { name: input.id, type: input.outputs![0] } : null;
}
