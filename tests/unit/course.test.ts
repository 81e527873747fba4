/** The course's worked numbers, and the formula text shown for them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeParam } from '../../core/index.ts';
import { chain } from './helpers.ts';

test('conv example: 32×32×3, ten 5×5 filters, stride 1, pad 2 → 32×32×10 and 760 parameters', () => {
  const inference = chain([3, 32, 32], ['Conv2d', { outChannels: 10, kernelSize: 5, stride: 1, padding: 2 }]);
  const r = inference.node('l1')!;
  const formulas = inference.formulas('l1');
  assert.deepEqual(r.outputs![0].shape, ['N', 10, 32, 32]);
  assert.equal(r.paramCount, 760);
  assert.ok(formulas.includes('W2 = (W1 − F + 2P)/S + 1 = (32 − 5 + 4)/1 + 1 = 32'), formulas.join('\n'));
  // "each filter has 5*5*3 + 1 = 76 params => 76*10 = 760"
  assert.deepEqual(
    r.params.map((p) => p.count),
    [750, 10],
  );
  assert.equal(describeParam(r.params[0]), 'K·(C/groups)·F·F = 10·3·5·5 = 750');
});

test('a 3×3 filter with stride 3 on 7×7 warns: (7 − 3)/3 + 1 = 2.33 floors to 2', () => {
  const inference = chain([1, 7, 7], ['Conv2d', { outChannels: 1, kernelSize: 3, stride: 3 }]);
  assert.deepEqual(inference.node('l1')!.outputs![0].shape, ['N', 1, 2, 2]);
  const [warning, ...rest] = inference.diagnostics();
  assert.equal(rest.length, 0, 'H and W give one warning');
  assert.equal(warning.severity, 'warning');
  assert.equal(warning.nodeId, 'l1');
  assert.match(warning.message, /\(7 − 3\)\/3 \+ 1 = 2\.33/);
  assert.match(warning.message, /floors to 2/);
});

test('stride 2 on 7×7 with a 3×3 filter fits: (7 − 3)/2 + 1 = 3, no warning', () => {
  const inference = chain([1, 7, 7], ['Conv2d', { outChannels: 1, kernelSize: 3, stride: 2 }]);
  assert.deepEqual(inference.node('l1')!.outputs![0].shape, ['N', 1, 3, 3]);
  assert.deepEqual(inference.diagnostics(), []);
});

test('pooling introduces zero parameters: 2×2 stride 2 halves 224×224×64', () => {
  const r = chain([64, 224, 224], ['MaxPool2d', { kernelSize: 2, stride: 2 }]).node('l1')!;
  assert.deepEqual(r.outputs![0].shape, ['N', 64, 112, 112]);
  assert.equal(r.paramCount, 0);
});

test('2-layer network f = W2 max(0, W1 x) on CIFAR rows: 3072 → 100 → 10', () => {
  const inference = chain([3072], ['Linear', { outFeatures: 100 }], ['ReLU'], ['Linear', { outFeatures: 10 }]);
  assert.equal(inference.getTotals().totalParams, 3072 * 100 + 100 + 100 * 10 + 10);
});

test('learned positions hold T × d parameters', () => {
  const r = chain([512, 768], ['PositionalEncoding', { kind: 'learned', maxLen: 512 }]).node('l1')!;
  assert.equal(r.paramCount, 512 * 768);
});

test("LayerNorm's γ and β name what they count: D = 768, and D₁·D₂ = 4·8 = 32 over two dimensions", () => {
  const one = chain([10, 768], ['LayerNorm', {}]).node('l1')!;
  assert.deepEqual(one.params.map(describeParam), ['D = 768', 'D = 768']);
  const two = chain([3, 4, 8], ['LayerNorm', { normalizedShape: [4, 8] }]).node('l1')!;
  assert.deepEqual(two.params.map(describeParam), ['D₁·D₂ = 4·8 = 32', 'D₁·D₂ = 4·8 = 32']);
});
