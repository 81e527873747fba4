/** netloom export, import and run, as a person runs them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { encodeNpy, parseNpy } from '../../core/data/npy.ts';
import { decodeModel, encodeModelBytes } from '../../core/onnx/proto.ts';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'netloom-onnx-'));
const at = (name: string) => join(dir, name);
const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
const ok = (r: ReturnType<typeof netloom>) => assert.equal(r.status, 0, r.stderr);
const oneLineError = (r: ReturnType<typeof netloom>, pattern: RegExp) => {
  assert.equal(r.status, 2, r.stdout);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
};
const npy = (name: string, dims: number[], dtype: 'float32' | 'float64' = 'float32') => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = dtype === 'float32' ? Float32Array.from({ length: n }, (_, i) => Math.cos(i)) : Float64Array.from({ length: n }, (_, i) => Math.cos(i));
  writeFileSync(at(name), encodeNpy({ dtype, dims, data }));
  return name;
};

test('export writes an ONNX model that ONNX Runtime loads, reproducibly from --seed', async () => {
  ok(netloom('export', '--template', 'lenet5', '-o', 'a.onnx', '--seed', '5'));
  ok(netloom('export', '--template', 'lenet5', '-o', 'b.onnx', '--seed', '5'));
  ok(netloom('export', '--template', 'lenet5', '-o', 'c.onnx', '--seed', '6'));
  const [a, b, c] = ['a', 'b', 'c'].map((n) => readFileSync(at(`${n}.onnx`)));
  assert.ok(a.equals(b), 'same seed, same bytes');
  assert.ok(!a.equals(c), 'another seed, other weights');
  const model = decodeModel(a);
  assert.equal(model.opset_import[0].version, 17);
  assert.equal(model.graph.input[0].type!.tensor_type!.shape!.dim[0].dim_param, 'N', 'the batch stays symbolic');
  assert.match(model.graph.node[0].doc_string!, /^netloom Conv2d \{"kernelSize":5,"outChannels":6\}$/);
  assert.equal(model.graph.node[0].name, 'conv1');
  const session = await ort.InferenceSession.create(a);
  assert.deepEqual(session.inputNames, ['image']);
  assert.deepEqual(session.outputNames, ['linear3']);
});

test('export --opset 21 writes opset 21 that still runs', async () => {
  ok(netloom('export', '--template', 'llama-block', '-o', 'l21.onnx', '--opset', '21'));
  const bytes = readFileSync(at('l21.onnx'));
  assert.equal(decodeModel(bytes).opset_import[0].version, 21);
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(2 * 5 * 512).fill(0.1), [2, 5, 512]) });
  assert.deepEqual(out.residual2.dims, [2, 5, 512]);
});

test('import writes a model document with a safetensors sidecar that re-exports to the same function', () => {
  ok(netloom('export', '--template', 'ca2-cnn', '-o', 'ca2.onnx', '--seed', '1'));
  ok(netloom('import', 'ca2.onnx', '-o', 'ca2.json'));
  const doc = JSON.parse(readFileSync(at('ca2.json'), 'utf8'));
  assert.equal(doc.weights, 'ca2.safetensors');
  assert.ok(existsSync(at('ca2.safetensors')));
  const fromOnnx = JSON.parse(netloom('info', 'ca2.onnx', '--json').stdout);
  const fromJson = JSON.parse(netloom('info', 'ca2.json', '--json').stdout);
  assert.equal(fromOnnx.totalParams, 661_591);
  assert.equal(fromJson.totalParams, 661_591);
  npy('face.npy', [3, 1, 32, 32]);
  ok(netloom('run', 'ca2.onnx', '--input', 'face.npy', '-o', 'y1.npy'));
  ok(netloom('run', 'ca2.json', '--input', 'face=face.npy', '-o', 'y2.npy'));
  const [y1, y2] = ['y1', 'y2'].map((n) => parseNpy(readFileSync(at(`${n}.npy`))));
  assert.deepEqual(y1.dims, [3, 21]);
  assert.deepEqual([...y1.data], [...y2.data]);
});

test('run writes one .npy per output into a folder when there are several', () => {
  const model = {
    format: 'netloom.model',
    version: 1,
    name: 'rnn',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [4, 3] } },
      { id: 'lstm', op: 'LSTM', params: { hiddenSize: 5 } },
    ],
    edges: [{ from: 'x', to: 'lstm' }],
  };
  writeFileSync(at('rnn.json'), JSON.stringify(model));
  ok(netloom('run', 'rnn.json', '--input', npy('seq.npy', [2, 4, 3]), '-o', 'outs'));
  assert.deepEqual(readdirSync(at('outs')).sort(), ['lstm.c.npy', 'lstm.h.npy', 'lstm.output.npy']);
  assert.deepEqual(parseNpy(readFileSync(at('outs/lstm.h.npy'))).dims, [1, 2, 5]);
});

test('bad files and mismatches are one-line errors that name both sides', () => {
  ok(netloom('export', '--template', 'mlp-3-4-2', '-o', 'mlp.onnx'));
  oneLineError(netloom('run', 'mlp.onnx', '--input', npy('wide.npy', [2, 5]), '-o', 'o.npy'), /wide\.npy is float32 \[2, 5\] but the model input "x" is float32 \[N, 3\]/);
  oneLineError(netloom('run', 'mlp.onnx', '--input', npy('f64.npy', [2, 3], 'float64'), '-o', 'o.npy'), /f64\.npy is float64 \[2, 3\] but the model input "x" is float32/);
  const bytes = readFileSync(at('mlp.onnx'));
  writeFileSync(at('cut.onnx'), bytes.subarray(0, bytes.length - 20));
  oneLineError(netloom('info', 'cut.onnx'), /cut\.onnx: not a valid ONNX model \(the file is truncated\)/);
  const future = decodeModel(bytes);
  future.opset_import[0].version = 99;
  writeFileSync(at('future.onnx'), encodeModelBytes(future));
  oneLineError(netloom('run', 'future.onnx', '--input', npy('x.npy', [2, 3]), '-o', 'o.npy'), /opset 99 is newer than this Netloom supports/);
  writeFileSync(at('noweights.json'), JSON.stringify({ format: 'netloom.model', version: 1, name: 'm', weights: 'gone.safetensors', nodes: [], edges: [] }));
  oneLineError(netloom('export', 'noweights.json', '-o', 'o.onnx'), /gone\.safetensors: no such file \(the weights file named by noweights\.json\)/);
  oneLineError(netloom('run', 'mlp.onnx', '--input', 'x.npy', '-o', 'o.npy', '--ep', 'cuda'), /cuda execution provider is not available here.*--allow-fallback/);
  oneLineError(netloom('export', '--template', 'mlp-3-4-2', '-o', 'o.onnx', '--opset', '16'), /--opset must be an integer from 17 to 21/);
  oneLineError(netloom('export', '--template', 'mlp-3-4-2', '-o', 'o.json'), /o\.json: export writes an ONNX model, not a model document: name it \.onnx/);
  oneLineError(netloom('export', '--template', 'mlp-3-4-2', '-o', 'o.py'), /not PyTorch code \(--format pytorch\)/);
  assert.ok(!existsSync(at('o.json')) && !existsSync(at('o.py')), 'nothing written under the wrong name');
  assert.ok(!existsSync(at('o.onnx')), 'nothing half-written');
});
