/**
 * The canvas overlay's statistics against numbers: a deep sigmoid MLP's gradients vanish towards its first
 * layer (each sigmoid passes at most a quarter of the gradient), the same MLP with ReLU keeps them within
 * a few orders of magnitude; mean |activation| and weight norms as written out.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelDocument } from '../../core/index.ts';
import type { Tensor } from '../../core/engine/engine.ts';
import { Rng } from '../../core/graph/weights.ts';
import { Debugger } from '../../core/debug/trace.ts';
import { gradientNorms, meanActivations, overlayScale, weightNorms } from '../../core/debug/overlay.ts';
import { NodeEngine } from '../../engines/node/engine.ts';

/** Input 16 → (Linear 16 → activation) × 9 → Linear 4. */
function deepMlp(activation: string, depth = 10): ModelDocument {
  const nodes: ModelDocument['nodes'] = [{ id: 'x', op: 'Input', params: { shape: [16] } }];
  const edges: ModelDocument['edges'] = [];
  let previous = 'x';
  for (let l = 1; l <= depth; l++) {
    nodes.push({ id: `fc${l}`, op: 'Linear', params: { outFeatures: l === depth ? 4 : 16 } });
    edges.push({ from: previous, to: `fc${l}` });
    previous = `fc${l}`;
    if (l === depth) break;
    nodes.push({ id: `act${l}`, op: activation, params: {} });
    edges.push({ from: previous, to: `act${l}` });
    previous = `act${l}`;
  }
  return { format: 'netloom.model', version: 1, name: `deep ${activation}`, nodes, edges };
}

test("a deep sigmoid MLP's first-layer gradient norm is orders of magnitude below its last layer's; with ReLU it is not", async () => {
  const rng = new Rng(1);
  const x: Tensor = { dtype: 'float32', dims: [8, 16], data: Float32Array.from({ length: 128 }, () => rng.next() * 2 - 1) };
  const y: Tensor = { dtype: 'int64', dims: [8], data: BigInt64Array.from({ length: 8 }, (_, i) => BigInt(i % 4)) };
  const engine = new NodeEngine();
  const ratio: Record<string, number> = {};
  try {
    for (const activation of ['Sigmoid', 'ReLU']) {
      const debug = await Debugger.open(engine, deepMlp(activation), { loss: 'cross-entropy', seed: 0 });
      const norms = gradientNorms((await debug.run({ inputs: { x }, target: y })).trace);
      await debug.release();
      assert.equal([...norms.keys()].filter((k) => k.startsWith('fc')).length, 10, 'every Linear has a gradient norm');
      ratio[activation] = norms.get('fc1')! / norms.get('fc10')!;
    }
  } finally {
    await engine.dispose();
  }
  assert.ok(ratio.Sigmoid < 1e-5, `sigmoid: ‖∂L/∂W₁‖/‖∂L/∂W₁₀‖ = ${ratio.Sigmoid}`);
  assert.ok(ratio.ReLU > 1e-3, `ReLU: ‖∂L/∂W₁‖/‖∂L/∂W₁₀‖ = ${ratio.ReLU}`);
  assert.ok(ratio.ReLU / ratio.Sigmoid > 1e4, 'four orders of magnitude apart');
});

test("mean |activation| per layer from its first output, weight norm over all of a layer's parameters, a log colour scale", () => {
  const outputs = new Map<string, Tensor>([
    ['a:0', { dtype: 'float32', dims: [1, 4], data: Float32Array.from([1, -2, 3, -6]) }],
    ['a:1', { dtype: 'float32', dims: [1, 1], data: Float32Array.from([100]) }],
    ['b:y', { dtype: 'float32', dims: [2], data: Float32Array.from([-0.5, 0.5]) }],
  ]);
  assert.deepEqual(
    meanActivations(outputs),
    new Map([
      ['a', 3],
      ['b', 0.5],
    ]),
  );
  const weights = new Map([
    ['fc.weight', { shape: [2], data: Float32Array.from([3, 0]) }],
    ['fc.bias', { shape: [1], data: Float32Array.from([4]) }],
    ['block.conv.weight', { shape: [1], data: Float32Array.from([-2]) }],
  ]);
  assert.deepEqual(
    weightNorms(weights),
    new Map([
      ['fc', 5],
      ['block.conv', 2],
    ]),
  );
  const scale = overlayScale(
    new Map([
      ['a', 1e-6],
      ['b', 1e-3],
      ['c', 1],
    ]),
  )!;
  assert.deepEqual([scale.min, scale.max], [1e-6, 1]);
  assert.equal(scale.colour(1e-6), 'rgb(68, 1, 84)');
  assert.equal(scale.colour(1e-3), 'rgb(33, 145, 140)', 'the middle of the log scale');
  assert.equal(scale.colour(1), 'rgb(253, 231, 37)');
  assert.equal(overlayScale(new Map([['a', 0]])), null, 'nothing to scale');
});
