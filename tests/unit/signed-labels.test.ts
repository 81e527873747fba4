/**
 * Labels for the ±1 losses (deck 003's perceptron criterion, the binary hinge loss): fitData reads two
 * classes numbered 0/1 as −1/+1 and says so, leaves −1/+1 alone, and refuses anything else by name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCsv } from '../../core/data/csv.ts';
import { DatasetError } from '../../core/data/dataset.ts';
import { fitData } from '../../core/train/fit.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, type LossName } from '../../core/train/step.ts';
import { doc, node } from './helpers.ts';

/** Deck 003's perceptron: two inputs, one weight each, no bias, the sign as the decision. */
const perceptron = doc(
  [node('x', 'Input', { shape: [2] }), node('w', 'Linear', { outFeatures: 1, bias: false }), node('decide', 'Sign', { atZero: 1 })],
  [
    ['x', 'w'],
    ['w', 'decide'],
  ],
);
const graph = (loss: LossName) => buildTrainingGraph(perceptron, { optimizer: optimizerConfig('perceptron'), loss, seed: 0 });
const csv = (labels: string[]) => parseCsv('points.csv', `a,b,label\n${labels.map((l, i) => `${i},${-i},${l}`).join('\n')}\n`).dataset;

test('labels 0/1 become −1/+1, one per sample as the loss target, for the perceptron and the binary hinge loss', () => {
  for (const [loss, words] of [
    ['perceptron', 'perceptron loss'],
    ['binary-hinge', 'binary hinge loss'],
  ] as const) {
    const { data, adapted } = fitData({ train: csv(['0', '1', '1', '0']), val: csv(['1', '0']) }, graph(loss));
    assert.deepEqual(data.train.y, { dims: [1], dtype: 'float32', data: Float32Array.from([-1, 1, 1, -1]) });
    assert.deepEqual([...(data.val!.y.data as Float32Array)], [1, -1]);
    assert.deepEqual(adapted, [`labels 0/1 mapped to −1/+1 for the ${words}`]);
  }
});

test('labels already −1/+1 pass unchanged, whether read as numbers or as integers', () => {
  const signed = csv(['-1', '1', '1']);
  assert.equal(signed.y.dtype, 'float32', 'a CSV label column with −1 holds values, not class indices');
  const { data, adapted } = fitData({ train: signed }, graph('perceptron'));
  assert.equal(data.train.y, signed.y);
  assert.deepEqual(adapted, []);
  const integers = { ...signed, y: { dims: [], dtype: 'int64' as const, data: BigInt64Array.from([-1n, 1n, 1n]) } };
  assert.deepEqual(fitData({ train: integers }, graph('perceptron')).data.train.y, { dims: [1], dtype: 'float32', data: Float32Array.from([-1, 1, 1]) });
});

test('other labels are a clear error naming the file, the sample and the value', () => {
  assert.throws(
    () => fitData({ train: csv(['0', '1', '2']) }, graph('perceptron')),
    (e: Error) => e instanceof DatasetError && e.message === 'points.csv: the perceptron loss wants labels −1/+1 (or 0/1, read as −1/+1): sample 3 has 2',
  );
  assert.throws(() => fitData({ train: csv(['0.5', '1']) }, graph('binary-hinge')), /points\.csv: the binary hinge loss wants labels −1\/\+1 \(or 0\/1, read as −1\/\+1\): sample 1 has 0\.5/);
  assert.throws(() => fitData({ train: csv(['0', '-1', '1']) }, graph('perceptron')), /points\.csv: the perceptron loss wants labels −1\/\+1 \(or 0\/1, read as −1\/\+1\) \(it has both 0 and −1\)/);
});

test('class indices for cross-entropy are left as they are', () => {
  const model = doc([node('x', 'Input', { shape: [2] }), node('fc', 'Linear', { outFeatures: 2 })], [['x', 'fc']]);
  const train = csv(['0', '1', '1']);
  const { data, adapted } = fitData({ train }, buildTrainingGraph(model, { optimizer: optimizerConfig('sgd'), loss: 'cross-entropy', seed: 0 }));
  assert.equal(data.train.y, train.y);
  assert.deepEqual(adapted, []);
});
