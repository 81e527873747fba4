/**
 * MaxPool's gradient in its three forms (core/autodiff/maxpool.ts and rules.ts), on ONNX Runtime: without
 * the Indices output (for ONNX Runtime Web's WebGPU provider), for windows that tile the input (strided
 * slices, the CPU's default there), and through the Indices (the reference: the forward pool writes
 * them). Each against the Indices form and central finite differences, on overlapping, padded, dilated,
 * ceil_mode, gapped and tiling windows, and ties, which must go to the first maximum in window order.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { buildBackward } from '../../core/autodiff/backward.ts';
import { annotate } from '../../core/autodiff/types.ts';
import { OnnxBuilder, floatTensor, valueInfo } from '../../core/onnx/builder.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import type { ModelDocument } from '../../core/index.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, stepOptionsFor } from '../../core/train/step.ts';

type Attrs = Record<string, number | number[]>;

/**
 * A session computing L = Σ MaxPool(x)·R and ∂L/∂x, with the gradient built without the Indices, as the
 * CPU builds it by default, or (the reference) from the Indices the forward pool writes.
 */
async function poolGradient(shape: number[], attrs: Attrs, form: 'without Indices' | 'default' | 'Indices') {
  const b = new OnnxBuilder(17);
  const [y] = b.node('MaxPool', ['x'], attrs, form === 'Indices' ? 2 : 1);
  const input = valueInfo('x', { shape: ['batch', ...shape.slice(1)], dtype: 'float32' });
  const graph = { name: 'g', node: b.nodes, initializer: b.initializers, input: [input], output: [] as ReturnType<typeof valueInfo>[] };
  const yShape = annotate(graph, 17).get(y)!.shape.slice(1) as number[];
  const r = b.addInitializer(
    floatTensor(
      'R',
      [1, ...yShape],
      Float32Array.from({ length: yShape.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(i * 2.3) + 1.5),
    ),
  );
  const loss = b.op('ReduceSum', [b.op('Mul', [y, r])], { keepdims: 0 });
  const forward = [...b.nodes];
  const grads = buildBackward(b, { nodes: forward, loss, wrt: ['x'], types: annotate(graph, 17), maxPoolWithoutIndices: form === 'without Indices' });
  graph.node = b.nodes;
  graph.output = [valueInfo(loss, { shape: [], dtype: 'float32' }), valueInfo(grads.get('x')!, { shape: input.type!.tensor_type!.shape!.dim.map((d) => d.dim_value ?? 'batch'), dtype: 'float32' })];
  const bytes = encodeModelBytes({ ir_version: 8, opset_import: [{ domain: '', version: 17 }], graph });
  const session = await ort.InferenceSession.create(bytes);
  const ops = graph.node.map((n) => n.op_type);
  const run = async (x: Float32Array) => {
    const out = await session.run({ x: new ort.Tensor('float32', x, shape) });
    return { loss: (out[loss].data as Float32Array)[0], grad: out[grads.get('x')!].data as Float32Array };
  };
  return { run, ops, release: () => session.release() };
}

/** Distinct values (no ties), some negative, so that padding must not win. */
const distinct = (n: number) => Float32Array.from({ length: n }, (_, i) => ((i * 0.37) % 3) - 2.5 + ((i * 7) % 5) * 0.013);
/** Few distinct values: most windows hold their maximum twice or more. */
const tied = (n: number) => Float32Array.from({ length: n }, (_, i) => [0, 1, 1, -1, 0.5][(i * 3 + Math.floor(i / 7)) % 5]);

const CASES: [string, number[], Attrs][] = [
  ['overlapping 3×3 stride 2, padded', [2, 3, 7, 7], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
  ['2×2 stride 2 (LeNet, the CA2 CNN)', [2, 2, 6, 6], { kernel_shape: [2, 2], strides: [2, 2] }],
  ['ceil_mode, uneven pads', [1, 2, 8, 7], { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 0, 1], ceil_mode: 1 }],
  ['dilated, stride 1', [1, 2, 6, 6], { kernel_shape: [2, 2], strides: [1, 1], dilations: [2, 2] }],
  ['gaps between windows', [1, 2, 7, 7], { kernel_shape: [2, 2], strides: [3, 3] }],
  ['1-D', [2, 3, 9], { kernel_shape: [3], strides: [2], pads: [1, 1] }],
  ['3×2 windows, strides 3 and 2 (tiling, not square)', [1, 2, 6, 4], { kernel_shape: [3, 2], strides: [3, 2] }],
  ['1×1 windows (tiling, every value passes)', [1, 2, 3, 3], { kernel_shape: [1, 1] }],
];

/** The windows of these cases tile the input: the CPU's default form slices instead of reading Indices. */
const TILED = new Set(['2×2 stride 2 (LeNet, the CA2 CNN)', '3×2 windows, strides 3 and 2 (tiling, not square)', '1×1 windows (tiling, every value passes)']);

describe('MaxPool gradient: without Indices, sliced, through the Indices', () => {
  for (const [name, shape, attrs] of CASES) {
    test(`${name}: equals the Indices form, ties included, and finite differences`, async () => {
      const n = shape.reduce((p, d) => p * d, 1);
      const byIndices = await poolGradient(shape, attrs, 'Indices');
      const forms = [await poolGradient(shape, attrs, 'without Indices'), await poolGradient(shape, attrs, 'default')];
      const readsIndices = (ops: string[]) => ops.includes('MaxUnpool') || ops.includes('ScatterElements');
      try {
        assert.ok(readsIndices(byIndices.ops), 'the reference reads the Indices');
        assert.ok(!readsIndices(forms[0].ops), 'built without the Indices');
        assert.equal(readsIndices(forms[1].ops), !TILED.has(name), TILED.has(name) ? 'tiling windows: sliced, no Indices' : 'other windows: the Indices');
        for (const form of forms) {
          for (const x of [distinct(n), tied(n)]) {
            const got = (await form.run(x)).grad;
            const want = (await byIndices.run(x)).grad;
            // The same positions get the same gradients; where windows overlap, the sums may add in another order.
            want.forEach((w, i) => assert.ok((got[i] === 0) === (w === 0) && Math.abs(got[i] - w) <= 1e-6 * Math.abs(w), `∂L/∂x[${i}]: ${got[i]}, by the Indices ${w}`));
          }

          const x = distinct(n);
          const { grad } = await form.run(x);
          const eps = 1e-3;
          for (let i = 0; i < n; i++) {
            const at = async (delta: number) => {
              const moved = x.slice();
              moved[i] += delta;
              return (await form.run(moved)).loss;
            };
            const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
            assert.ok(Math.abs(fd - grad[i]) <= 1e-2 * (1 + Math.abs(fd)), `∂L/∂x[${i}]: ${grad[i]}, finite differences ${fd}`);
          }
        }
      } finally {
        for (const session of [byIndices, ...forms]) await session.release();
      }
    });
  }
});

test('steps for WebGPU (browser and Node alike) take the gradient without Indices; other providers slice the CA2 CNN’s tiling pools', () => {
  const cnn = JSON.parse(readFileSync(new URL('../../assets/templates/ca2-cnn.json', import.meta.url), 'utf8')) as ModelDocument;
  const poolGradientOps = (provider: string) =>
    buildTrainingGraph(cnn, { optimizer: optimizerConfig('sgd', { lr: 0.1 }), loss: 'cross-entropy', ...stepOptionsFor(provider) })
      .step.graph.node.filter((n) => n.doc_string === 'gradient of maxpool1')
      .map((n) => n.op_type);
  const cpu = poolGradientOps('cpu');
  assert.ok(cpu.includes('Slice') && !cpu.includes('MaxUnpool') && !cpu.includes('ConvTranspose'), `the CPU step slices: ${cpu.join(' ')}`);
  const webgpu = poolGradientOps('webgpu');
  assert.ok(webgpu.includes('ConvTranspose') && !webgpu.includes('Slice'), `the WebGPU step compares through convolutions: ${webgpu.join(' ')}`);
  assert.equal(stepOptionsFor('wasm').maxPoolWithoutIndices, undefined);
});
