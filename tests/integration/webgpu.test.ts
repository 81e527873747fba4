/**
 * WebGPU through onnxruntime-node's bundled provider: where this machine has a WebGPU adapter (a GPU, or
 * Mesa's lavapipe ≥ 23 on the CPU, see README "GPU"), inference and three training steps agree with the
 * CPU to 1e-4 relative. Without an adapter the provider is reported unavailable with the reason, and the
 * comparison is skipped, saying why: no test needs a GPU.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dataset } from '../../core/data/dataset.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, stepOptionsFor } from '../../core/train/step.ts';
import { train } from '../../core/train/trainer.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { doc, node } from '../unit/helpers.ts';
import { worstError } from './fixtures.ts';

const layers: [string, string, Record<string, number>][] = [
  ['conv1', 'Conv2d', { outChannels: 4, kernelSize: 3 }],
  ['relu1', 'ReLU', {}],
  ['pool1', 'AvgPool2d', { kernelSize: 2 }],
  ['conv2', 'Conv2d', { outChannels: 6, kernelSize: 3, groups: 2 }],
  ['relu2', 'ReLU', {}],
  ['flat', 'Flatten', {}],
  ['fc1', 'Linear', { outFeatures: 5 }],
];
const cnn = doc(
  [node('image', 'Input', { shape: [2, 12, 12] }), ...layers.map(([id, op, p]) => node(id, op, p))],
  layers.map(([id], i) => [i === 0 ? 'image' : layers[i - 1][0], id]),
);

function images(size: number): Dataset {
  const x = Float32Array.from({ length: size * 2 * 12 * 12 }, (_, i) => Math.sin(i * 0.37) + 0.1 * Math.cos(i * 1.3));
  const y = BigInt64Array.from({ length: size }, (_, i) => BigInt(i % 5));
  return { name: 'images', size, x: { dims: [2, 12, 12], dtype: 'float32', data: x }, y: { dims: [], dtype: 'int64', data: y }, classes: 5 };
}

const engine = new NodeEngine();
const missing = await engine.unavailable('webgpu');

test('WebGPU availability is reported, with the reason when it cannot run here', async () => {
  if (missing === null) return assert.ok((await engine.availableProviders()).includes('webgpu'));
  assert.match(missing, /WebGPU needs/);
  assert.ok(!(await engine.availableProviders()).includes('webgpu'));
  await assert.rejects(
    () => engine.createSession(encodeModelBytes(compileModel(cnn, { seed: 1 }).model), { provider: 'webgpu' }),
    (e: Error) => e.message.includes(missing),
  );
});

test('inference and three Adam steps on WebGPU agree with the CPU to 1e-4 relative', { skip: missing ?? false }, async () => {
  const model = encodeModelBytes(compileModel(cnn, { seed: 3 }).model);
  const x = images(4).x;
  const outputs = await Promise.all(
    (['cpu', 'webgpu'] as const).map(async (provider) => {
      const session = await engine.createSession(model, { provider });
      assert.equal(session.provider, provider);
      const out = await session.run({ image: { dtype: 'float32', dims: [4, 2, 12, 12], data: x.data as Float32Array } });
      await session.release();
      return out.fc1.data as Float32Array;
    }),
  );
  assert.equal(worstError(outputs[1], outputs[0], 0, 1e-4), 0, 'inference');

  const graph = buildTrainingGraph(cnn, { optimizer: optimizerConfig('adam', { lr: 0.01 }), loss: 'cross-entropy', seed: 3 });
  const trained = [];
  for (const provider of ['cpu', 'webgpu'] as const)
    trained.push((await train(engine, graph, { train: images(24) }, { epochs: 1, batchSize: 8, lr: 0.01, shuffle: false, provider }, () => {})).weights);
  for (const [key, cpu] of trained[0]) {
    const scale = Math.max(...cpu.data.map(Math.abs));
    assert.equal(worstError(trained[1].get(key)!.data, cpu.data, 1e-4 * scale, 1e-4), 0, `${key} after three steps`);
  }
});

// WebGPU's own step: MaxPool's gradient without Indices and BatchNorm's sums in float32 (stepOptionsFor),
// against the CPU's step with Indices and float64 sums, each built as the CLI and the app build it.
const pooled = doc(
  [
    node('image', 'Input', { shape: [2, 12, 12] }),
    node('conv1', 'Conv2d', { outChannels: 4, kernelSize: 3 }),
    node('bn1', 'BatchNorm2d'),
    node('relu1', 'ReLU'),
    node('pool1', 'MaxPool2d', { kernelSize: 2 }),
    node('flat', 'Flatten'),
    node('fc1', 'Linear', { outFeatures: 5 }),
  ],
  [
    ['image', 'conv1'],
    ['conv1', 'bn1'],
    ['bn1', 'relu1'],
    ['relu1', 'pool1'],
    ['pool1', 'flat'],
    ['flat', 'fc1'],
  ],
);

test("three SGD steps of a CNN with MaxPool and BatchNorm on WebGPU's own step graph agree with the CPU's to 1e-4 relative", { skip: missing ?? false }, async () => {
  const trained = [];
  for (const provider of ['cpu', 'webgpu'] as const) {
    const graph = buildTrainingGraph(pooled, { optimizer: optimizerConfig('sgd', { lr: 0.05 }), loss: 'cross-entropy', seed: 5, ...stepOptionsFor(provider) });
    trained.push((await train(engine, graph, { train: images(24) }, { epochs: 1, batchSize: 8, lr: 0.05, shuffle: false, provider }, () => {})).weights);
  }
  for (const [key, cpu] of trained[0]) {
    const scale = Math.max(...cpu.data.map(Math.abs));
    assert.equal(worstError(trained[1].get(key)!.data, cpu.data, 1e-4 * scale, 1e-4), 0, `${key} after three steps`);
  }
});

test.after(() => engine.dispose());
