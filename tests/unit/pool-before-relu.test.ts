/** poolBeforeRelu: MaxPool(Relu(x)) becomes Relu(MaxPool(x)) where nothing else reads the rectified tensor, and computes the same. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { OnnxBuilder, valueInfo } from '../../core/onnx/builder.ts';
import { poolBeforeRelu } from '../../core/onnx/pool-before-relu.ts';
import { encodeModelBytes, type NodeProto } from '../../core/onnx/proto.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph } from '../../core/train/step.ts';
import type { ModelDocument } from '../../core/graph/types.ts';

const wiring = (nodes: NodeProto[]) => nodes.map((n) => `${n.name}: ${n.op_type}(${n.input.join(', ')}) → ${n.output.join(', ')}`);

test('a Relu read only by a MaxPool runs after it, and the outputs stay the same (ties and all-negative windows included)', async () => {
  const b = new OnnxBuilder(17);
  b.node('Relu', ['x'], {}, ['r']);
  b.node('MaxPool', ['r'], { kernel_shape: [2, 2], strides: [2, 2] }, ['p']);
  b.node('Relu', ['x'], {}, ['shared']);
  b.node('MaxPool', ['shared'], { kernel_shape: [2, 2], strides: [2, 2] }, ['q']);
  b.node('Neg', ['shared'], {}, ['other']);
  b.nodes.forEach((n, i) => (n.name = `n${i}`));
  const model = (nodes: NodeProto[]) => ({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: nodes, initializer: [], input: [valueInfo('x', { shape: [1, 1, 4, 4], dtype: 'float32' })], output: ['p', 'q', 'other'].map((name) => ({ name })) },
  });
  // Windows: mixed signs, a tie at a positive maximum, all negative, and all zero.
  const x = new ort.Tensor('float32', Float32Array.from([1, -2, 3, 3, 0.5, 0, 3, 3, -1, -2, 0, 0, -3, -0.5, 0, 0]), [1, 1, 4, 4]);
  const run = async (nodes: NodeProto[]) => {
    const session = await ort.InferenceSession.create(encodeModelBytes(model(nodes)));
    const out = await session.run({ x });
    await session.release();
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
  };
  const before = await run(b.nodes.map((n) => ({ ...n, input: [...n.input], output: [...n.output] })));

  assert.equal(
    poolBeforeRelu(b.nodes, new Set(), (base) => b.fresh(base)),
    1,
  );
  assert.deepEqual(wiring(b.nodes), [
    'n1: MaxPool(x) → p_before_relu',
    'n0: Relu(p_before_relu) → p',
    // Read by the Neg too: it stays as it was.
    'n2: Relu(x) → shared',
    'n3: MaxPool(shared) → q',
    'n4: Neg(shared) → other',
  ]);
  assert.deepEqual(await run(b.nodes), before);
});

test('a rectified tensor someone fetches, or a pool that already writes its Indices, stays as it is', () => {
  const b = new OnnxBuilder(17);
  b.node('Relu', ['x'], {}, ['r']);
  b.node('MaxPool', ['r'], { kernel_shape: [2, 2] }, ['p']);
  b.node('Relu', ['y'], {}, ['s']);
  b.node('MaxPool', ['s'], { kernel_shape: [2, 2] }, ['q', 'q_indices']);
  const wired = wiring(b.nodes);
  assert.equal(
    poolBeforeRelu(b.nodes, new Set(['r']), (base) => b.fresh(base)),
    0,
  );
  assert.deepEqual(wiring(b.nodes), wired);
});

test("the CA2 CNN's training step pools each convolution's output before its ReLU; the debugger's traced step keeps the layers' order", () => {
  const doc = JSON.parse(readFileSync(new URL('../../assets/templates/ca2-cnn.json', import.meta.url), 'utf8')) as ModelDocument;
  const options = { optimizer: optimizerConfig('sgd'), loss: 'cross-entropy' as const };
  const reader = (nodes: NodeProto[], name: string) => nodes.find((n) => n.name === name)!.input[0];
  const step = buildTrainingGraph(doc, options).step.graph.node;
  assert.equal(reader(step, 'maxpool1'), 'conv1');
  assert.equal(reader(step, 'maxpool2'), 'conv2');
  const traced = buildTrainingGraph(doc, { ...options, trace: true }).step.graph.node;
  assert.equal(reader(traced, 'maxpool1'), 'relu1');
});
