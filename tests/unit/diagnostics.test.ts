/** Invalid models: every problem becomes a diagnostic on the right node, with the arithmetic. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferShapes } from '../../core/index.ts';
import { chain, doc, node } from './helpers.ts';

const errorsOf = (inference: ReturnType<typeof inferShapes>) => inference.diagnostics().filter((d) => d.severity === 'error');

test('an output size of zero or less is an error showing the formula', () => {
  const inference = chain([1, 4, 4], ['Conv2d', { outChannels: 2, kernelSize: 7 }]);
  const [e] = errorsOf(inference);
  assert.equal(e.nodeId, 'l1');
  assert.match(e.message, /output H would be -2/);
  assert.equal(e.formula, 'H2 = (H1 − F + 2P)/S + 1 = (4 − 7)/1 + 1 = -2');
  assert.ok(e.suggestion);
});

test('downstream of an error stays quiet: the root cause is reported once', () => {
  const inference = chain([1, 4, 4], ['Conv2d', { outChannels: 2, kernelSize: 7 }], ['ReLU'], ['Flatten']);
  assert.equal(errorsOf(inference).length, 1);
  assert.equal(inference.node('l3')!.outputs, null);
});

test('mismatched Add shapes are an error naming both', () => {
  const m = doc(
    [node('a', 'Input', { shape: [4, 8] }), node('b', 'Input', { shape: [4, 9] }), node('sum', 'Add')],
    [
      ['a', 'sum'],
      ['b', 'sum'],
    ],
  );
  const [e] = errorsOf(inferShapes(m));
  assert.equal(e.nodeId, 'sum');
  assert.match(e.message, /N×4×8 vs N×4×9/);
});

test('mismatched Concat shapes are an error', () => {
  const m = doc(
    [node('a', 'Input', { shape: [3, 8, 8] }), node('b', 'Input', { shape: [3, 9, 8] }), node('cat', 'Concat')],
    [
      ['a', 'cat'],
      ['b', 'cat'],
    ],
  );
  const [e] = errorsOf(inferShapes(m));
  assert.equal(e.nodeId, 'cat');
  assert.match(e.message, /do not match outside dim 1/);
});

test('a wrong input rank is an error with a suggestion', () => {
  const [e] = errorsOf(chain([1, 28, 28], ['Conv1d', { outChannels: 4, kernelSize: 3 }]));
  assert.match(e.message, /expects a 3-D input \(N×C×L\), got 4-D N×1×28×28/);
  assert.match(e.suggestion!, /Flatten or Reshape/);
});

test('cycles are reported on each node of the cycle', () => {
  const m = doc(
    [node('x', 'Input', { shape: [4] }), node('a', 'Add'), node('b', 'ReLU'), node('c', 'ReLU')],
    [
      ['x', 'a'],
      ['c', 'a'],
      ['a', 'b'],
      ['b', 'c'],
    ],
  );
  const errors = errorsOf(inferShapes(m));
  assert.deepEqual(errors.map((e) => e.nodeId).sort(), ['a', 'b', 'c']);
  assert.match(errors[0].message, /cycle: .*→/);
});

test('a dangling edge names the missing node and suggests the closest id', () => {
  const m = doc(
    [node('x', 'Input', { shape: [4] }), node('fc', 'Linear', { outFeatures: 2 })],
    [
      ['x', 'fc'],
      ['fc', 'relu1'],
    ],
  );
  const [e] = errorsOf(inferShapes(m));
  assert.equal(e.nodeId, 'fc');
  assert.match(e.message, /dangling: there is no node "relu1"/);
});

test('a missing input is reported on the node', () => {
  const m = doc([node('fc', 'Linear', { outFeatures: 2 })], []);
  const [e] = errorsOf(inferShapes(m));
  assert.equal(e.nodeId, 'fc');
  assert.match(e.message, /input is not connected/);
});

test('a second edge into a single-input layer is wrong arity', () => {
  const m = doc(
    [node('a', 'Input', { shape: [4] }), node('b', 'Input', { shape: [4] }), node('r', 'ReLU')],
    [
      ['a', 'r'],
      ['b', 'r'],
    ],
  );
  const [e] = errorsOf(inferShapes(m));
  assert.equal(e.nodeId, 'r');
  assert.match(e.message, /wrong arity/);
});

test('Add with a single input is wrong arity', () => {
  const m = doc([node('a', 'Input', { shape: [4] }), node('s', 'Add')], [['a', 's']]);
  assert.match(errorsOf(inferShapes(m))[0].message, /at least two inputs, got 1/);
});

test('an unknown op suggests the closest layer', () => {
  const m = doc([node('a', 'Input', { shape: [4] }), node('c', 'Conv2D')], [['a', 'c']]);
  const [e] = errorsOf(inferShapes(m));
  assert.equal(e.nodeId, 'c');
  assert.match(e.message, /unknown op "Conv2D"/);
  assert.equal(e.suggestion, 'Did you mean "Conv2d"?');
});

test('unknown, missing and ill-typed parameters name the field', () => {
  const [unknown] = errorsOf(chain([4], ['Linear', { outFeatures: 2, outfeature: 3 }]));
  assert.equal(unknown.field, 'outfeature');
  assert.equal(unknown.suggestion, 'Did you mean "outFeatures"?');
  const [missing] = errorsOf(chain([4], ['Linear', {}]));
  assert.equal(missing.field, 'outFeatures');
  assert.match(missing.message, /Out features \(outFeatures\) is required/);
  const [typed] = errorsOf(chain([3, 8, 8], ['Conv2d', { outChannels: 2.5, kernelSize: 3 }]));
  assert.match(typed.message, /must be an integer, got 2.5/);
  const [range] = errorsOf(chain([4], ['Dropout', { p: 1.5 }]));
  assert.match(range.message, /at most 0.999/);
});

test('ports by name and index, and an unknown port', () => {
  const base = [node('x', 'Input', { shape: [5, 8] }), node('rnn', 'LSTM', { hiddenSize: 6 }), node('h', 'Identity')];
  const byName = inferShapes(
    doc(base, [
      ['x', 'rnn'],
      ['rnn:h', 'h'],
    ]),
  );
  assert.deepEqual(byName.node('h')!.outputs![0].shape, [1, 'N', 6]);
  const byIndex = inferShapes(
    doc(base, [
      ['x', 'rnn:0'],
      ['rnn:2', 'h'],
    ]),
  );
  assert.deepEqual(byIndex.node('h')!.outputs![0].shape, [1, 'N', 6]);
  const [e] = errorsOf(
    inferShapes(
      doc(base, [
        ['x', 'rnn'],
        ['rnn:hidden', 'h'],
      ]),
    ),
  );
  assert.match(e.message, /has no output "hidden" \(outputs: output, h, c\)/);
});

test('token ids must go through an Embedding', () => {
  const m = doc([node('t', 'Input', { shape: [10], dtype: 'int64' }), node('fc', 'Linear', { outFeatures: 3 })], [['t', 'fc']]);
  assert.match(errorsOf(inferShapes(m))[0].message, /expects a float tensor, got int64/);
});

test('weight tying checks shapes and counts the shared weight once', () => {
  const ok = doc(
    [node('t', 'Input', { shape: [6], dtype: 'int64' }), node('emb', 'Embedding', { numEmbeddings: 50, embeddingDim: 8 }), node('head', 'Linear', { outFeatures: 50, bias: false, tiedTo: 'emb' })],
    [
      ['t', 'emb'],
      ['emb', 'head'],
    ],
  );
  const inference = inferShapes(ok);
  assert.equal(inference.getTotals().totalParams, 400);
  assert.equal(inference.node('head')!.params[0].tiedTo, 'emb');
  ok.nodes[2].params.outFeatures = 49;
  const [e] = errorsOf(inferShapes(ok));
  assert.equal(e.field, 'tiedTo');
  assert.match(e.message, /its weight is 50×8 but this layer needs 49×8/);
});

test('symbolic sequence lengths flow through, and MACs that depend on them are unknown', () => {
  const r = chain(['T', 16], ['MultiheadAttention', { numHeads: 4, causal: true }], ['Linear', { outFeatures: 8 }]);
  assert.deepEqual(r.node('l2')!.outputs![0].shape, ['N', 'T', 8]);
  assert.equal(r.node('l1')!.macs, null);
  assert.deepEqual(r.diagnostics(), []);
  assert.ok(r.getTotals().macsIncomplete);
  const conv = chain([16, 'L'], ['Conv1d', { outChannels: 4, kernelSize: 3 }], ['Conv1d', { outChannels: 4, kernelSize: 3, stride: 2 }]);
  assert.deepEqual(conv.node('l1')!.outputs![0].shape, ['N', 4, '(L − 2)']);
  assert.deepEqual(conv.node('l2')!.outputs![0].shape, ['N', 4, '(⌊((L − 2) − 3)/2⌋ + 1)']);
});

test('frozen layers count as non-trainable', () => {
  const m = doc(
    [node('x', 'Input', { shape: [4] }), { ...node('fc', 'Linear', { outFeatures: 2 }), trainable: false }, node('out', 'Linear', { outFeatures: 1 })],
    [
      ['x', 'fc'],
      ['fc', 'out'],
    ],
  );
  const totals = inferShapes(m).getTotals();
  assert.equal(totals.totalParams, 13);
  assert.equal(totals.trainableParams, 3);
});
