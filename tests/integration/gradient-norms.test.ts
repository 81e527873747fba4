/**
 * The step graph's per-layer gradient norms (what the canvas overlay shows while the app trains): ‖∂L/∂W‖
 * over each layer's parameters, read against what plain SGD's step moved the parameters by, the same
 * under every optimiser's seed of the backward pass, and handed out by the trainer at the end of each chunk.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { synthetic } from '../../core/data/dataset.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { optimizerConfig, type OptimizerName } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, GRADIENT_NORMS, initialCarried, nextName, type TrainingGraph } from '../../core/train/step.ts';
import { train, type TrainingEvent } from '../../core/train/trainer.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { doc, node } from '../unit/helpers.ts';

const LR = 0.1;
const cnn = doc(
  [
    node('image', 'Input', { shape: [1, 8, 8] }),
    node('conv1', 'Conv2d', { outChannels: 3, kernelSize: 3 }),
    node('relu1', 'ReLU'),
    node('pool1', 'MaxPool2d', { kernelSize: 2 }),
    node('flat', 'Flatten'),
    node('fc1', 'Linear', { outFeatures: 4 }),
  ],
  [
    ['image', 'conv1'],
    ['conv1', 'relu1'],
    ['relu1', 'pool1'],
    ['pool1', 'flat'],
    ['flat', 'fc1'],
  ],
);

const graphFor = (optimizer: OptimizerName) => buildTrainingGraph(cnn, { optimizer: optimizerConfig(optimizer, { lr: LR }), loss: 'cross-entropy', seed: 2, gradientNorms: true });

/** One step from the graph's initial weights on a fixed batch: the norms, and every carried value after it. */
async function oneStep(graph: TrainingGraph) {
  const feeds: Record<string, ort.Tensor> = {
    [graph.inputs[0].name]: new ort.Tensor(
      'float32',
      Float32Array.from({ length: 6 * 64 }, (_, i) => Math.sin(i * 0.7)),
      [6, 1, 8, 8],
    ),
    [graph.target.name]: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: 6 }, (_, i) => BigInt(i % 4)),
      [6],
    ),
    lr: new ort.Tensor('float32', [LR], []),
    step: new ort.Tensor('float32', [1], []),
  };
  for (const [name, t] of initialCarried(graph)) feeds[name] = new ort.Tensor('float32', t.data, t.shape);
  const session = await ort.InferenceSession.create(encodeModelBytes(graph.step));
  const out = await session.run(feeds);
  await session.release();
  const norms = new Map(graph.gradientNormLayers!.map((layer, i) => [layer, (out[GRADIENT_NORMS].data as Float32Array)[i]]));
  return { norms, before: feeds, after: out };
}

test('each layer’s norm is ‖∂L/∂W‖ over its parameters: what plain SGD moves them by, over lr', async () => {
  const graph = graphFor('sgd');
  assert.deepEqual(graph.gradientNormLayers, ['conv1', 'fc1']);
  const { norms, before, after } = await oneStep(graph);
  for (const layer of ['conv1', 'fc1']) {
    let squares = 0;
    for (const key of [`${layer}.weight`, `${layer}.bias`]) {
      const from = before[key].data as Float32Array;
      const to = after[nextName(key)].data as Float32Array;
      from.forEach((v, i) => (squares += ((v - to[i]) / LR) ** 2));
    }
    const moved = Math.sqrt(squares);
    assert.ok(moved > 0 && Math.abs(norms.get(layer)! - moved) <= 1e-4 * moved, `${layer}: ${norms.get(layer)} against ${moved}`);
  }
});

test('the norms do not depend on the optimiser (its seed of the backward pass is divided out)', async () => {
  const sgd = (await oneStep(graphFor('sgd'))).norms;
  for (const optimizer of ['adam', 'momentum', 'rmsprop'] as const) {
    const { norms } = await oneStep(graphFor(optimizer));
    for (const [layer, value] of sgd) assert.ok(Math.abs(norms.get(layer)! - value) <= 1e-5 * value, `${optimizer} ${layer}: ${norms.get(layer)} against sgd ${value}`);
  }
});

test('the trainer gives the norms by layer on the last step of every chunk, and only there', async () => {
  const events: TrainingEvent[] = [];
  const engine = new NodeEngine();
  const data = synthetic('blobs', 96, 1);
  const image = { ...data, x: { dims: [1, 8, 8], dtype: 'float32' as const, data: Float32Array.from({ length: 96 * 64 }, (_, i) => Math.cos(i * 0.31)) } };
  await train(engine, graphFor('adam'), { train: image }, { epochs: 2, batchSize: 8, lr: LR }, (e) => events.push(e));
  await engine.dispose();
  const steps = events.filter((e): e is Extract<TrainingEvent, { event: 'step' }> => e.event === 'step');
  assert.equal(steps.length, 24);
  const withNorms = steps.filter((e) => e.gradientNorms);
  assert.ok(withNorms.length >= 2 && withNorms.length < steps.length, `${withNorms.length} of ${steps.length} steps carry norms`);
  assert.ok(steps[steps.length - 1].gradientNorms, 'the last step carries them');
  for (const e of withNorms) {
    assert.deepEqual(Object.keys(e.gradientNorms!), ['conv1', 'fc1']);
    assert.ok(Object.values(e.gradientNorms!).every((v) => Number.isFinite(v) && v > 0));
  }
});
