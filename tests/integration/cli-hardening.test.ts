/** The CLI with hostile or unlucky circumstances: outputs that are inputs, a closed stdout, a failing checkpoint, NaN. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeNpy } from '../../core/data/npy.ts';
import { serializeModel } from '../../core/index.ts';
import { decodeModel, encodeModelBytes } from '../../core/onnx/proto.ts';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'netloom-cli-hardening-'));
const at = (name: string) => join(dir, name);
const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at |EPIPE|internal error/);

const MLP = serializeModel({
  format: 'netloom.model',
  version: 1,
  name: 'xor',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [2] } },
    { id: 'fc1', op: 'Linear', params: { outFeatures: 8 } },
    { id: 'act', op: 'ReLU', params: {} },
    { id: 'fc2', op: 'Linear', params: { outFeatures: 2 } },
  ],
  edges: [
    { from: 'x', to: 'fc1' },
    { from: 'fc1', to: 'act' },
    { from: 'act', to: 'fc2' },
  ],
});

test('an output that is the input is refused before any work, and the input is untouched', () => {
  writeFileSync(at('m.json'), MLP);
  const refused = (r: ReturnType<typeof netloom>, file: string, before: Buffer) => {
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is the input .*; choose another output so the input is not overwritten/);
    noStack(r.stderr);
    assert.deepEqual(readFileSync(at(file)), before);
  };
  refused(netloom('export', 'm.json', '-o', 'm.json'), 'm.json', readFileSync(at('m.json')));
  assert.equal(netloom('export', 'm.json', '-o', 'm.onnx').status, 0);
  refused(netloom('import', 'm.onnx', '-o', 'm.onnx'), 'm.onnx', readFileSync(at('m.onnx')));
  writeFileSync(at('x.npy'), encodeNpy({ dtype: 'float32', dims: [1, 2], data: Float32Array.from([1, 2]) }));
  refused(netloom('run', 'm.onnx', '--input', 'x.npy', '-o', 'x.npy'), 'x.npy', readFileSync(at('x.npy')));
});

test('train goes on when stdout closes and when a checkpoint cannot be written, and writes its output', async () => {
  writeFileSync(at('t.json'), MLP);
  const child = spawn(
    process.execPath,
    [BIN, 'train', 't.json', '--dataset', 'xor', '--loss', 'cross-entropy', '--epochs', '2', '--json', '--checkpoint', join('gone', 'ck.safetensors'), '-o', 'trained.json'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.destroy(); // the reader went away before the first line (`| head -0`)
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(status, 0, stderr);
  noStack(stderr);
  assert.match(stderr, /checkpoint after epoch 1 not written: gone\/ck\.safetensors: could not write \(ENOENT\); training goes on/);
  assert.ok(existsSync(at('trained.json')) && existsSync(at('trained.safetensors')));
});

test('a NaN stop says what was written when no epoch completed', () => {
  writeFileSync(at('nan.json'), MLP);
  const r = netloom('train', 'nan.json', '--dataset', 'xor', '--loss', 'cross-entropy', '--epochs', '1', '--optimizer', 'sgd', '--lr', '1e30', '-o', 'nan-out.json');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /training stopped: the loss became (NaN|infinite) at step \d+ \(epoch 1\).*nan-out\.json holds the model as it was before training \(no epoch completed\)/);
  assert.doesNotMatch(r.stderr, /last complete epoch/);
});

test("ONNX Runtime's own warnings do not reach stderr", () => {
  assert.equal(netloom('export', '--template', 'mlp-3-4-2', '-o', 'warn.onnx').status, 0);
  const model = decodeModel(readFileSync(at('warn.onnx')));
  // An initializer no node uses: ONNX Runtime removes it with a warning.
  model.graph.initializer!.push({ name: 'unused', dims: [1], data_type: 1, float_data: [0] });
  writeFileSync(at('warn.onnx'), encodeModelBytes(model));
  writeFileSync(at('in.npy'), encodeNpy({ dtype: 'float32', dims: [1, 3], data: Float32Array.from([1, 2, 3]) }));
  const r = netloom('run', 'warn.onnx', '--input', 'in.npy', '-o', 'out.npy');
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /onnxruntime|\[W:/);
});
