/**
 * What a set of opened files means: a model (.json with its weights file, a .netloom bundle, or an ONNX
 * file with its external data), or weights for the open model. Files may come together from a multi-file
 * pick or a drop, so a document and its weights open as one.
 */
import { parseModel, type ModelDocument } from '../core/index.ts';
import { BundleError, decodeBundle } from '../core/graph/bundle.ts';
import { decodeSafetensors, WeightsFormatError, type Weights } from '../core/graph/weights.ts';
import { importOnnx } from '../core/convert/import.ts';
import { decodeModel, externalDataLocations, internalizeTensors, OnnxFormatError } from '../core/onnx/proto.ts';
import type { OpenedFile } from './platform/platform.ts';

export interface OpenedModel {
  doc: ModelDocument;
  /** The name to save back to (null for an imported ONNX file, which is saved as a new document). */
  fileName: string | null;
  weights?: Weights;
  /** The weights file the document names but that was not among the files: exporting would use fresh random weights. */
  missingWeights?: string;
}

/** A problem with the files, in one line that names the file. */
export class OpenError extends Error {}

/** A file's name without its folders (the desktop gives paths, the browser names). */
export const baseName = (path: string) => path.replace(/^.*[\\/]/, '');
const extension = (name: string) => /\.[^.]*$/.exec(name.toLowerCase())?.[0] ?? '';
const MODEL_EXTENSIONS = ['.json', '.netloom', '.onnx'];

const bytesOf = (file: OpenedFile) => file.bytes ?? new TextEncoder().encode(file.text ?? '');

/** Reads a .safetensors file's weights. */
export function readWeights(file: OpenedFile): Weights {
  try {
    return decodeSafetensors(bytesOf(file)).weights;
  } catch (e) {
    if (e instanceof WeightsFormatError) throw new OpenError(`${baseName(file.name)}: ${e.message}`);
    throw e;
  }
}

/** The model among the files, or null when there is none (only weights files). */
export function openModelFiles(files: OpenedFile[]): OpenedModel | null {
  const model = files.find((f) => MODEL_EXTENSIONS.includes(extension(f.name)));
  if (!model) return null;
  const name = baseName(model.name);
  const others = files.filter((f) => f !== model);
  const byName = (wanted: string) => others.find((f) => baseName(f.name) === baseName(wanted));
  const ext = extension(name);

  if (ext === '.netloom') {
    try {
      return { ...decodeBundle(bytesOf(model)), fileName: model.name };
    } catch (e) {
      if (e instanceof BundleError) throw new OpenError(`${name}: ${e.message}`);
      throw e;
    }
  }

  if (ext === '.onnx') {
    try {
      const proto = decodeModel(bytesOf(model));
      // The browser cannot read beside the file: the data files must come with it, never zero weights.
      const missing = externalDataLocations(proto).filter((location) => !byName(location));
      if (missing.length > 0)
        throw new OpenError(
          `${name} keeps its weights in ${missing.map((m) => `"${m}"`).join(', ')}: open ${missing.length === 1 ? 'that file' : 'those files'} together with it (select both, or drop both)`,
        );
      internalizeTensors(proto, (location) => {
        const file = byName(location);
        return file && bytesOf(file);
      });
      const { doc, weights } = importOnnx(proto, name.replace(/\.onnx$/i, ''));
      return { doc, weights, fileName: null };
    } catch (e) {
      if (e instanceof OnnxFormatError) throw new OpenError(`${name}: ${e.message}`);
      if (e instanceof OpenError) throw e;
      throw new OpenError(`${name}: cannot import (${(e as Error).message})`);
    }
  }

  const result = parseModel(model.text ?? new TextDecoder().decode(bytesOf(model)));
  if (!result.ok) throw new OpenError(`${name}: ${result.problems[0].path} ${result.problems[0].message}`);
  const doc = result.doc;
  const weightsFile = (doc.weights && byName(doc.weights)) || others.find((f) => extension(f.name) === '.safetensors');
  if (weightsFile) return { doc, fileName: model.name, weights: readWeights(weightsFile) };
  return { doc, fileName: model.name, missingWeights: doc.weights ? baseName(doc.weights) : undefined };
}
