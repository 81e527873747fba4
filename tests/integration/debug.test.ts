/**
 * The debugger against the course's worked examples, through `netloom step` and through core/debug:
 * deck 001's f = (x + y)·z and softmax, decks 001/002's ReLU, deck 002's backprop with matrices
 * (expected numbers from numpy, scripts/fixtures/make_debug_fixtures.py), deck 004's max-pool routing,
 * fan-out sums, the SGD update, and the per-layer gradient check on the templates that fit in a test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { ModelDocument } from '../../core/index.ts';
import type { Tensor } from '../../core/engine/engine.ts';
import { checkGradients } from '../../core/debug/gradcheck.ts';
import { Debugger } from '../../core/debug/trace.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { checkDocument, withSequence } from '../../scripts/check-gradients.ts';
import { templateDocument } from '../../scripts/check-pytorch.ts';
import { loadFixture } from './fixtures.ts';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'netloom-step-'));
const modelFile = (name: string, doc: ModelDocument) => {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(doc));
  return path;
};
const doc = (name: string, nodes: ModelDocument['nodes'], edges: [string, string][]): ModelDocument => ({
  format: 'netloom.model',
  version: 1,
  name,
  nodes,
  edges: edges.map(([from, to]) => ({ from, to })),
});
const input = (id: string, shape: (number | string)[], dtype = 'float32') => ({ id, op: 'Input', params: { shape, dtype } });
const layer = (id: string, op: string, params = {}) => ({ id, op, params });
const floats = (dims: number[], data: number[]): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });
const close = (actual: ArrayLike<number>, expected: number[], what: string, tol = 1e-5) => {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => assert.ok(Math.abs(Number(actual[i]) - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: ${actual[i]} vs ${e}`));
};

/** `netloom step --json`: its lines as objects, by phase and layer. */
function stepJson(...args: string[]) {
  const r = netloom('step', ...args, '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const find = (phase: string, id?: string) => lines.find((l) => l.phase === phase && (id === undefined || l.layer === id));
  return { lines, find };
}

const fxyz = doc(
  'f = (x + y)·z',
  [input('x', []), input('y', []), input('z', []), layer('q', 'Add'), layer('f', 'Mul')],
  [
    ['x', 'q'],
    ['y', 'q'],
    ['q', 'f'],
    ['z', 'f'],
  ],
);

describe('netloom step: deck 001, f(x, y, z) = (x + y)·z at −2, 5, −4', () => {
  const file = modelFile('fxyz', fxyz);
  const inputs = ['--input', 'x=-2', '--input', 'y=5', '--input', 'z=-4'];

  test('the text trace writes each formula with its numbers, then the gradients', () => {
    const r = netloom('step', file, ...inputs);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /q \(Add\): q = x \+ y = −2 \+ 5 = 3\n/);
    assert.match(r.stdout, /f \(Mul\): f = q · z = 3 · −4 = −12\n/);
    assert.match(r.stdout, /upstream {3}∂L\/∂f = 1\n/);
    assert.match(r.stdout, /local {6}Mul swaps/);
    assert.match(r.stdout, /local {6}Add distributes/);
    assert.match(r.stdout, /downstream ∂L\/∂z = 3\n/);
    assert.ok(r.stdout.indexOf('Forward') < r.stdout.indexOf('Backward'), 'forward first, then backward');
  });

  test('--json gives q = 3, f = −12, ∂f/∂z = 3, ∂f/∂q = −4, ∂f/∂x = ∂f/∂y = −4', () => {
    const { lines, find } = stepJson(file, ...inputs);
    assert.deepEqual(
      lines.map((l) => `${l.phase} ${l.layer ?? ''}`.trim()),
      ['forward x', 'forward y', 'forward q', 'forward z', 'forward f', 'loss', 'backward f', 'backward z', 'backward q', 'backward y', 'backward x'],
    );
    assert.deepEqual(find('forward', 'q').outputs[0].data, [3]);
    assert.deepEqual(find('forward', 'f').outputs[0].data, [-12]);
    assert.deepEqual(find('backward', 'f').upstream[0].data, [1]);
    assert.deepEqual(Object.fromEntries(find('backward', 'f').downstream.map((d: { input: string; data: number[] }) => [d.input, d.data])), { q: [-4], z: [3] });
    assert.deepEqual(Object.fromEntries(find('backward', 'q').downstream.map((d: { input: string; data: number[] }) => [d.input, d.data])), { x: [-4], y: [-4] });
    assert.deepEqual(find('backward', 'x').upstream[0].data, [-4]);
    assert.deepEqual(find('backward', 'y').upstream[0].data, [-4]);
  });

  test('bad input is one line naming what is wrong', () => {
    const r = netloom('step', file, '--input', 'x=-2', '--input', 'y=5');
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'netloom: step needs --input for "z"');
    const wrong = netloom('step', file, ...inputs.slice(0, 4), '--input', 'z=[1,2,3]', '--grad-output', 'f=[1]');
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /^netloom: the inputs' batch sizes differ: x has 1, z has 3\n$/);
    const unknown = netloom('step', file, ...inputs, '--input', 'w=1');
    assert.match(unknown.stderr, /no input "w"; its inputs: x, y, z/);
  });
});

test('decks 001/002: ReLU on [1, −2, 3, −1] with upstream [4, −1, 5, 9] gives z = [1, 0, 3, 0], ∂L/∂x = [4, 0, 5, 0]', () => {
  const file = modelFile('relu', doc('ReLU', [input('x', [4]), layer('z', 'ReLU')], [['x', 'z']]));
  const { find } = stepJson(file, '--input', 'x=[1,-2,3,-1]', '--grad-output', 'z=[4,-1,5,9]');
  assert.deepEqual(find('forward', 'z').outputs[0].data, [1, 0, 3, 0]);
  assert.equal(find('forward', 'z').formula, 'z = max(0, x) = max(0, [1, −2, 3, −1]) = [1, 0, 3, 0]');
  assert.deepEqual(find('backward', 'z').upstream[0].data, [4, -1, 5, 9]);
  assert.deepEqual(find('backward', 'z').downstream[0].data, [4, 0, 5, 0]);
  assert.match(find('backward', 'z').rule[0], /ReLU's mask/);
});

test('deck 001: softmax of the scores 3.2, 5.1, −1.7 is 0.13, 0.87, 0.00 and the cross-entropy of class 0 is 2.04', () => {
  const expected = loadFixture<{ softmax: { probabilities: number[]; loss: number; dscores: number[] } }>('debug-course.json').softmax;
  const file = modelFile(
    'softmax',
    doc(
      'softmax',
      [input('scores', [3]), input('label', [], 'int64'), layer('p', 'Softmax'), layer('loss', 'CrossEntropyLoss')],
      [
        ['scores', 'p'],
        ['scores', 'loss:input'],
        ['label', 'loss:target'],
      ],
    ),
  );
  const { find } = stepJson(file, '--input', 'scores=[3.2,5.1,-1.7]', '--input', 'label=0');
  const p = find('forward', 'p').outputs[0].data as number[];
  assert.deepEqual(
    p.map((v) => v.toFixed(2)),
    ['0.13', '0.87', '0.00'],
  );
  close(p, expected.probabilities, 'softmax');
  assert.equal(find('loss').loss.toFixed(2), '2.04');
  close([find('loss').loss], [expected.loss], 'loss');
  // ∂L/∂scores = softmax − one-hot, sent back by the loss.
  close(find('backward', 'loss').downstream.find((d: { input: string }) => d.input === 'scores').data, expected.dscores, '∂L/∂scores');
});

test('netloom step --template with a loss, --update and --check: the update and one check line per layer', () => {
  const { lines, find } = stepJson('--template', 'mlp-3-4-2', '--input', 'x=[1,2,3,-1,0,1]', '--loss', 'mse', '--target', '[0.5,-0.5,1,0]', '--update', '--lr', '0.5', '--check');
  assert.deepEqual(find('forward', 'x').outputs[0].dims, [2, 3], 'the batch comes from the count');
  const update = find('update');
  assert.equal(update.lr, 0.5);
  assert.equal(update.lossBefore, find('loss').loss);
  for (const p of update.params)
    close(
      p.after.data,
      p.before.data.map((w: number, i: number) => w - 0.5 * p.gradient.data[i]),
      p.key,
    );
  const checks = lines.filter((l) => l.phase === 'check');
  assert.deepEqual(
    checks.map((c) => c.layer),
    ['loss', 'linear2', 'sigmoid1', 'linear1'],
  );
  for (const c of checks) assert.ok(c.pass && c.checked > 0 && c.dtype === 'float64', JSON.stringify(c));
});

test('a symbolic sequence length is set from the values given (one sample)', () => {
  const file = modelFile('sequence', doc('sequence', [input('x', ['T', 2]), layer('fc', 'Linear', { outFeatures: 3 })], [['x', 'fc']]));
  const { find } = stepJson(file, '--input', 'x=[[1,2],[3,4],[5,6]]');
  assert.deepEqual(find('forward', 'x').outputs[0].dims, [1, 3, 2]);
  assert.deepEqual(find('backward', 'fc').params.find((p: { name: string }) => p.name === 'fc.weight').dims, [3, 2]);
});

describe('core/debug', () => {
  const engine = new NodeEngine();
  after(() => engine.dispose());

  test('deck 002: backprop with matrices, y = x·w: ∂L/∂x = ∂L/∂y·wᵀ and ∂L/∂w = xᵀ·∂L/∂y (numbers from numpy)', async () => {
    const m = loadFixture<{ matrices: Record<'x' | 'w' | 'dy' | 'y' | 'dx' | 'dw', number[][]> }>('debug-course.json').matrices;
    // A Linear without bias holds Wᵀ (it computes x·Wᵀ), so its weight is w transposed, 4×3.
    const wT = m.w[0].map((_, j) => m.w.map((row) => row[j]));
    const model = doc('matrices', [input('x', [3]), layer('y', 'Linear', { outFeatures: 4, bias: false })], [['x', 'y']]);
    const debug = await Debugger.open(engine, model, { weights: new Map([['y.weight', { shape: [4, 3], data: Float32Array.from(wT.flat()) }]]) });
    const run = await debug.run({ inputs: { x: floats([2, 3], m.x.flat()) }, upstream: floats([2, 4], m.dy.flat()) });
    const y = run.trace.forward.find((s) => s.layer === 'y')!;
    close(y.outputs[0].value.data as Float32Array, m.y.flat(), 'y');
    const back = run.trace.backward.find((s) => s.layer === 'y')!;
    close(back.downstream[0].value.data as Float32Array, m.dx.flat(), '∂L/∂x');
    // The layer's ∂L/∂W is (xᵀ·∂L/∂y)ᵀ, in the layer's 4×3 layout.
    const dW = back.params.find((p) => p.name === 'y.weight')!;
    assert.deepEqual(dW.value.dims, [4, 3]);
    close(dW.value.data as Float32Array, m.dw[0].map((_, j) => m.dw.map((row) => row[j])).flat(), '∂L/∂W');
    assert.ok(
      back.rule.some((r) => r.includes('∂L/∂x = ∂L/∂y·W')),
      back.rule.join('; '),
    );
    await debug.release();
  });

  test('deck 004: max-pool backward routes each upstream gradient to the position that held the maximum', async () => {
    const model = doc('pool', [input('x', [1, 4, 4]), layer('pool', 'MaxPool2d', { kernelSize: 2, stride: 2 })], [['x', 'pool']]);
    const x = [1, 5, 2, 0, 3, 4, 8, 1, 0, 2, 6, 7, 9, 1, 3, 2];
    const debug = await Debugger.open(engine, model);
    const run = await debug.run({ inputs: { x: floats([1, 1, 4, 4], x) }, upstream: floats([1, 1, 2, 2], [10, 20, 30, 40]) });
    close(run.trace.forward.find((s) => s.layer === 'pool')!.outputs[0].value.data as Float32Array, [5, 8, 9, 7], 'pooled');
    const back = run.trace.backward.find((s) => s.layer === 'pool')!;
    close(back.downstream[0].value.data as Float32Array, [0, 10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 40, 30, 0, 0, 0], '∂L/∂x');
    assert.match(back.rule[0], /Max routes/);
    await debug.release();
  });

  test('where a value fans out, each reader sends its share and the total is their sum', async () => {
    const model = doc(
      'fan-out',
      [input('x', [3]), layer('r', 'ReLU'), layer('s', 'Sigmoid'), layer('out', 'Add')],
      [
        ['x', 'r'],
        ['x', 's'],
        ['r', 'out'],
        ['s', 'out'],
      ],
    );
    const debug = await Debugger.open(engine, model);
    const run = await debug.run({ inputs: { x: floats([1, 3], [-1, 0.5, 2]) }, upstream: floats([1, 3], [1, 2, 3]) });
    const share = (id: string) => run.trace.backward.find((s) => s.layer === id)!.downstream[0];
    const [r, s] = [share('r'), share('s')];
    assert.deepEqual([...r.fanOut!.readers].sort(), ['r', 's']);
    const sum = Array.from(r.value.data as Float32Array, (v, i) => v + Number(s.value.data[i]));
    close(r.fanOut!.total.data as Float32Array, sum, 'total ∂L/∂x');
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    close(sum, [0 + 1 * sig(-1) * (1 - sig(-1)), 2 + 2 * sig(0.5) * (1 - sig(0.5)), 3 + 3 * sig(2) * (1 - sig(2))], 'by hand');
    await debug.release();
  });

  test('the update step is W ← W − η∇W, with the loss before and after', async () => {
    const model = JSON.parse(readFileSync(new URL('../../assets/templates/mlp-3-4-2.json', import.meta.url), 'utf8')) as ModelDocument;
    const debug = await Debugger.open(engine, model, { loss: 'mse', lr: 0.5 });
    const run = await debug.run({ inputs: { x: floats([2, 3], [1, 2, 3, -1, 0, 1]) }, target: floats([2, 2], [0.5, -0.5, 1, 0]) });
    const update = await run.update();
    assert.deepEqual(update.params.map((p) => p.key).sort(), ['linear1.bias', 'linear1.weight', 'linear2.bias', 'linear2.weight']);
    for (const p of update.params)
      close(
        p.after.data as Float32Array,
        Array.from(p.before.data as Float32Array, (w, i) => w - 0.5 * Number(p.gradient.data[i])),
        p.key,
      );
    assert.equal(update.lossBefore, run.trace.loss);
    assert.ok(update.lossAfter < update.lossBefore, `one step downhill: ${update.lossBefore} → ${update.lossAfter}`);
    await debug.release();
  });

  test('composite layers expand to their ONNX nodes, with values and gradients', async () => {
    const model = doc(
      'linear',
      [input('x', [3]), layer('fc', 'Linear', { outFeatures: 2 }), layer('act', 'Tanh')],
      [
        ['x', 'fc'],
        ['fc', 'act'],
      ],
    );
    const debug = await Debugger.open(engine, model);
    const run = await debug.run({ inputs: { x: floats([1, 3], [1, 2, 3]) } });
    const nodes = run.expand('fc');
    assert.ok(nodes.length >= 1 && nodes.every((n) => n.outputs.length > 0 && n.gradients.length > 0), JSON.stringify(nodes.map((n) => n.op)));
    assert.deepEqual(nodes[nodes.length - 1].outputs[0].value.data, run.trace.forward.find((s) => s.layer === 'fc')!.outputs[0].value.data);
    await debug.release();
  });
});

describe('per-layer gradient check on the templates', () => {
  const engine = new NodeEngine();
  after(() => engine.dispose());

  test('active Dropout is checked with the mask the traced step drew', async () => {
    const model = doc(
      'dropout',
      [input('x', [6]), layer('fc', 'Linear', { outFeatures: 5 }), layer('drop', 'Dropout', { p: 0.4 }), layer('out', 'Tanh')],
      [
        ['x', 'fc'],
        ['fc', 'drop'],
        ['drop', 'out'],
      ],
    );
    const debug = await Debugger.open(engine, model);
    const run = await debug.run({
      inputs: {
        x: floats(
          [2, 6],
          Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)),
        ),
      },
      upstream: floats(
        [2, 5],
        Array.from({ length: 10 }, (_, i) => Math.cos(i)),
      ),
    });
    const checks = await checkGradients(engine, run);
    const drop = checks.find((c) => c.layer === 'drop')!;
    assert.ok(drop.pass && drop.checked > 0 && drop.dtype === 'float64', JSON.stringify(drop));
    for (const c of checks) assert.ok(c.pass, JSON.stringify(c));
    await debug.release();
  });

  test('a wrong gradient fails the check', async () => {
    const model = doc(
      'mlp',
      [input('x', [3]), layer('fc', 'Linear', { outFeatures: 2 }), layer('act', 'Tanh')],
      [
        ['x', 'fc'],
        ['fc', 'act'],
      ],
    );
    const debug = await Debugger.open(engine, model);
    const run = await debug.run({ inputs: { x: floats([1, 3], [1, -2, 0.5]) }, upstream: floats([1, 2], [1, -1]) });
    const weight = run.trace.backward.find((s) => s.layer === 'fc')!.params.find((p) => p.name === 'fc.weight')!;
    (weight.value.data as Float32Array)[0] *= 1.1;
    const [act, fc] = await checkGradients(engine, run);
    assert.ok(act.pass && !fc.pass && fc.maxRelativeError > 0.05, `${act.maxRelativeError} ${fc.maxRelativeError}`);
    await debug.release();
  });

  test('a tie shared by overlapping max-pool windows is counted, not judged; distinct values are all judged', async () => {
    // 3×3 windows at stride 2 over 5×5 zeros (ReLU's zeros in AlexNet-2012): every value ties, and a
    // value in two windows has one-sided slopes 0 and g₁ + g₂, while the rule's tie-break routes g₁.
    const model = doc('pool', [input('x', [1, 5, 5]), layer('pool', 'MaxPool2d', { kernelSize: 3, stride: 2 })], [['x', 'pool']]);
    const debug = await Debugger.open(engine, model);
    const upstream = floats([1, 1, 2, 2], [1, -2, 3, -4]);
    const tied = await checkGradients(engine, await debug.run({ inputs: { x: floats([1, 1, 5, 5], new Array(25).fill(0)) }, upstream }));
    assert.ok(tied[0].pass && /not judged/.test(tied[0].note ?? ''), JSON.stringify(tied[0]));
    // Distinct values: no ties, every probe judged.
    const distinct = await checkGradients(
      engine,
      await debug.run({
        inputs: {
          x: floats(
            [1, 1, 5, 5],
            Array.from({ length: 25 }, (_, i) => Math.sin(3 * i + 1)),
          ),
        },
        upstream,
      }),
    );
    assert.ok(distinct[0].pass && distinct[0].checked > 0 && !/not judged/.test(distinct[0].note ?? ''), JSON.stringify(distinct[0]));
    await debug.release();
  });

  // The templates that check in seconds, as npm run check:gradients checks them (sequences of 5, batch 2).
  for (const id of ['mlp-3-4-2', 'autoencoder', 'lenet5', 'conv-example', 'ca2-cnn', 'char-lstm', 'llama-block', 'attention-from-scratch', 'char-gpt', 'image-captioning']) {
    test(id, async () => {
      const checks = await checkDocument(engine, withSequence(templateDocument(id), 5), 2);
      assert.ok(checks.length > 0);
      for (const c of checks) assert.ok(c.pass && (c.checked > 0 || c.note), `${c.layer} (${c.op}): ${c.maxRelativeError} ${c.note ?? ''}`);
    });
  }
});

describe("netloom step: deck 003's perceptron trace, stepped with the perceptron rule from w = (0, 0)", () => {
  const file = modelFile(
    'perceptron',
    doc(
      'perceptron',
      [input('x', [2]), layer('w', 'Linear', { outFeatures: 1, bias: false }), layer('decide', 'Sign', { atZero: 1 })],
      [
        ['x', 'w'],
        ['w', 'decide'],
      ],
    ),
  );
  const step = (x: string, y: string, w: string) => stepJson(file, '--input', `x=${x}`, '--target', `[${y}]`, '--param', `w.weight=${w}`, '--update', '--optimizer', 'perceptron');

  test('x = (1, −1), y = −1: ŷ = sign₊(0) = +1, no match, w becomes (−1, 1)', () => {
    const { find } = step('[1,-1]', '-1', '[0,0]');
    assert.deepEqual(find('forward', 'w').outputs[0].data, [0]);
    assert.deepEqual(find('forward', 'decide').outputs[0].data, [1], 'the sign of 0 is +1');
    const update = find('update');
    assert.equal(update.optimizer, 'perceptron');
    assert.equal(update.lr, 1);
    assert.deepEqual(
      update.params.map((p: { key: string; before: { data: number[] }; after: { data: number[] } }) => [p.key, p.before.data, p.after.data]),
      [['w.weight', [0, 0], [-1, 1]]],
    );
  });

  test('then x = (−1, 1), y = +1 from w = (−1, 1): ŷ = +1, a match, w stays', () => {
    const { find } = step('[-1,1]', '1', '[-1,1]');
    assert.deepEqual(find('forward', 'w').outputs[0].data, [2]);
    assert.deepEqual(find('forward', 'decide').outputs[0].data, [1]);
    assert.equal(find('loss').loss, 0, 'no mistake, no loss');
    assert.deepEqual(find('update').params[0].after.data, [-1, 1]);
  });

  test('a --param that is not a parameter, or of the wrong size, is one line naming it', () => {
    const unknown = netloom('step', file, '--input', 'x=[1,-1]', '--target', '[-1]', '--param', 'v.weight=[0,0]', '--optimizer', 'perceptron');
    assert.equal(unknown.status, 2);
    assert.equal(unknown.stderr.trim(), 'netloom: --param: the model has no trainable parameter "v.weight"; its parameters: w.weight');
    const size = netloom('step', file, '--input', 'x=[1,-1]', '--target', '[-1]', '--param', 'w.weight=[0,0,0]', '--optimizer', 'perceptron');
    assert.equal(size.status, 2);
    assert.match(size.stderr, /^netloom: .*w\.weight.*\n$/);
  });
});
