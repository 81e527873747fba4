/**
 * The window's engine: one onnxruntime-web worker (engines/web) shared by the Run, Train and Debug panels,
 * started on first use; and the result of the last run, which the inspector's tensor views and the
 * canvas overlay read.
 */
import type { Tensor } from '../../core/engine/engine.ts';
import type { ModelDocument } from '../../core/graph/types.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { WebEngineClient } from '../../engines/web/client.ts';

let client: WebEngineClient | null = null;

export function webEngine(): WebEngineClient {
  client ??= new WebEngineClient();
  return client;
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
