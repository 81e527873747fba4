/** The file formats at the edges: .npy, safetensors, and ONNX's external data. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeNpy, parseNpy } from '../../core/data/npy.ts';
import { decodeSafetensors, encodeSafetensors, initialTensor, Rng } from '../../core/graph/weights.ts';
import { concatChunks, decodeModel, encodeModel, externalizeTensors } from '../../core/onnx/proto.ts';
import { floatTensor } from '../../core/onnx/builder.ts';

// numpy.save(f, np.arange(6, dtype='<f4').reshape(2, 3)), byte for byte (made with numpy 1.24).
const NUMPY_F4 = Buffer.from(
  'k05VTVBZAQB2AHsnZGVzY3InOiAnPGY0JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAACAPwAAAEAAAEBAAACAQAAAoEA=',
  'base64',
);

test('.npy written by numpy parses, and what we write parses back', () => {
  const t = parseNpy(new Uint8Array(NUMPY_F4));
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.dims, [2, 3]);
  assert.deepEqual([...(t.data as Float32Array)], [0, 1, 2, 3, 4, 5]);
  for (const sample of [
    { dtype: 'int64' as const, dims: [4], data: new BigInt64Array([1n, -2n, 3n, 2n ** 40n]) },
    { dtype: 'float64' as const, dims: [1, 2], data: new Float64Array([0.5, -1e300]) },
    { dtype: 'uint8' as const, dims: [], data: new Uint8Array([7]) },
  ]) {
    const bytes = encodeNpy(sample);
    assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0, 'header padded to 64 bytes');
    const back = parseNpy(bytes);
    assert.deepEqual([back.dtype, back.dims, [...back.data]], [sample.dtype, sample.dims, [...sample.data]]);
  }
});

test('bad .npy files get clear errors', () => {
  assert.throws(() => parseNpy(new Uint8Array([1, 2, 3])), /not a \.npy file/);
  assert.throws(() => parseNpy(new Uint8Array(NUMPY_F4.subarray(0, NUMPY_F4.length - 4))), /truncated \.npy data/);
  const bigEndian = Buffer.from(NUMPY_F4);
  bigEndian.write('>f4', 10 + "{'descr': '".length);
  assert.throws(() => parseNpy(new Uint8Array(bigEndian)), /dtype >f4 is not supported/);
});

test('safetensors round-trips, sorted, 8-byte aligned, and refuses damaged files', () => {
  const weights = new Map([
    ['fc.weight', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['conv.bias', { shape: [1], data: Float32Array.from([-1]) }],
  ]);
  const bytes = concatChunks(encodeSafetensors(weights, { model: 'm' }));
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(headerLength % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  assert.deepEqual(Object.keys(header), ['__metadata__', 'conv.bias', 'fc.weight']);
  const back = decodeSafetensors(bytes);
  assert.deepEqual([...back.weights.get('fc.weight')!.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(back.metadata, { model: 'm' });
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 2)), /does not fit the file/);
  assert.throws(() => decodeSafetensors(new Uint8Array(4)), /too short/);
});

test('seeded initialisation is reproducible and has the asked-for spread', () => {
  const a = initialTensor([1000], { kind: 'uniform', bound: 0.1 }, new Rng(7));
  const b = initialTensor([1000], { kind: 'uniform', bound: 0.1 }, new Rng(7));
  assert.deepEqual(a, b);
  assert.ok(Math.max(...a) <= 0.1 && Math.min(...a) >= -0.1 && Math.max(...a) > 0.09);
  const n = initialTensor([20000], { kind: 'normal', std: 2 }, new Rng(1));
  const mean = n.reduce((s, v) => s + v, 0) / n.length;
  const std = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
  assert.ok(Math.abs(mean) < 0.05 && Math.abs(std - 2) < 0.05, `mean ${mean}, std ${std}`);
});

test('bulk initialisation gives the values of one draw at a time, odd lengths and a carried normal included', () => {
  const one = new Rng(11);
  const bulk = new Rng(11);
  for (const [kind, length] of [
    ['normal', 5],
    ['uniform', 7],
    ['normal', 4],
    ['normal', 3],
    ['uniform', 2],
  ] as const) {
    const expected = Float32Array.from({ length }, () => (kind === 'uniform' ? (2 * one.next() - 1) * 0.5 : one.normal() * 0.5));
    const actual = initialTensor([length], kind === 'uniform' ? { kind, bound: 0.5 } : { kind, std: 0.5 }, bulk);
    assert.deepEqual(actual, expected, `${kind} × ${length}`);
  }
});

test('large tensors move to external data, aligned, and the rest stays inline', () => {
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: [], input: [], output: [], initializer: [floatTensor('big', [300], new Float32Array(300).fill(1)), floatTensor('small', [2], new Float32Array([5, 6]))] },
  };
  const { model: outer, data } = externalizeTensors(model, 'm.onnx.data');
  const decoded = decodeModel(concatChunks(encodeModel(outer)));
  const [big, small] = decoded.graph.initializer!;
  assert.equal(big.data_location, 1);
  assert.deepEqual(big.external_data, [
    { key: 'location', value: 'm.onnx.data' },
    { key: 'offset', value: '0' },
    { key: 'length', value: '1200' },
  ]);
  assert.equal(small.raw_data!.length, 8);
  assert.equal(concatChunks(data).length, 1200);
});
