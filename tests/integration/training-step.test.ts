/**
 * The training-step graph against torch.optim: for an MLP and a CNN with fixed weights and one batch,
 * the parameters after one and after three steps of each optimiser match PyTorch's to 1e-5 relative;
 * with BatchNorm, its running statistics too; and with gradient clipping and L1/L2 penalties.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { ModelDocument } from '../../core/index.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { optimizerConfig, type OptimizerName } from '../../core/train/optimizers.ts';
import { buildTrainingGraph, nextName, stateName, type TrainingGraphOptions } from '../../core/train/step.ts';
import { floats, loadFixture, toOrt, weightsOf, worstError, type FixtureTensor } from './fixtures.ts';

interface Fixture {
  models: Record<string, { doc: ModelDocument; weights: Record<string, FixtureTensor>; x: FixtureTensor; y: FixtureTensor & { dtype?: 'int64' } }>;
  runs: { model: string; optimizer: OptimizerName; config: { lr: number; momentum?: number; weightDecay?: number; eps?: number };
    training?: Pick<TrainingGraphOptions, 'clipNorm' | 'regularization'>;
    after1: Record<string, FixtureTensor>; after3: Record<string, FixtureTensor> }[];
}

const fixture = loadFixture<Fixture>('training.json');

describe('training steps match torch.optim', () => {
  for (const run of fixture.runs) {
    const extras = Object.entries({ ...run.training?.regularization, clipNorm: run.training?.clipNorm }).filter(([, v]) => v !== undefined);
    test(`${run.model} · ${run.optimizer}${extras.map(([k, v]) => ` · ${k} ${v}`).join('')}`, async () => {
      const model = fixture.models[run.model];
      const initial = new Map([...weightsOf('', model.weights)].map(([k, v]) => [k.slice(1), v]));
      const graph = buildTrainingGraph(model.doc, { optimizer: optimizerConfig(run.optimizer, run.config), loss: 'cross-entropy', weights: initial, ...run.training });
      const session = await ort.InferenceSession.create(encodeModelBytes(graph.step));
      // Parameters and the buffers the step updates (BatchNorm's running statistics) go round together.
      const params = new Map<string, Float32Array>([...graph.params, ...graph.buffers].map((p) => [p.key, initial.get(p.key)!.data]));
      const state = new Map<string, Float32Array>(graph.params.flatMap((p) => graph.slots.map((s) => [stateName(s, p.key), new Float32Array(p.shape.reduce((a, b) => a * b, 1))] as const)));
      const shapeOf = (key: string) => [...graph.params, ...graph.buffers].find((p) => p.key === key)!.shape;
      for (let step = 1; step <= 3; step++) {
        const feeds: Record<string, ort.Tensor> = {
          [graph.inputs[0].name]: toOrt(model.x),
          [graph.target.name]: toOrt({ ...model.y, dtype: 'int64' }),
          lr: new ort.Tensor('float32', new Float32Array([run.config.lr]), []),
          step: new ort.Tensor('float32', new Float32Array([step]), []),
        };
        for (const [key, data] of params) feeds[key] = new ort.Tensor('float32', data, shapeOf(key));
        for (const [name, data] of state) feeds[name] = new ort.Tensor('float32', data, shapeOf(name.split('/').slice(2).join('/')));
        const out = await session.run(feeds);
        for (const key of params.keys()) params.set(key, out[nextName(key)].data as Float32Array);
        for (const name of state.keys()) state.set(name, out[nextName(name)].data as Float32Array);
        if (step === 1 || step === 3) {
          const expected = step === 1 ? run.after1 : run.after3;
          assert.deepEqual([...params.keys()].sort(), Object.keys(expected).sort(), 'every parameter and running statistic is updated');
          for (const [key, data] of params) assert.equal(worstError(data, floats(expected[key]), 1e-6, 1e-5), 0, `${key} after step ${step}`);
        }
      }
      await session.release();
    });
  }
});
