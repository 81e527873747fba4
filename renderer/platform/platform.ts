/** What the editor needs from where it runs: files, downloads, the recovery file, native menus. */
import type { CommandId } from '../../common/commands.ts';

export interface OpenedFile {
  name: string;
  /** Desktop: the main process's opaque handle for saving back to this file. */
  handle?: string;
  text?: string;
  bytes?: Uint8Array;
}

export interface Platform {
  kind: 'browser' | 'desktop';
  open(): Promise<OpenedFile | null>;
  /** Saves the document text; returns the file name (or path) used, or null if cancelled. */
  save(text: string, current: string | null, saveAs: boolean): Promise<string | null>;
  exportOnnx(bytes: Uint8Array, suggestedName: string): Promise<string | null>;
  /** model.py and, beside it, its weights as <name>.safetensors; returns the file name, or null if cancelled. */
  exportPyTorch(code: string, weights: Uint8Array, suggestedName: string): Promise<string | null>;
  readRecovery(): Promise<string | null>;
  writeRecovery(text: string): Promise<void>;
  clearRecovery(): Promise<void>;
  /** Native menu commands (desktop); the browser shows its own menu bar instead. */
  onCommand(handler: (command: CommandId) => void): () => void;
  setTitle(title: string, dirty: boolean): void;
  /** A document handed over at start (desktop: Open Recent opens a new window with it). */
  takePendingDocument(): Promise<OpenedFile | null>;
  /** One line about what runs models here. */
  engineInfo(): Promise<string>;
}
