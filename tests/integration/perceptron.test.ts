/**
 * Deck 003 on ONNX Runtime: the perceptron rule reproduces the deck's trace, the 1-D regression example trains
 * to the least-squares w, and the binary hinge loss separates ±1 labels with accuracy counted as 1 − zero-one loss.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Dataset } from '../../core/data/dataset.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { signHits, zeroOneLoss } from '../../core/train/metrics.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, type LossName } from '../../core/train/step.ts';
import { train, type TrainingEvent } from '../../core/train/trainer.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { doc, node } from '../unit/helpers.ts';

const dataset = (xs: number[][], ys: number[]): Dataset => ({
  name: 'deck003',
  size: ys.length,
  x: { dims: [xs[0].length], dtype: 'float32', data: Float32Array.from(xs.flat()) },
  y: { dims: [1], dtype: 'float32', data: Float32Array.from(ys) },
});

/** ŷ = sign(⟨w, x⟩), no bias, w starting at `w0`: deck 003's perceptron. */
const perceptron = (end: 'Sign' | 'Heaviside' | null) =>
  doc(
    [node('x', 'Input', { shape: [2] }), node('w', 'Linear', { outFeatures: 1, bias: false }), ...(end ? [node('decide', end, { atZero: 1 })] : [])],
    end
      ? [
          ['x', 'w'],
          ['w', 'decide'],
        ]
      : [['x', 'w']],
  );

async function fit(model: ReturnType<typeof doc>, data: Dataset, w0: number[], opts: { optimizer: 'perceptron' | 'sgd'; loss?: LossName; lr: number; epochs: number; batchSize: number }) {
  const weights: Weights = new Map([['w.weight', { shape: [1, w0.length], data: Float32Array.from(w0) }]]);
  const graph = buildTrainingGraph(model, { optimizer: optimizerConfig(opts.optimizer, { lr: opts.lr }), loss: opts.loss, weights });
  const engine = new NodeEngine();
  const events: TrainingEvent[] = [];
  const result = await train(engine, graph, { train: data }, { epochs: opts.epochs, batchSize: opts.batchSize, lr: opts.lr, shuffle: false }, (e) => events.push(e));
  await engine.dispose();
  return { w: [...result.weights.get('w.weight')!.data], events };
}

/** The deck's rule written out: w ← w + y·x·1[y ≠ sign₊(⟨w, x⟩)], sign₊(0) = +1. */
function rule(w0: number[], xs: number[][], ys: number[]): number[] {
  const w = w0.slice();
  xs.forEach((x, t) => {
    const score = x.reduce((s, xi, i) => s + xi * w[i], 0);
    if ((score >= 0 ? 1 : -1) !== ys[t]) x.forEach((xi, i) => (w[i] += ys[t] * xi));
  });
  return w;
}

describe("deck 003's perceptron", () => {
  test('a mistake moves w by y·x: observation (−1, 1), label −1, from w = (0, 0) gives (1, −1) (sign of 0 is +1)', async () => {
    const { w } = await fit(perceptron('Sign'), dataset([[-1, 1]], [-1]), [0, 0], { optimizer: 'perceptron', lr: 1, epochs: 1, batchSize: 1 });
    assert.deepEqual(w, [1, -1]);
  });

  test('a match leaves w alone: observation (−1, 1), label +1, w = (−1, 1) stays', async () => {
    const { w } = await fit(perceptron('Sign'), dataset([[-1, 1]], [1]), [-1, 1], { optimizer: 'perceptron', lr: 1, epochs: 1, batchSize: 1 });
    assert.deepEqual(w, [-1, 1]);
  });

  test('a longer trace, one sample per step, equals the rule written out, through a Heaviside end too', async () => {
    const xs = [
      [-1, 1],
      [-1, 1],
      [1, 1],
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 1],
    ];
    const ys = [-1, 1, 1, -1, 1, 1, -1];
    for (const end of ['Sign', 'Heaviside', null] as const) {
      const { w, events } = await fit(perceptron(end), dataset(xs, ys), [0, 0], { optimizer: 'perceptron', lr: 1, epochs: 1, batchSize: 1 });
      assert.deepEqual(w, rule([0, 0], xs, ys), `ending in ${end}`);
      const epoch = events.find((e) => e.event === 'epoch') as Extract<TrainingEvent, { event: 'epoch' }>;
      assert.notEqual(epoch.accuracy, null, 'accuracy (1 − zero-one loss) is reported');
    }
  });
});

test("deck 003's 1-D regression (x 10, 2, 3.5, 1; y 10.1, 1.9, 3.4, 1.1) trains to the least-squares w = Σxy/Σx²", async () => {
  const x = [10, 2, 3.5, 1];
  const y = [10.1, 1.9, 3.4, 1.1];
  const leastSquares = x.reduce((s, xi, i) => s + xi * y[i], 0) / x.reduce((s, xi) => s + xi * xi, 0);
  const model = doc([node('x', 'Input', { shape: [1] }), node('w', 'Linear', { outFeatures: 1, bias: false })], [['x', 'w']]);
  const { w } = await fit(
    model,
    dataset(
      x.map((v) => [v]),
      y,
    ),
    [0],
    { optimizer: 'sgd', loss: 'mse', lr: 0.01, epochs: 60, batchSize: 4 },
  );
  assert.ok(Math.abs(w[0] - leastSquares) < 1e-5, `w = ${w[0]}, least squares ${leastSquares}`);
});

test('the binary hinge loss max(0, 1 − y·ŷ) separates ±1 labels; accuracy is 1 − the zero-one loss', async () => {
  const xs = [
    [2, 1],
    [1, 3],
    [3, 2],
    [-1, -2],
    [-2, -1],
    [-3, -1],
  ];
  const ys = [1, 1, 1, -1, -1, -1];
  const { w, events } = await fit(perceptron('Sign'), dataset(xs, ys), [-1, 0.5], { optimizer: 'sgd', loss: 'binary-hinge', lr: 0.1, epochs: 30, batchSize: 6 });
  const scores = xs.map((x) => x[0] * w[0] + x[1] * w[1]);
  const prediction = { dtype: 'float32' as const, dims: [6, 1], data: Float32Array.from(scores) };
  assert.equal(zeroOneLoss(signHits, prediction, { dtype: 'float32', dims: [6, 1], data: Float32Array.from(ys) }), 0);
  const last = events.filter((e) => e.event === 'epoch').pop() as Extract<TrainingEvent, { event: 'epoch' }>;
  assert.equal(last.accuracy, 1);
  assert.ok(last.loss < 0.5, `hinge loss ${last.loss}`);
});
