/**
 * The typed IPC surface between the window and the main process. Every payload that crosses it is
 * checked against these schemas on arrival (zod), in both directions where data comes from outside.
 */
import { z } from 'zod';
import type { Dataset } from '../core/data/dataset.ts';
import type { TensorArray } from '../core/engine/engine.ts';
import { formatProblem, validateModel } from '../core/graph/document.ts';
import type { ModelDocument } from '../core/graph/types.ts';
import type { Weights } from '../core/graph/weights.ts';
import type { TrainingGraphOptions } from '../core/train/step.ts';
import type { TrainerOptions } from '../core/train/trainer.ts';
import { COMMAND_IDS, type CommandId } from './commands.ts';

export const IPC = {
  openFile: 'netloom:open-file',
  saveFile: 'netloom:save-file',
  exportOnnx: 'netloom:export-onnx',
  exportPyTorch: 'netloom:export-pytorch',
  readRecovery: 'netloom:read-recovery',
  writeRecovery: 'netloom:write-recovery',
  clearRecovery: 'netloom:clear-recovery',
  setTitle: 'netloom:set-title',
  /** Window → main → the engine's utility process: the messages of engines/web/protocol.ts (EngineRequest). */
  engineRequest: 'netloom:engine-request',
  /** Main → the window that asked: the engine's replies, results, training events. */
  engineReply: 'netloom:engine-reply',
  takePendingDocument: 'netloom:take-pending-document',
  command: 'netloom:command',
} as const;

const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes');
/**
 * Saves to the file behind `handle` (one the main process gave this window), or asks where when it is null.
 * `bundle`: the .netloom bytes, sent when the file is (or may become, in Save As) a bundle; the main
 * process writes it for a .netloom path.
 */
export const SaveFileRequest = z
  .object({
    text: z.string().max(512 * 1024 * 1024),
    handle: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .nullable(),
    bundle: Bytes.optional(),
  })
  .strict();
/** Where a document went: the path to show, and the opaque handle for saving there again. */
export const SavedFileReply = z.object({ name: z.string(), handle: z.string() }).strict().nullable();
export const ExportOnnxRequest = z.object({ bytes: Bytes, suggestedName: z.string().min(1).max(255) }).strict();
/** model.py and its weights, written beside it as <name>.safetensors. */
export const ExportPyTorchRequest = z.object({ code: z.string().max(64 * 1024 * 1024), weights: Bytes, suggestedName: z.string().min(1).max(255) }).strict();
export const WriteRecoveryRequest = z.object({ text: z.string().max(512 * 1024 * 1024) }).strict();
export const SetTitleRequest = z.object({ title: z.string().max(1000), dirty: z.boolean() }).strict();
/** A file as opened: the model file carries the handle to save it again; the files it names beside it (weights, external data) do not. */
const OpenedFile = z.object({ name: z.string(), handle: z.string().optional(), text: z.string().optional(), bytes: Bytes.optional() }).strict();
/** A model file with the files it names beside it, or null if cancelled. */
export const OpenedFilesReply = z.array(OpenedFile).nullable();
export const Command = z.enum(COMMAND_IDS);

// The engine's messages: the shapes of engines/web/protocol.ts (the compiler holds the two together: the
// window's port sends a WorkerRequest through the bridge, and the main process forwards what these
// schemas let through as one). The document is checked as a model file is; of the trainer's and the
// graph's settings, what decides the work and its size.
const Id = z.number().int().positive();
const Provider = z.enum(['cpu', 'cuda', 'dml', 'wasm', 'webgpu']);
const Dims = z.array(z.number().int().nonnegative());
const TypedArray = z.custom<TensorArray>(
  (v) => v instanceof Float32Array || v instanceof Float64Array || v instanceof BigInt64Array || v instanceof Int32Array || v instanceof Int8Array || v instanceof Uint8Array,
  'expected a typed array',
);
const Tensor = z.object({ dtype: z.enum(['float32', 'float64', 'int64', 'int32', 'int8', 'uint8', 'bool']), dims: Dims, data: TypedArray }).strict();
const Samples = z
  .object({
    dims: Dims,
    dtype: z.enum(['float32', 'int64']),
    data: z.custom<Float32Array | BigInt64Array>((v) => v instanceof Float32Array || v instanceof BigInt64Array, 'expected a Float32Array or BigInt64Array'),
  })
  .strict();
const DatasetSchema: z.ZodType<Dataset> = z.object({ name: z.string(), size: z.number().int().nonnegative(), x: Samples, y: Samples, classes: z.number().int().positive().optional() }).strict();
const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
/** An object of one of the core's types: the fields in `shape` are checked here (each issue with its path), the rest by the core. */
function coreObject<T>(what: string, shape: z.ZodRawShape) {
  const fields = z.looseObject(shape);
  return z.custom<T>(isObject, `expected ${what}`).superRefine((value, ctx) => {
    for (const issue of fields.safeParse(value).error?.issues ?? []) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  });
}
const TrainerSettings = coreObject<TrainerOptions>('the trainer options', {
  epochs: z.number().int().positive(),
  batchSize: z.number().int().positive(),
  lr: z.number().finite(),
  provider: Provider.optional(),
  allowFallback: z.boolean().optional(),
});
export const EngineRunRequest = z
  .object({ model: Bytes, feeds: z.record(z.string(), Tensor), fetches: z.array(z.string()).optional(), provider: Provider.optional(), allowFallback: z.boolean().optional() })
  .strict();
export const EngineTrainRequest = z
  .object({
    doc: z.custom<ModelDocument>().superRefine((value, ctx) => {
      const loaded = validateModel(value);
      if (!loaded.ok) ctx.addIssue({ code: 'custom', message: formatProblem(loaded.problems[0]) });
    }),
    weights: z.custom<Weights>((v) => v instanceof Map, 'expected weights (a Map of tensors)').optional(),
    graph: z.custom<Omit<TrainingGraphOptions, 'weights'>>(isObject, 'expected the training graph settings'),
    options: TrainerSettings,
    data: z.union([z.object({ train: DatasetSchema, val: DatasetSchema.optional() }).strict(), z.object({ builtIn: z.string().min(1), seed: z.number().int().optional() }).strict()]),
  })
  .strict();
/** A request to the engine, numbered by the window (replies come back under the same number). */
export const EngineRequest = z.discriminatedUnion('op', [
  z.object({ id: Id, op: z.literal('providers') }).strict(),
  z.object({ id: Id, op: z.literal('run'), request: EngineRunRequest }).strict(),
  z.object({ id: Id, op: z.literal('train'), request: EngineTrainRequest }).strict(),
  z.object({ id: Id, op: z.literal('prepare'), request: EngineTrainRequest }).strict(),
  z.object({ id: Id, op: z.literal('control'), run: Id, action: z.enum(['pause', 'resume', 'stop']) }).strict(),
  z.object({ id: Id, op: z.literal('open'), model: Bytes, provider: Provider.optional(), allowFallback: z.boolean().optional() }).strict(),
  z.object({ id: Id, op: z.literal('session-run'), session: Id, feeds: z.record(z.string(), Tensor), fetches: z.array(z.string()).optional() }).strict(),
  z.object({ id: Id, op: z.literal('carry'), session: Id, initial: z.record(z.string(), Tensor), loop: z.record(z.string(), z.string()) }).strict(),
  z.object({ id: Id, op: z.literal('carried'), session: Id, names: z.array(z.string()).optional() }).strict(),
  z.object({ id: Id, op: z.literal('release'), session: Id }).strict(),
]);
/** An engine reply as the window receives it: its request's number and the rest of engines/web/protocol.ts's WorkerReply (from the main process, which the window trusts). */
export interface EngineReply {
  id: number;
  [field: string]: unknown;
}
export type { CommandId };

/** The API the preload script exposes to the window as `window.netloom`. */
export interface NetloomBridge {
  openFile(): Promise<z.infer<typeof OpenedFilesReply>>;
  saveFile(request: z.infer<typeof SaveFileRequest>): Promise<z.infer<typeof SavedFileReply>>;
  exportOnnx(request: z.infer<typeof ExportOnnxRequest>): Promise<string | null>;
  exportPyTorch(request: z.infer<typeof ExportPyTorchRequest>): Promise<string | null>;
  readRecovery(): Promise<string | null>;
  writeRecovery(request: z.infer<typeof WriteRecoveryRequest>): Promise<void>;
  clearRecovery(): Promise<void>;
  setTitle(request: z.infer<typeof SetTitleRequest>): void;
  /** Sends a request to the engine (utility process); its replies come to onEngineReply. */
  engineRequest(request: z.input<typeof EngineRequest>): void;
  onEngineReply(handler: (reply: EngineReply) => void): () => void;
  /** A document the main process opened for this window (Open Recent, files opened with the app). */
  takePendingDocument(): Promise<z.infer<typeof OpenedFilesReply>>;
  onCommand(handler: (command: CommandId) => void): () => void;
}

/** Parses a payload, turning a schema failure into one clear line (and never trusting the input). */
export function validate<T>(schema: z.ZodType<T>, payload: unknown, channel: string): T {
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`invalid ${channel} payload: ${issue.path.join('.') || 'value'}: ${issue.message}`);
  }
  return result.data;
}
