/** What the editor needs from where it runs: files, downloads, the recovery file, native menus. */
import type { CommandId } from '../../common/commands.ts';

export interface OpenedFile {
  name: string;
  /** Desktop: the main process's opaque handle for saving back to this file. */
  handle?: string;
  text?: string;
  bytes?: Uint8Array;
}

/** The open document, as a model file (.json) or as a single-file .netloom bundle with its weights. */
export interface DocumentContent {
  text: string;
  bundle(): Uint8Array;
}

export const isBundleName = (name: string): boolean => name.toLowerCase().endsWith('.netloom');

export interface Platform {
  kind: 'browser' | 'desktop';
  /** One or more files picked together (a model and its weights or data files); null if cancelled. */
  open(): Promise<OpenedFile[] | null>;
  /** Saves the document (a .netloom name gets the bundle); returns the file name (or path) used, or null if cancelled. */
  save(content: DocumentContent, current: string | null, saveAs: boolean): Promise<string | null>;
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
  takePendingDocument(): Promise<OpenedFile[] | null>;
  /** One line about what runs models here. */
  engineInfo(): Promise<string>;
}
