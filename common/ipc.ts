/**
 * The typed IPC surface between the window and the main process. Every payload that crosses it is
 * checked against these schemas on arrival (zod), in both directions where data comes from outside.
 */
import { z } from 'zod';
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
  engineProviders: 'netloom:engine-providers',
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
  engineProviders(): Promise<string[]>;
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
