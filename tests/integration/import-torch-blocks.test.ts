/**
 * Small torch.nn blocks exported by PyTorch 1.13 (tests/fixtures/torch-blocks, made by
 * scripts/fixtures/make_torch_blocks.py): each imports without errors, counts what PyTorch counts, and
 * re-exports to the same function on ONNX Runtime, at the exported batch size and at another one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { inferShapes } from '../../core/index.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { importOnnx } from '../../core/convert/import.ts';
import { attributeFromJson, attributeToJson } from '../../core/onnx/attributes.ts';
import { OnnxBuilder, floatTensor, valueInfo } from '../../core/onnx/builder.ts';
import { decodeModel, encodeModelBytes, int64Values, type ModelProto } from '../../core/onnx/proto.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, initialCarried, nextName } from '../../core/train/step.ts';
import { worstError } from './fixtures.ts';

const DIR = new URL('../fixtures/torch-blocks/', import.meta.url);
interface Entry {
  params: number;
  input: number[];
  dtype: 'float' | 'long';
  inputs: string[];
  batchAxis: number | null;
  afterStep?: number[];
}
const MANIFEST = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as Record<string, Entry>;
const load = (name: string) => readFileSync(new URL(`${name}.onnx`, DIR));

function feeds(entry: Entry, shape: number[]): ort.Tensor[] {
  // The inputs make_torch_blocks.py uses for its training step.
  const n = shape.reduce((a, b) => a * b, 1);
  return entry.inputs.map((_, k) =>
    entry.dtype === 'long'
      ? new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7 + k) % 48)),
          shape,
        )
      : new ort.Tensor(
          'float32',
          Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + k)),
          shape,
        ),
  );
}

/** Import, count, re-export and run both files at the exported batch and (when it is dynamic) at batch 3. */
async function roundTrip(name: string): Promise<void> {
  const entry = MANIFEST[name];
  const bytes = load(name);
  const { doc, weights } = importOnnx(decodeModel(bytes), name);
  const inference = inferShapes(doc);
  assert.deepEqual(
    inference.diagnostics().map((d) => `${d.nodeId}: ${d.message}`),
    [],
  );
  assert.equal(inference.getTotals().totalParams, entry.params, 'parameters, as PyTorch counts them');
  const compiled = compileModel(doc, { weights });
  const [original, reexported] = await Promise.all([ort.InferenceSession.create(bytes), ort.InferenceSession.create(encodeModelBytes(compiled.model))]);
  const shapes = [entry.input];
  if (entry.batchAxis !== null) shapes.push(entry.input.map((d, i) => (i === entry.batchAxis ? 3 : d)));
  for (const shape of shapes) {
    const x = feeds(entry, shape);
    const expected = (await original.run(Object.fromEntries(entry.inputs.map((n, i) => [n, x[i]])))).y;
    const actual = (await reexported.run(Object.fromEntries(compiled.inputs.map((v, i) => [v.name, x[i]]))))[compiled.outputs[0].name];
    assert.deepEqual(actual.dims, expected.dims, `output shape at input ${shape.join('×')}`);
    assert.deepEqual([...(actual.data as Float32Array)], [...(expected.data as Float32Array)], `outputs at input ${shape.join('×')}`);
  }
}

describe('torch.nn blocks import, count and re-export exactly', () => {
  for (const name of Object.keys(MANIFEST)) test(name, () => roundTrip(name));
});

test('a batch baked into the export stays exact (never shown as N); a symbolic batch on axis 1 leaves axis 0 exact', () => {
  const shapeOf = (name: string) => {
    const { doc } = importOnnx(decodeModel(load(name)), name);
    const inference = inferShapes(doc);
    return doc.nodes.filter((n) => n.op === 'Input').map((n) => inference.node(n.id)!.outputs![0].shape);
  };
  assert.deepEqual(shapeOf('transformer_encoder_static4'), [[4, 10, 16]]);
  assert.deepEqual(shapeOf('transformer_decoder_layer'), [
    [5, 'N', 16],
    [5, 'N', 16],
  ]);
});

test('the re-exported TransformerDecoderLayer (cross-attention slices to INT64_MAX) loads and matches on ONNX Runtime', async () => {
  const entry = MANIFEST.transformer_decoder_layer;
  const bytes = load('transformer_decoder_layer');
  const { doc, weights } = importOnnx(decodeModel(bytes));
  const compiled = compileModel(doc, { weights });
  const [original, reexported] = await Promise.all([ort.InferenceSession.create(bytes), ort.InferenceSession.create(encodeModelBytes(compiled.model))]);
  const x = feeds(entry, [5, 3, 16]);
  const expected = (await original.run({ x: x[0], memory: x[1] })).y;
  const actual = (await reexported.run(Object.fromEntries(compiled.inputs.map((v, i) => [v.name, x[i]]))))[compiled.outputs[0].name];
  assert.deepEqual([...(actual.data as Float32Array)], [...(expected.data as Float32Array)]);
});

test("a Constant node's tensor (a zero initial state expanded to the batch) is kept but is not a parameter", async () => {
  const b = new OnnxBuilder(17);
  const zeros = b.op('Constant', [], { value: floatTensor('', [1, 20], new Float32Array(20)) });
  const h0 = b.op('Expand', [zeros, b.op('Shape', ['x'])]);
  b.op('Add', ['x', h0], {}, 'y');
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: b.nodes, initializer: b.initializers, input: [valueInfo('x', { shape: ['N', 20], dtype: 'float32' })], output: [valueInfo('y', { shape: ['N', 20], dtype: 'float32' })] },
  };
  const { doc, weights } = importOnnx(decodeModel(encodeModelBytes(model)));
  assert.equal(inferShapes(doc).getTotals().totalParams, 0);
  const compiled = compileModel(doc, { weights });
  const session = await ort.InferenceSession.create(encodeModelBytes(compiled.model));
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 40 }, (_, i) => i),
    [2, 20],
  );
  assert.deepEqual([...((await session.run({ [compiled.inputs[0].name]: x }))[compiled.outputs[0].name].data as Float32Array)], [...x.data]);
});

test("x[:, 1:] keeps PyTorch's INT64_MAX end bit-exact: in the document and in the re-exported file", () => {
  const { doc, weights } = importOnnx(decodeModel(load('slice_to_end')));
  assert.match(JSON.stringify(doc), /"9223372036854775807"/);
  const compiled = compileModel(doc, { weights });
  const slice = compiled.model.graph.node.find((n) => n.op_type === 'Slice')!;
  const end = [...compiled.model.graph.initializer!, ...compiled.model.graph.node.filter((n) => n.op_type === 'Constant').map((n) => ({ ...n.attribute![0].t!, name: n.output[0] }))].find(
    (t) => t.name === slice.input[2],
  )!;
  assert.deepEqual(int64Values(end), ['9223372036854775807']);
});

test('int64 attributes beyond 2^53 round-trip exactly through the document form', () => {
  const b = new OnnxBuilder(9);
  b.op('Slice', ['x'], { starts: [1], ends: [0], axes: [1] }, 'y');
  const node = b.nodes[0];
  node.attribute!.find((a) => a.name === 'ends')!.ints = ['9223372036854775807'];
  const model: ModelProto = {
    ir_version: 4,
    opset_import: [{ domain: '', version: 9 }],
    graph: { name: 'g', node: [node], input: [valueInfo('x', { shape: [2, 5], dtype: 'float32' })], output: [valueInfo('y', { shape: [2, 4], dtype: 'float32' })] },
  };
  const decoded = decodeModel(encodeModelBytes(model));
  const ends = decoded.graph.node[0].attribute!.find((a) => a.name === 'ends')!;
  const json = attributeToJson(ends);
  assert.deepEqual(json.value, ['9223372036854775807']);
  const back = decodeModel(
    encodeModelBytes({ ...decoded, graph: { ...decoded.graph, node: [{ ...decoded.graph.node[0], attribute: [attributeFromJson('ends', JSON.parse(JSON.stringify(json)))] }] } }),
  );
  assert.deepEqual(back.graph.node[0].attribute![0].ints, ['9223372036854775807']);
});

describe("imported blocks train: one SGD step equals PyTorch's (shared weights stored once, their gradients summed)", () => {
  for (const name of Object.keys(MANIFEST).filter((n) => MANIFEST[n].afterStep)) {
    test(name, async () => {
      const entry = MANIFEST[name];
      const { doc, weights } = importOnnx(decodeModel(load(name)), name);
      const graph = buildTrainingGraph(doc, { optimizer: optimizerConfig('sgd', { lr: 0.1 }), loss: 'mse', weights });
      assert.equal(
        graph.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0),
        entry.params,
        'trained parameters, each once',
      );
      const session = await ort.InferenceSession.create(encodeModelBytes(graph.step));
      const x = feeds(entry, entry.input);
      const prediction = graph.predictionType.shape.map((d, i) => (typeof d === 'number' ? d : (entry.input[entry.batchAxis ?? 0] ?? i)));
      const carried = initialCarried(graph);
      const feed: Record<string, ort.Tensor> = {
        ...Object.fromEntries(graph.inputs.map((v, i) => [v.name, x[i]])),
        [graph.target.name]: new ort.Tensor('float32', new Float32Array(prediction.reduce((a, b) => a * b, 1)), prediction),
        lr: new ort.Tensor('float32', new Float32Array([0.1]), []),
        step: new ort.Tensor('float32', new Float32Array([1]), []),
      };
      for (const [key, { shape, data }] of carried) feed[key] = new ort.Tensor('float32', data, shape);
      const out = await session.run(feed);
      const trained = new Map(graph.weights);
      for (const p of graph.params) trained.set(p.key, { shape: p.shape, data: out[nextName(p.key)].data as Float32Array });
      const compiled = compileModel(doc, { weights: trained });
      const after = await ort.InferenceSession.create(encodeModelBytes(compiled.model));
      const y = (await after.run(Object.fromEntries(compiled.inputs.map((v, i) => [v.name, x[i]]))))[compiled.outputs[0].name].data as Float32Array;
      assert.equal(worstError(y, entry.afterStep!, 1e-5, 1e-4), 0, 'outputs after one step, against PyTorch');
    });
  }
});
