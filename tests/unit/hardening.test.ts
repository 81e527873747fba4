/**
 * Files from strangers: paths inside a file stay in its folder, sizes are checked before anything is
 * allocated, damaged data is refused by name (never zero-filled or replaced by fresh weights), and writes
 * neither destroy inputs nor leave anonymous temporary files behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { encodeNpy, parseNpy } from '../../core/data/npy.ts';
import { parseNpz } from '../../core/data/npz.ts';
import { checkTarget, type Dataset } from '../../core/data/dataset.ts';
import { decodeSafetensors, encodeSafetensors, type Weights } from '../../core/graph/weights.ts';
import { decodeBundle, encodeBundle } from '../../core/graph/bundle.ts';
import { compileModel, CompileError } from '../../core/convert/compile.ts';
import { DataType, encodeModelBytes, externalizeTensors, concatChunks, tensorValues, OnnxFormatError, type ModelProto } from '../../core/onnx/proto.ts';
import { formatSummary, inferShapes, parseModel, serializeModel, type ModelSummary } from '../../core/index.ts';
import { compile, loadModelFile, readOnnx } from '../../cli/models.ts';
import { loadTemplate } from '../../cli/files.ts';
import { readInside, refuseOverwritingInputs, UserError, writeFileAtomic } from '../../host/fs.ts';
import { isPermissionAllowed, SaveTargets } from '../../electron/save-targets.ts';
import { serve } from '../../scripts/serve.js';
import { doc, node } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'netloom-hardening-'));
const folder = (name: string) => {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  return path;
};

/** The mlp-3-4-2 template compiled, with every tensor in external data "w.bin" in `into`. */
async function externalModel(into: string): Promise<ModelProto> {
  const { model } = compile({ doc: await loadTemplate('mlp-3-4-2'), sources: [] });
  const split = externalizeTensors(model, 'w.bin', 0);
  writeFileSync(join(into, 'w.bin'), concatChunks(split.data));
  return split.model;
}
const writeOnnxFile = (file: string, model: ModelProto) => writeFileSync(file, encodeModelBytes(model));
const setExternal = (model: ModelProto, key: string, value: string) => {
  for (const t of model.graph.initializer ?? []) for (const e of t.external_data ?? []) if (e.key === key) e.value = value;
};

test('ONNX external data stays inside the model folder: no absolute path, no "..", no symlink out, no device', async () => {
  const secret = join(folder('outside'), 'SECRET.txt');
  writeFileSync(secret, 'x'.repeat(4096));
  const home = folder('model');
  const good = await externalModel(home);
  writeOnnxFile(join(home, 'ok.onnx'), good);
  assert.equal(
    (await readOnnx(join(home, 'ok.onnx'))).graph.initializer!.every((t) => t.raw_data!.length > 0),
    true,
  );

  symlinkSync(secret, join(home, 'link.bin'));
  for (const [location, why] of [
    ['../outside/SECRET.txt', /leaves the model's folder \(".."\)/],
    [secret, /is an absolute path/],
    ['/dev/zero', /is an absolute path/],
    ['link.bin', /leaves the model's folder through a symbolic link/],
    ['missing.bin', /missing\.bin: no such file \(the external data of tensor/],
  ] as const) {
    const m = await externalModel(home);
    setExternal(m, 'location', location);
    writeOnnxFile(join(home, 'bad.onnx'), m);
    await assert.rejects(readOnnx(join(home, 'bad.onnx')), (e: Error) => e instanceof UserError && why.test(e.message) && /bad\.onnx: .*tensor "/.test(e.message));
  }
});

test('external data as torch writes it past 2 GB, one file per tensor with no offset or length, is read whole', async () => {
  const home = folder('per-tensor');
  const { model } = compile({ doc: await loadTemplate('mlp-3-4-2'), sources: [] });
  const initializer = model.graph.initializer!.map(({ raw_data, ...t }) => {
    const location = t.name!.replace(/[^\w.-]/g, '_');
    writeFileSync(join(home, location), raw_data!);
    return { ...t, data_location: 1, external_data: [{ key: 'location', value: location }] };
  });
  writeOnnxFile(join(home, 'm.onnx'), { ...model, graph: { ...model.graph, initializer } });
  const tensors = (m: ModelProto) => m.graph.initializer!.map((t) => [t.name, [...t.raw_data!]]);
  assert.deepEqual(tensors(await readOnnx(join(home, 'm.onnx'))), tensors(model));
});

test('a device or pipe inside the folder is refused without being opened', async () => {
  const home = folder('devices');
  symlinkSync('/dev/zero', join(home, 'zero.bin'));
  await assert.rejects(readInside(home, 'zero.bin', 'the weights'), /leaves the model's folder through a symbolic link/);
  const fifo = join(home, 'pipe.bin');
  if (spawnSync('mkfifo', [fifo]).status === 0) await assert.rejects(readInside(home, 'pipe.bin', 'the weights'), /is not a regular file/);
});

test('external offset and length are checked against the real size, and must give exactly the tensor', async () => {
  const home = folder('ranges');
  for (const [key, value, why] of [
    ['offset', '1000000', /bytes 1000000 to .* are asked for, but the file has \d+/],
    ['length', '4', /tensor "[^"]+" has 4 bytes of data but its dims \[\d+(, \d+)?\] need \d+ \(is it truncated\?\)/],
    ['offset', '-8', /external data offset "-8" is not a byte count/],
  ] as const) {
    const m = await externalModel(home);
    setExternal(m, key, value);
    writeOnnxFile(join(home, 'm.onnx'), m);
    await assert.rejects(readOnnx(join(home, 'm.onnx')), (e: Error) => e instanceof UserError && why.test(e.message));
  }
});

test('a document\'s "weights" path follows the same rule, and a weights file must fit the model exactly', async () => {
  const home = folder('doc');
  const model = doc([node('x', 'Input', { shape: [3] }), node('fc', 'Linear', { outFeatures: 2 })], [['x', 'fc']]);
  const save = (weights: string, tensors?: Weights) => {
    writeFileSync(join(home, 'm.json'), serializeModel({ ...model, weights }));
    if (tensors) writeFileSync(join(home, weights), concatChunks(encodeSafetensors(tensors)));
    return loadModelFile(join(home, 'm.json'));
  };
  const w = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  assert.equal(
    (
      await save(
        'm.safetensors',
        new Map([
          ['fc.weight', w([2, 3])],
          ['fc.bias', w([2])],
        ]),
      )
    ).weights!.size,
    2,
  );
  await assert.rejects(save('/dev/zero'), /the weights file named by .*m\.json, "\/dev\/zero", is an absolute path/);
  await assert.rejects(save('../x.safetensors'), /leaves the model's folder/);
  await assert.rejects(
    save(
      'a.safetensors',
      new Map([
        ['fc.weight', w([2, 4])],
        ['fc.bias', w([2])],
      ]),
    ),
    /a\.safetensors: tensor "fc\.weight" is \[2, 4\] but the model needs \[2, 3\]/,
  );
  await assert.rejects(save('b.safetensors', new Map([['fc.weight', w([2, 3])]])), /b\.safetensors: has no tensor "fc\.bias"/);
  await assert.rejects(
    save(
      'c.safetensors',
      new Map([
        ['fc.weight', w([2, 3])],
        ['fc.bais', w([2])],
      ]),
    ),
    /c\.safetensors: has no tensor "fc\.bias"/,
  );
  await assert.rejects(
    save(
      'd.safetensors',
      new Map([
        ['fc.weight', w([2, 3])],
        ['fc.bias', w([2])],
        ['fc2.bias', w([2])],
      ]),
    ),
    /tensor "fc2\.bias" belongs to no parameter/,
  );
  // A .netloom bundle's weights obey the same rule, and it inflates only within the memory given.
  writeFileSync(
    join(home, 'm.netloom'),
    encodeBundle(
      model,
      new Map([
        ['fc.weight', w([3, 2])],
        ['fc.bias', w([2])],
      ]),
    ),
  );
  await assert.rejects(loadModelFile(join(home, 'm.netloom')), /m\.netloom: its weights: tensor "fc\.weight" is \[3, 2\] but the model needs \[2, 3\]/);
  assert.throws(() => decodeBundle(encodeBundle(model), 10), /the bundle: its contents would need \d+ bytes once inflated; 10 are available/);
});

/** A safetensors file with a hand-written header and `data` bytes after it. */
function safetensors(header: unknown, data = new Uint8Array(64)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('safetensors headers that are not objects, or whose offsets are negative or overlap, are refused by tensor', () => {
  assert.throws(() => decodeSafetensors(safetensors([1, 2])), /its header is not a JSON object/);
  assert.throws(() => decodeSafetensors(safetensors(null)), /its header is not a JSON object/);
  assert.throws(() => decodeSafetensors(safetensors({ a: null })), /tensor "a": its entry is not an object/);
  assert.throws(() => decodeSafetensors(safetensors({ a: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } })), /tensor "a": "shape" must be a list/);
  assert.throws(() => decodeSafetensors(safetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } })), /tensor "a": "data_offsets" must be two non-negative integers/);
  assert.throws(
    () => decodeSafetensors(safetensors({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } })),
    /tensor "b": its data overlaps tensor "a"/,
  );
  assert.throws(() => decodeSafetensors(safetensors({ a: { dtype: 'F32', shape: [100], data_offsets: [0, 400] } })), /tensor "a": .*does not fit the file/);
});

test('ONNX tensor data shorter or longer than the dims declare is refused by name, never zero-filled', () => {
  const t = { name: 'w', dims: [500_000_000], data_type: DataType.FLOAT, raw_data: new Uint8Array(8) };
  assert.throws(
    () => tensorValues(t),
    (e: Error) => e instanceof OnnxFormatError && /tensor "w" has 8 bytes of data but its dims \[500000000\] need 2000000000/.test(e.message),
  );
  assert.throws(() => tensorValues({ name: 'b', dims: [3], float_data: [1, 2] }), /tensor "b" holds 2 values but its dims \[3\] need 3/);
  assert.throws(() => tensorValues({ name: 'n', dims: [-1], raw_data: new Uint8Array(4) }), /tensor "n" has dims \[-1\], which are not sizes/);
  assert.throws(() => tensorValues({ name: 'd', dims: [2], data_type: DataType.DOUBLE, raw_data: new Uint8Array(9) }), /tensor "d" has 9 bytes/);
});

test('.npy with trailing bytes, an unknown version or a shape that is not sizes is refused', () => {
  const good = encodeNpy({ dtype: 'float32', dims: [2], data: Float32Array.from([1, 2]) });
  assert.deepEqual(parseNpy(good).dims, [2]);
  const trailing = new Uint8Array(good.length + 4);
  trailing.set(good);
  assert.throws(() => parseNpy(trailing), /4 bytes follow the array's data/);
  const v9 = good.slice();
  v9[6] = 9;
  assert.throws(() => parseNpy(v9), /\.npy format version 9\.0 is unknown/);
  const negative = Buffer.from(Buffer.from(good).toString('latin1').replace("'shape': (2,)", "'shape': (-2)"), 'latin1');
  assert.throws(() => parseNpy(negative), /shape \(-2\) is not a list of sizes/);
});

test('.npz: declared sizes are checked before inflating, and inflation stops at the declared size', () => {
  const big = encodeNpy({ dtype: 'float32', dims: [4_000_000], data: new Float32Array(4_000_000) });
  const zip = zipSync({ 'x.npy': big }, { level: 9 });
  assert.ok(zip.length < 100_000, 'a small archive of a 16 MB array');
  assert.throws(() => parseNpz(zip, 1_000_000), /the archive's arrays: its contents would need 16000\d+ bytes once inflated; 1000000 are available/);
  // An archive that declares a small size for a member that inflates to 16 MB: only the declared size is
  // produced, and it is not the array the header claims.
  const lying = zip.slice();
  const view = new DataView(lying.buffer);
  for (let i = 0; i + 4 <= lying.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) view.setUint32(i + 22, 1000, true); // local header: uncompressed size
    if (sig === 0x02014b50) view.setUint32(i + 24, 1000, true); // central directory: uncompressed size
  }
  assert.throws(() => parseNpz(lying, 1_000_000), /array "x": truncated \.npy data: expected 16000000 bytes, found \d+/);
});

test('negative class labels and empty datasets are errors', () => {
  const ds = (labels: bigint[]): Dataset => ({
    name: 'd.npz',
    size: labels.length,
    x: { dims: [2], dtype: 'float32', data: new Float32Array(labels.length * 2) },
    y: { dims: [], dtype: 'int64', data: BigInt64Array.from(labels) },
  });
  const target = { dtype: 'int64' as const, shape: ['N'] };
  const prediction = { dtype: 'float32' as const, shape: ['N', 3] };
  assert.doesNotThrow(() => checkTarget(ds([0n, 2n]), target, prediction));
  assert.throws(() => checkTarget(ds([0n, -1n]), target, prediction), /d\.npz has class -1; class labels are 0 to 2/);
  assert.throws(() => checkTarget(ds([]), target, prediction), /d\.npz has no samples/);
});

test('sizes are checked before allocating: a Linear with 1e9 outputs is refused with the size it needs', () => {
  const huge = doc([node('x', 'Input', { shape: [64] }), node('fc', 'Linear', { outFeatures: 1e9 })], [['x', 'fc']]);
  assert.throws(
    () => compileModel(huge),
    (e: Error) => e instanceof CompileError && /tensor "fc\.weight" would need 238\.4 GiB/.test(e.message),
  );
  const large = doc([node('x', 'Input', { shape: [1000] }), node('fc', 'Linear', { outFeatures: 1000 })], [['x', 'fc']]);
  assert.throws(() => compileModel(large, { memoryLimit: 1_000_000 }), /the weights would need 3\.8 MiB of memory; 977 KiB is available/);
});

test('deep nesting and huge tables are one-line errors or work, not stack overflows', () => {
  const deep = `{"format":"netloom.model","version":1,"name":${'['.repeat(100_000)}${']'.repeat(100_000)},"nodes":[],"edges":[]}`;
  const result = parseModel(deep);
  assert.ok(!result.ok && /nested more than 64 levels/.test(result.problems[0].message));
  const layers = Array.from({ length: 200_000 }, (_, i) => ({ id: `r${i}`, op: 'ReLU', outputShape: ['N', 4], params: 0, macs: 0 }));
  const summary = { name: 'big', totalParams: 0, trainableParams: 0, totalMacs: 0, layers, diagnostics: [] } as unknown as ModelSummary;
  assert.match(formatSummary(summary), /r199999/);
});

test('an output that is an input (same path, a symlink, a hard link) is refused; a new file is not', async () => {
  const home = folder('same');
  const input = join(home, 'm.json');
  writeFileSync(input, '{}');
  symlinkSync(input, join(home, 'alias.json'));
  linkSync(input, join(home, 'hard.json'));
  for (const out of [input, join(home, '.', 'm.json'), join(home, 'alias.json'), join(home, 'hard.json')]) {
    await assert.rejects(refuseOverwritingInputs([out], [input]), /is the input .*m\.json; choose another output/);
  }
  await refuseOverwritingInputs([join(home, 'new.json')], [input]);
});

test("temporary files are recognisable, and a killed writer's are removed on the next write there; live ones stay", async () => {
  const home = folder('temps');
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout.trim());
  const stale = `.model.onnx.${deadPid}-0123456789ab.netloom.tmp`;
  const live = `.model.onnx.${process.ppid}-0123456789ab.netloom.tmp`;
  writeFileSync(join(home, stale), 'half');
  writeFileSync(join(home, live), 'in progress');
  writeFileSync(join(home, 'unrelated.tmp'), 'not ours');
  await writeFileAtomic(join(home, 'model.onnx'), 'done');
  assert.deepEqual(readdirSync(home).sort(), [live, 'model.onnx', 'unrelated.tmp'].sort());
});

test('the desktop saves only to files the main process chose, through opaque per-window handles', () => {
  const targets = new SaveTargets();
  const handle = targets.grant(1, '/home/me/model.json');
  assert.match(handle, /^[0-9a-f]{32}$/);
  assert.equal(targets.grant(1, '/home/me/model.json'), handle, 'one handle per file');
  assert.equal(targets.resolve(1, handle), '/home/me/model.json');
  assert.equal(targets.resolve(2, handle), null, "another window's handle");
  assert.equal(targets.resolve(1, '/home/me/.bashrc'), null, 'a path is not a handle');
  assert.equal(targets.resolve(1, '0'.repeat(32)), null, 'a made-up handle');
  targets.forget(1);
  assert.equal(targets.resolve(1, handle), null, 'a closed window');
  assert.equal(isPermissionAllowed('clipboard-sanitized-write'), true);
  for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'hid', 'serial', 'fileSystem']) assert.equal(isPermissionAllowed(p), false, p);
});

test('the browser-mode server answers a malformed escape with 400 and keeps serving', async () => {
  const root = folder('site');
  writeFileSync(join(root, 'index.html'), '<p>hi</p>');
  const { server, url } = await serve(root);
  try {
    assert.equal((await fetch(`${url}%`)).status, 400);
    assert.equal((await fetch(`${url}%E0%A4%A`)).status, 400);
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<p>hi</p>');
  } finally {
    server.close();
  }
});

test('a model that fits is unaffected: compile, infer and summarise as before', async () => {
  const m = await loadTemplate('mlp-3-4-2');
  assert.equal(inferShapes(m).hasErrors(), false);
  assert.ok(compileModel(m).model.graph.initializer!.length > 0);
});
