/** Opening files together in the app: a document with its weights, a .netloom bundle, an ONNX file with its external data. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { serializeModel } from '../../core/index.ts';
import { encodeBundle } from '../../core/graph/bundle.ts';
import { encodeSafetensors, type Weights } from '../../core/graph/weights.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { encodeModelBytes, externalizeTensors } from '../../core/onnx/proto.ts';
import { readModelFiles } from '../../host/model-files.ts';
import { openModelFiles, OpenError } from '../../renderer/opening.ts';
import { doc, node } from './helpers.ts';

const model = { ...doc([node('x', 'Input', { shape: [1, 4] }), node('fc', 'Linear', { outFeatures: 3 })], [['x', 'fc']], 'tiny'), weights: 'tiny.safetensors' };
/** Weights no initialiser would give: 0.25, 0.5, 0.75, ... */
const trained: Weights = new Map([...compileModel(model).weights].map(([key, t]) => [key, { shape: t.shape, data: Float32Array.from(t.data, (_, i) => (i + 1) / 4) }]));
const safetensors = () => Uint8Array.from(Buffer.concat(encodeSafetensors(trained)));
const values = (w: Weights | undefined) => Object.fromEntries([...(w ?? [])].map(([k, t]) => [k, [...t.data]]));

test('a .json opened with its .safetensors gets those weights; alone, it says which file is missing', () => {
  const json = { name: 'tiny.json', text: serializeModel(model) };
  const both = openModelFiles([{ name: 'tiny.safetensors', bytes: safetensors() }, json])!;
  assert.equal(both.fileName, 'tiny.json');
  assert.deepEqual(values(both.weights), values(trained));
  assert.equal(both.missingWeights, undefined);
  const alone = openModelFiles([json])!;
  assert.equal(alone.weights, undefined);
  assert.equal(alone.missingWeights, 'tiny.safetensors');
});

test('a .netloom bundle opens with its weights; a broken one is refused naming the file', () => {
  const opened = openModelFiles([{ name: 'tiny.netloom', bytes: encodeBundle(model, trained) }])!;
  assert.equal(opened.fileName, 'tiny.netloom');
  assert.deepEqual(values(opened.weights), values(trained));
  assert.throws(
    () => openModelFiles([{ name: 'bad.netloom', bytes: new Uint8Array([1, 2, 3]) }]),
    (e: Error) => e instanceof OpenError && /^bad\.netloom: not a \.netloom bundle/.test(e.message),
  );
});

test('an ONNX file with external data needs its data file; with it, the weights are the original ones', () => {
  const split = externalizeTensors(compileModel(model, { weights: trained }).model, 'tiny.onnx.data', 0);
  const onnx = { name: 'tiny.onnx', bytes: encodeModelBytes(split.model) };
  assert.throws(() => openModelFiles([onnx]), { message: /^tiny\.onnx keeps its weights in "tiny\.onnx\.data": open that file together with it/ });
  const opened = openModelFiles([onnx, { name: 'tiny.onnx.data', bytes: Uint8Array.from(Buffer.concat(split.data)) }])!;
  assert.deepEqual([...opened.weights!.values()].map((t) => [...t.data]).sort(), [...trained.values()].map((t) => [...t.data]).sort());
});

test('weights alone are not a model (the workspace attaches them to the open document)', () => {
  assert.equal(openModelFiles([{ name: 'tiny.safetensors', bytes: safetensors() }]), null);
});

test('the desktop reads the files a model names beside it, and leaves out a missing one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netloom-open-'));
  writeFileSync(join(dir, 'tiny.json'), serializeModel(model));
  assert.deepEqual(
    (await readModelFiles(join(dir, 'tiny.json'))).map((f) => f.name),
    [join(dir, 'tiny.json')],
  );
  writeFileSync(join(dir, 'tiny.safetensors'), safetensors());
  const files = await readModelFiles(join(dir, 'tiny.json'));
  assert.deepEqual(values(openModelFiles(files)!.weights), values(trained));
});

test("the desktop never reads a named file outside the model's folder (the window then warns that the weights are missing)", async () => {
  const outside = mkdtempSync(join(tmpdir(), 'netloom-outside-'));
  const dir = join(outside, 'models');
  mkdirSync(dir);
  writeFileSync(join(outside, 'secret.safetensors'), safetensors());
  writeFileSync(join(dir, 'tiny.json'), serializeModel({ ...model, weights: '../secret.safetensors' }));
  assert.deepEqual(
    (await readModelFiles(join(dir, 'tiny.json'))).map((f) => f.name),
    [join(dir, 'tiny.json')],
  );
});
