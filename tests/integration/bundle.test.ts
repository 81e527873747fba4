/** The .netloom bundle: one zip with the document and its safetensors weights, opened and saved by the CLI. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { encodeNpy, parseNpy } from '../../core/data/npy.ts';
import { BundleError, decodeBundle, encodeBundle } from '../../core/graph/bundle.ts';
import { SCHEMA_ID } from '../../core/graph/types.ts';
import { decodeModel, initializerBytes } from '../../core/onnx/proto.ts';
import { doc, node } from '../unit/helpers.ts';

const model = doc(
  [node('x', 'Input', { shape: [2] }), node('fc1', 'Linear', { outFeatures: 8 }), node('act', 'ReLU'), node('fc2', 'Linear', { outFeatures: 3 })],
  [
    ['x', 'fc1'],
    ['fc1', 'act'],
    ['act', 'fc2'],
  ],
  'blobs-mlp',
);
const weights = new Map([
  ['fc1.weight', { shape: [8, 2], data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)) }],
  ['fc1.bias', { shape: [8], data: Float32Array.from({ length: 8 }, (_, i) => i / 10) }],
]);

describe('the .netloom bundle', () => {
  test('holds the document and its weights, bit for bit, in a zip that other tools read', () => {
    const bytes = encodeBundle(model, weights);
    const back = decodeBundle(bytes);
    // The weights' name inside the zip is not kept: saved as .json, the document must not name a file never written.
    assert.deepEqual(back.doc, { $schema: SCHEMA_ID, ...model });
    assert.deepEqual([...back.weights!.keys()].sort(), ['fc1.bias', 'fc1.weight']);
    assert.deepEqual(back.weights!.get('fc1.weight'), weights.get('fc1.weight'));
    const dir = mkdtempSync(join(tmpdir(), 'netloom-bundle-'));
    writeFileSync(join(dir, 'a.netloom'), bytes);
    const listed = spawnSync('/usr/bin/python3', ['-c', 'import sys, zipfile; print(sorted(zipfile.ZipFile(sys.argv[1]).namelist()))', join(dir, 'a.netloom')], { encoding: 'utf8' });
    assert.equal(listed.stdout.trim(), "['model.json', 'model.safetensors']", listed.stderr);
  });

  test('a new model (no weights) is the document alone', () => {
    const back = decodeBundle(encodeBundle({ ...model, weights: 'old.safetensors' }));
    assert.equal(back.weights, undefined);
    assert.equal(back.doc.weights, undefined);
  });

  test('damaged bundles are clear one-line errors', () => {
    const fails = (bytes: Uint8Array, pattern: RegExp) =>
      assert.throws(
        () => decodeBundle(bytes),
        (e: Error) => e instanceof BundleError && pattern.test(e.message) && !e.message.includes('\n'),
      );
    fails(strToU8('{"format": "netloom.model"}'), /^not a \.netloom bundle \(not a zip archive/);
    fails(zipSync({ 'weights.bin': new Uint8Array(4) }), /^not a \.netloom bundle \(it has no model\.json; it holds weights\.bin\)$/);
    fails(zipSync({ 'model.json': strToU8(JSON.stringify({ ...model, weights: 'model.safetensors' })) }), /^model\.json names the weights file "model\.safetensors", which the bundle does not hold$/);
    fails(zipSync({ 'model.json': strToU8('{"format": "netloom.model", "version": 1, "nodes": 3}') }), /^model\.json: /);
    fails(zipSync({ 'model.json': strToU8(JSON.stringify({ ...model, weights: 'model.safetensors' })), 'model.safetensors': new Uint8Array(3) }), /^model\.safetensors: not a safetensors file/);
  });
});

describe('the CLI with .netloom files', () => {
  const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'netloom-bundle-cli-'));
  const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
  const ok = (r: ReturnType<typeof netloom>) => assert.equal(r.status, 0, r.stderr);

  test('export writes one, info, export, train and run read it, and train -o writes one', () => {
    writeFileSync(join(dir, 'mlp.json'), JSON.stringify(model));
    ok(netloom('export', 'mlp.json', '--seed', '4', '-o', 'new.netloom'));
    const saved = decodeBundle(readFileSync(join(dir, 'new.netloom')));
    assert.equal(saved.weights!.size, 4, 'the seeded weights of both layers');
    const info = netloom('info', 'new.netloom', '--json');
    ok(info);
    assert.equal(JSON.parse(info.stdout).totalParams, 8 * 2 + 8 + 3 * 8 + 3);
    ok(netloom('train', 'new.netloom', '--dataset', 'blobs', '--loss', 'cross-entropy', '--epochs', '3', '--lr', '0.05', '-o', 'trained.netloom'));
    const trained = decodeBundle(readFileSync(join(dir, 'trained.netloom')));
    assert.notDeepEqual(trained.weights!.get('fc1.weight')!.data, saved.weights!.get('fc1.weight')!.data, 'training moved the weights');
    // The ONNX export carries the bundle's weights, not fresh ones.
    ok(netloom('export', 'trained.netloom', '-o', 'trained.onnx'));
    const onnx = decodeModel(readFileSync(join(dir, 'trained.onnx')));
    assert.ok(initializerBytes(onnx) > 0);
    const fc1 = onnx.graph.initializer!.find((t) => t.name === 'fc1.weight')!;
    assert.deepEqual(new Float32Array(Uint8Array.from(fc1.raw_data!).buffer), trained.weights!.get('fc1.weight')!.data);
    // Running the bundle gives what its weights compute: fc2(relu(fc1(x))).
    writeFileSync(join(dir, 'x.npy'), encodeNpy({ dtype: 'float32', dims: [1, 2], data: Float32Array.from([0.5, -1]) }));
    ok(netloom('run', 'trained.netloom', '--input', 'x.npy', '-o', 'y.npy'));
    const y = parseNpy(readFileSync(join(dir, 'y.npy'))).data as Float32Array;
    const w = (k: string) => trained.weights!.get(k)!.data;
    const hidden = Array.from({ length: 8 }, (_, j) => Math.max(0, w('fc1.weight')[2 * j] * 0.5 - w('fc1.weight')[2 * j + 1] + w('fc1.bias')[j]));
    const expected = Array.from({ length: 3 }, (_, k) => hidden.reduce((s, h, j) => s + h * w('fc2.weight')[8 * k + j], w('fc2.bias')[k]));
    expected.forEach((v, k) => assert.ok(Math.abs(y[k] - v) < 1e-5, `output ${k}: ${y[k]} vs ${v}`));
  });

  test('a damaged bundle is one line naming the file', () => {
    writeFileSync(join(dir, 'bad.netloom'), 'not a zip');
    const r = netloom('info', 'bad.netloom');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^netloom: bad\.netloom: not a \.netloom bundle \(not a zip archive/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
