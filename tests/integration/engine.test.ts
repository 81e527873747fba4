/** The Node engine: sessions in a worker thread, cached per model, with honest providers. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileModel } from '../../core/convert/compile.ts';
import { probeModel } from '../../core/onnx/probe.ts';
import { encodeModelBytes, externalizeTensors } from '../../core/onnx/proto.ts';
import { EngineError } from '../../core/engine/engine.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { doc, node } from '../unit/helpers.ts';

// A chain of big matrix products: long enough to see whether the caller's event loop keeps turning.
const heavy = encodeModelBytes(
  compileModel(
    doc(
      [node('x', 'Input', { shape: [1024] }), ...Array.from({ length: 8 }, (_, i) => node(`fc${i}`, 'Linear', { outFeatures: 1024 }))],
      Array.from({ length: 8 }, (_, i) => [i === 0 ? 'x' : `fc${i - 1}`, `fc${i}`]),
    ),
    { seed: 1 },
  ).model,
);

test("running a model does not block the caller's event loop", async () => {
  const engine = new NodeEngine();
  const session = await engine.createSession(heavy);
  // Count turns of the event loop while five heavy runs are in flight: a run on this thread would allow none.
  let turns = 0;
  let running = true;
  const spin = () => {
    if (!running) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  for (let i = 0; i < 5; i++) await session.run({ x: { dtype: 'float32', dims: [512, 1024], data: new Float32Array(512 * 1024).fill(0.01) } });
  running = false;
  assert.ok(turns > 0, `${turns} event-loop turns during inference`);
  await engine.dispose();
});

test('sessions are cached per model and provider; CPU is always available', async () => {
  const engine = new NodeEngine();
  assert.equal((await engine.availableProviders())[0], 'cpu');
  const a = await engine.createSession(heavy);
  const b = await engine.createSession(heavy);
  assert.equal(a, b);
  assert.deepEqual([...a.inputNames], ['x']);
  await a.release();
  const out = await b.run({ x: { dtype: 'float32', dims: [1, 1024], data: new Float32Array(1024) } });
  assert.deepEqual(out.fc7.dims, [1, 1024]);
  await b.release();
  await assert.rejects(() => engine.createSession(heavy, { provider: 'wasm' }), /wasm execution provider is not available here/);
  const fallback = await engine.createSession(heavy, { provider: 'cuda', allowFallback: true });
  assert.equal(fallback.provider, (await engine.availableProviders()).includes('cuda') ? 'cuda' : 'cpu');
  await assert.rejects(() => fallback.run({}), /needs an input "x"/);
  await engine.dispose();
});

test("a session asked for without an optimisation level (the provider probe's) starts at ONNX Runtime's default", async () => {
  // An undefined level made every probed provider unavailable ("graphOptimizationLevel must be a string"), WebGPU with an adapter too.
  const engine = new NodeEngine();
  const { id } = await engine.request<{ id: number }>('create', { bytes: probeModel(), provider: 'cpu' });
  await engine.request('release', { id });
  await engine.dispose();
});

test("a consumed feed moves to the engine instead of being copied; other feeds stay the caller's", async () => {
  const engine = new NodeEngine();
  const session = await engine.createSession(heavy);
  const kept = new Float32Array(2 * 1024).fill(0.01);
  const given = kept.slice();
  const copied = await session.run({ x: { dtype: 'float32', dims: [2, 1024], data: kept } });
  const moved = await session.run({ x: { dtype: 'float32', dims: [2, 1024], data: given } }, undefined, { consumed: ['x'] });
  assert.equal(kept.length, 2 * 1024, 'a feed not consumed keeps its data');
  assert.equal(given.length, 0, 'the consumed feed now belongs to the engine');
  assert.deepEqual(moved.fc7.data, copied.fc7.data);
  await engine.dispose();
});

test('a model past protobuf’s 2 GB limit is refused in one line, before anything is copied', async () => {
  const engine = new NodeEngine();
  // Zero pages that are never written cost no memory.
  await assert.rejects(engine.createSession(new Uint8Array(2 ** 31)), (e) => {
    assert.ok(e instanceof EngineError);
    assert.equal(e.message, "the model is 2.0 GB: ONNX Runtime loads a model of at most 2 GB in one piece (protobuf's limit)");
    return true;
  });
  await engine.dispose();
});

test('a session opened from an ONNX file reads its external data, as a model past 2 GB must be run, and gives what its bytes give', async () => {
  const small = compileModel(doc([node('x', 'Input', { shape: [64] }), node('fc', 'Linear', { outFeatures: 32 })], [['x', 'fc']]), { seed: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'netloom-engine-'));
  const split = externalizeTensors(small.model, 'model.onnx.data');
  assert.ok(
    split.model.graph.initializer!.some((t) => t.data_location === 1),
    'the weight is external data',
  );
  writeFileSync(join(dir, 'model.onnx.data'), Buffer.concat(split.data));
  writeFileSync(join(dir, 'model.onnx'), encodeModelBytes(split.model));
  const engine = new NodeEngine();
  try {
    const x = { dtype: 'float32' as const, dims: [2, 64], data: Float32Array.from({ length: 128 }, (_, i) => Math.sin(i)) };
    const fromFile = await engine.createSessionFromFile(join(dir, 'model.onnx'));
    const fromBytes = await engine.createSession(encodeModelBytes(small.model));
    const [a, b] = [await fromFile.run({ x }), await fromBytes.run({ x })];
    assert.deepEqual(a.fc.data, b.fc.data);
    await assert.rejects(() => engine.createSessionFromFile(join(dir, 'missing.onnx')), EngineError);
  } finally {
    await engine.dispose();
    rmSync(dir, { recursive: true });
  }
});
