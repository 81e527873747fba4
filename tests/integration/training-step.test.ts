/**
 * The training-step graph against torch.optim: for an MLP and a CNN with fixed weights and one batch,
 * the parameters after one and after three steps of each optimiser match PyTorch's to 1e-5 relative;
 * with BatchNorm, its running statistics too; and with gradient clipping and L1/L2 penalties.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ModelDocument } from '../../core/index.ts';
import { annotate } from '../../core/autodiff/types.ts';
import { batchNormsAsInference } from '../../core/autodiff/batchnorm.ts';
import { attrInt } from '../../core/onnx/attributes.ts';
import { OnnxBuilder, valueInfo } from '../../core/onnx/builder.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { optimizerConfig, type OptimizerName } from '../../core/train/optimizers.ts';
import { multiStepModel } from '../../core/train/multistep.ts';
import { buildTrainingGraph, carriedNames, initialCarried, nextName, type TrainingGraphOptions } from '../../core/train/step.ts';
import { floats, loadFixture, toOrt, weightsOf, worstError, type FixtureTensor } from './fixtures.ts';

interface Fixture {
  models: Record<string, { doc: ModelDocument; weights: Record<string, FixtureTensor>; x: FixtureTensor; y: FixtureTensor & { dtype?: 'int64' } }>;
  runs: {
    model: string;
    optimizer: OptimizerName;
    config: { lr: number; momentum?: number; weightDecay?: number; eps?: number };
    training?: Pick<TrainingGraphOptions, 'clipNorm' | 'regularization' | 'truncateBptt'>;
    after1: Record<string, FixtureTensor>;
    after3: Record<string, FixtureTensor>;
  }[];
}

const fixture = loadFixture<Fixture>('training.json');

describe('training steps match torch.optim', () => {
  for (const run of fixture.runs) {
    const extras = Object.entries({ weightDecay: run.config.weightDecay, ...run.training?.regularization, clipNorm: run.training?.clipNorm, truncateBptt: run.training?.truncateBptt }).filter(
      ([, v]) => v !== undefined,
    );
    test(`${run.model} · ${run.optimizer}${extras.map(([k, v]) => ` · ${k} ${v}`).join('')}`, async () => {
      const model = fixture.models[run.model];
      const initial = new Map([...weightsOf('', model.weights)].map(([k, v]) => [k.slice(1), v]));
      const graph = buildTrainingGraph(model.doc, { optimizer: optimizerConfig(run.optimizer, run.config), loss: 'cross-entropy', weights: initial, ...run.training });
      const session = await ort.InferenceSession.create(encodeModelBytes(graph.step));
      // Parameters, optimiser state and the buffers the step updates (BatchNorm's running statistics) go round together.
      const carried = initialCarried(graph);
      const weightKeys = [...graph.params, ...graph.buffers].map((p) => p.key);
      for (let step = 1; step <= 3; step++) {
        const feeds: Record<string, ort.Tensor> = {
          [graph.inputs[0].name]: toOrt(model.x),
          [graph.target.name]: toOrt({ ...model.y, dtype: 'int64' }),
          lr: new ort.Tensor('float32', new Float32Array([run.config.lr]), []),
          step: new ort.Tensor('float32', new Float32Array([step]), []),
        };
        for (const [name, { shape, data }] of carried) feeds[name] = new ort.Tensor('float32', data, shape);
        const out = await session.run(feeds);
        for (const [name, { shape }] of carried) carried.set(name, { shape, data: out[nextName(name)].data as Float32Array });
        if (step === 1 || step === 3) {
          const expected = step === 1 ? run.after1 : run.after3;
          assert.deepEqual([...weightKeys].sort(), Object.keys(expected).sort(), 'every parameter and running statistic is updated');
          for (const key of weightKeys) assert.equal(worstError(carried.get(key)!.data, floats(expected[key]), 1e-6, 1e-5), 0, `${key} after step ${step}`);
        }
      }
      await session.release();
    });
  }
});

describe('dropout between stacked recurrent layers', () => {
  const lstm = (numLayers: number, dropout: number): ModelDocument => ({
    format: 'netloom.model',
    version: 1,
    name: 'stacked',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [5, 3] } },
      { id: 'lstm1', op: 'LSTM', params: { hiddenSize: 4, numLayers, dropout } },
      { id: 'last', op: 'Select', params: { dim: 1, index: -1 } },
      { id: 'linear1', op: 'Linear', params: { outFeatures: 3 } },
    ],
    edges: [
      { from: 'x', to: 'lstm1' },
      { from: 'lstm1:0', to: 'last' },
      { from: 'last', to: 'linear1' },
    ],
  });

  /** The loss of two runs of the step graph on the same batch and weights (lr 0, so nothing moves). */
  async function twoLosses(model: ModelDocument): Promise<[number, number]> {
    const graph = buildTrainingGraph(model, { optimizer: optimizerConfig('sgd', { lr: 0 }), loss: 'cross-entropy', seed: 2 });
    const session = await ort.InferenceSession.create(encodeModelBytes(graph.step));
    const feeds: Record<string, ort.Tensor> = {
      [graph.inputs[0].name]: new ort.Tensor(
        'float32',
        Float32Array.from({ length: 4 * 5 * 3 }, (_, i) => Math.sin(i)),
        [4, 5, 3],
      ),
      [graph.target.name]: new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 1n]), [4]),
      lr: new ort.Tensor('float32', new Float32Array([0]), []),
      step: new ort.Tensor('float32', new Float32Array([1]), []),
    };
    for (const p of graph.params) feeds[p.key] = new ort.Tensor('float32', graph.weights.get(p.key)!.data, p.shape);
    const loss = async () => ((await session.run(feeds))[graph.loss].data as Float32Array)[0];
    const losses: [number, number] = [await loss(), await loss()];
    await session.release();
    return losses;
  }

  const activeDropouts = (model: ModelDocument, which: 'step' | 'eval') =>
    buildTrainingGraph(model, { optimizer: optimizerConfig('sgd', {}), loss: 'cross-entropy' })[which].graph.node.filter((n) => n.op_type === 'Dropout' && n.input.length === 3).length;

  test('one active Dropout per time step after every layer but the last, none in evaluation', () => {
    assert.equal(activeDropouts(lstm(2, 0.5), 'step'), 5);
    assert.equal(activeDropouts(lstm(3, 0.5), 'step'), 10);
    assert.equal(activeDropouts(lstm(1, 0.5), 'step'), 0, 'PyTorch applies none after the last layer');
    assert.equal(activeDropouts(lstm(2, 0), 'step'), 0);
    assert.equal(activeDropouts(lstm(2, 0.5), 'eval'), 0);
  });

  test('training steps are random with it and repeatable without it', async () => {
    const [a, b] = await twoLosses(lstm(2, 0.5));
    assert.notEqual(a, b);
    const [c, d] = await twoLosses(lstm(2, 0));
    assert.equal(c, d);
  });
});

test('truncated backpropagation through time refuses a bidirectional layer, naming it', () => {
  const model: ModelDocument = {
    format: 'netloom.model',
    version: 1,
    name: 'bidirectional',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [5, 3] } },
      { id: 'lstm1', op: 'LSTM', params: { hiddenSize: 4, bidirectional: true } },
      { id: 'flatten1', op: 'Flatten', params: {} },
      { id: 'linear1', op: 'Linear', params: { outFeatures: 2 } },
    ],
    edges: [
      { from: 'x', to: 'lstm1' },
      { from: 'lstm1:0', to: 'flatten1' },
      { from: 'flatten1', to: 'linear1' },
    ],
  };
  assert.throws(
    () => buildTrainingGraph(model, { optimizer: optimizerConfig('sgd', {}), loss: 'cross-entropy', truncateBptt: 2 }),
    /lstm1 \(LSTM\) cannot be trained: truncated backpropagation through time needs a one-directional LSTM/,
  );
  assert.doesNotThrow(() => buildTrainingGraph(model, { optimizer: optimizerConfig('sgd', {}), loss: 'cross-entropy' }));
});

test('plain SGD updates a Linear weight inside its weight-gradient Gemm; weight decay keeps the separate update', () => {
  const model = fixture.models.mlp.doc;
  const producer = (options: Parameters<typeof optimizerConfig>[1]) => {
    const graph = buildTrainingGraph(model, { optimizer: optimizerConfig('sgd', options), loss: 'cross-entropy' });
    return graph.step.graph.node.find((n) => n.output!.includes(nextName('linear1.weight')))!;
  };
  const fused = producer({ lr: 0.1 });
  assert.equal(fused.op_type, 'Gemm');
  assert.equal(fused.input![2], 'linear1.weight', 'the weight is the Gemm’s C');
  assert.equal(producer({ lr: 0.1, weightDecay: 0.01 }).op_type, 'Sub');
});

test("plain SGD's update is one node per parameter (the backward pass seeded with lr), two where a norm clip reads the gradients; Adam's 11 passes", () => {
  for (const name of ['mlp', 'cnn']) {
    const updateNodes = (clipNorm?: number) => {
      const graph = buildTrainingGraph(fixture.models[name].doc, { optimizer: optimizerConfig('sgd', { lr: 0.1 }), loss: 'cross-entropy', clipNorm });
      return graph.params.map((p) => graph.step.graph.node.filter((n) => n.doc_string === `update of ${p.key}`).length);
    };
    assert.deepEqual(new Set(updateNodes()), new Set([1]), name);
    // Adam, seeded with 1 − β₁: 11 passes over each parameter's shape (3 were folded onto scalars or the seed).
    const adam = buildTrainingGraph(fixture.models[name].doc, { optimizer: optimizerConfig('adam'), loss: 'cross-entropy' });
    const types = annotate(adam.step.graph, adam.step.opset_import[0].version);
    for (const p of adam.params) {
      const passes = adam.step.graph.node.filter((n) => n.doc_string === `update of ${p.key}` && types.get(n.output[0])?.shape.join() === p.shape.join());
      assert.equal(passes.length, 11, `${name} ${p.key}: ${passes.map((n) => n.op_type).join(' ')}`);
    }
    assert.ok(
      updateNodes(1).every((count) => count >= 2),
      `${name}, clipped`,
    );
  }
});

test('BatchNorm steps run inference-mode BatchNormalization only, and leave the statistics fed to them as they were', async () => {
  const model = fixture.models['cnn-bn'];
  const graph = buildTrainingGraph(model.doc, {
    optimizer: optimizerConfig('sgd', { lr: 0.1 }),
    loss: 'cross-entropy',
    weights: new Map([...weightsOf('', model.weights)].map(([k, v]) => [k.slice(1), v])),
  });
  const norms = graph.step.graph.node.filter((n) => n.op_type === 'BatchNormalization');
  assert.ok(norms.length > 0);
  // ONNX Runtime's training-mode kernel writes its running statistics into its inputs' buffers.
  assert.deepEqual(
    norms.filter((n) => attrInt(n, 'training_mode', 0) !== 0).map((n) => n.name),
    [],
  );
  const session = await ort.InferenceSession.create(encodeModelBytes(graph.step));
  const feeds: Record<string, ort.Tensor> = {
    [graph.inputs[0].name]: toOrt(model.x),
    [graph.target.name]: toOrt({ ...model.y, dtype: 'int64' }),
    lr: new ort.Tensor('float32', [0.1], []),
    step: new ort.Tensor('float32', [1], []),
  };
  const given = initialCarried(graph);
  for (const [name, { shape, data }] of given) feeds[name] = new ort.Tensor('float32', data.slice(), shape);
  await session.run(feeds);
  for (const { key } of graph.buffers) assert.deepEqual(feeds[key].data, given.get(key)!.data, key);
  await session.release();
});

test("a training-mode BatchNormalization's inference form gives ONNX Runtime's outputs, running statistics at any momentum included", async () => {
  const x = Float32Array.from({ length: 3 * 2 * 4 }, (_, i) => Math.sin(i * 1.3) * 2 + (i % 2));
  const run = async (inferenceForm: boolean) => {
    const b = new OnnxBuilder(17);
    b.node('BatchNormalization', ['x', b.floats([1.5, -0.5], [2]), b.floats([0.1, 0.2], [2]), 'm', 'v'], { training_mode: 1, momentum: { float: 0.8 }, epsilon: { float: 1e-3 } }, ['y', 'rm', 'rv']);
    const inputs = [valueInfo('x', { shape: [3, 2, 4], dtype: 'float32' }), valueInfo('m', { shape: [2], dtype: 'float32' }), valueInfo('v', { shape: [2], dtype: 'float32' })];
    if (inferenceForm) batchNormsAsInference(b, (v) => annotate({ name: 'g', node: b.nodes, initializer: b.initializers, input: inputs, output: [] }, 17).get(v));
    assert.equal(b.nodes.filter((n) => attrInt(n, 'training_mode', 0) === 1).length, inferenceForm ? 0 : 1);
    const model = {
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: { name: 'g', node: b.nodes, initializer: b.initializers, input: inputs, output: ['y', 'rm', 'rv'].map((name) => ({ name })) },
    };
    const session = await ort.InferenceSession.create(encodeModelBytes(model));
    const out = await session.run({ x: new ort.Tensor('float32', x, [3, 2, 4]), m: new ort.Tensor('float32', [0.3, -0.2], [2]), v: new ort.Tensor('float32', [2, 0.5], [2]) });
    await session.release();
    return ['y', 'rm', 'rv'].map((name) => out[name].data as Float32Array);
  };
  const [fused, written] = [await run(false), await run(true)];
  fused.forEach((want, i) => assert.equal(worstError(written[i], want, 1e-6, 1e-5), 0, ['y', 'running mean', 'running variance'][i]));
});

test('a chunk of steps run as one Loop gives exactly the parameters, statistics and losses of single steps', async () => {
  for (const [name, optimizer] of [
    ['mlp', 'adam'],
    ['cnn-bn', 'momentum'],
    ['lstm', 'sgd'],
  ] as const) {
    const model = fixture.models[name];
    const initial = new Map([...weightsOf('', model.weights)].map(([k, v]) => [k.slice(1), v]));
    const graph = buildTrainingGraph(model.doc, { optimizer: optimizerConfig(optimizer, { lr: 0.05, momentum: 0.9 }), loss: 'cross-entropy', weights: initial });
    const carried = carriedNames(graph);
    const start = (): Record<string, ort.Tensor> => Object.fromEntries([...initialCarried(graph)].map(([n, { shape, data }]) => [n, new ort.Tensor('float32', data, shape)]));
    const x = toOrt(model.x);
    const y = toOrt({ ...model.y, dtype: 'int64' });
    const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);

    const single = await ort.InferenceSession.create(encodeModelBytes(graph.step));
    let values = start();
    const losses: number[] = [];
    for (let step = 1; step <= 3; step++) {
      const out = await single.run({ ...values, [graph.inputs[0].name]: x, [graph.target.name]: y, lr: scalar(0.05), step: scalar(step) });
      values = Object.fromEntries(carried.map((n) => [n, out[nextName(n)] as ort.Tensor]));
      losses.push((out[graph.loss].data as Float32Array)[0]);
    }

    const chunked = await ort.InferenceSession.create(encodeModelBytes(multiStepModel(graph)));
    // The same batch for each of the three steps.
    const thrice = (t: ort.Tensor) => {
      const one = t.data as Float32Array;
      const bytes = new Uint8Array(3 * one.byteLength);
      for (let i = 0; i < 3; i++) bytes.set(new Uint8Array(one.buffer, one.byteOffset, one.byteLength), i * one.byteLength);
      const data = t.type === 'int64' ? new BigInt64Array(bytes.buffer) : new Float32Array(bytes.buffer);
      return new ort.Tensor(t.type as 'float32', data as Float32Array, [3, ...t.dims]);
    };
    const out = await chunked.run({
      ...start(),
      [graph.inputs[0].name]: thrice(x),
      [graph.target.name]: thrice(y),
      lr: new ort.Tensor('float32', new Float32Array(3).fill(0.05), [3]),
      step: new ort.Tensor('float32', Float32Array.of(1, 2, 3), [3]),
    });
    assert.deepEqual([...(out[graph.loss].data as Float32Array)], losses, `${name}: losses`);
    for (const n of carried) assert.deepEqual(out[nextName(n)].data, values[n].data, `${name}: ${n}`);
    await single.release();
    await chunked.release();
  }
});
