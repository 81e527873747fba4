/** The importer's patterns on small hand-built ONNX graphs, each checked by a round trip on ONNX Runtime. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { inferShapes, type ModelDocument } from '../../core/index.ts';
import { OnnxBuilder, floatTensor, int64Tensor } from '../../core/onnx/builder.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { valueInfo } from '../../core/onnx/builder.ts';
import { importOnnx } from '../../core/convert/import.ts';
import { encodeModelBytes, type ModelProto } from '../../core/onnx/proto.ts';

const random = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i * 1.7));

/** A model x:[N, ...inShape] → y, built by `body`. */
function model(inShape: number[], outShape: (number | string)[], body: (b: OnnxBuilder) => void): ModelProto {
  const b = new OnnxBuilder(17);
  body(b);
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'm',
      node: b.nodes,
      initializer: b.initializers,
      input: [valueInfo('x', { shape: ['N', ...inShape], dtype: 'float32' })],
      output: [valueInfo('y', { shape: outShape, dtype: 'float32' })],
    },
  };
}

async function roundTrip(m: ModelProto, inShape: number[]) {
  const { doc, weights } = importOnnx(m);
  const compiled = compileModel(doc, { weights });
  const x = new ort.Tensor('float32', random(2 * inShape.reduce((a, c) => a * c, 1), 3), [2, ...inShape]);
  const [a, b] = await Promise.all([ort.InferenceSession.create(encodeModelBytes(m)), ort.InferenceSession.create(encodeModelBytes(compiled.model))]);
  const expected = (await a.run({ x })).y.data as Float32Array;
  const actual = (await b.run({ x }))[compiled.outputs[0].name].data as Float32Array;
  assert.deepEqual(
    [...actual].map((v) => v.toFixed(5)),
    [...expected].map((v) => v.toFixed(5)),
  );
  return doc;
}

test('MatMul followed by a bias Add becomes one Linear, weights transposed to [out, in]', async () => {
  const m = model([6], ['N', 4], (b) => {
    b.addInitializer(floatTensor('W', [6, 4], random(24, 1)));
    b.addInitializer(floatTensor('bias', [4], random(4, 2)));
    b.op('Add', [b.op('MatMul', ['x', 'W']), 'bias'], {}, 'y');
  });
  const doc = await roundTrip(m, [6]);
  assert.deepEqual(
    doc.nodes.map((n) => n.op),
    ['Input', 'Linear'],
  );
  assert.equal(doc.nodes[1].id, 'y', 'the sink takes the graph output name');
  assert.equal(inferShapes(doc).getTotals().totalParams, 28);
});

test('Gemm without transB becomes a Linear with its weight transposed', async () => {
  const m = model([5], ['N', 3], (b) => {
    b.addInitializer(floatTensor('B', [5, 3], random(15, 4)));
    b.addInitializer(floatTensor('C', [3], random(3, 5)));
    b.op('Gemm', ['x', 'B', 'C'], {}, 'y');
  });
  const doc = await roundTrip(m, [5]);
  assert.deepEqual(
    doc.nodes.map((n) => n.op),
    ['Input', 'Linear'],
  );
});

test('Reshape that keeps the batch becomes Reshape; Flatten(1) becomes Flatten', async () => {
  const m = model([2, 3, 4], ['N', 24], (b) => {
    const r = b.op('Reshape', ['x', b.addInitializer(int64Tensor('shape', [3], [0, 4, -1]))]);
    b.op('Flatten', [b.op('Relu', [r])], { axis: 1 }, 'y');
  });
  const doc = await roundTrip(m, [2, 3, 4]);
  assert.deepEqual(
    doc.nodes.map((n) => n.op),
    ['Input', 'Reshape', 'ReLU', 'Flatten'],
  );
  assert.deepEqual(doc.nodes[1].params.shape, [4, -1]);
});

test('asymmetric padding and other unrecognised forms stay OnnxOp, with their shapes inferred', async () => {
  const m = model([1, 6, 6], ['N', 2, 6, 6], (b) => {
    b.addInitializer(floatTensor('W', [2, 1, 3, 3], random(18, 6)));
    const conv = b.op('Conv', ['x', 'W'], { pads: [1, 1, 1, 1] });
    const padded = b.op('Pad', [conv, b.addInitializer(int64Tensor('pads', [8], [0, 0, 0, 0, 0, 0, 1, 1]))]);
    b.op('Conv', [padded, b.addInitializer(floatTensor('W2', [2, 2, 2, 2], random(16, 7)))], { pads: [0, 0, 0, 0] }, 'y');
  });
  const doc = await roundTrip(m, [1, 6, 6]);
  assert.deepEqual(
    doc.nodes.map((n) => n.op),
    ['Input', 'Conv2d', 'OnnxOp', 'Conv2d'],
  );
  const inference = inferShapes(doc);
  assert.deepEqual(inference.node(doc.nodes[2].id)!.outputs![0].shape, ['N', 2, 7, 7]);
  assert.deepEqual(inference.diagnostics(), []);
});

test('a damaged graph (a node reading nothing) is a clear error', () => {
  const m = model([3], ['N', 3], (b) => void b.op('Relu', ['nowhere'], {}, 'y'));
  assert.throws(() => importOnnx(m), /reads "nowhere", which no node, input or initializer produces/);
});

test("SoftmaxCrossEntropyLoss on class indices imports as the catalogue's CrossEntropyLoss, the same loss on ONNX Runtime", async () => {
  const source: ModelDocument = {
    format: 'netloom.model',
    version: 1,
    name: 'ce',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [5] } },
      { id: 'labels', op: 'Input', params: { shape: [], dtype: 'int64' } },
      { id: 'fc', op: 'Linear', params: { outFeatures: 4 } },
      { id: 'ce', op: 'CrossEntropyLoss', params: { reduction: 'sum', ignoreIndex: 2 } },
    ],
    edges: [
      { from: 'x', to: 'fc' },
      { from: 'fc', to: 'ce:input' },
      { from: 'labels', to: 'ce:target' },
    ],
  };
  const exported = compileModel(source, { seed: 3 });
  assert.ok(exported.model.graph.node.some((n) => n.op_type === 'SoftmaxCrossEntropyLoss'));
  const { doc, weights } = importOnnx(exported.model);
  const ce = doc.nodes.find((n) => n.op === 'CrossEntropyLoss')!;
  assert.deepEqual(ce.params, { reduction: 'sum', ignoreIndex: 2 });
  assert.deepEqual(
    doc.edges
      .filter((e) => e.to.startsWith(`${ce.id}:`))
      .map((e) => e.to)
      .sort(),
    [`${ce.id}:input`, `${ce.id}:target`],
  );
  const reimported = compileModel(doc, { weights });
  const feeds = { x: new ort.Tensor('float32', random(15, 1), [3, 5]), labels: new ort.Tensor('int64', BigInt64Array.of(1n, 2n, 3n), [3]) };
  const [a, b] = await Promise.all([ort.InferenceSession.create(encodeModelBytes(exported.model)), ort.InferenceSession.create(encodeModelBytes(reimported.model))]);
  const loss = async (s: ort.InferenceSession, name: string) => ((await s.run(feeds))[name].data as Float32Array)[0];
  assert.equal(await loss(b, reimported.outputs[0].name), await loss(a, exported.outputs[0].name));
});
