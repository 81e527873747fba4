/**
 * The browser engine (onnxruntime-web in a Web Worker, driven through engines/web/client.ts) trains
 * exactly as the Node engine does: the same three steps from the same weights give the same parameters,
 * on WASM (threads, cross-origin isolated, under the app's CSP) and on WebGPU (SwiftShader's adapter).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { ModelDocument } from '../../core/index.ts';
import { compileModel } from '../../core/convert/compile.ts';
import type { Tensor } from '../../core/engine/engine.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph } from '../../core/train/step.ts';
import { train } from '../../core/train/trainer.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { doc, node } from '../unit/helpers.ts';
import { buildHarness, chromiumMissing, startHarness, stopSession, type Session } from './browser.ts';
import type { PlainTrainSpec } from './web-engine/harness.ts';

const chain = (input: number[], layers: [string, string, Record<string, number | boolean>][]): ModelDocument =>
  doc(
    [node('x', 'Input', { shape: input }), ...layers.map(([id, op, p]) => node(id, op, p))],
    layers.map(([id], i) => [i === 0 ? 'x' : layers[i - 1][0], id]),
  );

const cnn = (pool: 'MaxPool2d' | 'AvgPool2d', window: Record<string, number> = { kernelSize: 2 }) =>
  chain(
    [1, 12, 12],
    [
      ['conv1', 'Conv2d', { outChannels: 4, kernelSize: 3 }],
      ['relu1', 'ReLU', {}],
      ['pool1', pool, window],
      ['flat', 'Flatten', {}],
      ['fc1', 'Linear', { outFeatures: 4 }],
    ],
  );

const MODELS: { name: string; doc: ModelDocument; sample: number[]; webgpuOnly?: boolean }[] = [
  {
    name: 'MLP',
    sample: [12],
    doc: chain(
      [12],
      [
        ['fc1', 'Linear', { outFeatures: 16 }],
        ['act', 'Tanh', {}],
        ['fc2', 'Linear', { outFeatures: 4 }],
      ],
    ),
  },
  // On WebGPU, MaxPool's gradient is found by comparison (its kernel gives no Indices; core/autodiff/maxpool.ts).
  { name: 'CNN (max pooling)', sample: [1, 12, 12], doc: cnn('MaxPool2d') },
  { name: 'CNN (overlapping, padded max pooling)', sample: [1, 12, 12], doc: cnn('MaxPool2d', { kernelSize: 3, stride: 2, padding: 1 }) },
  // Two convolutions and max pooling on WebGPU; its 661,591 parameters are slow to pass in and out of the
  // page, so it runs there only, once (wasm runs the same ops in the CNNs above).
  {
    name: 'CA2 CNN template',
    sample: [1, 32, 32],
    doc: JSON.parse(readFileSync(new URL('../../assets/templates/ca2-cnn.json', import.meta.url), 'utf8')) as ModelDocument,
    webgpuOnly: true,
  },
  { name: 'CNN (average pooling)', sample: [1, 12, 12], doc: cnn('AvgPool2d') },
  {
    name: 'LSTM',
    sample: [5, 3],
    doc: {
      ...doc([node('x', 'Input', { shape: [5, 3] }), node('lstm1', 'LSTM', { hiddenSize: 6 }), node('last', 'Select', { dim: 1, index: -1 }), node('fc1', 'Linear', { outFeatures: 4 })], []),
      edges: [
        { from: 'x', to: 'lstm1' },
        { from: 'lstm1:0', to: 'last' },
        { from: 'last', to: 'fc1' },
      ],
    },
  },
];

const BATCH = 4;
const STEPS = 3;

/**
 * Three SGD-with-momentum steps (batches of 4, no shuffling) from seeded weights on fixed data. Not Adam:
 * its first step moves each parameter by ±lr whatever the gradient's size, so a gradient within rounding
 * of zero can flip sign between two correct engines (seen on WebGPU: 5e-3 on one conv weight).
 */
function specOf(m: (typeof MODELS)[number]): PlainTrainSpec {
  const per = m.sample.reduce((a, b) => a * b, 1);
  const weights = compileModel(m.doc, { seed: 5 }).weights;
  return {
    doc: m.doc,
    weights: [...weights].map(([key, t]) => [key, t.shape, Array.from(t.data)]),
    graph: { optimizer: optimizerConfig('momentum', { lr: 0.1 }), loss: 'cross-entropy', seed: 5 },
    options: { epochs: 1, batchSize: BATCH, lr: 0.1, shuffle: false },
    x: { dims: m.sample, values: Array.from({ length: BATCH * STEPS * per }, (_, i) => Math.sin(i * 0.7) + 0.3 * Math.cos(i * 1.3)) },
    y: { dims: [], values: Array.from({ length: BATCH * STEPS }, (_, i) => (i * 7) % 4) },
  };
}

async function nodeWeights(spec: PlainTrainSpec): Promise<Map<string, Float32Array>> {
  const weights = new Map(spec.weights.map(([key, shape, values]) => [key, { shape, data: Float32Array.from(values) }]));
  const graph = buildTrainingGraph(spec.doc, { ...spec.graph, weights });
  const size = spec.y.values.length;
  const data = {
    name: 'node',
    size,
    x: { dims: spec.x.dims, dtype: 'float32' as const, data: Float32Array.from(spec.x.values) },
    y: { dims: [], dtype: 'int64' as const, data: BigInt64Array.from(spec.y.values, BigInt) },
  };
  const engine = new NodeEngine();
  try {
    const result = await train(engine, graph, { train: data }, spec.options, () => {});
    return new Map([...result.weights].map(([k, t]) => [k, t.data]));
  } finally {
    await engine.dispose();
  }
}

async function nodeOutputs(model: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const engine = new NodeEngine();
  try {
    const session = await engine.createSession(model);
    return await session.run(feeds);
  } finally {
    await engine.dispose();
  }
}

/** The largest difference in a tensor relative to its largest magnitude. */
function relativeError(web: number[], reference: Float32Array): number {
  let diff = 0;
  let scale = 0;
  reference.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(web[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return diff / scale;
}

interface TrainedInBrowser {
  weights: [string, number[]][];
  events: { event: string }[];
  stopped: string | null;
}

/** Trains in the page (the spec goes as JSON: Playwright's types for a model document are too deep). */
const trainInPage = (page: Page, spec: PlainTrainSpec): Promise<TrainedInBrowser> =>
  page.evaluate((json) => (window as unknown as { harness: { train(s: unknown): Promise<TrainedInBrowser> } }).harness.train(JSON.parse(json)), JSON.stringify(spec));

/** The page, and the names of the ONNX Runtime WebAssembly files it (and its workers) fetched. */
async function harnessPage(s: Session, fetchedWasm: string[]): Promise<Page> {
  const page = await s.browser.newPage();
  page.on('request', (r) => void (r.url().endsWith('.wasm') && fetchedWasm.push(r.url().split('/').pop()!)));
  await page.goto(s.url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  return page;
}

describe('the browser engine', { skip: chromiumMissing }, () => {
  const references = new Map<string, Map<string, Float32Array>>();
  before(async () => {
    await buildHarness();
    for (const m of MODELS) references.set(m.name, await nodeWeights(specOf(m)));
  });

  for (const [provider, tolerance] of [
    ['wasm', 1e-5],
    ['webgpu', 1e-4],
  ] as const) {
    describe(`on ${provider}`, () => {
      let session: Session;
      let page: Page;
      const fetchedWasm: string[] = [];
      before(async () => {
        session = await startHarness(provider === 'webgpu');
        page = await harnessPage(session, fetchedWasm);
      });
      after(() => stopSession(session));

      test('runs cross-origin isolated, with threads, and lists its providers with reasons', async () => {
        assert.equal(await page.evaluate(() => (window as unknown as { harness: { isolated(): boolean } }).harness.isolated()), true);
        const providers = await page.evaluate(() => (window as unknown as { harness: { providers(): Promise<{ provider: string; available: boolean; detail: string }[]> } }).harness.providers());
        assert.deepEqual(
          providers.map((p) => p.provider),
          ['wasm', 'webgpu'],
        );
        assert.match(providers[0].detail, /SIMD, \d+ threads/);
        assert.equal(providers[1].available, provider === 'webgpu', providers[1].detail);
      });

      for (const m of MODELS.filter((m) => provider === 'webgpu' || !m.webgpuOnly)) {
        test(`${m.name}: three training steps give the Node engine's parameters (within ${tolerance} relative)`, async () => {
          const spec = specOf(m);
          spec.options.provider = provider;
          const web = await trainInPage(page, spec);
          assert.equal(web.stopped, null);
          assert.equal(web.events.filter((e) => e.event === 'step').length, STEPS);
          const reference = references.get(m.name)!;
          assert.deepEqual(web.weights.map(([k]) => k).sort(), [...reference.keys()].sort());
          for (const [key, values] of web.weights) {
            const before = spec.weights.find(([k]) => k === key)![2];
            assert.ok(relativeError(before, reference.get(key)!) > 1e-3, `${key} moved in training`);
            const error = relativeError(values, reference.get(key)!);
            assert.ok(error <= tolerance, `${m.name} ${key}: relative difference ${error.toExponential(2)} on ${provider}`);
          }
          // The engine keeps released sessions for the same model: a second run reuses them and must not differ.
          if (!m.webgpuOnly) assert.deepEqual((await trainInPage(page, spec)).weights, web.weights, 'a second run, on the kept sessions, gives the same weights');
        });
      }

      test('runs a model for inference as onnxruntime-node does', async () => {
        const m = MODELS.find((x) => x.name.includes('average'))!;
        const compiled = compileModel(m.doc, { seed: 2 });
        const bytes = encodeModelBytes(compiled.model);
        const values = Array.from({ length: 2 * 144 }, (_, i) => Math.cos(i * 0.37));
        const expected = await nodeOutputs(bytes, { x: { dtype: 'float32', dims: [2, 1, 12, 12], data: Float32Array.from(values) } });
        type Ran = { provider: string; outputs: Record<string, { dims: number[]; values: number[] }> };
        const ran = await page.evaluate(([b, v, p]) => (window as unknown as { harness: { runModel(...a: unknown[]): Promise<Ran> } }).harness.runModel(b, 'x', [2, 1, 12, 12], v, p), [
          Array.from(bytes),
          values,
          provider,
        ] as const);
        assert.equal(ran.provider, provider);
        for (const [name, t] of Object.entries(expected)) {
          assert.deepEqual(ran.outputs[name].dims, t.dims);
          assert.ok(relativeError(ran.outputs[name].values, t.data as Float32Array) <= tolerance, name);
        }
      });

      if (provider === 'wasm')
        test('trains on the built-in MNIST, fetched and fitted in the worker (padded to 32×32), and pauses and resumes', async () => {
          const model = chain(
            [1, 32, 32],
            [
              ['flat', 'Flatten', {}],
              ['fc1', 'Linear', { outFeatures: 10 }],
            ],
          );
          const spec = {
            doc: model,
            dataset: 'mnist',
            graph: { optimizer: optimizerConfig('adam', { lr: 0.01 }), loss: 'cross-entropy', seed: 1 },
            options: { epochs: 1, batchSize: 100, lr: 0.01 },
            pauseAt: 0,
          };
          type Result = {
            prepared: { train: number; val: number; adapted: string[] };
            epochs: { valAccuracy: number }[];
            pause: { parkedAt: number; afterRoundTrip: number };
            steps: number;
            stopped: string | null;
          };
          const r = await page.evaluate((json) => (window as unknown as { harness: { trainBuiltIn(s: unknown): Promise<Result> } }).harness.trainBuiltIn(JSON.parse(json)), JSON.stringify(spec));
          assert.deepEqual(r.prepared, { train: 8000, val: 2000, adapted: ['zero-padded 28×28 to 32×32, centred'] });
          // Paused as soon as sent (while the data loaded), so the trainer parks before its first step.
          assert.equal(r.pause.parkedAt, 0);
          assert.equal(r.pause.afterRoundTrip, 0, 'no steps while paused');
          assert.equal(r.steps, 80, 'all steps after resuming');
          assert.equal(r.stopped, null);
          assert.ok(r.epochs[0].valAccuracy > 0.8, `validation accuracy ${r.epochs[0].valAccuracy}`);
        });

      // Last, after every run above: WebAssembly runs on the plain build; WebGPU's JSEP build (twice its size) is loaded for WebGPU only.
      test(`fetches ${provider === 'wasm' ? 'only the plain WebAssembly build' : "the JSEP build for WebGPU, and the plain one for wasm's probe"}`, () => {
        const builds = fetchedWasm.map((name) => (name.includes('.jsep') ? 'jsep' : 'plain'));
        assert.deepEqual([...new Set(builds)].sort(), provider === 'wasm' ? ['plain'] : ['jsep', 'plain'], fetchedWasm.join(', '));
      });
    });
  }
});
