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
  const size = spec.y.values.length / Math.max(1, spec.y.dims.reduce((a, b) => a * b, 1));
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

Object.assign(window, { harness: { providers: () => client.providers(), train, trainBuiltIn, isolated: () => self.crossOriginIsolated } });
document.body.dataset.ready = 'true';
