/**
 * Every gradient rule against central finite differences, on ONNX Runtime: a small graph y = op(x, ...),
 * a loss Σ y·R with a fixed random R, the backward pass built by core/autodiff, and each input's
 * gradient compared element by element with (L(x + ε) − L(x − ε)) / 2ε.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { annotate } from '../../core/autodiff/types.ts';
import { buildBackward } from '../../core/autodiff/backward.ts';
import { RULES } from '../../core/autodiff/rules.ts';
import { OnnxBuilder, floatTensor, int64Tensor } from '../../core/onnx/builder.ts';
import { valueInfo } from '../../core/onnx/builder.ts';
import { encodeModelBytes, type ModelProto } from '../../core/onnx/proto.ts';

interface InputSpec {
  shape: number[];
  /** Values kept away from kinks and out of domain: 'positive' (log, sqrt), 'distinct' (max pooling). */
  kind?: 'positive' | 'distinct';
  /** Axes declared as symbols in the graph (sizes the rules must not rely on). */
  symbolic?: number[];
}

function values(spec: InputSpec, seed: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => {
    const v = Math.sin(seed * 7.3 + i * 1.91) * 1.5;
    if (spec.kind === 'positive') return 0.3 + Math.abs(v);
    if (spec.kind === 'distinct') return ((i * 0.37 + seed) % 3) - 1.5 + ((i * 7) % 5) * 0.013;
    return Math.abs(v) < 0.1 ? v + 0.3 : v;
  });
}

async function check(op: string, inputs: Record<string, InputSpec>, body: (b: OnnxBuilder) => string, opset = 17, tolerance = 2e-2) {
  const b = new OnnxBuilder(opset);
  const y = body(b);
  const graphInputs = Object.entries(inputs).map(([name, s]) => valueInfo(name, { shape: s.shape.map((d, i) => (s.symbolic?.includes(i) ? `${name}_${i}` : d)), dtype: 'float32' }));
  const probe: ModelProto = {
    ir_version: opset >= 20 ? 9 : 8,
    opset_import: [{ domain: '', version: opset }],
    graph: { name: 'g', node: [...b.nodes], initializer: [...b.initializers], input: graphInputs, output: [] },
  };
  const concrete = { ...probe, graph: { ...probe.graph, input: Object.entries(inputs).map(([name, s]) => valueInfo(name, { shape: s.shape, dtype: 'float32' })) } };
  const yShape = annotate(concrete.graph, opset).get(y)!.shape as number[];
  const r = b.addInitializer(floatTensor('R', yShape, values({ shape: yShape }, 99)));
  const loss = b.op('ReduceSum', [b.op('Mul', [y, r]), b.ints(yShape.map((_, i) => i))], { keepdims: 0 });
  const forward = [...b.nodes];
  const graph = { name: 'g', node: forward, initializer: b.initializers, input: graphInputs, output: [] as ReturnType<typeof valueInfo>[] };
  const types = annotate(graph, opset);
  const grads = buildBackward(b, { nodes: forward, loss, wrt: Object.keys(inputs), types });
  graph.node = b.nodes;
  graph.output = [valueInfo(loss, { shape: [], dtype: 'float32' }), ...[...grads].map(([x, g]) => valueInfo(g, { shape: inputs[x].shape, dtype: 'float32' }))];
  const session = await ort.InferenceSession.create(encodeModelBytes({ ...probe, graph }));
  const feeds = Object.fromEntries(Object.entries(inputs).map(([name, s], k) => [name, new ort.Tensor('float32', values(s, k + 1), s.shape)]));
  const analytic = await session.run(feeds);
  const lossAt = async (name: string, i: number, delta: number) => {
    const data = (feeds[name].data as Float32Array).slice();
    data[i] += delta;
    return ((await session.run({ ...feeds, [name]: new ort.Tensor('float32', data, inputs[name].shape) }))[loss].data as Float32Array)[0];
  };
  assert.equal(grads.size, Object.keys(inputs).length, `${op}: a gradient for every input`);
  const eps = 1e-2;
  for (const [name, g] of grads) {
    const got = analytic[g].data as Float32Array;
    for (let i = 0; i < got.length; i++) {
      const fd = ((await lossAt(name, i, eps)) - (await lossAt(name, i, -eps))) / (2 * eps);
      assert.ok(Math.abs(fd - got[i]) <= tolerance * (1 + Math.abs(fd)), `${op} d/d${name}[${i}]: analytic ${got[i]}, finite differences ${fd}`);
    }
  }
  await session.release();
}

/** Name, inputs, the graph, and the opset when the op is newer than 17. */
const CASES: [string, Record<string, InputSpec>, (b: OnnxBuilder) => string, number?][] = [
  ['Add', { a: { shape: [2, 3] }, c: { shape: [3] } }, (b) => b.op('Add', ['a', 'c'])],
  ['LRN', { x: { shape: [2, 5, 2, 2] } }, (b) => b.op('LRN', ['x'], { size: 3, alpha: { float: 0.5 }, beta: { float: 0.75 }, bias: { float: 1 } })],
  ['LRN window wider than the channels', { x: { shape: [1, 3, 2, 1] } }, (b) => b.op('LRN', ['x'], { size: 5, alpha: { float: 0.8 }, beta: { float: 0.6 }, bias: { float: 2 } })],
  ['Sum', { a: { shape: [2, 3] }, c: { shape: [3] }, d: { shape: [] } }, (b) => b.op('Sum', ['a', 'c', 'd'])],
  ['Sub', { a: { shape: [2, 1] }, c: { shape: [2, 3] } }, (b) => b.op('Sub', ['a', 'c'])],
  ['Mul', { a: { shape: [2, 3] }, c: { shape: [1, 3] } }, (b) => b.op('Mul', ['a', 'c'])],
  ['Div', { a: { shape: [2, 3] }, c: { shape: [3], kind: 'positive' } }, (b) => b.op('Div', ['a', 'c'])],
  ['Neg', { x: { shape: [4] } }, (b) => b.op('Neg', ['x'])],
  ['Relu', { x: { shape: [2, 4] } }, (b) => b.op('Relu', ['x'])],
  ['LeakyRelu', { x: { shape: [2, 4] } }, (b) => b.op('LeakyRelu', ['x'], { alpha: { float: 0.2 } })],
  ['Sigmoid', { x: { shape: [5] } }, (b) => b.op('Sigmoid', ['x'])],
  ['Tanh', { x: { shape: [5] } }, (b) => b.op('Tanh', ['x'])],
  ['Exp', { x: { shape: [4] } }, (b) => b.op('Exp', ['x'])],
  ['Log', { x: { shape: [4], kind: 'positive' } }, (b) => b.op('Log', ['x'])],
  ['Sqrt', { x: { shape: [4], kind: 'positive' } }, (b) => b.op('Sqrt', ['x'])],
  ['Abs', { x: { shape: [4] } }, (b) => b.op('Abs', ['x'])],
  ['Erf', { x: { shape: [4] } }, (b) => b.op('Erf', ['x'])],
  ['Softplus', { x: { shape: [4] } }, (b) => b.op('Softplus', ['x'])],
  ['Reciprocal', { x: { shape: [4], kind: 'positive' } }, (b) => b.op('Reciprocal', ['x'])],
  ['Where', { a: { shape: [2, 2] }, c: { shape: [2] } }, (b) => b.op('Where', [b.op('Greater', ['a', b.floats([0])]), 'a', 'c'])],
  ['Identity', { x: { shape: [3] } }, (b) => b.op('Identity', ['x'])],
  // Inference-mode Dropout (no mask): the identity. The training form is random, so the trainer test covers it.
  ['Dropout', { x: { shape: [3] } }, (b) => b.op('Dropout', ['x', b.floats([0.3])])],
  ['Reshape', { x: { shape: [2, 3] } }, (b) => b.reshape('x', [3, 2])],
  ['Flatten', { x: { shape: [2, 2, 2] } }, (b) => b.op('Flatten', ['x'], { axis: 1 })],
  ['Squeeze', { x: { shape: [2, 1, 3] } }, (b) => b.squeeze('x', [1])],
  ['Unsqueeze', { x: { shape: [2, 3] } }, (b) => b.unsqueeze('x', [0])],
  ['Transpose', { x: { shape: [2, 3, 4] } }, (b) => b.op('Transpose', ['x'], { perm: [2, 0, 1] })],
  ['MatMul', { a: { shape: [2, 3] }, w: { shape: [3, 4] } }, (b) => b.op('MatMul', ['a', 'w'])],
  ['MatMul (batch × matrix)', { a: { shape: [2, 2, 3] }, w: { shape: [3, 2] } }, (b) => b.op('MatMul', ['a', 'w'])],
  ['MatMul (batched)', { a: { shape: [2, 2, 3] }, w: { shape: [2, 3, 2] } }, (b) => b.op('MatMul', ['a', 'w'])],
  ['Gemm', { a: { shape: [2, 3] }, w: { shape: [4, 3] }, c: { shape: [4] } }, (b) => b.op('Gemm', ['a', 'w', 'c'], { transB: 1 })],
  ['Gemm (no transB)', { a: { shape: [2, 3] }, w: { shape: [3, 4] } }, (b) => b.op('Gemm', ['a', 'w'])],
  ['ReduceSum', { x: { shape: [2, 3, 2] } }, (b) => b.reduce('ReduceSum', 'x', [1], false)],
  ['ReduceMean', { x: { shape: [2, 3, 2] } }, (b) => b.reduce('ReduceMean', 'x', [0, 2], true)],
  ['LogSoftmax', { x: { shape: [2, 4] } }, (b) => b.op('LogSoftmax', ['x'], { axis: 1 })],
  ['Softmax', { x: { shape: [2, 4] } }, (b) => b.op('Softmax', ['x'], { axis: -1 })],
  [
    'NegativeLogLikelihoodLoss',
    { x: { shape: [3, 4] } },
    (b) => b.op('NegativeLogLikelihoodLoss', ['x', b.addInitializer(int64Tensor('y', [3], [1, 3, -1]))], { reduction: 'none', ignore_index: -1 }),
  ],
  [
    'SoftmaxCrossEntropyLoss (mean, one label ignored)',
    { x: { shape: [3, 4] } },
    (b) => b.op('SoftmaxCrossEntropyLoss', ['x', b.addInitializer(int64Tensor('y', [3], [1, 3, -1]))], { ignore_index: -1 }),
  ],
  ['SoftmaxCrossEntropyLoss (sum)', { x: { shape: [3, 4] } }, (b) => b.op('SoftmaxCrossEntropyLoss', ['x', b.addInitializer(int64Tensor('y', [3], [1, 3, 0]))], { reduction: 'sum' })],
  [
    'SoftmaxCrossEntropyLoss (none, N×C×d)',
    { x: { shape: [2, 3, 2] } },
    (b) => b.op('SoftmaxCrossEntropyLoss', ['x', b.addInitializer(int64Tensor('y', [2, 2], [0, 2, 1, 1]))], { reduction: 'none' }),
  ],
  ['Gather', { table: { shape: [5, 2] } }, (b) => b.op('Gather', ['table', b.addInitializer(int64Tensor('ids', [2, 3], [0, 4, 4, 1, 0, 2]))], { axis: 0 })],
  ['Gather (one index)', { x: { shape: [2, 3, 2] } }, (b) => b.op('Gather', ['x', b.ints([1], true)], { axis: -1 })],
  ['Expand', { x: { shape: [2, 1, 3] } }, (b) => b.op('Expand', ['x', b.ints([2, 4, 3])])],
  ['Slice', { x: { shape: [6, 3] } }, (b) => b.slice('x', 0, 2, 5)],
  ['Concat', { a: { shape: [2, 2] }, c: { shape: [2, 3] } }, (b) => b.op('Concat', ['a', 'c'], { axis: 1 })],
  ['LayerNormalization', { x: { shape: [2, 3, 4] }, s: { shape: [4] }, o: { shape: [4] } }, (b) => b.op('LayerNormalization', ['x', 's', 'o'], { axis: -1, epsilon: { float: 1e-5 } })],
  ['LayerNormalization (two axes, no bias)', { x: { shape: [2, 3, 4] }, s: { shape: [3, 4] } }, (b) => b.op('LayerNormalization', ['x', 's'], { axis: -2 })],
  [
    'BatchNormalization (training, the batch statistics as outputs)',
    { x: { shape: [3, 2, 2, 2] }, s: { shape: [2] }, o: { shape: [2] } },
    (b) => b.node('BatchNormalization', ['x', 's', 'o', b.floats([0, 0], [2]), b.floats([1, 1], [2])], { training_mode: 1, momentum: { float: 0 }, epsilon: { float: 1e-3 } }, 3)[0],
  ],
  [
    'BatchNormalization (training, N×C, statistics recomputed)',
    { x: { shape: [4, 3] }, s: { shape: [3] }, o: { shape: [3] } },
    (b) => b.node('BatchNormalization', ['x', 's', 'o', b.floats([0, 0, 0], [3]), b.floats([1, 1, 1], [3])], { training_mode: 1 }, 3)[0],
  ],
  [
    'BatchNormalization (inference, every input)',
    { x: { shape: [2, 3, 2] }, s: { shape: [3] }, o: { shape: [3] }, m: { shape: [3] }, v: { shape: [3], kind: 'positive' } },
    (b) => b.op('BatchNormalization', ['x', 's', 'o', 'm', 'v']),
  ],
  ['Conv', { x: { shape: [2, 2, 5, 5] }, w: { shape: [3, 2, 3, 3] }, c: { shape: [3] } }, (b) => b.op('Conv', ['x', 'w', 'c'], { strides: [2, 2], pads: [1, 1, 1, 1], kernel_shape: [3, 3] })],
  ['Conv (dilated, uneven)', { x: { shape: [1, 1, 7, 6] }, w: { shape: [2, 1, 2, 3] } }, (b) => b.op('Conv', ['x', 'w'], { dilations: [2, 1], strides: [1, 2], kernel_shape: [2, 3] })],
  ['Conv (1-D)', { x: { shape: [2, 2, 6] }, w: { shape: [2, 2, 3] } }, (b) => b.op('Conv', ['x', 'w'], { pads: [1, 1], kernel_shape: [3] })],
  ['Conv (grouped)', { x: { shape: [2, 4, 5, 5] }, w: { shape: [6, 2, 3, 3] } }, (b) => b.op('Conv', ['x', 'w'], { group: 2, pads: [1, 1, 1, 1], kernel_shape: [3, 3] })],
  ['Conv (depthwise, strided)', { x: { shape: [2, 3, 6, 6] }, w: { shape: [6, 1, 3, 3] } }, (b) => b.op('Conv', ['x', 'w'], { group: 3, strides: [2, 2], pads: [1, 1, 1, 1], kernel_shape: [3, 3] })],
  ['Conv (depthwise, stride 1)', { x: { shape: [2, 3, 5, 5] }, w: { shape: [3, 1, 3, 3] } }, (b) => b.op('Conv', ['x', 'w'], { group: 3, pads: [1, 1, 1, 1], kernel_shape: [3, 3] })],
  [
    'Conv (grouped ×2, dilated, uneven pads, stride 1)',
    { x: { shape: [2, 3, 6, 6] }, w: { shape: [6, 1, 3, 3] } },
    (b) => b.op('Conv', ['x', 'w'], { group: 3, dilations: [2, 1], pads: [2, 0, 1, 2], kernel_shape: [3, 3] }),
  ],
  [
    'Conv (grouped ×2, dilated, uneven pads keeping the size, stride 1)',
    { x: { shape: [2, 3, 6, 6] }, w: { shape: [6, 1, 3, 3] } },
    (b) => b.op('Conv', ['x', 'w'], { group: 3, dilations: [2, 1], pads: [3, 0, 1, 2], kernel_shape: [3, 3] }),
  ],
  ['Conv (stride 1, valid: shrinks the image)', { x: { shape: [2, 2, 6, 6] }, w: { shape: [3, 2, 3, 3] }, c: { shape: [3] } }, (b) => b.op('Conv', ['x', 'w', 'c'], { kernel_shape: [3, 3] })],
  [
    'Conv (grouped, strided, dilated)',
    { x: { shape: [2, 6, 7, 7] }, w: { shape: [4, 3, 2, 2] } },
    (b) => b.op('Conv', ['x', 'w'], { group: 2, strides: [2, 2], dilations: [2, 2], kernel_shape: [2, 2] }),
  ],
  ['Conv (pointwise)', { x: { shape: [2, 3, 3, 2] }, w: { shape: [4, 3, 1, 1] }, c: { shape: [4] } }, (b) => b.op('Conv', ['x', 'w', 'c'], { kernel_shape: [1, 1] })],
  ['Conv (pointwise, 1-D, symbolic batch)', { x: { shape: [2, 3, 4], symbolic: [0] }, w: { shape: [2, 3, 1] } }, (b) => b.reshape(b.op('Conv', ['x', 'w'], { kernel_shape: [1] }), [2, 2, 4])],
  ['ConvTranspose (pointwise)', { x: { shape: [2, 3, 2, 2] }, w: { shape: [3, 2, 1, 1] } }, (b) => b.op('ConvTranspose', ['x', 'w'], { kernel_shape: [1, 1] })],
  [
    'ConvTranspose',
    { x: { shape: [2, 2, 3, 3] }, w: { shape: [2, 3, 3, 3] }, c: { shape: [3] } },
    (b) => b.op('ConvTranspose', ['x', 'w', 'c'], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], kernel_shape: [3, 3] }),
  ],
  ['ConvTranspose (grouped)', { x: { shape: [1, 4, 3, 3] }, w: { shape: [4, 1, 2, 2] } }, (b) => b.op('ConvTranspose', ['x', 'w'], { group: 2, strides: [2, 2], kernel_shape: [2, 2] })],
  [
    'ConvTranspose (grouped, output padding)',
    { x: { shape: [2, 4, 3, 3] }, w: { shape: [4, 3, 3, 3] } },
    (b) => b.op('ConvTranspose', ['x', 'w'], { group: 2, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], kernel_shape: [3, 3] }),
  ],
  ['AveragePool', { x: { shape: [1, 2, 5, 5] } }, (b) => b.op('AveragePool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 0 })],
  [
    'AveragePool (ceil, counting pads)',
    { x: { shape: [2, 1, 6, 6] } },
    (b) => b.op('AveragePool', ['x'], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1, ceil_mode: 1 }),
  ],
  ['GatherElements', { x: { shape: [3, 4] } }, (b) => b.op('GatherElements', ['x', b.addInitializer(int64Tensor('idx', [3, 1], [2, 0, 3]))], { axis: 1 })],
  ['ReduceMax', { x: { shape: [2, 3, 4], kind: 'distinct' } }, (b) => b.reduce('ReduceMax', 'x', [2], false)],
  ['MaxPool', { x: { shape: [1, 2, 5, 5], kind: 'distinct' } }, (b) => b.op('MaxPool', ['x'], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })],
  // Disjoint windows take MaxUnpool: gaps between windows, column-major indices; with ceil_mode, a partial last window.
  ['MaxPool (disjoint, padded, ceil)', { x: { shape: [2, 2, 6, 6], kind: 'distinct' } }, (b) => b.op('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 0, 1, 0], ceil_mode: 1 })],
  // GoogLeNet's: the last window of 7 ends past the input (MaxUnpool would need an 8×8 output).
  ['MaxPool (ceil, last window past the edge)', { x: { shape: [2, 3, 7, 7], kind: 'distinct' } }, (b) => b.op('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })],
  ['MaxPool (gaps between windows)', { x: { shape: [1, 2, 7, 7], kind: 'distinct' } }, (b) => b.op('MaxPool', ['x'], { kernel_shape: [2, 2], strides: [3, 3] })],
  ['MaxPool (column-major indices, 1-D)', { x: { shape: [2, 3, 8], kind: 'distinct' } }, (b) => b.op('MaxPool', ['x'], { kernel_shape: [2], strides: [2], storage_order: 1 })],
  ['GlobalAveragePool', { x: { shape: [2, 2, 3, 3] } }, (b) => b.op('GlobalAveragePool', ['x'])],
  // Flat wherever it is differentiable (the values stay away from 0): the stated zero gradient.
  ['Sign', { x: { shape: [2, 3] } }, (b) => b.op('Sign', ['x'])],
  // Ops of imported models (issue 13).
  ['Slice (only the sliced axis known)', { x: { shape: [3, 4, 5], symbolic: [0, 1] } }, (b) => b.reshape(b.op('Slice', ['x', b.ints([1]), b.ints([2 ** 62]), b.ints([2])]), [3, 4, 4])],
  ["Slice (strided, as Swin's patch merging)", { x: { shape: [2, 5, 4, 3] } }, (b) => b.op('Slice', ['x', b.ints([1, 0]), b.ints([2 ** 62, 2 ** 62]), b.ints([1, 2]), b.ints([2, 3])])],
  ['Slice (sliced axes symbolic)', { x: { shape: [4, 6], symbolic: [0, 1] } }, (b) => b.reshape(b.op('Slice', ['x', b.ints([-3, 1]), b.ints([2 ** 62, 4]), b.ints([0, 1])]), [3, 3])],
  ['HardSigmoid', { x: { shape: [2, 5] } }, (b) => b.op('HardSigmoid', [b.op('Mul', ['x', b.floats([3])])], { alpha: { float: 0.25 }, beta: { float: 0.4 } })],
  ['HardSwish', { x: { shape: [2, 5] } }, (b) => b.op('HardSwish', [b.op('Mul', ['x', b.floats([3])])])],
  ['Clip', { x: { shape: [2, 5] } }, (b) => b.op('Clip', ['x', b.floats([-0.55]), b.floats([0.75])])],
  ['Clip (ReLU6, no lower bound given)', { x: { shape: [6] } }, (b) => b.op('Clip', [b.op('Mul', ['x', b.floats([5])]), '', b.floats([6])])],
  ['Pad', { x: { shape: [2, 3, 2] } }, (b) => b.op('Pad', ['x', b.ints([0, 1, 0, 0, 2, 1])])],
  ['Trilu', { x: { shape: [2, 3, 4] } }, (b) => b.op('Trilu', ['x', b.ints([1], true)], { upper: 1 })],
  ['Trilu (lower)', { x: { shape: [4, 3] } }, (b) => b.op('Trilu', ['x'], { upper: 0 })],
  [
    'Resize (nearest, scales)',
    { x: { shape: [1, 2, 2, 3] } },
    (b) => b.op('Resize', ['x', '', b.floats([1, 1, 2, 1.5], [4])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
  ],
  [
    'Resize (bilinear, sizes, align corners)',
    { x: { shape: [2, 1, 3, 2] } },
    (b) => b.op('Resize', ['x', '', '', b.ints([2, 1, 5, 4])], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }),
  ],
  ['Resize (bilinear, half pixel)', { x: { shape: [1, 1, 2, 3] } }, (b) => b.op('Resize', ['x', '', b.floats([1, 1, 2, 2], [4])], { mode: 'linear' })],
  ['Einsum', { a: { shape: [2, 3, 4] }, w: { shape: [4, 5] } }, (b) => b.op('Einsum', ['a', 'w'], { equation: 'nci,ij->ncj' })],
  ['Einsum (implicit output, contraction)', { a: { shape: [3, 2] }, c: { shape: [2, 4] } }, (b) => b.op('Einsum', ['a', 'c'], { equation: 'ij,jk' })],
  ['Cast', { x: { shape: [3] } }, (b) => b.op('Cast', ['x'], { to: 1 })],
  ['Sin', { x: { shape: [4] } }, (b) => b.op('Sin', ['x'])],
  ['Cos', { x: { shape: [4] } }, (b) => b.op('Cos', ['x'])],
  ['Softsign', { x: { shape: [4] } }, (b) => b.op('Softsign', ['x'])],
  ['Elu', { x: { shape: [2, 3] } }, (b) => b.op('Elu', ['x'], { alpha: { float: 0.7 } })],
  ['Selu', { x: { shape: [2, 3] } }, (b) => b.op('Selu', ['x'])],
  ['Pow', { x: { shape: [2, 3], kind: 'positive' }, p: { shape: [3] } }, (b) => b.op('Pow', ['x', 'p'])],
  ['Max', { a: { shape: [2, 3] }, c: { shape: [3] } }, (b) => b.op('Max', ['a', 'c'])],
  ['Min', { a: { shape: [2, 3] }, c: { shape: [2, 3] } }, (b) => b.op('Min', ['a', 'c'])],
  ['Split', { x: { shape: [2, 5] } }, (b) => b.op('Mul', [b.node('Split', ['x', b.ints([2, 3])], { axis: 1 }, 2)[1], b.floats([2])])],
  ['Tile', { x: { shape: [2, 3] } }, (b) => b.op('Tile', ['x', b.ints([2, 3])])],
  ['CumSum', { x: { shape: [2, 4] } }, (b) => b.op('CumSum', ['x', b.ints([1], true)], { exclusive: 1 })],
  ['PRelu', { x: { shape: [2, 3, 2] }, s: { shape: [3, 1] } }, (b) => b.op('PRelu', ['x', 's'])],
  ['Tan', { x: { shape: [4] } }, (b) => b.op('Tan', [b.op('Mul', ['x', b.floats([0.5])])])],
  ['Asin', { x: { shape: [4] } }, (b) => b.op('Asin', [b.op('Mul', ['x', b.floats([0.4])])])],
  ['Acos', { x: { shape: [4] } }, (b) => b.op('Acos', [b.op('Mul', ['x', b.floats([0.4])])])],
  ['Atan', { x: { shape: [4] } }, (b) => b.op('Atan', ['x'])],
  ['Sinh', { x: { shape: [4] } }, (b) => b.op('Sinh', ['x'])],
  ['Cosh', { x: { shape: [4] } }, (b) => b.op('Cosh', ['x'])],
  ['Asinh', { x: { shape: [4] } }, (b) => b.op('Asinh', ['x'])],
  ['Acosh', { x: { shape: [4], kind: 'positive' } }, (b) => b.op('Acosh', [b.op('Add', ['x', b.floats([1.2])])])],
  ['Atanh', { x: { shape: [4] } }, (b) => b.op('Atanh', [b.op('Mul', ['x', b.floats([0.4])])])],
  ['ThresholdedRelu', { x: { shape: [6] } }, (b) => b.op('ThresholdedRelu', ['x'], { alpha: { float: 0.5 } })],
  ['Shrink', { x: { shape: [6] } }, (b) => b.op('Shrink', ['x'], { lambd: { float: 0.6 }, bias: { float: 0.2 } })],
  ['Mish', { x: { shape: [5] } }, (b) => b.op('Mish', ['x']), 18],
  ['Celu', { x: { shape: [5] } }, (b) => b.op('Celu', ['x'], { alpha: { float: 0.8 } })],
  ['Gelu', { x: { shape: [5] } }, (b) => b.op('Gelu', ['x']), 20],
  ['Gelu (tanh)', { x: { shape: [5] } }, (b) => b.op('Gelu', ['x'], { approximate: 'tanh' }), 20],
  ['Floor', { x: { shape: [4] } }, (b) => b.op('Floor', [b.op('Mul', ['x', b.floats([3.3])])])],
  ['Ceil', { x: { shape: [4] } }, (b) => b.op('Ceil', [b.op('Mul', ['x', b.floats([3.3])])])],
  ['Round', { x: { shape: [4] } }, (b) => b.op('Round', [b.op('Mul', ['x', b.floats([3.3])])])],
  ['Mean', { a: { shape: [2, 3] }, c: { shape: [3] } }, (b) => b.op('Mean', ['a', 'c'])],
  ['ReduceMin', { x: { shape: [2, 3, 4], kind: 'distinct' } }, (b) => b.op('ReduceMin', ['x'], { axes: [1], keepdims: 0 })],
  ['ReduceSumSquare', { x: { shape: [2, 3] } }, (b) => b.op('ReduceSumSquare', ['x'], { axes: [1], keepdims: 1 })],
  ['ReduceL1', { x: { shape: [2, 3] } }, (b) => b.op('ReduceL1', ['x'], { axes: [0], keepdims: 0 })],
  ['ReduceL2', { x: { shape: [2, 3] } }, (b) => b.op('ReduceL2', ['x'], { axes: [1], keepdims: 0 })],
  ['ReduceLogSumExp', { x: { shape: [2, 3] } }, (b) => b.op('ReduceLogSumExp', ['x'], { axes: [1], keepdims: 1 })],
  ['DepthToSpace', { x: { shape: [1, 8, 2, 3] } }, (b) => b.op('DepthToSpace', ['x'], { blocksize: 2, mode: 'DCR' })],
  ['SpaceToDepth', { x: { shape: [1, 2, 4, 2] } }, (b) => b.op('SpaceToDepth', ['x'], { blocksize: 2 })],
  ['TopK', { x: { shape: [2, 5], kind: 'distinct' } }, (b) => b.node('TopK', ['x', b.ints([2])], { axis: 1 }, 2)[0]],
  ['GlobalMaxPool', { x: { shape: [2, 2, 2, 3], kind: 'distinct' } }, (b) => b.op('GlobalMaxPool', ['x'])],
  ['InstanceNormalization', { x: { shape: [2, 3, 2, 2] }, s: { shape: [3] }, o: { shape: [3] } }, (b) => b.op('InstanceNormalization', ['x', 's', 'o'], { epsilon: { float: 1e-5 } })],
  ['ScatterElements', { x: { shape: [3, 4] }, u: { shape: [3, 1] } }, (b) => b.op('ScatterElements', ['x', b.addInitializer(int64Tensor('where', [3, 1], [2, 0, 3])), 'u'], { axis: 1 })],
  ['GatherND', { x: { shape: [3, 4] } }, (b) => b.op('GatherND', ['x', b.addInitializer(int64Tensor('at', [3, 2], [0, 1, 2, 3, 0, 1]))])],
  // ONNX's recurrent ops, with every input differentiated (T = 3, batch 2, 3 features, H = 2).
  [
    'LSTM (bidirectional, initial states)',
    { x: { shape: [3, 2, 3] }, w: { shape: [2, 8, 3] }, r: { shape: [2, 8, 2] }, bias: { shape: [2, 16] }, h0: { shape: [2, 2, 2] }, c0: { shape: [2, 2, 2] } },
    (b) => {
      const [y, h, c] = b.node('LSTM', ['x', 'w', 'r', 'bias', '', 'h0', 'c0'], { hidden_size: 2, direction: 'bidirectional' }, 3);
      return b.op('Add', [b.op('ReduceSum', [y, b.ints([0])], { keepdims: 0 }), b.op('Mul', [h, c])]);
    },
  ],
  [
    'GRU (linear before reset, as PyTorch exports it)',
    { x: { shape: [3, 2, 3] }, w: { shape: [1, 6, 3] }, r: { shape: [1, 6, 2] }, bias: { shape: [1, 12] } },
    (b) => b.node('GRU', ['x', 'w', 'r', 'bias'], { hidden_size: 2, linear_before_reset: 1 }, 2)[0],
  ],
  [
    'GRU (reverse, reset before the product)',
    { x: { shape: [3, 2, 3] }, w: { shape: [1, 6, 3] }, r: { shape: [1, 6, 2] }, bias: { shape: [1, 12] }, h0: { shape: [1, 2, 2] } },
    (b) => b.node('GRU', ['x', 'w', 'r', 'bias', '', 'h0'], { hidden_size: 2, direction: 'reverse' }, 2)[1],
  ],
  ['RNN', { x: { shape: [3, 2, 3] }, w: { shape: [1, 2, 3] }, r: { shape: [1, 2, 2] } }, (b) => b.node('RNN', ['x', 'w', 'r'], { hidden_size: 2 }, 2)[0]],
];

describe('gradient rules agree with finite differences', () => {
  for (const [op, inputs, body, opset] of CASES) test(op, () => check(op, inputs, body, opset));

  test('every rule has a finite-difference case', () => {
    const covered = new Set(CASES.map(([op]) => op.split(' ')[0]));
    assert.deepEqual(
      Object.keys(RULES).filter((op) => !covered.has(op)),
      [],
    );
  });
});

test("NegativeLogLikelihoodLoss at ONNX's default reduction (mean) is refused, not differentiated as if per sample", () => {
  const b = new OnnxBuilder(17);
  const loss = b.op('NegativeLogLikelihoodLoss', ['x', b.addInitializer(int64Tensor('t', [3], [1, 0, 2]))]);
  const graph = { name: 'g', node: [...b.nodes], initializer: [...b.initializers], input: [valueInfo('x', { shape: [3, 4], dtype: 'float32' })], output: [] };
  assert.throws(() => buildBackward(b, { nodes: [...b.nodes], loss, wrt: ['x'], types: annotate(graph, 17) }), /NegativeLogLikelihoodLoss .*: gradients are written for reduction 'none'/);
});
