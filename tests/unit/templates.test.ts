/** Every built-in template loads, has no errors, and has PyTorch's parameter count. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { inferShapes, parseModel } from '../../core/index.ts';

const dir = new URL('../../assets/templates/', import.meta.url);
const torch = JSON.parse(readFileSync(new URL('../fixtures/templates.json', import.meta.url), 'utf8')).paramCounts as Record<string, number>;

// The figures the course and the issue give; PyTorch's counts (the fixture) must agree with them.
const STATED: Record<string, number> = {
  perceptron: 2,
  'conv-example': 760,
  'ca2-cnn': 661_591,
  lenet5: 61_706,
  alexnet: 61_100_840,
  vgg16: 138_357_544,
  resnet18: 11_689_512,
  gpt1: 116_534_784,
  'bert-base': 109_482_240,
  'attention-from-scratch': 3 * 64 * 64,
  'alexnet-2012': 60_965_224,
  googlenet: 6_624_904,
  'transformer-base': 63_084_544,
  'llama2-7b': 6_738_415_616,
  'mistral-7b': 7_241_732_096,
  'mixtral-8x7b': 46_702_792_704,
};

const ids = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5));

test('the required templates exist', () => {
  for (const id of [...Object.keys(STATED), 'mlp-3-4-2', 'char-lstm', 'autoencoder', 'llama-block']) assert.ok(ids.includes(id), id);
});

for (const id of ids) {
  test(`template ${id}`, () => {
    const r = parseModel(readFileSync(new URL(`${id}.json`, dir), 'utf8'));
    assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
    assert.match(id, /^[a-z0-9]+(-[a-z0-9]+)*$/, 'kebab-case id');
    const inference = inferShapes(r.doc);
    assert.deepEqual(
      inference.diagnostics().filter((d) => d.severity === 'error'),
      [],
    );
    const { totalParams } = inference.getTotals();
    assert.equal(totalParams, torch[id], 'equals PyTorch');
    if (id in STATED) assert.equal(totalParams, STATED[id], 'equals the stated figure');
  });
}

test('ResNet-18 shapes: 224 → 112 → 56 → 28 → 14 → 7 → 1000 classes', () => {
  const r = parseModel(readFileSync(new URL('resnet18.json', dir), 'utf8'));
  assert.ok(r.ok);
  const inference = inferShapes(r.doc);
  const shapes = inference.nodes().map((n) => n.outputs![0].shape.join('×'));
  for (const s of ['N×64×112×112', 'N×64×56×56', 'N×128×28×28', 'N×256×14×14', 'N×512×7×7', 'N×512×1×1', 'N×1000']) assert.ok(shapes.includes(s), s);
});
