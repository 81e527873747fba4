/** Loading and saving models in either form: a model document with its weights sidecar, or an ONNX file. */
import { promises as fs } from 'node:fs';
import { freemem, tmpdir, totalmem } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { inferShapes, serializeModel, type ModelDocument } from '../core/index.ts';
import { BundleError, decodeBundle, encodeBundle } from '../core/graph/bundle.ts';
import { decodeSafetensors, encodeSafetensors, weightsMismatch, WeightsFormatError, type Weights } from '../core/graph/weights.ts';
import { compileModel, CompileError, type CompiledModel } from '../core/convert/compile.ts';
import { importOnnx } from '../core/convert/import.ts';
import { checkTensorData, decodeModel, encodeModel, encodeModelBytes, externalizeTensors, initializerBytes, OnnxFormatError, PROTOBUF_LIMIT, type ModelProto } from '../core/onnx/proto.ts';
import type { CreateSessionOptions, Session } from '../core/engine/engine.ts';
import type { NodeEngine } from '../engines/node/engine.ts';
import { loadModelText, loadTemplate, readBytes, readText, UserError, writeFileAtomic } from './files.ts';
import { readInside } from '../host/fs.ts';

export interface LoadedModel {
  doc: ModelDocument;
  /** Weights from the sidecar or the ONNX file; undefined for a new model (initialised from a seed). */
  weights?: Weights;
  /** The file as given, when it was ONNX. */
  onnx?: ModelProto;
  /** Every file read for it (the model, its weights or external data): what no output may overwrite. */
  sources: string[];
}

export const isOnnxPath = (file: string): boolean => extname(file).toLowerCase() === '.onnx';
export const isBundlePath = (file: string): boolean => extname(file).toLowerCase() === '.netloom';

/** ONNX external data's offset or length: a non-negative integer, or a refusal naming the tensor. */
function externalNumber(value: string | undefined, key: string, tensor: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UserError(`tensor "${tensor}": external data ${key} "${value}" is not a byte count`);
  return n;
}

/**
 * Reads an ONNX file, pulling in external data stored beside it. As ONNX requires, external data stays
 * inside the model's folder (see readInside), and every tensor's data must hold what its dims declare.
 */
export async function readOnnx(file: string, sources: string[] = []): Promise<ModelProto> {
  try {
    const model = decodeModel(await readBytes(file));
    const opset = model.opset_import.find((o) => !o.domain || o.domain === 'ai.onnx')?.version;
    if (opset !== undefined && opset > 21) throw new UserError(`opset ${opset} is newer than this Netloom supports (up to 21)`);
    for (const t of model.graph.initializer ?? []) {
      if (t.data_location === 1) {
        const entry = (key: string) => t.external_data?.find((e) => e.key === key)?.value;
        const location = entry('location');
        if (!location) throw new UserError(`tensor "${t.name}" has external data without a location`);
        const offset = externalNumber(entry('offset'), 'offset', t.name ?? '') ?? 0;
        const length = externalNumber(entry('length'), 'length', t.name ?? '');
        sources.push(join(dirname(file), location));
        t.raw_data = await readInside(dirname(file), location, `the external data of tensor "${t.name}"`, { offset, length });
        delete t.data_location;
        delete t.external_data;
      }
      checkTensorData(t);
    }
    return model;
  } catch (e) {
    if (e instanceof OnnxFormatError || (e instanceof UserError && !e.message.startsWith(file))) throw new UserError(`${file}: ${e.message}`);
    throw e;
  }
}

/** Memory the weights of one model may take: what this machine has. */
export const MEMORY_LIMIT = totalmem();

export async function loadModelFile(file: string): Promise<LoadedModel> {
  if (isOnnxPath(file)) {
    const sources = [file];
    const onnx = await readOnnx(file, sources);
    try {
      const { doc, weights } = importOnnx(onnx, basename(file, extname(file)));
      return { doc, weights, onnx, sources };
    } catch (e) {
      if (e instanceof OnnxFormatError) throw new UserError(`${file}: ${e.message}`);
      throw e;
    }
  }
  if (isBundlePath(file)) {
    let bundle: { doc: ModelDocument; weights?: Weights };
    try {
      bundle = decodeBundle(await readBytes(file), freemem());
    } catch (e) {
      if (e instanceof BundleError) throw new UserError(`${file}: ${e.message}`);
      throw e;
    }
    if (bundle.weights) refuseUnfitWeights(bundle.doc, bundle.weights, `${file}: its weights`, file);
    return { ...bundle, sources: [file] };
  }
  const doc = loadModelText(await readText(file), file);
  if (doc.weights === undefined) return { doc, sources: [file] };
  // The document names its weights file: it must be inside the document's folder, readable and fit the model.
  const sidecar = join(dirname(file), doc.weights);
  let weights: Weights;
  try {
    weights = decodeSafetensors(await readInside(dirname(file), doc.weights, `the weights file named by ${file}`)).weights;
  } catch (e) {
    if (e instanceof WeightsFormatError) throw new UserError(`${sidecar}: ${e.message}`);
    throw e;
  }
  refuseUnfitWeights(doc, weights, sidecar, file);
  return { doc, weights, sources: [file, sidecar] };
}

/** Weights a document names must fit it exactly: never silently replaced by fresh ones (see weightsMismatch). */
function refuseUnfitWeights(doc: ModelDocument, weights: Weights, where: string, file: string): void {
  const inference = inferShapes(doc);
  if (inference.hasErrors()) return; // compiling reports those first
  const mismatch = weightsMismatch(inference.nodes(), weights);
  if (mismatch) throw new UserError(`${where}: ${mismatch}; the weights named by ${file} must fit the model (remove "weights" to start from fresh weights)`);
}

export async function loadModelOrTemplate(file: string | undefined, template: string | undefined): Promise<LoadedModel> {
  return template !== undefined ? { doc: await loadTemplate(template), sources: [] } : loadModelFile(file!);
}

/** A compile error as one line for a person: the message and the first diagnostic behind it. */
export function compileFailure(e: CompileError): UserError {
  const first = e.diagnostics[0];
  return new UserError(first ? `${e.message}; first: ${first.nodeId ?? 'model'}: ${first.message}` : e.message);
}

export function compile(model: LoadedModel, options: { opset?: number; seed?: number } = {}): CompiledModel {
  try {
    return compileModel(model.doc, { ...options, weights: model.weights, memoryLimit: MEMORY_LIMIT });
  } catch (e) {
    if (e instanceof CompileError) throw compileFailure(e);
    throw e;
  }
}

/** The files writeOnnx or writeDocument may write for `file`: itself and its sidecar. */
export function outputFiles(file: string): string[] {
  if (isBundlePath(file)) return [file];
  return [file, isOnnxPath(file) ? `${file}.data` : join(dirname(file), `${basename(file, extname(file))}.safetensors`)];
}

/** Whether a model's weights leave too little of protobuf's 2 GiB for the graph around them: they go to external data. */
export const needsExternalData = (model: ModelProto): boolean => initializerBytes(model) > PROTOBUF_LIMIT - 64 * 1024 * 1024;

/**
 * Runs `use` with a session of `model` on `engine`, released after. Past protobuf's 2 GB a model cannot
 * reach ONNX Runtime in one piece: it is written to a scratch folder with its weights beside it, as
 * `netloom export` writes it, ONNX Runtime reads that file itself, and the folder is removed after.
 */
export async function withModelSession<T>(engine: NodeEngine, model: ModelProto, options: CreateSessionOptions, use: (session: Session) => Promise<T>): Promise<T> {
  const scratch = needsExternalData(model) ? await fs.mkdtemp(join(tmpdir(), 'netloom-model-')) : null;
  try {
    let session: Session;
    if (scratch) {
      await writeOnnx(join(scratch, 'model.onnx'), model);
      session = await engine.createSessionFromFile(join(scratch, 'model.onnx'), options);
    } else session = await engine.createSession(encodeModelBytes(model), options);
    try {
      return await use(session);
    } finally {
      await session.release();
    }
  } finally {
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  }
}

/** Writes an ONNX model atomically; over 2 GiB, the weights go to "<file>.data" beside it. */
export async function writeOnnx(file: string, model: ModelProto): Promise<void> {
  if (needsExternalData(model)) {
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
