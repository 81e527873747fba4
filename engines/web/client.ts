/**
 * The page's side of the window's engine: a small typed client for the Run, Train and Debug panels.
 * Training, runs and the provider check all happen where the engine runs — the browser's Web Worker
 * (worker.ts), or the desktop's utility process behind the preload bridge — and this only sends
 * commands and hands back events and results, through an EnginePort.
 */
import { EngineError, type CreateSessionOptions, type RunOptions, type Session, type Tensor } from '../../core/engine/engine.ts';
import type { TrainingEvent } from '../../core/train/trainer.ts';
import type { ProviderStatus } from './engine.ts';
import { buffersOf, type OpenedSession, type PreparedData, type RunRequest, type RunResult, type TrainRequest, type TrainResult, type WorkerReply, type WorkerRequest } from './protocol.ts';

export type { ProviderStatus } from './engine.ts';
export type { PreparedData, RunRequest, RunResult, TrainRequest, TrainResult } from './protocol.ts';

/** How messages reach the engine and come back: a Web Worker, or the desktop's IPC bridge. */
export interface EnginePort {
  /** Sends a request; the buffers may move instead of being copied (which leaves the caller's arrays empty). */
  post(message: WorkerRequest, transfer: ArrayBuffer[]): void;
  /** Calls `receive` with each reply, and `fail` when the engine can no longer answer at all. */
  listen(receive: (message: WorkerReply) => void, fail: (why: string) => void): void;
  close(): void;
}

/** The browser's engine: onnxruntime-web in a dedicated Web Worker. */
export function workerPort(): EnginePort {
  // Vite bundles the worker (and the runtime it loads) from this exact expression.
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'netloom-engine' });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    listen(receive, fail) {
      worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => receive(event.data));
      worker.addEventListener('error', (event) => fail(`the engine's worker stopped: ${event.message || 'it could not start'}`));
    },
    close: () => worker.terminate(),
  };
}

interface Pending {
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  onEvents?: (events: TrainingEvent[]) => void;
  onParked?: () => void;
  onPrepared?: (p: PreparedData) => void;
}

/** A training run in the engine: pause (resolves once the trainer has parked), resume, stop, and its result. */
export interface TrainingRun {
  pause(): Promise<void>;
  resume(): void;
  stop(): void;
  /** The data's sizes and how it was adapted to the model, once the engine has it ready. */
  readonly prepared: Promise<PreparedData>;
  /** The trained weights, and why training stopped early (null when it ran to the end). */
  readonly result: Promise<TrainResult>;
}

/** The window's engine as the panels use it, wherever the engine runs (see EnginePort). */
export class EngineClient {
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(private readonly port: EnginePort) {
    port.listen(
      (message) => this.receive(message),
      (why) => {
        for (const p of this.pending.values()) p.reject(new EngineError(why));
        this.pending.clear();
      },
    );
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

  private send<T>(message: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = [], hooks: Partial<Pending> = {}): { id: number; reply: Promise<T> } {
    const id = this.nextId++;
    const reply = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: never) => void, reject, ...hooks }));
    this.port.post({ ...message, id } as WorkerRequest, transfer);
    return { id, reply };
  }

  /** Every provider of this engine, with whether it runs here and, if not, why. */
  providers(): Promise<ProviderStatus[]> {
    return this.send<ProviderStatus[]>({ op: 'providers' }).reply;
  }

  /**
   * Compiles a training run's models in the engine before it starts, so that Start finds them ready; the
   * weights do not change the models and are not sent.
   */
  prepare(request: TrainRequest): void {
    void this.send({ op: 'prepare', request: { ...request, weights: undefined } }).reply;
  }

  /**
   * Starts training in the engine. The request's datasets and weights move there (their buffers are
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

  /** Runs a model once (its feeds move to the engine); the outputs, the provider it ran on, and the time. */
  run(request: RunRequest): Promise<RunResult> {
    return this.send<RunResult>({ op: 'run', request }, buffersOf(Object.values(request.feeds) as Tensor[])).reply;
  }

  /**
   * A session kept open in the engine, as the core's Session (for the debugger and generation): the model
   * crosses once, and carried tensors (a decoder's key/value cache) stay in the engine between runs.
   * Feeds are copied, except those a run names as consumed, which move.
   */
  async openSession(model: Uint8Array, options: CreateSessionOptions = {}): Promise<Session> {
    const opened = await this.send<OpenedSession>({ op: 'open', model, provider: options.provider, allowFallback: options.allowFallback }).reply;
    const { session } = opened;
    const call = <T>(message: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = []) => this.send<T>(message, transfer).reply;
    return {
      provider: opened.provider,
      inputNames: opened.inputNames,
      outputNames: opened.outputNames,
      run: (feeds, fetches, runOptions: RunOptions = {}) =>
        call<Record<string, Tensor>>({ op: 'session-run', session, feeds, fetches }, buffersOf((runOptions.consumed ?? []).filter((name) => name in feeds).map((name) => feeds[name]))),
      carry: async (initial, loop) => void (await call({ op: 'carry', session, initial, loop })),
      carried: (names) => call<Record<string, Tensor>>({ op: 'carried', session, names }),
      release: async () => void (await call({ op: 'release', session })),
    };
  }

  dispose(): void {
    this.port.close();
    for (const p of this.pending.values()) p.reject(new EngineError('the engine was closed'));
    this.pending.clear();
  }
}

/** The browser's engine client, on its own Web Worker. */
export class WebEngineClient extends EngineClient {
  constructor() {
    super(workerPort());
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
