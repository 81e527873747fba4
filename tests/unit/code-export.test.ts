/** The model as code: the generated model.py and ONNX text against committed golden files, and the export command. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeSafetensors } from '../../core/graph/weights.ts';
import { decodeModel, tensorValues } from '../../core/onnx/proto.ts';
import { toPyTorch } from '../../core/convert/pytorch.ts';
import { CompileError } from '../../core/convert/compile.ts';
import type { ModelDocument } from '../../core/index.ts';
import { goldenFiles } from '../../scripts/fixtures/make-code-fixtures.ts';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
const dir = mkdtempSync(join(tmpdir(), 'netloom-code-'));

for (const [name, text] of Object.entries(goldenFiles())) {
  test(`generated ${name} is the committed golden file (npm run fixtures:code regenerates it)`, () => {
    assert.equal(text, readFileSync(new URL(`../fixtures/code/${name}`, import.meta.url), 'utf8'));
  });
}

const doc = (nodes: ModelDocument['nodes'], edges: ModelDocument['edges']): ModelDocument => ({ format: 'netloom.model', version: 1, name: 'case', nodes, edges });

test('ids that are not Python names become identifiers, and the weights keep their Netloom names', () => {
  const code = toPyTorch(
    doc(
      [
        { id: 'x', op: 'Input', params: { shape: [4] } },
        { id: 'layer1.0/fc', op: 'Linear', params: { outFeatures: 4 } },
        { id: 'class', op: 'Linear', params: { outFeatures: 4, tiedTo: 'layer1.0/fc' } },
      ],
      [
        { from: 'x', to: 'layer1.0/fc' },
        { from: 'layer1.0/fc', to: 'class' },
      ],
    ),
  );
  assert.match(code, /self\.layer1_0_fc = nn\.Linear\(4, 4\)/);
  assert.match(code, /self\.class_ = nn\.Linear\(4, 4\)/);
  assert.match(code, /self\.class_\.weight = self\.layer1_0_fc\.weight {2}# tied/);
  assert.match(code, /'layer1_0_fc\.weight': 'layer1\.0\/fc\.weight'/);
  assert.match(code, /'class_\.weight': 'layer1\.0\/fc\.weight'/);
  assert.match(code, /OUTPUTS = \['class'\]/);
});

test('an imported ONNX op without a torch twin becomes a NotImplementedError naming the op', () => {
  const code = toPyTorch(
    doc(
      [
        { id: 'x', op: 'Input', params: { shape: [4] } },
        { id: 'h', op: 'OnnxOp', params: { opType: 'Hardmax', attributes: { axis: { type: 'int', value: 1 } }, outputTypes: [{ shape: ['N', 4], dtype: 'float32' }] } },
        { id: 't', op: 'OnnxOp', params: { opType: 'Transpose', attributes: { perm: { type: 'ints', value: [1, 0] } }, outputTypes: [{ shape: [4, 'N'], dtype: 'float32' }] } },
      ],
      [
        { from: 'x', to: 'h' },
        { from: 'h', to: 't' },
      ],
    ),
  );
  assert.match(code, /raise NotImplementedError\('h: the ONNX op Hardmax has no PyTorch translation in Netloom yet'\)/);
  assert.match(code, /t = h\.permute\(1, 0\)/);
});

test('a model with errors is refused with a CompileError', () => {
  assert.throws(
    () =>
      toPyTorch(
        doc(
          [
            { id: 'x', op: 'Input', params: { shape: [4] } },
            { id: 'c', op: 'Conv2d', params: { outChannels: 2, kernelSize: 3 } },
          ],
          [{ from: 'x', to: 'c' }],
        ),
      ),
    CompileError,
  );
});

test('export --format pytorch writes model.py and the very weights export --seed puts into the ONNX file', () => {
  let r = netloom('export', '--template', 'ca2-cnn', '--format', 'pytorch', '-o', 'ca2.py', '--seed', '3');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote ca2\.py and ca2\.safetensors/);
  assert.equal(readFileSync(join(dir, 'ca2.py'), 'utf8'), goldenFiles()['ca2-cnn.py']);
  r = netloom('export', '--template', 'ca2-cnn', '-o', 'ca2.onnx', '--seed', '3');
  assert.equal(r.status, 0, r.stderr);
  const { weights } = decodeSafetensors(readFileSync(join(dir, 'ca2.safetensors')));
  const initializers = decodeModel(readFileSync(join(dir, 'ca2.onnx'))).graph.initializer!.filter((t) => weights.has(t.name!));
  assert.deepEqual([...weights.keys()].sort(), ['conv1.bias', 'conv1.weight', 'conv2.bias', 'conv2.weight', 'linear1.bias', 'linear1.weight', 'linear2.bias', 'linear2.weight']);
  assert.equal(initializers.length, weights.size);
  for (const t of initializers) assert.deepEqual(weights.get(t.name!)!.data, tensorValues(t), t.name);
});

test('export --format onnx-text prints the forward graph, one layer, or its training-step nodes', () => {
  let r = netloom('export', '--template', 'mlp-3-4-2', '--format', 'onnx-text', '-o', '-');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, goldenFiles()['mlp-3-4-2.onnx.txt']);
  r = netloom('export', '--template', 'mlp-3-4-2', '--format', 'onnx-text', '--layer', 'linear2', '-o', '-');
  assert.match(r.stdout, /^# linear2 \(Linear\): 1 ONNX node\(s\)\nlinear2 \(float\[N, 4\] sigmoid1\) => \(float\[N, 2\] linear2\)/);
  r = netloom('export', '--template', 'mlp-3-4-2', '--format', 'onnx-text', '--layer', 'linear1', '--training', '--loss', 'mse', '--optimizer', 'adam', '-o', '-');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /# forward: 1 node\(s\)\nlinear1_forward/);
  assert.match(r.stdout, /# backward: \d+ node\(s\)\nlinear1_backward/);
  const update = r.stdout.slice(r.stdout.indexOf('# update'));
  assert.match(update, /^# update: \d+ node\(s\)\nlinear1_update \(/);
  for (const name of ['next_linear1_weight', 'next_linear1_bias', 'next_state_exp_avg_linear1_weight', 'next_state_exp_avg_sq_linear1_bias'])
    assert.match(update.split('\n')[1], new RegExp(`=> \\(.*float\\[[\\d, ]+\\] ${name}`));
});

test('export refuses bad formats and layers in one line', () => {
  for (const [args, message] of [
    [['--format', 'keras', '-o', 'x'], /--format must be one of onnx, pytorch, onnx-text, got "keras"/],
    [['--format', 'onnx-text', '--layer', 'nope', '-o', '-'], /"nope" is not a layer of 3-4-2 MLP; layers: linear1, sigmoid1, linear2/],
    [['--format', 'pytorch', '--layer', 'linear1', '-o', 'x.py'], /--layer and --training go with --format onnx-text/],
  ] as const) {
    const r = netloom('export', '--template', 'mlp-3-4-2', ...args);
    assert.equal(r.status, 2);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
