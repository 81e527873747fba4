/**
 * `netloom train` on every kind of dataset: the built-in MNIST asset into LeNet-5 (32×32, no loss node)
 * with no edits, an image folder of PNG and JPEG files, and a CSV file with a named label column.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'netloom-data-'));
const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
const epochs = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.event === 'epoch');

test('netloom train --template lenet5 --dataset mnist works with no edits: padded to 32×32, cross-entropy attached', () => {
  const r = netloom('train', '--template', 'lenet5', '--dataset', 'mnist', '--epochs', '1', '--batch-size', '32', '--lr', '0.002', '-o', 'lenet5.onnx', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /the model has no loss node: training with cross-entropy for mnist's class labels/);
  assert.match(r.stderr, /mnist: zero-padded 28×28 to 32×32, centred\n/);
  const [epoch] = epochs(r.stdout);
  assert.ok(epoch.valAccuracy > 0.85, `validation accuracy after one epoch: ${epoch.valAccuracy}`);
});

test('an image folder of PNG and JPEG files trains, resized to the model input', () => {
  // Two classes of 10×10 images, a bright horizontal or vertical bar at a varying place.
  const folder = join(dir, 'bars');
  for (const [label, horizontal] of [
    ['horizontal', true],
    ['vertical', false],
  ] as const) {
    mkdirSync(join(folder, label), { recursive: true });
    for (let i = 0; i < 16; i++) {
      const bar = 2 + (i % 6);
      const grey = Uint8Array.from({ length: 100 }, (_, p) => ((horizontal ? Math.floor(p / 10) : p % 10) === bar ? 250 : 20 + ((p * 7 + i) % 30)));
      if (i % 2 === 0) writeFileSync(join(folder, label, `${i}.png`), encodePng({ width: 10, height: 10, data: grey, channels: 1, depth: 8 }));
      else
        writeFileSync(
          join(folder, label, `${i}.jpg`),
          encodeJpeg({ width: 10, height: 10, data: Buffer.from(Uint8Array.from({ length: 400 }, (_, p) => (p % 4 === 3 ? 255 : grey[p >> 2]))) }, 95).data,
        );
    }
  }
  const model = {
    format: 'netloom.model',
    version: 1,
    name: 'bars',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [1, 8, 8] } },
      { id: 'flat', op: 'Flatten', params: {} },
      { id: 'fc', op: 'Linear', params: { outFeatures: 2 } },
    ],
    edges: [
      { from: 'x', to: 'flat' },
      { from: 'flat', to: 'fc' },
    ],
  };
  writeFileSync(join(dir, 'bars.json'), JSON.stringify(model));
  const r = netloom('train', 'bars.json', '--data', 'bars', '--loss', 'cross-entropy', '--epochs', '30', '--batch-size', '8', '--lr', '0.05', '-o', 'bars-trained.json', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /bars: resized the images to 8×8/);
  assert.equal(epochs(r.stdout).at(-1).accuracy, 1, 'every training image classified');
});

test('a CSV file trains with its label column picked by name; a bad field is a one-line error', () => {
  const rows = Array.from({ length: 64 }, (_, i) => {
    const a = Math.sin(i * 1.7);
    const b = Math.cos(i * 2.3);
    return `${a.toFixed(3)},${a + b > 0 ? 'pos' : 'neg'},${b.toFixed(3)}`;
  });
  writeFileSync(join(dir, 'points.csv'), `a,kind,b\n${rows.join('\n')}\n`);
  const model = {
    format: 'netloom.model',
    version: 1,
    name: 'points',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [2] } },
      { id: 'fc', op: 'Linear', params: { outFeatures: 2 } },
    ],
    edges: [{ from: 'x', to: 'fc' }],
  };
  writeFileSync(join(dir, 'points.json'), JSON.stringify(model));
  const r = netloom(
    'train',
    'points.json',
    '--data',
    'points.csv',
    '--label',
    'kind',
    '--loss',
    'cross-entropy',
    '--epochs',
    '40',
    '--batch-size',
    '16',
    '--lr',
    '0.1',
    '-o',
    'points-trained.json',
    '--json',
  );
  assert.equal(r.status, 0, r.stderr);
  assert.ok(epochs(r.stdout).at(-1).accuracy >= 0.95);
  assert.match(r.stderr, /points\.csv: first row read as the column names; label column "kind"\n/);
  // The same rows without their header: the words are classes, not column names.
  writeFileSync(join(dir, 'bare.csv'), `${rows.join('\n')}\n`);
  const bare = netloom('train', 'points.json', '--data', 'bare.csv', '--label', '2', '--loss', 'cross-entropy', '--epochs', '1', '-o', 'bare-trained.json');
  assert.equal(bare.status, 0, bare.stderr);
  assert.match(bare.stderr, /bare\.csv: no header row: the first row is data; label column "column 2"\n/);
  writeFileSync(join(dir, 'bad.csv'), 'a,kind,b\n1,pos,2\n1,neg,oops\n');
  const bad = netloom('train', 'points.json', '--data', 'bad.csv', '--label', 'kind', '--loss', 'cross-entropy', '-o', 'x.json');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), 'netloom: bad.csv: line 3, column "b": "oops" is not a number');
});

test("deck 003's perceptron template learns two separable classes labelled 0/1 with the perceptron rule, read as −1/+1", () => {
  const csv = new URL('../fixtures/data/separable.csv', import.meta.url).pathname;
  const r = netloom('train', '--template', 'perceptron', '--data', csv, '--optimizer', 'perceptron', '--epochs', '10', '--batch-size', '1', '-o', 'perceptron.json', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /separable\.csv: labels 0\/1 mapped to −1\/\+1 for the perceptron loss/);
  const last = epochs(r.stdout).at(-1);
  assert.deepEqual([last.accuracy, last.loss], [1, 0], 'every point on its side: no mistakes, so no perceptron loss');
});

test('with a built-in dataset, the perceptron optimiser trains on its own loss, not the cross-entropy attached for class labels', () => {
  const r = netloom('train', '--template', 'perceptron', '--dataset', 'xor', '--optimizer', 'perceptron', '--epochs', '1', '-o', 'perceptron-xor.json', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /cross-entropy/);
  assert.match(r.stderr, /xor: labels 0\/1 mapped to −1\/\+1 for the perceptron loss/);
});
