/**
 * The window's engine, shared by the Run, Train and Debug panels and their one provider picker: in the
 * browser onnxruntime-web in a Web Worker (engines/web), on the desktop onnxruntime-node in Electron's
 * utility process (through the preload bridge), chosen once by where the app runs and started on first
 * use. And the result of the last run, which the inspector's tensor views and the canvas overlay read.
 */
import type { Engine, Provider, Tensor } from '../../core/engine/engine.ts';
import type { ModelDocument } from '../../core/graph/types.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { EngineClient, WebEngineClient } from '../../engines/web/client.ts';
import { desktopEnginePort } from '../platform/desktop.ts';

let client: EngineClient | null = null;

export function windowEngine(): EngineClient {
  client ??= window.netloom ? new EngineClient(desktopEnginePort(window.netloom)) : new WebEngineClient();
  return client;
}

/** The provider a panel starts with: the engine's CPU provider (WebAssembly in the browser). */
export const defaultProvider = (): Provider => (window.netloom ? 'cpu' : 'wasm');

let adapter: Engine | null = null;

/**
 * The core's Engine interface over the window's engine, for core code that runs a model step by step (the
 * debugger, text generation): its sessions stay open in the engine, with their carried tensors, and run
 * on the engine's CPU provider unless asked otherwise.
 */
export function coreEngine(): Engine {
  adapter ??= {
    availableProviders: async () => (await windowEngine().providers()).filter((s) => s.available).map((s) => s.provider),
    createSession: (model, options) => windowEngine().openSession(model, { provider: defaultProvider(), ...options }),
    dispose: async () => {},
  };
  return adapter;
}

/** One run of the model with every layer's output fetched. */
export interface LayerRun {
  /** The document it ran on: after an edit the run is stale. */
  doc: ModelDocument;
  /** Output tensors by "<layer id>:<port>". */
  outputs: Map<string, Tensor>;
  /** The weights it ran with, by "<layer id>.<param>". */
  weights: Weights;
  provider: string;
  milliseconds: number;
}

let last: LayerRun | null = null;
const listeners = new Set<() => void>();

export const lastRun = {
  get: (): LayerRun | null => last,
  set(run: LayerRun | null): void {
    last = run;
    for (const l of listeners) l();
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
