/** mergeDuplicateNodes: a repeated computation is made once, and the graph still computes the same values. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { OnnxBuilder, valueInfo } from '../../core/onnx/builder.ts';
import { mergeDuplicateNodes } from '../../core/onnx/merge-duplicates.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';

test('repeated nodes are merged, their readers rewired, and the outputs stay the same', async () => {
  const b = new OnnxBuilder(17);
  // Two identical centrings; the second's readers (and a node that becomes a duplicate once rewired) follow.
  const centred = b.op('Sub', ['x', b.reduce('ReduceMean', 'x', [1], true)]);
  const again = b.op('Sub', ['x', b.reduce('ReduceMean', 'x', [1], true)]);
  const squares = [b.op('Mul', [centred, centred]), b.op('Mul', [again, again])];
  // Same inputs, different attributes: both stay.
  const sums = [b.reduce('ReduceSum', squares[0], [1], false), b.reduce('ReduceSum', squares[1], [1], true)];
  // A duplicate that writes a graph output stays, so that the output is still made.
  b.op('Mul', [centred, centred], {}, 'kept');
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: { name: 'g', node: b.nodes, initializer: b.initializers, input: [valueInfo('x', { shape: [2, 3], dtype: 'float32' })], output: [...sums, 'kept'].map((name) => ({ name })) },
  };
  const x = new ort.Tensor('float32', Float32Array.from([1, 2, 4, -1, 0.5, 3]), [2, 3]);
  const run = async () => {
    const session = await ort.InferenceSession.create(encodeModelBytes(model));
    const out = await session.run({ x });
    await session.release();
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
  };
  const before = await run();
  assert.equal(mergeDuplicateNodes(b.nodes, new Set([...sums, 'kept'])), 3);
  assert.deepEqual(
    b.nodes.map((n) => n.op_type),
    ['ReduceMean', 'Sub', 'Mul', 'ReduceSum', 'ReduceSum', 'Mul'],
  );
  assert.deepEqual(b.nodes[4].input[0], squares[0]);
  assert.deepEqual(await run(), before);
});

test('random draws and nodes with subgraphs or tensor attributes are never merged', () => {
  const b = new OnnxBuilder(17);
  b.op('RandomNormalLike', ['x']);
  b.op('RandomNormalLike', ['x']);
  b.op('Dropout', ['x', b.floats([0.5]), b.trueScalar()]);
  b.op('Dropout', ['x', b.floats([0.5]), b.trueScalar()]);
  const value = { dims: [1], data_type: 1, raw_data: new Uint8Array(4) };
  b.op('Constant', [], { value });
  b.op('Constant', [], { value });
  assert.equal(mergeDuplicateNodes(b.nodes, new Set()), 0);
  assert.equal(b.nodes.length, 6);
});
