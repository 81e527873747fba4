/**
 * Where a training step's time goes: ONNX Runtime's own profiler timing every node of one step graph,
 * summed per op type, per layer and per phase (forward, backward, update), each against its roofline —
 * what its FLOPs would take at the measured MatMul peak, or its bytes at the measured memory bandwidth,
 * whichever is longer. `npm run bench:profile` prints the tables for the benchmark's CNN and MLP.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { annotate } from '../core/autodiff/types.ts';
import type { TensorType } from '../core/graph/dim.ts';
import { attrInt } from '../core/onnx/attributes.ts';
import { OnnxBuilder, valueInfo } from '../core/onnx/builder.ts';
import { encodeModelBytes, type ModelProto, type NodeProto, type TensorProto } from '../core/onnx/proto.ts';
import { initialCarried, type TrainingGraph } from '../core/train/step.ts';

const RUNS = 10;

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; activation_size?: string; parameter_size?: string; output_size?: string };
}

/** One row of a table: measured time per step, and the roofline time of the same nodes. */
interface Row {
  key: string;
  ms: number;
  rooflineMs: number;
  gflop: number;
  mbytes: number;
}

export interface StepProfile {
  stepMs: number;
  byPhase: Row[];
  byOp: Row[];
  byLayer: Row[];
  /** The single nodes, as ONNX Runtime ran them. */
  byNode: Row[];
}

const elements = (t: TensorType | undefined, batch: number): number => (t ? t.shape.reduce<number>((p, d) => p * (typeof d === 'number' ? d : batch), 1) : 0);

/** Multiply-adds of the ops that do arithmetic worth counting; the rest are element-wise and memory-bound. */
function macs(n: NodeProto, types: Map<string, TensorType>, batch: number): number {
  const shape = (v: string) => types.get(v)?.shape.map((d) => (typeof d === 'number' ? d : batch)) ?? [];
  const out = elements(types.get(n.output[0]), batch);
  switch (n.op_type) {
    case 'MatMul':
      return out * shape(n.input[0]).at(-1)!;
    case 'Gemm': {
      // The shared dimension, from whichever operand has it known (a reshaped operand may carry the batch).
      const fromA = types.get(n.input[0])?.shape[attrInt(n, 'transA', 0) === 1 ? 0 : 1];
      const fromB = types.get(n.input[1])?.shape[attrInt(n, 'transB', 0) === 1 ? 1 : 0];
      return out * (typeof fromA === 'number' ? fromA : typeof fromB === 'number' ? fromB : batch);
    }
    case 'Conv': {
      const w = shape(n.input[1]);
      return out * w.slice(1).reduce((p, d) => p * d, 1);
    }
    case 'ConvTranspose': {
      const w = shape(n.input[1]);
      return elements(types.get(n.input[0]), batch) * w.slice(1).reduce((p, d) => p * d, 1);
    }
    default:
      return 0;
  }
}

/** Which phase and layer a step-graph node belongs to, from the doc strings the compiler, autodiff and optimiser leave. */
function origin(n: NodeProto): { phase: string; layer: string } {
  const doc = n.doc_string ?? '';
  const layerOf = (name: string) => name.split('/')[0];
  if (doc.startsWith('gradient of ')) return { phase: 'backward', layer: layerOf(doc.slice('gradient of '.length)) };
  if (doc.startsWith('update of ')) return { phase: 'update', layer: doc.slice('update of '.length).replace(/\.[^.]*$/, '') };
  if (doc.startsWith('netloom ')) return { phase: 'forward', layer: layerOf(n.name ?? '') };
  return { phase: 'backward', layer: '(gradient sums)' };
}

function stepFeeds(graph: TrainingGraph, x: ort.Tensor, target: ort.Tensor): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = { [graph.inputs[0].name]: x, [graph.target.name]: target, lr: new ort.Tensor('float32', [1e-3], []), step: new ort.Tensor('float32', [1], []) };
  for (const [name, w] of initialCarried(graph)) feeds[name] = new ort.Tensor('float32', w.data, w.shape);
  return feeds;
}

/**
 * The median CPU time of one run on a single ONNX Runtime thread, in ms. On a machine shared with other
 * work, wall-clock times swing several-fold from minute to minute; the CPU time a single-threaded run
 * consumes barely does (no waiting, no thread pool spinning), so ratios of these are what one can compare.
 */
export async function cpuTimePerRun(model: Uint8Array, feeds: Record<string, ort.Tensor>, runs = 30): Promise<number> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  for (let i = 0; i < 3; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = process.cpuUsage();
    await session.run(feeds);
    const used = process.cpuUsage(before);
    times.push((used.user + used.system) / 1000);
  }
  await session.release();
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** The training step's CPU time on one thread (see cpuTimePerRun). */
export const stepCpuTime = (graph: TrainingGraph, x: ort.Tensor, target: ort.Tensor, runs?: number): Promise<number> => cpuTimePerRun(encodeModelBytes(graph.step), stepFeeds(graph, x, target), runs);

/** Profiles `RUNS` steps of the graph at this batch (after two unprofiled-in-effect warm-up runs). */
export async function profileStep(graph: TrainingGraph, batch: number, x: ort.Tensor, target: ort.Tensor, peakGflops: number, bandwidthGBs: number, threads = 0): Promise<StepProfile> {
  const dir = mkdtempSync(join(tmpdir(), 'netloom-profile-'));
  const session = await ort.InferenceSession.create(encodeModelBytes(graph.step), { enableProfiling: true, profileFilePrefix: join(dir, 'step'), intraOpNumThreads: threads });
  const feeds = stepFeeds(graph, x, target);
  for (let i = 0; i < 2 + RUNS; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = join(dir, readdirOne(dir));
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  rmSync(dir, { recursive: true });

  // Only the last RUNS runs count: the first two warm the caches and the allocator.
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const from = runs[2].ts;
  const stepMs = runs.slice(2).reduce((s, e) => s + e.dur, 0) / 1000 / RUNS;
  const nodes = new Map(graph.step.graph.node.map((n) => [n.name ?? '', n]));
  const types = annotate(graph.step.graph, graph.step.opset_import[0].version);
  const tables = { byPhase: new Map<string, Row>(), byOp: new Map<string, Row>(), byLayer: new Map<string, Row>(), byNode: new Map<string, Row>() };
  const add = (table: Map<string, Row>, key: string, ms: number, rooflineMs: number, gflop: number, mbytes: number) => {
    const row = table.get(key) ?? { key, ms: 0, rooflineMs: 0, gflop: 0, mbytes: 0 };
    row.ms += ms;
    row.rooflineMs += rooflineMs;
    row.gflop += gflop;
    row.mbytes += mbytes;
    table.set(key, row);
  };
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < from) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const node = nodes.get(name);
    const bytes = ['activation_size', 'parameter_size', 'output_size'].reduce((s, k) => s + Number(e.args?.[k as 'output_size'] ?? 0), 0) / RUNS;
    const flops = node ? (2 * macs(node, types, batch)) / RUNS : 0;
    const ms = e.dur / 1000 / RUNS;
    const rooflineMs = 1000 * Math.max(flops / (peakGflops * 1e9), bytes / (bandwidthGBs * 1e9));
    // Nodes ONNX Runtime made by fusing ours keep no doc string: they are named, not guessed.
    const { phase, layer } = node ? origin(node) : { phase: '(fused by ONNX Runtime)', layer: '(fused by ONNX Runtime)' };
    const op = e.args?.op_name ?? node?.op_type ?? '?';
    add(tables.byPhase, phase, ms, rooflineMs, flops / 1e9, bytes / 1e6);
    add(tables.byOp, op, ms, rooflineMs, flops / 1e9, bytes / 1e6);
    add(tables.byLayer, layer, ms, rooflineMs, flops / 1e9, bytes / 1e6);
    add(tables.byNode, `${name} (${op}${node?.doc_string?.startsWith('netloom') === false ? `, ${node.doc_string}` : ''})`, ms, rooflineMs, flops / 1e9, bytes / 1e6);
  }
  const sorted = (m: Map<string, Row>) => [...m.values()].sort((a, b) => b.ms - a.ms);
  return { stepMs, byPhase: sorted(tables.byPhase), byOp: sorted(tables.byOp), byLayer: sorted(tables.byLayer), byNode: sorted(tables.byNode) };
}

/** An encoded model and what to feed it. */
interface RunnableModel {
  model: Uint8Array;
  feeds: Record<string, ort.Tensor>;
}

/** A node of the step's arithmetic and the model of it alone. */
interface ArithmeticNode {
  node: NodeProto;
  alone: RunnableModel;
}

const untyped = (name: string) => ({ name, type: { tensor_type: { elem_type: 1 } } });

/**
 * These nodes of `base` in a model of their own, fed the values they read, whose one output is the first
 * element of each result: the results stay in the runtime, as inside the trainer's chunk of steps (copying
 * megabytes of activations or parameters out to JavaScript would be charged to the kernels).
 */
function modelOf(base: ModelProto, nodes: NodeProto[], values: Record<string, ort.Tensor>, initializers: Map<string, TensorProto>): RunnableModel {
  const read = new Set(nodes.flatMap((n) => n.input));
  const digest = new OnnxBuilder(base.opset_import[0].version);
  for (const v of [...base.graph.node.flatMap((n) => n.output), ...base.graph.input.map((i) => i.name), ...initializers.keys()]) if (v) digest.fresh(v);
  const firsts = nodes
    .flatMap((n) => n.output)
    .filter((v) => v && !read.has(v))
    .map((v) => digest.op('Slice', [digest.reshape(v, [-1]), digest.ints([0]), digest.ints([1])]));
  digest.op('Concat', firsts, { axis: 0 }, 'digest');
  const fed = Object.keys(values).filter((v) => read.has(v));
  const graph = {
    name: 'arithmetic',
    node: [...nodes, ...digest.nodes.map((n) => ({ ...n, name: `digest/${n.name}` }))],
    initializer: [...[...read].filter((v) => initializers.has(v)).map((v) => initializers.get(v)!), ...digest.initializers],
    input: fed.map((v) => valueInfo(v, { shape: [...values[v].dims], dtype: values[v].type as TensorType['dtype'] })),
    output: [untyped('digest')],
  };
  return { model: encodeModelBytes({ ...base, graph }), feeds: Object.fromEntries(fed.map((v) => [v, values[v]])) };
}

/**
 * The step's arithmetic alone: its nodes that do counted multiply-adds (convolutions, Gemms, MatMuls),
 * in one graph of their own, each fed the very values the whole step gives it. Timed like the step, this
 * is what ONNX Runtime's kernels need for the step's FLOPs if every other node cost nothing: the ceiling
 * on a fraction of the MatMul peak that no rewrite of the rest of the graph can pass. Also the whole step
 * and each such node alone, their results kept in the runtime alike.
 */
export async function arithmeticAlone(graph: TrainingGraph, batch: number, x: ort.Tensor, target: ort.Tensor): Promise<{ step: RunnableModel; alone: RunnableModel; nodes: ArithmeticNode[] }> {
  const step = graph.step.graph;
  const types = annotate(step, graph.step.opset_import[0].version);
  const kept = step.node.filter((n) => macs(n, types, batch) > 0);
  const produced = new Set(kept.flatMap((n) => n.output));
  const initializers = new Map((step.initializer ?? []).map((t) => [t.name ?? '', t]));
  const needed = [...new Set(kept.flatMap((n) => n.input))].filter((v) => v && !initializers.has(v));
  // One run of the whole step that also hands out every value the kept nodes read.
  const whole = stepFeeds(graph, x, target);
  const fetched = needed.filter((v) => !(v in whole));
  const probe = { ...graph.step, graph: { ...step, output: [...step.output.filter((o) => !fetched.includes(o.name)), ...fetched.map(untyped)] } };
  const session = await ort.InferenceSession.create(encodeModelBytes(probe));
  const values = await session.run(whole, fetched);
  await session.release();
  const all = Object.fromEntries(needed.map((v) => [v, whole[v] ?? values[v]]));
  const outside = Object.fromEntries(needed.filter((v) => !produced.has(v)).map((v) => [v, all[v]]));
  return {
    step: modelOf(graph.step, step.node, whole, initializers),
    alone: modelOf(graph.step, kept, outside, initializers),
    nodes: kept.map((node) => ({ node, alone: modelOf(graph.step, [node], all, initializers) })),
  };
}

/**
 * Each node of the arithmetic alone, its best wall-clock time of `runs` on one ONNX Runtime thread and on
 * the default pool, turn about: which kernels use a second core.
 */
export async function nodeThreadScaling(nodes: ArithmeticNode[], runs = 40): Promise<string> {
  const lines = ['| node | inputs | 1 thread, ms | all threads, ms | speed-up |', '|---|---|--:|--:|--:|'];
  for (const { node: n, alone } of nodes) {
    const sessions = [await ort.InferenceSession.create(alone.model, { intraOpNumThreads: 1 }), await ort.InferenceSession.create(alone.model)];
    const best = [Infinity, Infinity];
    for (let i = 0; i < runs + 3; i++)
      for (const [k, session] of sessions.entries()) {
        const t = performance.now();
        await session.run(alone.feeds);
        if (i >= 3) best[k] = Math.min(best[k], performance.now() - t);
      }
    await Promise.all(sessions.map((session) => session.release()));
    const shapes = n.input.map((v) => alone.feeds[v]?.dims.join('×') ?? 'constant').join(', ');
    const what = n.doc_string?.startsWith('netloom') ? `${n.name} (${n.op_type})` : `${n.op_type}, ${n.doc_string}`;
    lines.push(`| ${what} | ${shapes} | ${best[0].toFixed(2)} | ${best[1].toFixed(2)} | ${(best[0] / best[1]).toFixed(2)} |`);
  }
  return lines.join('\n');
}

/**
 * Wall-clock ms of one run of each model on ONNX Runtime's default thread pool, taken turn about (one run
 * of each, `runs` times) so that a slow spell of a shared machine falls on all alike: best and median.
 */
export async function interleavedRunMs(models: RunnableModel[], runs = 100): Promise<{ best: number; median: number }[]> {
  const sessions = await Promise.all(models.map((m) => ort.InferenceSession.create(m.model)));
  const times = models.map(() => [] as number[]);
  for (let i = 0; i < runs + 5; i++)
    for (const [k, session] of sessions.entries()) {
      const t = performance.now();
      await session.run(models[k].feeds);
      if (i >= 5) times[k].push(performance.now() - t);
    }
  await Promise.all(sessions.map((s) => s.release()));
  return times.map((t) => {
    const sorted = [...t].sort((a, b) => a - b);
    return { best: sorted[0], median: sorted[Math.floor(sorted.length / 2)] };
  });
}

function readdirOne(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  if (files.length !== 1) throw new Error(`expected one ONNX Runtime profile in ${dir}, found ${files.length}`);
  return files[0];
}

/** A markdown table of one breakdown: share of the step, ms, roofline ms and how far above it. */
export function profileTable(title: string, rows: Row[], stepMs: number, limit = 12): string {
  const kernels = rows.reduce((s, r) => s + r.ms, 0);
  const lines = [`| ${title} | share | ms/step | GFLOP | MB moved | roofline ms | × roofline |`, '|---|--:|--:|--:|--:|--:|--:|'];
  for (const r of rows.slice(0, limit))
    lines.push(
      `| ${r.key} | ${((100 * r.ms) / kernels).toFixed(1)}% | ${r.ms.toFixed(2)} | ${r.gflop.toFixed(3)} | ${r.mbytes.toFixed(1)} | ${r.rooflineMs.toFixed(2)} | ${(r.ms / r.rooflineMs).toFixed(1)} |`,
    );
  if (rows.length > limit) {
    const rest = rows.slice(limit);
    const sum = (f: (r: Row) => number) => rest.reduce((s, r) => s + f(r), 0);
    lines.push(
      `| (${rest.length} more) | ${((100 * sum((r) => r.ms)) / kernels).toFixed(1)}% | ${sum((r) => r.ms).toFixed(2)} | ${sum((r) => r.gflop).toFixed(3)} | ${sum((r) => r.mbytes).toFixed(1)} | ${sum((r) => r.rooflineMs).toFixed(2)} | |`,
    );
  }
  lines.push(
    `| kernels in all (step ${stepMs.toFixed(2)} ms) | 100% | ${kernels.toFixed(2)} | ${rows.reduce((s, r) => s + r.gflop, 0).toFixed(3)} | ${rows.reduce((s, r) => s + r.mbytes, 0).toFixed(1)} | ${rows.reduce((s, r) => s + r.rooflineMs, 0).toFixed(2)} | |`,
  );
  return lines.join('\n');
}

/**
 * This machine's memory bandwidth through ONNX Runtime: a chain of large element-wise Adds (two reads and one
 * write each) inside one graph, ending in a small reduction, so no large tensor crosses back to JavaScript.
 */
export async function memoryBandwidth(): Promise<number> {
  const n = 1 << 23; // 32 MB per tensor: well past the caches
  const chain = 8;
  const b = new OnnxBuilder(17);
  let z = 'x';
  for (let i = 0; i < chain; i++) z = b.op('Add', [z, 'y']);
  b.op('ReduceMax', [z], { keepdims: 0 }, 'max');
  const v = (name: string) => valueInfo(name, { shape: [n], dtype: 'float32' });
  const graph = { name: 'bandwidth', node: b.nodes, input: [v('x'), v('y')], output: [valueInfo('max', { shape: [], dtype: 'float32' })] };
  const session = await ort.InferenceSession.create(encodeModelBytes({ ir_version: 8, opset_import: [{ domain: '', version: 17 }], graph }));
  const feeds = { x: new ort.Tensor('float32', new Float32Array(n).fill(1), [n]), y: new ort.Tensor('float32', new Float32Array(n).fill(2), [n]) };
  let best = 0;
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await session.run(feeds);
    best = Math.max(best, ((3 * chain + 1) * 4 * n) / ((performance.now() - t) / 1000) / 1e9);
  }
  await session.release();
  return best;
}
