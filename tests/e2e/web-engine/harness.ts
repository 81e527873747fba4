/**
 * A page for the browser engine's tests and benchmark: it drives engines/web/client.ts (the same client
 * the Train and Run panels use) with plain values that Playwright can pass in and out.
 */
import type { Dataset } from '../../../core/data/dataset.ts';
import type { ModelDocument } from '../../../core/graph/types.ts';
import type { TrainingGraphOptions } from '../../../core/train/step.ts';
import type { TrainerOptions, TrainingEvent } from '../../../core/train/trainer.ts';
import { WebEngineClient } from '../../../engines/web/client.ts';

/** A training run as plain values: weights and data as number arrays. */
export interface PlainTrainSpec {
  doc: ModelDocument;
  weights: [string, number[], number[]][];
  graph: Omit<TrainingGraphOptions, 'weights'>;
  options: TrainerOptions;
  x: { dims: number[]; values: number[] };
  y: { dims: number[]; values: number[] };
}

const client = new WebEngineClient();

async function train(spec: PlainTrainSpec): Promise<{ weights: [string, number[]][]; events: TrainingEvent[]; stopped: string | null }> {
  const size =
    spec.y.values.length /
    Math.max(
      1,
      spec.y.dims.reduce((a, b) => a * b, 1),
    );
  const dataset: Dataset = {
    name: 'harness',
    size,
    x: { dims: spec.x.dims, dtype: 'float32', data: Float32Array.from(spec.x.values) },
    y: { dims: spec.y.dims, dtype: 'int64', data: BigInt64Array.from(spec.y.values, (v) => BigInt(v)) },
  };
  const events: TrainingEvent[] = [];
  const weights = new Map(spec.weights.map(([key, shape, values]) => [key, { shape, data: Float32Array.from(values) }]));
  const run = client.train({ doc: spec.doc, weights, graph: spec.graph, options: spec.options, data: { train: dataset } }, (e) => events.push(e));
  const result = await run.result;
  return { weights: [...result.weights].map(([key, t]) => [key, Array.from(t.data)]), events, stopped: result.stopped };
}

/**
 * Trains on a built-in dataset (loaded and fitted in the worker). With `pauseAt`, pauses once that many
 * steps have arrived (0: at once, before the first step), counts the steps again after a round trip to
 * the worker, and resumes.
 */
async function trainBuiltIn(spec: { doc: ModelDocument; dataset: string; graph: PlainTrainSpec['graph']; options: TrainerOptions; pauseAt?: number }) {
  let steps = 0;
  let pausing: Promise<void> | null = null;
  const epochs: TrainingEvent[] = [];
  const run = client.train({ doc: spec.doc, graph: spec.graph, options: spec.options, data: { builtIn: spec.dataset } }, (e) => {
    if (e.event === 'epoch') epochs.push(e);
    if (e.event === 'step' && ++steps === spec.pauseAt) pausing = run.pause();
  });
  if (spec.pauseAt === 0) pausing = run.pause();
  const prepared = await run.prepared;
  let pause: { parkedAt: number; afterRoundTrip: number } | null = null;
  if (spec.pauseAt !== undefined) {
    await new Promise<void>((resolve) => {
      const wait = () => (pausing ? resolve() : requestAnimationFrame(wait));
      wait();
    });
    await pausing;
    const parkedAt = steps;
    await client.providers();
    pause = { parkedAt, afterRoundTrip: steps };
    run.resume();
  }
  const result = await run.result;
  return { prepared, epochs, pause, steps, stopped: result.stopped };
}

/**
 * For the benchmark: trains on pseudo-random images made here (bench/train.bench.ts makes the same in
 * Node), after the providers have been listed (which starts WebAssembly, as opening the Train panel
 * will), and measures on this page the time to the first step event and the longest gap between
 * animation frames while training runs in the worker.
 */
async function trainRandom(spec: { doc: ModelDocument; graph: PlainTrainSpec['graph']; options: TrainerOptions; size: number; dims: number[]; classes: number }) {
  const per = spec.dims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: spec.size * per }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
  const y = BigInt64Array.from({ length: spec.size }, (_, i) => BigInt(i % spec.classes));
  const rates: number[] = [];
  const started = performance.now();
  let firstStep = 0;
  let running = true;
  let longestFrame = 0;
  let frames = 0;
  let last = performance.now();
  const frame = (now: number) => {
    if (frames++ > 0) longestFrame = Math.max(longestFrame, now - last);
    last = now;
    if (running) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const run = client.train(
    {
      doc: spec.doc,
      graph: spec.graph,
      options: spec.options,
      data: { train: { name: 'random', size: spec.size, x: { dims: spec.dims, dtype: 'float32', data: x }, y: { dims: [], dtype: 'int64', data: y } } },
    },
    (e) => {
      if (e.event === 'step' && !firstStep) firstStep = performance.now() - started;
      if (e.event === 'epoch') rates.push(e.samplesPerSec);
    },
  );
  const prepared = await run.prepared.then(() => performance.now() - started);
  await run.result;
  running = false;
  return { rates, prepared, firstStep, longestFrame, frames };
}

/** Runs a model (bytes as numbers) on one float input; the outputs as arrays, and the provider. */
async function runModel(model: number[], input: string, dims: number[], values: number[], provider: 'wasm' | 'webgpu') {
  const result = await client.run({ model: Uint8Array.from(model), feeds: { [input]: { dtype: 'float32', dims, data: Float32Array.from(values) } }, provider });
  return { provider: result.provider, outputs: Object.fromEntries(Object.entries(result.outputs).map(([name, t]) => [name, { dims: t.dims, values: Array.from(t.data as Float32Array) }])) };
}

Object.assign(window, { harness: { runModel, trainRandom, providers: () => client.providers(), train, trainBuiltIn, isolated: () => self.crossOriginIsolated } });
document.body.dataset.ready = 'true';
