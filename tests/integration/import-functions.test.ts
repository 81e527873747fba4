/**
 * Module hierarchy from ONNX functions and node metadata. The function models are PyTorch 1.13 exports
 * with `export_modules_as_functions` (tests/fixtures/onnx-functions, made by
 * scripts/fixtures/make_function_fixtures.py): import inlines each call, groups its nodes under a block
 * named after the call, counts what PyTorch counts, and re-exports the same function (ONNX Runtime gives
 * the same outputs as for the original file). Node metadata (pkg.torch.onnx.name_scopes, ONNX ≥ 1.16)
 * groups nodes whose names carry no module path.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { inferShapes } from '../../core/index.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { importOnnx } from '../../core/convert/import.ts';
import type { TensorType } from '../../core/graph/dim.ts';
import { groupsOf, nameScopePath } from '../../core/graph/modules.ts';
import { OnnxBuilder, floatTensor, valueInfo } from '../../core/onnx/builder.ts';
import { inlineFunctions } from '../../core/onnx/functions.ts';
import { AttrType, decodeModel, encodeModelBytes, OnnxFormatError, type FunctionProto, type GraphProto, type ModelProto, type NodeProto } from '../../core/onnx/proto.ts';
import { worstError } from './fixtures.ts';

const DIR = new URL('../fixtures/onnx-functions/', import.meta.url);
const MANIFEST = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as Record<string, { params: number; input: number[]; calls: [string, string][] }>;
const load = (name: string) => readFileSync(new URL(`${name}.onnx`, DIR));

for (const [name, entry] of Object.entries(MANIFEST)) {
  test(`${name}: each function call is inlined, grouped under its call, counted as PyTorch counts, and re-exported to the same outputs`, async () => {
    const bytes = load(name);
    const file = decodeModel(bytes);
    assert.ok((file.functions ?? []).length > 0, 'the fixture holds local functions');
    const { doc, weights } = importOnnx(file, name);
    assert.ok(!doc.nodes.some((n) => n.op === 'OnnxOp' && n.params.domain), 'no node still calls a function');
    const inference = inferShapes(doc);
    assert.deepEqual(
      inference.diagnostics().map((d) => `${d.nodeId}: ${d.message}`),
      [],
    );
    assert.equal(inference.getTotals().totalParams, entry.params, 'parameters, as PyTorch counts them');

    const groups = groupsOf(doc);
    assert.deepEqual(
      groups.filter((g) => !g.parent).map((g) => g.label),
      entry.calls.map(([call, fn]) => `${fn} ${call}`),
      'one top-level block per call, named after the function and the call',
    );
    const grouped = new Set(groups.flatMap((g) => g.nodes));
    assert.deepEqual(
      doc.nodes.filter((n) => !grouped.has(n.id)).map((n) => n.op),
      ['Input', 'Linear', 'Linear'],
      'only the nodes outside the calls stay ungrouped',
    );

    const compiled = compileModel(doc, { weights });
    const [original, reexported] = await Promise.all([ort.InferenceSession.create(bytes), ort.InferenceSession.create(encodeModelBytes(compiled.model))]);
    for (const batch of [entry.input[0], 3]) {
      const shape = [batch, ...entry.input.slice(1)];
      const x = new ort.Tensor(
        'float32',
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.7)),
        shape,
      );
      const expected = (await original.run({ x })).y;
      const actual = (await reexported.run({ [compiled.inputs[0].name]: x }))[compiled.outputs[0].name];
      assert.deepEqual(actual.dims, expected.dims);
      assert.equal(worstError(actual.data as Float32Array, expected.data as Float32Array, 1e-6, 1e-5), 0, `outputs at batch ${batch}`);
    }
  });
}

test("blocks: each call's attribute reaches its body (LeakyReLU's slope 0.1 and 0.2), and a nested call sits inside its caller", () => {
  const { model, calls } = inlineFunctions(decodeModel(load('blocks')));
  assert.equal(model.functions, undefined);
  const slopes = model.graph.node.filter((n) => n.op_type === 'LeakyRelu').map((n) => n.attribute!.map((a) => [a.name, +a.f!.toFixed(3)]));
  assert.deepEqual(slopes, [[['alpha', 0.1]], [['alpha', 0.2]]]);
  const norm = model.graph.node.filter((n) => n.op_type === 'LayerNormalization');
  assert.deepEqual(
    norm.map((n) => calls.get(n)),
    [
      ['Block /b1/norm/Block', 'LayerNorm LayerNorm_5'],
      ['Block /b2/norm/Block', 'LayerNorm LayerNorm_5'],
    ],
  );
  // The two calls' values stay apart: no value is written twice.
  const outputs = model.graph.node.flatMap((n) => n.output);
  assert.equal(new Set(outputs).size, outputs.length);
});

test("calls inside a subgraph are inlined, and a subgraph in a body still reads that call's values: ONNX Runtime gives the same outputs", async () => {
  const type: TensorType = { shape: ['N', 4], dtype: 'float32' };
  const yes = { name: '', dims: [], data_type: 9, int32_data: [1] };
  const branch = (name: string, node: NodeProto[], output: string): GraphProto => ({ name, node, input: [], output: [valueInfo(output, type)] });
  // double(a) = Relu(a) + Relu(a), its If's branch reading the body's own value s.
  const double: FunctionProto = {
    name: 'Double',
    domain: 'local',
    input: ['a'],
    output: ['b'],
    opset_import: [{ domain: '', version: 17 }],
    node: [
      { op_type: 'Relu', input: ['a'], output: ['s'] },
      { op_type: 'Constant', input: [], output: ['c'], attribute: [{ name: 'value', type: AttrType.TENSOR, t: yes }] },
      {
        op_type: 'If',
        input: ['c'],
        output: ['b'],
        attribute: [
          { name: 'then_branch', type: AttrType.GRAPH, g: branch('then', [{ op_type: 'Add', input: ['s', 's'], output: ['t'] }], 't') },
          { name: 'else_branch', type: AttrType.GRAPH, g: branch('else', [{ op_type: 'Identity', input: ['s'], output: ['e'] }], 'e') },
        ],
      },
    ],
  };
  // The main graph calls it twice inside an If's branch.
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [
      { domain: '', version: 17 },
      { domain: 'local', version: 1 },
    ],
    graph: {
      name: 'g',
      node: [
        { op_type: 'Constant', input: [], output: ['go'], attribute: [{ name: 'value', type: AttrType.TENSOR, t: yes }] },
        {
          op_type: 'If',
          input: ['go'],
          output: ['y'],
          attribute: [
            {
              name: 'then_branch',
              type: AttrType.GRAPH,
              g: branch(
                'twice',
                [
                  { op_type: 'Double', domain: 'local', name: 'first', input: ['x'], output: ['p'] },
                  { op_type: 'Double', domain: 'local', name: 'second', input: ['p'], output: ['q'] },
                ],
                'q',
              ),
            },
            { name: 'else_branch', type: AttrType.GRAPH, g: branch('none', [{ op_type: 'Identity', input: ['x'], output: ['r'] }], 'r') },
          ],
        },
      ],
      input: [valueInfo('x', type)],
      output: [valueInfo('y', type)],
    },
    functions: [double],
  };
  const inlined = inlineFunctions(model).model;
  assert.doesNotMatch(
    JSON.stringify(inlined, (k, v) => (k === 'raw_data' ? undefined : v)),
    /"op_type":"Double"/,
  );
  const x = new ort.Tensor('float32', Float32Array.from([-1, 0.5, 2, -3, 4, 1, -0.25, 3]), [2, 4]);
  const [original, flat] = await Promise.all([ort.InferenceSession.create(encodeModelBytes(model)), ort.InferenceSession.create(encodeModelBytes(inlined))]);
  const expected = (await original.run({ x })).y.data as Float32Array;
  assert.deepEqual([...expected], [0, 2, 8, 0, 16, 4, 0, 12]);
  assert.deepEqual([...((await flat.run({ x })).y.data as Float32Array)], [...expected]);
});

test('a function that calls itself is refused with a message naming it', () => {
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [
      { domain: '', version: 17 },
      { domain: 'local', version: 1 },
    ],
    graph: {
      node: [{ op_type: 'Loop', domain: 'local', name: 'call', input: ['x'], output: ['y'] }],
      input: [valueInfo('x', { shape: ['N', 4], dtype: 'float32' })],
      output: [valueInfo('y', { shape: ['N', 4], dtype: 'float32' })],
    },
    functions: [{ name: 'Loop', domain: 'local', input: ['a'], output: ['b'], node: [{ op_type: 'Loop', domain: 'local', name: 'again', input: ['a'], output: ['b'] }] }],
  };
  assert.throws(() => importOnnx(model), new OnnxFormatError('function "Loop" calls itself (through node "again"), so it cannot be inlined'));
});

test('name_scopes metadata gives the module path of nodes whose names carry none', () => {
  assert.deepEqual(nameScopePath("['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'convolution']"), ['layer1', 'layer1.0', 'conv1']);
  assert.deepEqual(nameScopePath("['', 'encoder', 'encoder.layers.0', 'linear_3']"), ['encoder', 'layers.0']);
  assert.deepEqual(nameScopePath("['', 'relu']"), []);

  // Two blocks of Linear + ReLU, named as the newer exporter names nodes, their scopes in metadata only.
  const b = new OnnxBuilder(17);
  let x = 'x';
  for (const block of ['blocks.0', 'blocks.1']) {
    const w = b.addInitializer(floatTensor(`${block}.fc.weight`, [4, 4], new Float32Array(16).fill(0.1)));
    const scope = (own: string, module: string[]) => ({ key: 'pkg.torch.onnx.name_scopes', value: `[${['', 'blocks', ...module, own].map((s) => `'${s}'`).join(', ')}]` });
    x = b.op('MatMul', [x, w]);
    Object.assign(b.nodes.at(-1)!, { name: `node_linear_${block}`, metadata_props: [scope('linear', [block, `${block}.fc`])] });
    x = b.op('Relu', [x], {}, block === 'blocks.1' ? 'y' : undefined);
    Object.assign(b.nodes.at(-1)!, { name: `node_relu_${block}`, metadata_props: [scope('relu', [block])] });
  }
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: b.nodes, initializer: b.initializers, input: [valueInfo('x', { shape: ['N', 4], dtype: 'float32' })], output: [valueInfo('y', { shape: ['N', 4], dtype: 'float32' })] },
  };
  // Through the file format: NodeProto.metadata_props (field 14) is written and read back.
  const { doc } = importOnnx(decodeModel(encodeModelBytes(model)));
  const groups = groupsOf(doc).map((g) => ({ label: g.label, parent: g.parent, ops: g.nodes.map((id) => doc.nodes.find((n) => n.id === id)!.op) }));
  assert.deepEqual(groups, [
    { label: 'blocks', parent: undefined, ops: ['Linear', 'ReLU', 'Linear', 'ReLU'] },
    { label: 'blocks.0', parent: 'm:blocks', ops: ['Linear', 'ReLU'] },
    { label: 'blocks.1', parent: 'm:blocks', ops: ['Linear', 'ReLU'] },
  ]);
  assert.deepEqual(
    doc.nodes.filter((n) => n.op === 'Linear').map((n) => n.module),
    ['blocks.0.fc', 'blocks.1.fc'],
  );
});
