/**
 * The training loop, against the Engine interface: epochs, seeded shuffling, batches (the last one
 * smaller), validation each epoch, loss and accuracy, learning-rate schedules, pause, resume and stop,
 * checkpoints, and a stop with a clear message when the loss is no longer finite. It streams events
 * to whoever listens (the CLI now, the app's panels later).
 */
import { batchOf, permutation, type Dataset } from '../data/dataset.ts';
import type { Engine, Provider, Session, Tensor } from '../engine/engine.ts';
import type { Weights } from '../graph/weights.ts';
import { encodeModelBytes } from '../onnx/proto.ts';
import { hitCounter } from './metrics.ts';
import { multiStepModel } from './multistep.ts';
import { GRADIENT_NORMS, initialCarried, nextName, stateName, type TrainingGraph } from './step.ts';

export type Schedule = { kind: 'constant' } | { kind: 'step'; stepSize: number; gamma: number } | { kind: 'cosine'; etaMin: number };

export interface TrainerOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  shuffle?: boolean;
  seed?: number;
  schedule?: Schedule;
  /** Linear warm-up over this many steps, from 0 to the scheduled rate. */
  warmupSteps?: number;
  provider?: Provider;
  allowFallback?: boolean;
}

export type TrainingEvent =
  /** `gradientNorms` (a graph built with them): ‖∂L/∂W‖ by layer id, on the last step of each chunk the engine runs. */
  | { event: 'step'; step: number; loss: number; gradientNorms?: Record<string, number> }
  | { event: 'epoch'; epoch: number; loss: number; accuracy: number | null; valLoss: number | null; valAccuracy: number | null; samplesPerSec: number }
  | { event: 'done'; epochs: number; steps: number; loss: number; valLoss: number | null; valAccuracy: number | null; stopped: string | null };

export interface Checkpoint {
  epoch: number;
  step: number;
  weights: Weights;
  /** Optimiser state by "state/<slot>/<param>". */
  state: Map<string, Float32Array>;
}

/** Pause, resume and stop a running training from outside. */
export class TrainingControl {
  private paused: Promise<void> | null = null;
  private resumeNow: (() => void) | null = null;
  private parkedListeners: (() => void)[] = [];
  private isParked = false;
  stopped = false;
  pause(): void {
    this.paused ??= new Promise((resolve) => (this.resumeNow = resolve));
  }
  resume(): void {
    this.resumeNow?.();
    this.paused = null;
  }
  stop(): void {
    this.stopped = true;
    this.resume();
  }
  /** Resolves once the trainer has stopped between chunks for a pause (a UI shows "Paused" then, not at the click). */
  parked(): Promise<void> {
    return this.isParked ? Promise.resolve() : new Promise((resolve) => this.parkedListeners.push(resolve));
  }
  async checkpoint(): Promise<void> {
    if (!this.paused) return;
    this.isParked = true;
    for (const listener of this.parkedListeners.splice(0)) listener();
    await this.paused;
    this.isParked = false;
  }
}

export function learningRate(o: TrainerOptions, step: number, epoch: number): number {
  const s = o.schedule ?? { kind: 'constant' };
  let lr = o.lr;
  if (s.kind === 'step') lr = o.lr * s.gamma ** Math.floor(epoch / s.stepSize);
  if (s.kind === 'cosine') lr = s.etaMin + ((o.lr - s.etaMin) * (1 + Math.cos((Math.PI * epoch) / o.epochs))) / 2;
  if (o.warmupSteps && step < o.warmupSteps) lr *= (step + 1) / o.warmupSteps;
  return lr;
}

/**
 * A chunk of steps should take about this long: long enough that the cost of each engine call is small
 * beside it, short enough that pause and stop still answer at once. In the browser each call copies the
 * parameters and optimiser state into WebAssembly's memory and out again (~4 ms for the CA2 CNN with
 * Adam); at 0.25 s rather than 0.1 s that is ~1% of the time instead of ~6%.
 */
const CHUNK_SECONDS = 0.25;
const MAX_CHUNK = 64;

/** The next chunk's length: at most double the current one, and about CHUNK_SECONDS at the last chunk's pace. */
function nextChunk(current: number, ran: number, seconds: number): number {
  return Math.max(1, Math.min(MAX_CHUNK, 2 * current, Math.floor((CHUNK_SECONDS * ran) / seconds)));
}

/** `count` consecutive batches of a gathered tensor as one tensor with a leading steps axis. */
const stack = (t: Tensor, count: number): Tensor => ({ ...t, dims: [count, t.dims[0] / count, ...t.dims.slice(1)] });

/** Step `i` of a stacked tensor. */
function unstack(t: Tensor, i: number): Tensor {
  const dims = t.dims.slice(1);
  const per = dims.reduce((a, b) => a * b, 1);
  return { dtype: t.dtype, dims, data: t.data.subarray(i * per, (i + 1) * per) as Tensor['data'] };
}

/** The model the trainer runs its steps with: chunks of steps as one ONNX Loop (see multistep.ts). */
export const stepModelBytes = (graph: TrainingGraph): Uint8Array => encodeModelBytes(multiStepModel(graph));

/** Gives a step session its carried values (parameters, optimiser state, running statistics), each fed back from its next/ output. */
function carryInto(session: Session, carried: Weights): Promise<void> {
  const initial = Object.fromEntries([...carried].map(([name, t]): [string, Tensor] => [name, { dtype: 'float32', dims: t.shape, data: t.data }]));
  return session.carry(initial, Object.fromEntries([...carried.keys()].map((name) => [name, nextName(name)])));
}

/**
 * Compiles a training graph's step model and runs one step on the first batch with a learning rate of 0,
 * then releases it; nothing of that step is kept. An engine that keeps released sessions for the same
 * model (the browser's) then starts a run of that graph without compiling, and its first step without the
 * setup a session's first run costs: the first step comes sooner after Start.
 */
export async function warmUp(engine: Engine, graph: TrainingGraph, data: Dataset, options: TrainerOptions): Promise<void> {
  const session = await engine.createSession(stepModelBytes(graph), { provider: options.provider, allowFallback: options.allowFallback });
  try {
    await carryInto(session, initialCarried(graph));
    const batch = batchOf(
      data,
      Array.from({ length: Math.min(options.batchSize, data.size) }, (_, i) => i),
    );
    const one = (value: number): Tensor => ({ dtype: 'float32', dims: [1], data: Float32Array.of(value) });
    await session.run({ [graph.inputs[0].name]: stack(batch.x, 1), [graph.target.name]: stack(batch.y, 1), lr: one(0), step: one(1) }, [graph.loss]);
  } finally {
    await session.release();
  }
}

export async function train(
  engine: Engine,
  graph: TrainingGraph,
  data: { train: Dataset; val?: Dataset },
  options: TrainerOptions,
  onEvent: (e: TrainingEvent) => void,
  control = new TrainingControl(),
  onCheckpoint?: (c: Checkpoint) => Promise<void>,
): Promise<{ weights: Weights; stopped: string | null; completedEpochs: number }> {
  const sessionOptions = { provider: options.provider, allowFallback: options.allowFallback };
  // Steps run a chunk at a time (see multistep.ts); the chunk grows until one takes about CHUNK_SECONDS.
  const stepSession = await engine.createSession(stepModelBytes(graph), sessionOptions);
  // Created at the first validation rather than here, so that the first step comes sooner.
  let evalSession: Session | null = null;
  const correct = hitCounter(graph);
  const classification = correct !== null;
  const inputName = graph.inputs[0].name;
  // Parameters, optimiser state and running statistics stay inside the engine from step to step; this
  // copy is read back for validation, checkpoints and the result.
  const carried = initialCarried(graph);
  const feedsOf = (names: string[]): Record<string, Tensor> => Object.fromEntries(names.map((n) => [n, { dtype: 'float32', dims: carried.get(n)!.shape, data: carried.get(n)!.data }]));
  // What the evaluation graph reads: the parameters and running statistics.
  const weightKeys = [...graph.params, ...graph.buffers].map((p) => p.key);
  const stateNames = graph.params.flatMap((p) => graph.slots.map((s) => stateName(s, p.key)));
  await carryInto(stepSession, carried);
  const readBack = async () => {
    for (const [name, value] of Object.entries(await stepSession.carried())) carried.set(name, { shape: carried.get(name)!.shape, data: value.data as Float32Array });
  };
  let step = 0;
  let completedEpochs = 0;
  let chunk = 1;
  let stopped: string | null = null;
  let lastLoss = NaN;
  let valLoss: number | null = null;
  let valAccuracy: number | null = null;
  const { batchSize } = options;
  try {
    for (let epoch = 0; epoch < options.epochs && !stopped; epoch++) {
      const order = options.shuffle === false ? Array.from({ length: data.train.size }, (_, i) => i) : permutation(data.train.size, (options.seed ?? 0) * 100003 + epoch);
      const started = performance.now();
      let lossSum = 0;
      let hits = 0;
      for (let start = 0; start < order.length && !stopped;) {
        await control.checkpoint();
        if (control.stopped) {
          stopped = 'stopped';
          await readBack();
          break;
        }
        // Full batches stack; the smaller last batch runs alone.
        const full = Math.floor((order.length - start) / batchSize);
        const count = full === 0 ? 1 : Math.min(chunk, full);
        const size = full === 0 ? order.length - start : batchSize;
        const batch = batchOf(data.train, order.slice(start, start + count * size));
        const rates = Array.from({ length: count }, (_, i) => learningRate(options, step + i, epoch));
        const feeds = {
          [inputName]: stack(batch.x, count),
          [graph.target.name]: stack(batch.y, count),
          lr: { dtype: 'float32' as const, dims: [count], data: Float32Array.from(rates) },
          step: { dtype: 'float32' as const, dims: [count], data: Float32Array.from({ length: count }, (_, i) => step + i + 1) },
        };
        const began = performance.now();
        const norms = graph.gradientNormLayers;
        const out = await stepSession.run(feeds, [graph.loss, ...(classification ? [graph.prediction] : []), ...(norms ? [GRADIENT_NORMS] : [])], { consumed: [inputName] });
        chunk = nextChunk(chunk, count, (performance.now() - began) / 1000);
        start += count * size;
        for (let i = 0; i < count; i++) {
          const loss = (out[graph.loss].data as Float32Array)[i];
          step++;
          if (!Number.isFinite(loss)) {
            // The engine's copy now holds the damaged values; the result keeps the last complete epoch's.
            stopped = `the loss became ${Number.isNaN(loss) ? 'NaN' : 'infinite'} at step ${step} (epoch ${epoch + 1}); try a smaller learning rate than ${rates[i]}`;
            break;
          }
          lossSum += loss * size;
          if (classification) hits += correct!(unstack(out[graph.prediction], i), unstack(feeds[graph.target.name], i));
          lastLoss = loss;
          // The chunk's last step brings its layers' gradient norms: what a chart or overlay can show anyway.
          const gradientNorms = norms && i === count - 1 ? Object.fromEntries(norms.map((layer, l) => [layer, (out[GRADIENT_NORMS].data as Float32Array)[i * norms.length + l]])) : undefined;
          onEvent({ event: 'step', step, loss, ...(gradientNorms ? { gradientNorms } : {}) });
        }
      }
      if (stopped) break;
      const seconds = (performance.now() - started) / 1000;
      await readBack();
      if (data.val) {
        evalSession ??= await engine.createSession(encodeModelBytes(graph.eval), sessionOptions);
        let sum = 0;
        let valHits = 0;
        for (let start = 0; start < data.val.size; start += batchSize) {
          const indices = Array.from({ length: Math.min(batchSize, data.val.size - start) }, (_, i) => start + i);
          const batch = batchOf(data.val, indices);
          const out = await evalSession.run({ [inputName]: batch.x, [graph.target.name]: batch.y, ...feedsOf(weightKeys) }, undefined, { consumed: [inputName] });
          sum += (out[graph.loss].data as Float32Array)[0] * indices.length;
          if (classification) valHits += correct!(out[graph.prediction], batch.y);
        }
        valLoss = sum / data.val.size;
        valAccuracy = classification ? valHits / data.val.size : null;
      }
      completedEpochs = epoch + 1;
      onEvent({
        event: 'epoch',
        epoch: epoch + 1,
        loss: lossSum / data.train.size,
        accuracy: classification ? hits / data.train.size : null,
        valLoss,
        valAccuracy,
        samplesPerSec: data.train.size / seconds,
      });
      if (onCheckpoint) await onCheckpoint({ epoch: epoch + 1, step, weights: trained(), state: new Map(stateNames.map((n) => [n, carried.get(n)!.data])) });
    }
  } finally {
    await stepSession.release();
    await evalSession?.release();
  }
  function trained(): Weights {
    return new Map([...graph.weights, ...weightKeys.map((key) => [key, carried.get(key)!] as const)]);
  }
  onEvent({ event: 'done', epochs: options.epochs, steps: step, loss: lastLoss, valLoss, valAccuracy, stopped });
  return { weights: trained(), stopped, completedEpochs };
}
