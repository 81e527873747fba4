/**
 * The debugger on ResNet-18 at 224×224 (batch 1, cross-entropy): the first forward and backward pass,
 * which fetches every layer's values and gradients, against one training step of the same model on the
 * same engine (target ≤ 3×), and each later step (one layer's forward or backward step written out from
 * what that pass fetched; target < 100 ms).
 */
import { readFileSync } from 'node:fs';
import { elementCount, type Tensor } from '../core/engine/engine.ts';
import type { ModelDocument } from '../core/graph/types.ts';
import { backwardLines, forwardLines } from '../core/debug/format.ts';
import { Debugger } from '../core/debug/trace.ts';
import { encodeModelBytes } from '../core/onnx/proto.ts';
import { optimizerConfig } from '../core/train/optimizers.ts';
import { buildTrainingGraph, initialCarried } from '../core/train/step.ts';
import { NodeEngine } from '../engines/node/engine.ts';
import { median, report } from './measure.ts';

export async function benchDebugger(): Promise<void> {
  const doc = JSON.parse(readFileSync(new URL('../assets/templates/resnet18.json', import.meta.url), 'utf8')) as ModelDocument;
  const image: Tensor = { dtype: 'float32', dims: [1, 3, 224, 224], data: Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i)) };
  const label: Tensor = { dtype: 'int64', dims: [1], data: BigInt64Array.from([3n]) };
  const engine = new NodeEngine();

  // One training step: the plain step graph, its parameters fed as training feeds them.
  const graph = buildTrainingGraph(doc, { optimizer: optimizerConfig('sgd', { lr: 0.01 }), loss: 'cross-entropy' });
  const session = await engine.createSession(encodeModelBytes(graph.step));
  const feeds: Record<string, Tensor> = {
    [graph.inputs[0].name]: image,
    [graph.target.name]: label,
    lr: { dtype: 'float32', dims: [], data: Float32Array.from([0.01]) },
    step: { dtype: 'float32', dims: [], data: Float32Array.from([1]) },
  };
  for (const [name, t] of initialCarried(graph)) feeds[name] = { dtype: 'float32', dims: t.shape, data: t.data };
  await session.run(feeds);
  const stepTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await session.run(feeds);
    stepTimes.push(performance.now() - t);
  }
  await session.release();
  const trainingStep = stepTimes.sort((a, b) => a - b)[1];

  let t = performance.now();
  const debug = await Debugger.open(engine, doc, { loss: 'cross-entropy', lr: 0.01 });
  const open = performance.now() - t;
  t = performance.now();
  const run = await debug.run({ inputs: { image }, target: label });
  const first = performance.now() - t;
  const layers = run.trace.forward.length;
  const fetched = [...run.trace.forward.flatMap((s) => s.outputs), ...run.trace.backward.flatMap((s) => [...s.upstream, ...s.downstream, ...s.params])].reduce(
    (n, v) => n + elementCount(v.value.dims),
    0,
  );

  // A later step: one layer written out, forward or backward, with its ONNX nodes expanded.
  let slowest = 0;
  for (const s of run.trace.forward)
    slowest = Math.max(
      slowest,
      median(3, () => timed(() => forwardLines(s, run.expand(s.layer)))),
    );
  for (const s of run.trace.backward)
    slowest = Math.max(
      slowest,
      median(3, () => timed(() => backwardLines(s, run.expand(s.layer)))),
    );
  await debug.release();
  await engine.dispose();

  console.log(`Debugger, ResNet-18 at 224×224, batch 1 (${layers} layers, ${(fetched / 1e6).toFixed(1)} M values fetched):`);
  report('  training step (median of 3)', trainingStep, 'ms');
  report('  debugger: build the traced step graph and open its session', open, 'ms');
  report('  debugger: first forward + backward, every value fetched', first, 'ms');
  report('  first pass / training step', first / trainingStep, '×', 3);
  report('  slowest later step (one layer shown)', slowest, 'ms', 100);
}

function timed(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}
