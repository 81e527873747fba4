/** Loading and saving models in either form: a model document with its weights sidecar, or an ONNX file. */
import { promises as fs } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { serializeModel, type ModelDocument } from '../core/index.ts';
import { BundleError, decodeBundle, encodeBundle } from '../core/graph/bundle.ts';
import { decodeSafetensors, encodeSafetensors, WeightsFormatError, type Weights } from '../core/graph/weights.ts';
import { compileModel, CompileError, type CompiledModel } from '../core/convert/compile.ts';
import { importOnnx } from '../core/convert/import.ts';
import { decodeModel, encodeModel, externalDataLocations, externalizeTensors, initializerBytes, internalizeTensors, OnnxFormatError, PROTOBUF_LIMIT, type ModelProto } from '../core/onnx/proto.ts';
import { loadModelText, loadTemplate, readBytes, readText, UserError, writeFileAtomic } from './files.ts';

export interface LoadedModel {
  doc: ModelDocument;
  /** Weights from the sidecar or the ONNX file; undefined for a new model (initialised from a seed). */
  weights?: Weights;
  /** The file as given, when it was ONNX. */
  onnx?: ModelProto;
}

export const isOnnxPath = (file: string): boolean => extname(file).toLowerCase() === '.onnx';
export const isBundlePath = (file: string): boolean => extname(file).toLowerCase() === '.netloom';

/** Reads an ONNX file, pulling in external data stored beside it. */
export async function readOnnx(file: string): Promise<ModelProto> {
  let model: ModelProto;
  try {
    model = decodeModel(await readBytes(file));
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new UserError(`${file}: ${e.message}`);
    throw e;
  }
  const opset = model.opset_import.find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
  if (opset !== undefined && opset > 21) throw new UserError(`${file}: opset ${opset} is newer than this Netloom supports (up to 21)`);
  const sideFiles = new Map<string, Uint8Array>();
  for (const location of externalDataLocations(model)) if (location) sideFiles.set(location, await readBytes(resolve(dirname(file), location)));
  try {
    internalizeTensors(model, (location) => sideFiles.get(location));
  } catch (e) {
    if (e instanceof OnnxFormatError) throw new UserError(`${file}: ${e.message}`);
    throw e;
  }
  return model;
}

export async function loadModelFile(file: string): Promise<LoadedModel> {
  if (isOnnxPath(file)) {
    const onnx = await readOnnx(file);
    try {
      const { doc, weights } = importOnnx(onnx, basename(file, extname(file)));
      return { doc, weights, onnx };
    } catch (e) {
      if (e instanceof OnnxFormatError) throw new UserError(`${file}: ${e.message}`);
      throw e;
    }
  }
  if (isBundlePath(file)) {
    try {
      return decodeBundle(await readBytes(file));
    } catch (e) {
      if (e instanceof BundleError) throw new UserError(`${file}: ${e.message}`);
      throw e;
    }
  }
  const doc = loadModelText(await readText(file), file);
  if (!doc.weights) return { doc };
  const sidecar = resolve(dirname(file), doc.weights);
  try {
    return { doc, weights: decodeSafetensors(await readBytes(sidecar)).weights };
  } catch (e) {
    if (e instanceof WeightsFormatError) throw new UserError(`${sidecar}: ${e.message}`);
    if (e instanceof UserError) throw new UserError(`${e.message} (the weights file named by ${file})`);
    throw e;
  }
}

export async function loadModelOrTemplate(file: string | undefined, template: string | undefined): Promise<LoadedModel> {
  return template !== undefined ? { doc: await loadTemplate(template) } : loadModelFile(file!);
}

/** A compile error as one line for a person: the message and the first diagnostic behind it. */
export function compileFailure(e: CompileError): UserError {
  const first = e.diagnostics[0];
  return new UserError(first ? `${e.message}; first: ${first.nodeId ?? 'model'}: ${first.message}` : e.message);
}

export function compile(model: LoadedModel, options: { opset?: number; seed?: number } = {}): CompiledModel {
  try {
    return compileModel(model.doc, { ...options, weights: model.weights });
  } catch (e) {
    if (e instanceof CompileError) throw compileFailure(e);
    throw e;
  }
}

/** Writes an ONNX model atomically; over 2 GiB, the weights go to "<file>.data" beside it. */
export async function writeOnnx(file: string, model: ModelProto): Promise<void> {
  if (initializerBytes(model) > PROTOBUF_LIMIT - 64 * 1024 * 1024) {
    const location = `${basename(file)}.data`;
    const split = externalizeTensors(model, location);
    await writeFileAtomic(join(dirname(file), location), split.data);
    await writeFileAtomic(file, encodeModel(split.model));
    return;
  }
  await writeFileAtomic(file, encodeModel(model));
}

/**
 * Writes a model document and, when there are weights, its safetensors sidecar "<name>.safetensors";
 * to a .netloom file, both in one bundle.
 */
export async function writeDocument(file: string, doc: ModelDocument, weights?: Weights): Promise<void> {
  if (isBundlePath(file)) return writeFileAtomic(file, encodeBundle(doc, weights));
  const out = { ...doc };
  if (weights && weights.size > 0) {
    out.weights = `${basename(file, extname(file))}.safetensors`;
    await writeFileAtomic(join(dirname(file), out.weights), encodeSafetensors(weights, { format: 'netloom.weights', model: doc.name }));
  } else {
    delete out.weights;
  }
  await writeFileAtomic(file, serializeModel(out));
}

export async function ensureFolder(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
}
