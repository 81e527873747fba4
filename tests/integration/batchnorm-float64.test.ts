/**
 * BatchNorm's sums in a training step, accumulated in float64 where the engine has it (stepOptionsFor,
 * core/autodiff/batchnorm.ts): against central finite differences of the same model computed in float64,
 * on a batch whose per-channel sums cancel (Σg is small beside Σ|g|), where float32 sums lose digits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ModelDocument } from '../../core/index.ts';
import { attrInt } from '../../core/onnx/attributes.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, initialCarried, nextName, stepOptionsFor } from '../../core/train/step.ts';

const [N, C, H, W] = [8, 2, 64, 64];
const PLANE = H * W;
const EPS = 1e-5;
const LR = 1;
const FLOAT64 = 11;

// x → 1×1 convolution (no bias) → BatchNorm → mean squared error against a target.
const doc: ModelDocument = {
  format: 'netloom.model',
  version: 1,
  name: 'bn-sums',
  nodes: [
    { id: 'x', op: 'Input', params: { shape: [C, H, W] } },
    { id: 'conv', op: 'Conv2d', params: { outChannels: C, kernelSize: 1, bias: false } },
    { id: 'bn', op: 'BatchNorm2d', params: { eps: EPS } },
  ],
  edges: [
    { from: 'x', to: 'conv' },
    { from: 'conv', to: 'bn' },
  ],
};

let seed = 7;
const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
const x = Float32Array.from({ length: N * C * PLANE }, random);
// Targets of ±100 around a channel mean just off the output's: each channel's Σ(y − t) is a small
// difference of large terms.
const target = Float32Array.from({ length: N * C * PLANE }, (_, i) => (i % 2 ? 100 : -100) + 0.3 * random() + 0.002);

/** The loss in float64 for conv weights w (C×C), scale γ and shift β. */
function loss64(w: Float64Array, gamma: Float64Array, beta: Float64Array): number {
  let total = 0;
  for (let c = 0; c < C; c++) {
    const h = new Float64Array(N * PLANE);
    for (let n = 0; n < N; n++) for (let p = 0; p < PLANE; p++) for (let k = 0; k < C; k++) h[n * PLANE + p] += w[c * C + k] * x[(n * C + k) * PLANE + p];
    const mean = h.reduce((s, v) => s + v, 0) / h.length;
    const variance = h.reduce((s, v) => s + (v - mean) ** 2, 0) / h.length;
    const std = Math.sqrt(variance + EPS);
    for (let n = 0; n < N; n++) for (let p = 0; p < PLANE; p++) total += (gamma[c] * ((h[n * PLANE + p] - mean) / std) + beta[c] - target[(n * C + c) * PLANE + p]) ** 2;
  }
  return total / (N * C * PLANE);
}

/** Each parameter's gradient by central differences in float64. */
function gradients64(start: Record<'w' | 'gamma' | 'beta', Float64Array>): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const key of ['w', 'gamma', 'beta'] as const) {
    out[key] = start[key].map((_, i) => {
      const at = (delta: number) => {
        const moved = { ...start, [key]: start[key].slice() };
        moved[key][i] += delta;
        return loss64(moved.w, moved.gamma, moved.beta);
      };
      const h = 1e-4;
      return (at(h) - at(-h)) / (2 * h);
    });
  }
  return out;
}

/** Netloom's step on ONNX Runtime: each parameter's gradient, (before − after)/lr with SGD. */
async function stepGradients(withoutFloat64: boolean) {
  const graph = buildTrainingGraph(doc, { optimizer: optimizerConfig('sgd', { lr: LR }), loss: 'mse', seed: 3, withoutFloat64 });
  const session = await ort.InferenceSession.create(encodeModelBytes(graph.step));
  const feed: Record<string, ort.Tensor> = {
    [graph.inputs[0].name]: new ort.Tensor('float32', x, [N, C, H, W]),
    [graph.target.name]: new ort.Tensor('float32', target, [N, C, H, W]),
    lr: new ort.Tensor('float32', new Float32Array([LR]), []),
    step: new ort.Tensor('float32', new Float32Array([1]), []),
  };
  for (const [key, { shape, data }] of initialCarried(graph)) feed[key] = new ort.Tensor('float32', data, shape);
  const result = await session.run(feed);
  await session.release();
  const grads = Object.fromEntries(graph.params.map((p) => [p.key, Float64Array.from(graph.weights.get(p.key)!.data, (v, i) => (v - (result[nextName(p.key)].data as Float32Array)[i]) / LR)]));
  const start = (key: string) => Float64Array.from(graph.weights.get(key)!.data);
  return { graph, grads, start: { w: start('conv.weight'), gamma: start('bn.weight'), beta: start('bn.bias') } };
}

/** The largest difference of a gradient from the reference, relative to the reference's largest entry. */
function worst(got: Float64Array, want: Float64Array): number {
  const scale = Math.max(...want.map(Math.abs));
  return Math.max(...got.map((g, i) => Math.abs(g - want[i]))) / scale;
}

/** The tolerance: the float64 sums' step is within it of float64 finite differences, the float32 sums' is not. */
const TOLERANCE = 4e-4;

test('BatchNorm sums in float64 give the float64 gradients that float32 sums miss', async () => {
  const errors = async (withoutFloat64: boolean) => {
    const { grads, start } = await stepGradients(withoutFloat64);
    const want = gradients64(start);
    return { 'conv.weight': worst(grads['conv.weight'], want.w), 'bn.weight': worst(grads['bn.weight'], want.gamma), 'bn.bias': worst(grads['bn.bias'], want.beta) };
  };
  for (const [key, error] of Object.entries(await errors(false))) assert.ok(error <= TOLERANCE, `${key}: ${error.toExponential(1)} from float64 with float64 sums`);
  // ONNX Runtime's float32 sums: Σg over 32,768 terms of ±0.003 that nearly cancel keeps three digits.
  const float32 = await errors(true);
  assert.ok(float32['bn.bias'] > TOLERANCE, `bn.bias: ${float32['bn.bias'].toExponential(1)} from float64 with float32 sums (the case must tell them apart)`);
});

test('steps for WebGPU and DirectML have no float64; CPU, CUDA and WebAssembly steps sum BatchNorm in float64', () => {
  const float64Casts = (provider: string) =>
    buildTrainingGraph(doc, { optimizer: optimizerConfig('sgd', { lr: LR }), loss: 'mse', ...stepOptionsFor(provider) }).step.graph.node.filter(
      (n) => n.op_type === 'Cast' && attrInt(n, 'to', 0) === FLOAT64,
    ).length;
  for (const provider of ['webgpu', 'dml']) assert.equal(float64Casts(provider), 0, provider);
  // The forward statistics (mean, variance) and the backward sums (Σg, Σg·(x − μ)).
  for (const provider of ['cpu', 'cuda', 'wasm']) assert.equal(float64Casts(provider), 4, provider);
});
