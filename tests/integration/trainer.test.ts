/** The training loop on ONNX Runtime: it learns, stops cleanly on NaN, pauses and stops, and checks data. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { batchOf, checkTarget, DatasetError, shapedTo, split, synthetic } from '../../core/data/dataset.ts';
import type { Tensor } from '../../core/engine/engine.ts';
import { decodeSafetensors } from '../../core/graph/weights.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, initialCarried, nextName } from '../../core/train/step.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { learningRate, train, TrainingControl, warmUp, type TrainingEvent } from '../../core/train/trainer.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { doc, node } from '../unit/helpers.ts';

const mlp = () =>
  doc(
    [node('x', 'Input', { shape: [2] }), node('fc1', 'Linear', { outFeatures: 32 }), node('act', 'Tanh'), node('fc2', 'Linear', { outFeatures: 3 })],
    [
      ['x', 'fc1'],
      ['fc1', 'act'],
      ['act', 'fc2'],
    ],
  );

describe('the trainer', () => {
  test('learns the spiral, streaming step and epoch events', async () => {
    const data = split(synthetic('spiral', 600, 1), 480, 120, 1);
    const graph = buildTrainingGraph(mlp(), { optimizer: optimizerConfig('adam', { lr: 0.02 }), loss: 'cross-entropy', seed: 1 });
    const events: TrainingEvent[] = [];
    const engine = new NodeEngine();
    const { stopped } = await train(engine, graph, data, { epochs: 40, batchSize: 32, lr: 0.02, seed: 1 }, (e) => events.push(e));
    await engine.dispose();
    assert.equal(stopped, null);
    const epochs = events.filter((e) => e.event === 'epoch');
    assert.equal(epochs.length, 40);
    assert.equal(events.filter((e) => e.event === 'step').length, 40 * 15, '480 samples in batches of 32');
    const last = epochs[epochs.length - 1] as Extract<TrainingEvent, { event: 'epoch' }>;
    assert.ok(last.valAccuracy! > 0.9, `validation accuracy ${last.valAccuracy}`);
    assert.ok(last.loss < (epochs[0] as typeof last).loss / 3, 'the loss falls');
  });

  test('stops at the step where the loss stops being finite, and says to lower the rate', async () => {
    const data = split(synthetic('blobs', 200, 2), 160, 40, 2);
    const graph = buildTrainingGraph(mlp(), { optimizer: optimizerConfig('sgd', { lr: 1e38 }), loss: 'cross-entropy' });
    const engine = new NodeEngine();
    const { stopped } = await train(engine, graph, data, { epochs: 3, batchSize: 16, lr: 1e38 }, () => {});
    await engine.dispose();
    assert.match(stopped!, /the loss became (NaN|infinite) at step \d+ \(epoch 1\); try a smaller learning rate than 1e\+38/);
  });

  test('pauses, resumes and stops', async () => {
    const data = split(synthetic('xor', 400, 3), 320, 80, 3);
    const graph = buildTrainingGraph(mlp(), { optimizer: optimizerConfig('momentum', { lr: 0.1 }), loss: 'cross-entropy' });
    const control = new TrainingControl();
    let steps = 0;
    let onStep: (() => void) | null = null;
    const engine = new NodeEngine();
    const running = train(
      engine,
      graph,
      data,
      { epochs: 5, batchSize: 8, lr: 0.1 },
      (e) => {
        if (e.event !== 'step') return;
        steps++;
        if (steps === 3) control.pause();
        onStep?.();
      },
      control,
    );
    // Steps run in chunks: the pause lands at the end of the chunk that step 3 belongs to. Wait for the
    // trainer to park there (an event, not a sleep), then let the event loop turn: nothing may run.
    await control.parked();
    const paused = steps;
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(steps, paused, 'nothing runs while paused');
    assert.ok(paused >= 3 && paused < 5 * 40);
    const resumed = new Promise<void>((r) => (onStep = r));
    control.resume();
    await resumed;
    control.stop();
    const { stopped } = await running;
    await engine.dispose();
    assert.equal(stopped, 'stopped');
    assert.ok(steps > 3 && steps < 5 * 40);
  });

  test('chunked steps give exactly the weights of one step at a time, a smaller last batch included', async () => {
    const data = split(synthetic('blobs', 200, 2), 160, 40, 2);
    const graph = buildTrainingGraph(mlp(), { optimizer: optimizerConfig('adam', { lr: 0.01 }), loss: 'cross-entropy', seed: 4 });
    const engine = new NodeEngine();
    let steps = 0;
    const { weights } = await train(engine, graph, { train: data.train }, { epochs: 3, batchSize: 48, lr: 0.01, shuffle: false, warmupSteps: 5 }, (e) => e.event === 'step' && steps++);
    assert.equal(steps, 3 * 4, '160 samples: three batches of 48 and one of 16 per epoch');

    // The same steps by hand, one session run each, through the single-step graph.
    const session = await engine.createSession(encodeModelBytes(graph.step));
    const values = new Map<string, Tensor>([...initialCarried(graph)].map(([n, { shape, data }]) => [n, { dtype: 'float32', dims: shape, data }]));
    let step = 0;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let start = 0; start < 160; start += 48) {
        const batch = batchOf(
          data.train,
          Array.from({ length: Math.min(48, 160 - start) }, (_, i) => start + i),
        );
        const lr = learningRate({ epochs: 3, batchSize: 48, lr: 0.01, warmupSteps: 5 }, step, epoch);
        step++;
        const out = await session.run({
          ...Object.fromEntries(values),
          [graph.inputs[0].name]: batch.x,
          [graph.target.name]: batch.y,
          lr: { dtype: 'float32', dims: [], data: Float32Array.of(lr) },
          step: { dtype: 'float32', dims: [], data: Float32Array.of(step) },
        });
        for (const n of values.keys()) values.set(n, out[nextName(n)]);
      }
    }
    await engine.dispose();
    for (const p of graph.params) assert.deepEqual(weights.get(p.key)!.data, values.get(p.key)!.data, p.key);
  });

  test('a warm-up step before a run leaves no trace in it', async () => {
    const data = split(synthetic('blobs', 200, 2), 160, 40, 2);
    const options = { epochs: 2, batchSize: 32, lr: 0.01 };
    const graphOf = () => buildTrainingGraph(mlp(), { optimizer: optimizerConfig('adam', { lr: 0.01 }), loss: 'cross-entropy', seed: 4 });
    const engine = new NodeEngine();
    const plain = await train(engine, graphOf(), data, options, () => {});
    const graph = graphOf();
    await warmUp(engine, graph, data.train, options);
    const warmed = await train(engine, graph, data, options, () => {});
    await engine.dispose();
    assert.deepEqual(warmed.weights, plain.weights);
  });

  test('frozen layers keep their weights; Dropout is active in training and off in evaluation', async () => {
    const model = doc(
      [
        node('x', 'Input', { shape: [2] }),
        { ...node('fc1', 'Linear', { outFeatures: 16 }), trainable: false },
        node('act', 'ReLU'),
        node('drop', 'Dropout', { p: 0.5 }),
        node('fc2', 'Linear', { outFeatures: 3 }),
      ],
      [
        ['x', 'fc1'],
        ['fc1', 'act'],
        ['act', 'drop'],
        ['drop', 'fc2'],
      ],
    );
    const graph = buildTrainingGraph(model, { optimizer: optimizerConfig('sgd', { lr: 0.1 }), loss: 'cross-entropy', seed: 4 });
    assert.deepEqual(
      graph.params.map((p) => p.key),
      ['fc2.weight', 'fc2.bias'],
    );
    assert.ok(
      graph.step.graph.node.some((n) => n.op_type === 'Dropout' && n.output.length === 2),
      'training Dropout outputs its mask',
    );
    assert.ok(
      graph.eval.graph.node.every((n) => n.op_type !== 'Dropout' || n.input.length === 2),
      'evaluation Dropout is off',
    );
    const engine = new NodeEngine();
    const { weights } = await train(engine, graph, split(synthetic('blobs', 200, 4), 160, 40, 4), { epochs: 2, batchSize: 16, lr: 0.1 }, () => {});
    await engine.dispose();
    assert.deepEqual(weights.get('fc1.weight')!.data, graph.weights.get('fc1.weight')!.data);
    assert.notDeepEqual(weights.get('fc2.weight')!.data, graph.weights.get('fc2.weight')!.data);
  });

  test('learning-rate schedules: step, cosine and warm-up', () => {
    const base = { epochs: 10, batchSize: 1, lr: 1 };
    assert.equal(learningRate({ ...base, schedule: { kind: 'step', stepSize: 3, gamma: 0.1 } }, 0, 7), 0.1 ** 2);
    assert.ok(Math.abs(learningRate({ ...base, schedule: { kind: 'cosine', etaMin: 0 } }, 0, 5) - 0.5) < 1e-12);
    assert.equal(learningRate({ ...base, warmupSteps: 4 }, 1, 0), 0.5);
  });

  test('data that does not fit the model is refused, naming the dimension', () => {
    const spiral = synthetic('spiral', 30);
    assert.throws(() => shapedTo(spiral, { shape: ['N', 3], dtype: 'float32' }), /samples are 2 \(2 values\) but the model input is N×3 \(3 per sample\)/);
    assert.throws(() => checkTarget(spiral, { shape: ['N'], dtype: 'int64' }, { shape: ['N', 2], dtype: 'float32' }), /has class 2 but the model predicts 2 classes/);
    assert.throws(() => checkTarget(spiral, { shape: ['N'], dtype: 'int64' }, { shape: ['N', 1], dtype: 'float32' }), /has class 2 but the model predicts 1 class \(its last layer has 1 output\)$/);
    assert.throws(() => checkTarget(spiral, { shape: ['N', 3], dtype: 'float32' }, { shape: ['N', 3], dtype: 'float32' }), DatasetError);
  });
});

describe('netloom train', () => {
  const dir = mkdtempSync(join(tmpdir(), 'netloom-train-'));
  const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
  const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  writeFileSync(join(dir, 'mlp.json'), JSON.stringify(mlp()));

  test('--json prints one event per line, ends with done, and writes the model and a checkpoint', () => {
    const r = netloom(
      'train',
      'mlp.json',
      '--dataset',
      'moons',
      '--epochs',
      '3',
      '--batch-size',
      '16',
      '--optimizer',
      'adamw',
      '--lr',
      '0.01',
      '--loss',
      'cross-entropy',
      '--checkpoint',
      'ckpt.safetensors',
      '-o',
      'out.json',
      '--json',
    );
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(Object.keys(events.find((e) => e.event === 'epoch')), ['event', 'epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'samplesPerSec']);
    assert.deepEqual(Object.keys(events.find((e) => e.event === 'step')), ['event', 'step', 'loss']);
    assert.equal(events[events.length - 1].event, 'done');
    const saved = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    assert.equal(saved.weights, 'out.safetensors');
    const checkpoint = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'ckpt.safetensors'))));
    assert.equal(checkpoint.metadata.epoch, '3');
    assert.ok(checkpoint.weights.has('state/exp_avg/fc1.weight'), 'the optimiser state is in the checkpoint');
  });

  test('weight penalties and gradient clipping train from the command line', () => {
    const r = netloom('train', 'mlp.json', '--dataset', 'moons', '--epochs', '2', '--loss', 'cross-entropy', '--l1', '0.0001', '--l2', '0.001', '--clip-norm', '1', '-o', 'penalised.json', '--json');
    assert.equal(r.status, 0, r.stderr);
    const epochs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.event === 'epoch');
    assert.equal(epochs.length, 2);
    assert.ok(epochs.every((e) => Number.isFinite(e.loss)));
  });

  test('bad options and data are one-line errors', () => {
    for (const [args, pattern] of [
      [['train', 'mlp.json', '--dataset', 'mnist', '--loss', 'cross-entropy', '-o', 'o.json'], /mnist \(train\)'s samples are 1×28×28 \(784 values\) but the model input is N×2/],
      [['train', 'mlp.json', '--dataset', 'nope', '--loss', 'mse', '-o', 'o.json'], /no built-in dataset "nope"/],
      [['train', 'mlp.json', '--dataset', 'xor', '--optimizer', 'lion', '-o', 'o.json'], /--optimizer must be one of sgd, momentum/],
      [['train', 'mlp.json', '--dataset', 'xor', '--loss', 'cross-entropy', '--truncate-bptt', '0', '-o', 'o.json'], /--truncate-bptt must be an integer from 1/],
    ] as const) {
      const r = netloom(...args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });
});

test('a loss attaches to a model with one output (naming the outputs otherwise); every trainable parameter is fed and updated', () => {
  const model = doc(
    [node('x', 'Input', { shape: [2] }), node('fc1', 'Linear', { outFeatures: 3 }), node('unused', 'Linear', { outFeatures: 4 }), node('join', 'Mul'), node('out', 'Linear', { outFeatures: 3 })],
    [
      ['x', 'fc1'],
      ['x', 'unused'],
      ['fc1', 'join'],
      ['fc1', 'join'],
      ['join', 'out'],
    ],
  );
  // "unused" feeds nothing: it is a second output, so there is no single output to attach the loss to.
  assert.throws(() => buildTrainingGraph(model, { optimizer: optimizerConfig('sgd'), loss: 'mse' }), /exactly one output; this one has 2 \(unused, out\)/);
  const single = { ...model, nodes: model.nodes.filter((n) => n.id !== 'unused'), edges: model.edges.filter((e) => e.to !== 'unused') };
  const graph = buildTrainingGraph(single, { optimizer: optimizerConfig('adam'), loss: 'mse' });
  assert.deepEqual(
    graph.params.map((p) => p.key),
    ['fc1.weight', 'fc1.bias', 'out.weight', 'out.bias'],
  );
  const inputs = graph.step.graph.input.map((v) => v.name);
  for (const p of graph.params) assert.ok(inputs.includes(p.key) && inputs.includes(`state/exp_avg/${p.key}`), p.key);
});
