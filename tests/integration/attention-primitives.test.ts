/**
 * Self-attention wired from primitives (MatMul, Transpose, Scale, Mask, Softmax) gives the numbers of
 * MultiheadAttention with the matching options, on ONNX Runtime: deck 000's (q = k = v = x, unscaled),
 * deck 001's (W_q, W_k, W_v, no output projection: 3D²) as the "attention from scratch" template, and a causal one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { parseModel, type ModelDocument, type ParamValue } from '../../core/index.ts';
import { compileModel } from '../../core/convert/compile.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { doc, node } from '../unit/helpers.ts';
import { worstError } from './fixtures.ts';

const T = 6;
const D = 64;
const x = Float32Array.from({ length: 2 * T * D }, (_, i) => Math.sin(i * 0.37) * 0.5);

async function run(model: ModelDocument, weights?: Weights): Promise<{ out: Float32Array; compiledWeights: Weights }> {
  const compiled = compileModel(model, { weights, seed: 3 });
  const session = await ort.InferenceSession.create(encodeModelBytes(compiled.model));
  const result = await session.run({ [compiled.inputs[0].name]: new ort.Tensor('float32', x, [2, T, D]) });
  await session.release();
  return { out: result[compiled.outputs[0].name].data as Float32Array, compiledWeights: compiled.weights };
}

const mha = (params: Record<string, ParamValue>) => doc([node('x', 'Input', { shape: ['T', D] }), node('attn', 'MultiheadAttention', { numHeads: 1, bias: false, ...params })], [['x', 'attn']]);

test("deck 000's self-attention from primitives (softmax(x·xᵀ)·x) equals MultiheadAttention without projections or scaling", async () => {
  const scratch = doc(
    [node('x', 'Input', { shape: ['T', D] }), node('xT', 'Transpose', {}), node('scores', 'MatMul'), node('a', 'Softmax', { dim: -1 }), node('y', 'MatMul')],
    [
      ['x', 'xT'],
      ['x', 'scores:a'],
      ['xT', 'scores:b'],
      ['scores', 'a'],
      ['a', 'y:a'],
      ['x', 'y:b'],
    ],
  );
  const { out } = await run(scratch);
  const { out: expected } = await run(mha({ inputProjection: false, outputProjection: false, scaled: false }));
  assert.equal(worstError(out, expected, 1e-5, 1e-5), 0);
});

test('the "attention from scratch" template (deck 001) equals MultiheadAttention without the output projection, with the same W_q, W_k, W_v', async () => {
  const parsed = parseModel(readFileSync(new URL('../../assets/templates/attention-from-scratch.json', import.meta.url), 'utf8'));
  assert.ok(parsed.ok);
  const { out, compiledWeights } = await run(parsed.doc);
  const packed = Float32Array.from(['W_q', 'W_k', 'W_v'].flatMap((id) => [...compiledWeights.get(`${id}.weight`)!.data]));
  const { out: expected } = await run(mha({ outputProjection: false }), new Map([['attn.in_proj_weight', { shape: [3 * D, D], data: packed }]]));
  assert.equal(worstError(out, expected, 1e-5, 1e-5), 0);
});

test('a sliding-window Mask (w = 3) before the softmax equals MultiheadAttention with slidingWindow: 3', async () => {
  const scratch = doc(
    [
      node('x', 'Input', { shape: ['T', D] }),
      node('xT', 'Transpose', {}),
      node('scores', 'MatMul'),
      node('scaled', 'Scale', { sqrtOf: D }),
      node('masked', 'Mask', { kind: 'window', window: 3 }),
      node('a', 'Softmax', { dim: -1 }),
      node('y', 'MatMul'),
    ],
    [
      ['x', 'xT'],
      ['x', 'scores:a'],
      ['xT', 'scores:b'],
      ['scores', 'scaled'],
      ['scaled', 'masked'],
      ['masked', 'a'],
      ['a', 'y:a'],
      ['x', 'y:b'],
    ],
  );
  const { out } = await run(scratch);
  const { out: expected } = await run(mha({ inputProjection: false, outputProjection: false, slidingWindow: 3 }));
  assert.equal(worstError(out, expected, 1e-5, 1e-5), 0);
});
