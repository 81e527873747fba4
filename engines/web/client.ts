/**
 * The page's side of the browser engine: a small typed client for the Train and Run panels. Training,
 * runs and the provider check all happen in the engine's Web Worker (worker.ts); this only sends
 * commands and hands back events and results.
 */
import { EngineError, type Tensor } from '../../core/engine/engine.ts';
import type { TrainingEvent } from '../../core/train/trainer.ts';
import type { ProviderStatus } from './engine.ts';
import { buffersOf, type PreparedData, type RunRequest, type RunResult, type TrainRequest, type TrainResult, type WorkerReply } from './protocol.ts';

export type { ProviderStatus } from './engine.ts';
export type { PreparedData, RunRequest, RunResult, TrainRequest, TrainResult } from './protocol.ts';

interface Pending {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  onEvents?: (events: TrainingEvent[]) => void;
  onParked?: () => void;
  onPrepared?: (p: PreparedData) => void;
}

/** A training run in the worker: pause (resolves once the trainer has parked), resume, stop, and its result. */
export interface TrainingRun {
  pause(): Promise<void>;
  resume(): void;
  stop(): void;
  /** The data's sizes and how it was adapted to the model, once the worker has it ready. */
  readonly prepared: Promise<PreparedData>;
  /** The trained weights, and why training stopped early (null when it ran to the end). */
  readonly result: Promise<TrainResult>;
}

export class WebEngineClient {
  private readonly worker: Worker;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor() {
    // Vite bundles the worker (and the runtime it loads) from this exact expression.
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'netloom-engine' });
    this.worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => this.receive(event.data));
    this.worker.addEventListener('error', (event) => {
      const why = new EngineError(`the engine's worker stopped: ${event.message || 'it could not start'}`);
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
    });
  }

  private receive(message: WorkerReply): void {
    const p = this.pending.get(message.id);
    if (!p) return;
    if ('events' in message) return p.onEvents?.(message.events);
    if ('parked' in message) return p.onParked?.();
    if ('prepared' in message) return p.onPrepared?.(message.prepared);
    this.pending.delete(message.id);
    if ('error' in message) p.reject(new EngineError(message.error));
    else p.resolve(message.result as never);
  }

  private send<T>(message: Record<string, unknown>, transfer: ArrayBuffer[] = [], hooks: Partial<Pending> = {}): { id: number; reply: Promise<T> } {
    const id = this.nextId++;
    const reply = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: never) => void, reject, ...hooks }));
    this.worker.postMessage({ ...message, id }, transfer);
    return { id, reply };
  }

  /** Every provider of the browser engine, with whether it runs here and, if not, why. */
  providers(): Promise<ProviderStatus[]> {
    return this.send<ProviderStatus[]>({ op: 'providers' }).reply;
  }

  /**
   * Compiles a training run's models in the worker before it starts, so that Start finds them ready; the
   * weights do not change the models and are not sent.
   */
  prepare(request: TrainRequest): void {
    void this.send({ op: 'prepare', request: { ...request, weights: undefined } }).reply;
  }

  /**
   * Starts training in the worker. The request's datasets and weights move there (their buffers are
   * transferred, which leaves the caller's arrays empty): pass copies to keep them.
   */
  train(request: TrainRequest, onEvent: (e: TrainingEvent) => void): TrainingRun {
    const datasets = 'builtIn' in request.data ? [] : [request.data.train, request.data.val].filter((d) => d !== undefined);
    const transfer = buffersOf([...datasets.flatMap((d) => [d.x, d.y]), ...(request.weights?.values() ?? [])]);
    let parked: (() => void) | null = null;
    let prepared: (p: PreparedData) => void = () => {};
    const preparedData = new Promise<PreparedData>((resolve) => (prepared = resolve));
    const { id, reply } = this.send<TrainResult>({ op: 'train', request }, transfer, {
      onEvents: (events) => events.forEach(onEvent),
      onParked: () => parked?.(),
      onPrepared: (p) => prepared(p),
    });
    const control = (action: 'pause' | 'resume' | 'stop') => void this.send({ op: 'control', run: id, action });
    return {
      pause: () => {
        const done = new Promise<void>((resolve) => (parked = resolve));
        control('pause');
        // A run that ends before it parks counts as paused: nothing runs any more.
        return Promise.race([
          done,
          reply.then(
            () => undefined,
            () => undefined,
          ),
        ]);
      },
      resume: () => control('resume'),
      stop: () => control('stop'),
      prepared: Promise.race([preparedData, reply.then(() => preparedData)]),
      result: reply,
    };
  }

  /** Runs a model once (its feeds move to the worker); the outputs, the provider it ran on, and the time. */
  run(request: RunRequest): Promise<RunResult> {
    return this.send<RunResult>({ op: 'run', request }, buffersOf(Object.values(request.feeds) as Tensor[])).reply;
  }

  dispose(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new EngineError('the engine was closed'));
    this.pending.clear();
  }
}
