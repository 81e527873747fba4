/**
 * The window's engine: one onnxruntime-web worker (engines/web) shared by the Run, Train and Debug panels,
 * started on first use; and the result of the last run, which the inspector's tensor views and the
 * canvas overlay read.
 */
import type { Engine, Tensor } from '../../core/engine/engine.ts';
import type { ModelDocument } from '../../core/graph/types.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { WebEngineClient } from '../../engines/web/client.ts';

let client: WebEngineClient | null = null;

export function webEngine(): WebEngineClient {
  client ??= new WebEngineClient();
  return client;
}

let adapter: Engine | null = null;

/**
 * The core's Engine interface over the window's worker, for core code that runs a model step by step (the
 * debugger, text generation). Each run sends the model with copies of the feeds, since the worker takes
 * their buffers and the caller may keep reading them; carried tensors (a decoder's key/value cache) are
 * kept here, on the page, and fed back on the next run.
 */
export function engineOnWorker(): Engine {
  const copied = (feeds: Record<string, Tensor>) => Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, { ...t, data: t.data.slice() }]));
  adapter ??= {
    availableProviders: async () => ['wasm'],
    createSession: async (model) => {
      let state: Record<string, Tensor> = {};
      let loop: Record<string, string> = {};
      return {
        provider: 'wasm',
        inputNames: [],
        outputNames: [],
        async run(feeds, fetches) {
          const kept = Object.values(loop);
          const { outputs } = await webEngine().run({ model, feeds: copied({ ...feeds, ...state }), fetches: fetches && [...fetches, ...kept], provider: 'wasm' });
          state = { ...state, ...Object.fromEntries(Object.entries(loop).map(([input, output]) => [input, outputs[output]])) };
          return Object.fromEntries(Object.entries(outputs).filter(([name]) => !kept.includes(name)));
        },
        async carry(initial, next) {
          state = { ...initial };
          loop = { ...next };
        },
        carried: async (names) => Object.fromEntries(Object.entries(state).filter(([name]) => !names || names.includes(name))),
        release: async () => {
          state = {};
        },
      };
    },
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
