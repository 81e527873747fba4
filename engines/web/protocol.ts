/** The messages between the page (client.ts) and the engine's Web Worker (worker.ts). */
import type { Dataset } from '../../core/data/dataset.ts';
import type { Provider, Tensor } from '../../core/engine/engine.ts';
import type { ModelDocument } from '../../core/graph/types.ts';
import type { Weights } from '../../core/graph/weights.ts';
import type { TrainingGraphOptions } from '../../core/train/step.ts';
import type { TrainerOptions, TrainingEvent } from '../../core/train/trainer.ts';
import type { ProviderStatus } from './engine.ts';

/** What a training run needs: the model, its starting weights, the step's and the loop's settings, and the data. */
export interface TrainRequest {
  doc: ModelDocument;
  /** Starting weights; absent: initialised from graph.seed. */
  weights?: Weights;
  graph: Omit<TrainingGraphOptions, 'weights'>;
  options: TrainerOptions;
  /** The data itself, or a built-in set (loaded in the worker, split as the CLI splits it). */
  data: { train: Dataset; val?: Dataset } | { builtIn: string; seed?: number };
}

/** The data as training starts: sizes, and what was done to fit it to the model (in words). */
export interface PreparedData {
  train: number;
  val: number | null;
  adapted: string[];
}

export interface TrainResult {
  weights: Weights;
  stopped: string | null;
}

export interface RunRequest {
  model: Uint8Array;
  feeds: Record<string, Tensor>;
  fetches?: string[];
  provider?: Provider;
  allowFallback?: boolean;
}

export interface RunResult {
  outputs: Record<string, Tensor>;
  /** The provider the model actually ran on. */
  provider: Provider;
  /** Milliseconds for the run itself, measured in the worker (session creation excluded). */
  milliseconds: number;
}

/** A session kept open in the engine (for the debugger and generation): its number and what Session tells. */
export interface OpenedSession {
  session: number;
  provider: Provider;
  inputNames: string[];
  outputNames: string[];
}

export type WorkerRequest =
  | { id: number; op: 'providers' }
  | { id: number; op: 'train'; request: TrainRequest }
  | { id: number; op: 'control'; run: number; action: 'pause' | 'resume' | 'stop' }
  /** Compile a run's models ahead of its start (the request's weights are left out: they do not change the models). */
  | { id: number; op: 'prepare'; request: TrainRequest }
  | { id: number; op: 'run'; request: RunRequest }
  // A session that stays open between runs, with its carried tensors kept in the engine (core's Session).
  | { id: number; op: 'open'; model: Uint8Array; provider?: Provider; allowFallback?: boolean }
  | { id: number; op: 'session-run'; session: number; feeds: Record<string, Tensor>; fetches?: string[] }
  | { id: number; op: 'carry'; session: number; initial: Record<string, Tensor>; loop: Record<string, string> }
  | { id: number; op: 'carried'; session: number; names?: string[] }
  | { id: number; op: 'release'; session: number };

export type WorkerReply =
  | { id: number; result: ProviderStatus[] | TrainResult | RunResult | OpenedSession | Record<string, Tensor> | null }
  | { id: number; error: string }
  /** Training events in order; the steps of one chunk come in one message. */
  | { id: number; events: TrainingEvent[] }
  /** The data is ready and training starts. */
  | { id: number; prepared: PreparedData }
  /** The trainer has stopped between chunks for a pause. */
  | { id: number; parked: true };

/** The buffers of a set of tensors, to move them between threads instead of copying them. */
export function buffersOf(tensors: Iterable<{ data: ArrayBufferView }>): ArrayBuffer[] {
  return [...new Set([...tensors].map((t) => t.data.buffer as ArrayBuffer))];
}
