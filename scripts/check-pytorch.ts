/**
 * npm run check:pytorch [name ...] — proves the PyTorch export. For every template and every torchvision
 * model of the test cache (.cache/onnx-models, made on first use), the generated model.py, run as a script
 * by /usr/bin/python3 (Debian's python3-torch), must have Netloom's parameter count and give the outputs
 * ONNX Runtime gives on Netloom's own ONNX export with the same weights (1e-4, relative to the largest
 * output value). Templates over 500 million parameters are checked cut (scripts/cut-to-fit.ts), saying so.
 * Prints one line per model and exits 1 if any fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inferShapes, parseModel, type ModelDocument } from '../core/index.ts';
import { compileModel } from '../core/convert/compile.ts';
import { importOnnx } from '../core/convert/import.ts';
import { toPyTorch } from '../core/convert/pytorch.ts';
import { encodeNpy, parseNpy } from '../core/data/npy.ts';
import type { Tensor } from '../core/engine/engine.ts';
import { decodeModel, encodeModelBytes, type ModelProto } from '../core/onnx/proto.ts';
import * as ort from 'onnxruntime-node';
import { encodeSafetensors, Rng, type Weights } from '../core/graph/weights.ts';
import { NodeEngine } from '../engines/node/engine.ts';
import { writeFileAtomic } from '../host/fs.ts';
import { needsExternalData, withModelSession, writeOnnx } from '../cli/models.ts';
import { cutToFit } from './cut-to-fit.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const PYTHON = '/usr/bin/python3';
const TOLERANCE = 1e-4;
const MAX_PARAMS = 500_000_000;

/** Why the check cannot run here, or null when /usr/bin/python3 has torch. */
export function pythonTorchMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `${PYTHON} has no torch (apt-get install python3-torch)`;
}

export interface CheckResult {
  name: string;
  params: number;
  torchParams: number | null;
  /** The largest |torch − ONNX Runtime| over all outputs, relative to the largest |ONNX Runtime| value. */
  difference: number;
  /** The largest |ONNX Runtime| output value (a check on outputs that are all zero would prove little). */
  largest: number;
  /** The outputs compared, by ONNX name. */
  outputs: string[];
  ok: boolean;
  error?: string;
}

/** How far `actual` is from `expected`: the largest |difference|, and the largest |expected| value (at least 1e-12) to judge it by. */
export function outputDifference(expected: Float32Array, actual: Float32Array): { scale: number; worst: number } {
  let [scale, worst] = [1e-12, 0];
  for (let i = 0; i < expected.length; i++) [scale, worst] = [Math.max(scale, Math.abs(expected[i])), Math.max(worst, Math.abs(expected[i] - actual[i]))];
  return { scale, worst };
}

const fileName = (name: string): string => name.replace(/[^\w.-]/g, '_');

/** Test inputs: batch 2, symbolic sizes 6, floats in [−1, 1), ids below the smallest vocabulary they feed. */
function makeInputs(doc: ModelDocument, compiled: ReturnType<typeof compileModel>, rng: Rng): Record<string, Tensor> {
  const feeds: Record<string, Tensor> = {};
  for (const input of compiled.inputs) {
    const dims = input.type.shape.map((d) => (d === 'N' ? 2 : typeof d === 'number' ? d : 6));
    const count = dims.reduce((a, b) => a * b, 1);
    if (input.type.dtype === 'float32') {
      const data = new Float32Array(count);
      rng.fillUniform(data, 1);
      feeds[input.name] = { dtype: 'float32', dims, data };
    } else {
      const readers = doc.edges.filter((e) => e.from === input.nodeId || e.from.startsWith(`${input.nodeId}:`)).map((e) => doc.nodes.find((n) => n.id === e.to.split(':')[0]));
      const vocab = Math.min(...readers.map((n) => (n?.op === 'Embedding' ? (n.params.numEmbeddings as number) : 2)));
      feeds[input.name] = { dtype: 'int64', dims, data: BigInt64Array.from({ length: count }, () => BigInt(Math.floor(rng.next() * vocab))) };
    }
  }
  return feeds;
}

const runOnEngine = (engine: NodeEngine, model: ModelProto, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> => withModelSession(engine, model, {}, (session) => session.run(feeds));

/**
 * An ONNX Runtime session of `model`. One past protobuf's 2 GB (a cut Mixtral's 2.3 GB, torchvision's
 * vit_h_14) cannot reach ONNX Runtime in one buffer: it is written to `file` with its weights as external
 * data beside it, as `netloom export` writes it (writeOnnx), and ONNX Runtime opens the file.
 */
export async function ortSession(model: ModelProto, file: string): Promise<ort.InferenceSession> {
  if (!needsExternalData(model)) return ort.InferenceSession.create(encodeModelBytes(model));
  await writeOnnx(file, model);
  return ort.InferenceSession.create(file);
}

/** Exports `doc` to model.py and safetensors, runs both sides and compares. */
export async function checkPyTorch(name: string, doc: ModelDocument, weights?: Weights, engine = new NodeEngine()): Promise<CheckResult> {
  const compiled = compileModel(doc, { weights, seed: 0 });
  const params = compiled.inference.getTotals().totalParams;
  const dir = mkdtempSync(join(tmpdir(), 'netloom-pytorch-'));
  try {
    writeFileSync(join(dir, 'model.py'), toPyTorch(doc));
    // In chunks: one buffer cannot hold more than 2 GB (a cut Mixtral's weights are 2.3 GB).
    await writeFileAtomic(join(dir, 'model.safetensors'), encodeSafetensors(compiled.weights));
    const feeds = makeInputs(doc, compiled, new Rng(1));
    const args = Object.entries(feeds).map(([input, t]) => {
      const path = join(dir, `input_${fileName(input)}.npy`);
      writeFileSync(path, encodeNpy(t));
      return `${input}=${path}`;
    });
    const expected = await runOnEngine(engine, compiled.model, feeds);
    const names = Object.keys(expected);
    const out = join(dir, names.length === 1 ? 'output.npy' : 'outputs');
    const run = spawnSync(PYTHON, [join(dir, 'model.py'), join(dir, 'model.safetensors'), ...args, out], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const torchParams = Number(/parameters: (\d+)/.exec(run.stderr ?? '')?.[1] ?? NaN);
    if (run.status !== 0) return { name, params, torchParams: null, difference: NaN, largest: NaN, outputs: [], ok: false, error: (run.stderr || run.error?.message || '').trim().split('\n').pop() };
    let [difference, largest] = [0, 0];
    for (const output of names) {
      const got = parseNpy(new Uint8Array(readFileSync(names.length === 1 ? out : join(out, `${fileName(output)}.npy`))));
      const want = expected[output];
      if (got.dims.join() !== want.dims.join())
        return { name, params, torchParams, difference: NaN, largest: NaN, outputs: [], ok: false, error: `${output}: torch gives [${got.dims}], ONNX Runtime [${want.dims}]` };
      const { scale, worst } = outputDifference(want.data as Float32Array, got.data as Float32Array);
      difference = Math.max(difference, worst / scale);
      largest = Math.max(largest, scale);
    }
    return { name, params, torchParams, difference, largest, outputs: names, ok: torchParams === params && difference <= TOLERANCE && largest > 1e-6 };
  } finally {
    if (process.env.KEEP) console.error(dir);
    else rmSync(dir, { recursive: true, force: true });
  }
}

export function templateDocument(id: string): ModelDocument {
  const result = parseModel(readFileSync(join(ROOT, 'assets', 'templates', `${id}.json`), 'utf8'));
  if (!result.ok) throw new Error(`template ${id} does not load`);
  return result.doc;
}

async function main(only: string[]): Promise<number> {
  const missing = pythonTorchMissing();
  if (missing) {
    console.error(`check:pytorch: ${missing}`);
    return 2;
  }
  const { torchvisionModels, MODEL_CACHE } = await import('../tests/integration/model-cache.ts');
  const cases: { name: string; load: () => { doc: ModelDocument; weights?: Weights } }[] = readdirSync(join(ROOT, 'assets', 'templates'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .map((id) => ({ name: id, load: () => ({ doc: templateDocument(id) }) }));
  const manifest = torchvisionModels();
  if (typeof manifest === 'string') console.error(`check:pytorch: torchvision models skipped: ${manifest}`);
  else {
    for (const model of Object.keys(manifest)) {
      const file = join(MODEL_CACHE, `${model}.onnx`);
      if (existsSync(file)) cases.push({ name: `torchvision ${model}`, load: () => importOnnx(decodeModel(readFileSync(file)), model) });
    }
  }
  const engine = new NodeEngine();
  let failures = 0;
  try {
    for (const c of cases.filter((c) => only.length === 0 || only.some((o) => c.name.includes(o)))) {
      const started = performance.now();
      const loaded = c.load();
      // Weights are held three times (Netloom, ONNX Runtime, torch): models of billions of parameters are checked cut.
      const { doc, cut } = loaded.weights ? { doc: loaded.doc } : cutToFit(loaded.doc, MAX_PARAMS);
      const params = inferShapes(doc).getTotals().totalParams;
      if (params > MAX_PARAMS && !cut) {
        console.log(`skip ${c.name.padEnd(30)} params ${params.toLocaleString('en-US')}: over ${MAX_PARAMS.toLocaleString('en-US')}, too large to hold three times in this machine's memory`);
        continue;
      }
      const r = await checkPyTorch(c.name, doc, loaded.weights, engine);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (!r.ok) failures++;
      const figures = `params ${r.params.toLocaleString('en-US')} (torch ${r.torchParams?.toLocaleString('en-US') ?? '—'}), max difference ${Number.isNaN(r.difference) ? '—' : r.difference.toExponential(1)} of outputs up to ${Number.isNaN(r.largest) ? '—' : r.largest.toPrecision(2)}`;
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(30)} ${figures}, ${seconds} s${cut ? ` (${cut})` : ''}${r.error ? `: ${r.error}` : ''}`);
    }
  } finally {
    await engine.dispose();
  }
  return failures === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
