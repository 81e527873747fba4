/**
 * The desktop's engine on the real onnxruntime-node: the window's client (engines/web/client.ts, over the
 * desktop port of renderer/platform/desktop.ts) talks through the main process's routes
 * (electron/engine-routes.ts) to the utility process's service (electron/engine-service.ts). Electron
 * itself cannot run here: its two pipes (ipcRenderer to main, main to the utility process) are
 * structured clones, as Electron's are, and everything else is the app's own code.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { EngineReply, NetloomBridge } from '../../common/ipc.ts';
import { readFileSync } from 'node:fs';
import { compileModel } from '../../core/convert/compile.ts';
import type { Engine, Tensor } from '../../core/engine/engine.ts';
import { validateModel } from '../../core/graph/document.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { fitData } from '../../core/train/fit.ts';
import { generate } from '../../core/train/generate.ts';
import { optimizerConfig } from '../../core/train/optimizers.ts';
import { buildTrainingGraph } from '../../core/train/step.ts';
import { train, type TrainerOptions, type TrainingEvent } from '../../core/train/trainer.ts';
import { EngineRoutes } from '../../electron/engine-routes.ts';
import { desktopEngineService } from '../../electron/engine-service.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { EngineClient } from '../../engines/web/client.ts';
import type { WorkerReply, WorkerRequest } from '../../engines/web/protocol.ts';
import { builtInData } from '../../host/datasets.ts';
import { desktopEnginePort } from '../../renderer/platform/desktop.ts';
import { doc, node } from '../unit/helpers.ts';

const mlp = () =>
  doc(
    [node('x', 'Input', { shape: [2] }), node('fc1', 'Linear', { outFeatures: 16 }), node('act', 'Tanh'), node('fc2', 'Linear', { outFeatures: 2 })],
    [
      ['x', 'fc1'],
      ['fc1', 'act'],
      ['act', 'fc2'],
    ],
  );

/** The app's desktop wiring as main.ts does it, for one window: its bridge, and the engine service behind the routes. */
function desktop(windowId = 1) {
  const routes = new EngineRoutes();
  const listeners = new Set<(reply: EngineReply) => void>();
  const toWindow = (reply: WorkerReply) => {
    for (const listener of listeners) listener(structuredClone(reply) as unknown as EngineReply);
  };
  const { service, engine } = desktopEngineService((message) => {
    const routed = routes.fromEngine(structuredClone(message));
    if (routed?.windowId === windowId) toWindow(routed.reply);
  });
  const bridge = {
    engineRequest(request: unknown) {
      const routed = routes.fromWindow(windowId, structuredClone(request));
      if ('toWindow' in routed) toWindow(routed.toWindow);
      else void service.handle(structuredClone(routed.toEngine));
    },
    onEngineReply(handler: (reply: EngineReply) => void) {
      listeners.add(handler);
      return () => listeners.delete(handler);
    },
  };
  // The rest of the bridge (files, menus) plays no part here.
  const client = new EngineClient(desktopEnginePort(bridge as unknown as NetloomBridge));
  return { client, engine, bridge, routes, service };
}

const maxDifference = (a: Weights, b: Weights) => {
  let worst = 0;
  for (const [key, t] of a) {
    const other = b.get(key)!;
    for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - other.data[i]) / Math.max(1, Math.abs(other.data[i])));
  }
  return worst;
};

describe('the desktop engine', () => {
  const app = desktop();
  after(() => app.engine.dispose());

  test('lists cpu, webgpu, cuda and dml, each available or with why not', async () => {
    const statuses = await app.client.providers();
    assert.deepEqual(
      statuses.map((s) => s.provider),
      ['cpu', 'webgpu', 'cuda', 'dml'],
    );
    assert.deepEqual(statuses[0], { provider: 'cpu', available: true, detail: 'ONNX Runtime on the CPU, in the engine process' });
    for (const s of statuses) assert.ok(s.detail.length > 0, s.provider);
    const dml = statuses.find((s) => s.provider === 'dml')!;
    if (process.platform !== 'win32') assert.deepEqual(dml, { provider: 'dml', available: false, detail: 'DirectML is available on Windows only' });
    const cuda = statuses.find((s) => s.provider === 'cuda')!;
    if (!cuda.available) assert.match(cuda.detail, /npm run setup:cuda/);
    // "Available" is a promise that a model runs there: each one runs the probe model's like.
    const model = encodeModelBytes(compileModel(mlp(), { seed: 1 }).model);
    for (const s of statuses.filter((s) => s.available)) {
      const { provider } = await app.client.run({ model, feeds: { x: { dtype: 'float32', dims: [1, 2], data: new Float32Array([1, 2]) } }, provider: s.provider });
      assert.equal(provider, s.provider);
    }
  });

  test('a run gives what the Node engine gives directly', async () => {
    const compiled = compileModel(mlp(), { seed: 3 });
    const model = encodeModelBytes(compiled.model);
    const x: Tensor = { dtype: 'float32', dims: [5, 2], data: Float32Array.from({ length: 10 }, (_, i) => Math.sin(i)) };
    const reply = await app.client.run({ model, feeds: { x: { ...x, data: x.data.slice() } } });
    const direct = new NodeEngine();
    const session = await direct.createSession(model);
    const expected = await session.run({ x });
    await direct.dispose();
    assert.equal(reply.provider, 'cpu');
    assert.ok(reply.milliseconds >= 0);
    assert.deepEqual(Object.keys(reply.outputs), Object.keys(expected));
    for (const name of Object.keys(expected)) assert.deepEqual(reply.outputs[name], expected[name]);
  });

  test('a provider that cannot run here is refused with why, unless the fallback is allowed; a failing run names its provider', async () => {
    const model = encodeModelBytes(compileModel(mlp(), { seed: 1 }).model);
    const feeds = () => ({ x: { dtype: 'float32' as const, dims: [1, 2], data: new Float32Array([1, 2]) } });
    // A failure part-way (here ONNX Runtime refuses the input's shape) stops with a message naming the provider.
    await assert.rejects(app.client.run({ model, feeds: { x: { dtype: 'float32', dims: [1, 3], data: new Float32Array(3) } } }), /^Error: running the model on cpu failed: .*x/);
    const missing = (await app.client.providers()).find((s) => !s.available);
    if (!missing) return; // every provider runs on this machine
    await assert.rejects(app.client.run({ model, feeds: feeds(), provider: missing.provider }), (e: Error) =>
      e.message.includes(`the ${missing.provider} execution provider is not available here (${missing.detail})`),
    );
    assert.equal((await app.client.run({ model, feeds: feeds(), provider: missing.provider, allowFallback: true })).provider, 'cpu');
  });

  test('trains with step and epoch events, pauses, resumes, and ends with the weights the trainer gives directly', async () => {
    const graphOptions = { optimizer: optimizerConfig('adam', { lr: 0.05 }), loss: 'cross-entropy' as const, seed: 4 };
    const options: TrainerOptions = { epochs: 2, batchSize: 16, lr: 0.05, seed: 4 };
    const direct = new NodeEngine();
    const graph = buildTrainingGraph(mlp(), graphOptions);
    const expected = await train(direct, graph, fitData(await builtInData('xor', 4), graph).data, options, () => {});
    await direct.dispose();

    const events: TrainingEvent[] = [];
    let paused: Promise<number> | null = null;
    let eventsCame!: () => void;
    const firstEvents = new Promise<void>((resolve) => (eventsCame = resolve));
    const run = app.client.train({ doc: mlp(), graph: graphOptions, options, data: { builtIn: 'xor', seed: 4 } }, (e) => {
      events.push(e);
      // Pause as the first events come: the trainer parks between chunks, and says so.
      if (!paused) {
        paused = run.pause().then(() => events.length);
        eventsCame();
      }
    });
    assert.deepEqual(await run.prepared, { train: 480, val: 120, adapted: [] });
    await firstEvents;
    const pausedAt = await paused!;
    assert.ok(pausedAt > 0 && !events.some((e) => e.event === 'done'), 'parked before the end');
    assert.equal(events.length, pausedAt, 'nothing runs while paused');
    run.resume();
    const result = await run.result;
    assert.equal(result.stopped, null);
    const steps = events.filter((e) => e.event === 'step');
    assert.deepEqual(
      steps.map((e) => (e as { step: number }).step),
      Array.from({ length: 2 * 30 }, (_, i) => i + 1),
      '480 samples in batches of 16, two epochs',
    );
    assert.equal(events.filter((e) => e.event === 'epoch').length, 2);
    assert.equal(events.at(-1)!.event, 'done');
    assert.deepEqual([...result.weights.keys()].sort(), [...expected.weights.keys()].sort());
    assert.ok(maxDifference(result.weights, expected.weights) <= 1e-6, `weights differ by ${maxDifference(result.weights, expected.weights)}`);
  });

  test('stops on request, with the weights so far', async () => {
    const graph = { optimizer: optimizerConfig('sgd', { lr: 0.1 }), loss: 'cross-entropy' as const, seed: 2 };
    const run = app.client.train({ doc: mlp(), graph, options: { epochs: 200, batchSize: 8, lr: 0.1 }, data: { builtIn: 'xor' } }, (e) => {
      if (e.event === 'step') run.stop();
    });
    const result = await run.result;
    assert.equal(result.stopped, 'stopped');
    assert.equal(result.weights.size, 4);
  });

  test('sessions stay open in the engine with their carried tensors: generation gives the tokens it gives on onnxruntime-node directly', async () => {
    const loaded = validateModel(JSON.parse(readFileSync(new URL('../../assets/templates/char-gpt.json', import.meta.url), 'utf8')));
    assert.ok(loaded.ok);
    // The Engine that the app's debugger and Generate use (renderer/run/engine.ts's coreEngine), over this window's client.
    const windowEngine: Engine = { availableProviders: async () => ['cpu'], createSession: (model, options) => app.client.openSession(model, options), dispose: async () => {} };
    const direct = new NodeEngine();
    for (const cache of [true, false]) {
      const options = { length: 12, temperature: 1, topK: 10, seed: 7, cache };
      assert.deepEqual(await generate(windowEngine, loaded.doc, [1, 2, 3], options), await generate(direct, loaded.doc, [1, 2, 3], options), `cache ${cache}`);
    }
    await direct.dispose();
    const session = await app.client.openSession(encodeModelBytes(compileModel(mlp(), { seed: 1 }).model));
    await session.release();
    await assert.rejects(session.run({ x: { dtype: 'float32', dims: [1, 2], data: new Float32Array(2) } }), /session \d+ is not open in this window/);
  });

  test('a malformed request is refused in one line naming the field, and a window controls only its own runs', async () => {
    const replies: EngineReply[] = [];
    const stop = app.bridge.onEngineReply((reply) => replies.push(reply));
    app.bridge.engineRequest({ id: 900, op: 'run', request: { model: new Uint8Array(4), feeds: { x: { dtype: 'float32', dims: [2], data: [1, 2] } } } });
    app.bridge.engineRequest({ id: 901, op: 'train', request: { doc: mlp(), graph: {}, options: { epochs: 0, batchSize: 8, lr: 0.1 }, data: { builtIn: 'xor' } } });
    app.bridge.engineRequest({ id: 902, op: 'train', request: { doc: { ...mlp(), nodes: 'x' }, graph: {}, options: { epochs: 1, batchSize: 8, lr: 0.1 }, data: { builtIn: 'xor' } } });
    stop();
    assert.deepEqual(replies, [
      { id: 900, error: 'invalid netloom:engine-request payload: request.feeds.x.data: expected a typed array' },
      { id: 901, error: 'invalid netloom:engine-request payload: request.options.epochs: Too small: expected number to be >0' },
      { id: 902, error: 'invalid netloom:engine-request payload: request.doc: $.nodes must be a list of nodes' },
    ]);
    // Window 2 names window 1's run: the engine gets run 0, which is no run.
    const routes = new EngineRoutes();
    const started = routes.fromWindow(1, { id: 5, op: 'train', request: { doc: mlp(), graph: {}, options: { epochs: 1, batchSize: 8, lr: 0.1 }, data: { builtIn: 'xor' } } });
    assert.ok('toEngine' in started);
    const own = routes.fromWindow(1, { id: 6, op: 'control', run: 5, action: 'stop' });
    const foreign = routes.fromWindow(2, { id: 1, op: 'control', run: 5, action: 'stop' });
    assert.equal((own as { toEngine: Extract<WorkerRequest, { op: 'control' }> }).toEngine.run, started.toEngine.id);
    assert.equal((foreign as { toEngine: Extract<WorkerRequest, { op: 'control' }> }).toEngine.run, 0);
    // Replies go back to the window that asked, under its own number; a closed window's runs are stopped.
    assert.deepEqual(routes.fromEngine({ id: started.toEngine.id, events: [] }), { windowId: 1, reply: { id: 5, events: [] } });
    // A session is the window's that opened it.
    const open = routes.fromWindow(1, { id: 7, op: 'open', model: new Uint8Array(4) });
    assert.ok('toEngine' in open);
    routes.fromEngine({ id: open.toEngine.id, result: { session: 9, provider: 'cpu', inputNames: [], outputNames: [] } });
    assert.ok('toEngine' in routes.fromWindow(1, { id: 8, op: 'carried', session: 9 }));
    assert.deepEqual(routes.fromWindow(2, { id: 2, op: 'carried', session: 9 }), { toWindow: { id: 2, error: 'session 9 is not open in this window' } });
    assert.deepEqual(routes.windowClosed(1), [
      { id: 6, op: 'control', run: started.toEngine.id, action: 'stop' },
      { id: 7, op: 'release', session: 9 },
    ]);
    assert.equal(routes.fromEngine({ id: started.toEngine.id, result: null }), null);
  });
});
