/**
 * npm run check:gradients [-- [id ...] [--seq N] [--batch N] [--seed N]] — the per-layer gradient check
 * (core/debug/gradcheck.ts, as `netloom step --check` runs it) on every template: one traced training step
 * from random inputs and a random ∂L/∂y, then each layer's gradients against central finite differences.
 * Each template runs in a child process of its own, so that its peak memory is its own and one that runs
 * out of memory does not stop the others. Prints one line per template (--verbose: each layer as it is
 * checked, with its time and the process's memory) and exits 1 if any fails.
 *
 * Token inputs, and the symbolic sizes of float inputs (a sequence length T), are set to --seq (default 8);
 * the batch is --batch (default 2). Templates of billions of parameters (27 GB of float32 weights and more)
 * cannot be held here: they are checked with their repeated blocks cut to the first one (same sizes, every
 * kind of layer of the real model), a mixture of experts cut to top-k + 1 experts and the vocabulary of the
 * embedding and head cut to 1,000; the line says so.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ModelDocument } from '../core/index.ts';
import { elementCount, type Engine, type Tensor } from '../core/engine/engine.ts';
import { checkGradients, type LayerCheck } from '../core/debug/gradcheck.ts';
import { Debugger } from '../core/debug/trace.ts';
import { Rng } from '../core/graph/weights.ts';
import { NodeEngine } from '../engines/node/engine.ts';
import { templateDocument } from './check-pytorch.ts';
import { cutToFit } from './cut-to-fit.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Above this many parameters a template's weights, their gradients and the check's float64 copies do not fit in memory here. */
const WHOLE_LIMIT = 2_000_000_000;

export interface CheckSizes {
  /** Length of token inputs and of float inputs' symbolic sizes. */
  seq: number;
  batch: number;
}

export const templateIds = (): string[] =>
  readdirSync(join(ROOT, 'assets', 'templates'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();

/** The document with token inputs and symbolic sequence sizes set to `seq` (the batch stays symbolic). */
export function withSequence(doc: ModelDocument, seq: number): ModelDocument {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      if (n.op !== 'Input') return n;
      const shape = n.params.shape as (number | string)[];
      const tokens = n.params.dtype === 'int64';
      return { ...n, params: { ...n.params, shape: shape.map((d) => (tokens || (typeof d === 'string' && d !== 'N') ? seq : d)) } };
    }),
  };
}

/** The template as the check runs it, and what was cut to make it fit. */
export function checkedDocument(id: string, sizes: CheckSizes): { doc: ModelDocument; cut?: string } {
  return cutToFit(withSequence(templateDocument(id), sizes.seq), WHOLE_LIMIT);
}

/** One traced step from random inputs (token ids below the smallest vocabulary that reads them) and a random ∂L/∂y, then the check. */
export async function checkDocument(engine: Engine, doc: ModelDocument, batch: number, { seed = 7, log }: { seed?: number; log?: (line: string) => void } = {}): Promise<LayerCheck[]> {
  let since = performance.now();
  const lap = (what: string) => {
    log?.(`${what} (${((performance.now() - since) / 1000).toFixed(1)} s, RSS ${(process.memoryUsage.rss() / 2 ** 30).toFixed(1)} GB)`);
    since = performance.now();
  };
  const rng = new Rng(seed);
  const random = (dims: number[]): Tensor => {
    const data = new Float32Array(elementCount(dims));
    rng.fillNormal(data, 1);
    return { dtype: 'float32', dims, data };
  };
  const debug = await Debugger.open(engine, doc, { layerBoundaries: true });
  lap('step graph built and opened');
  try {
    const inputs: Record<string, Tensor> = {};
    for (const i of debug.graph.inputs) {
      const dims = i.type.shape.map((d) => (typeof d === 'number' ? d : batch));
      if (i.type.dtype !== 'int64') inputs[i.nodeId] = random(dims);
      else {
        const readers = doc.edges.filter((e) => e.from.split(':')[0] === i.nodeId).map((e) => doc.nodes.find((n) => n.id === e.to.split(':')[0]));
        const vocab = Math.min(...readers.map((n) => (n?.op === 'Embedding' ? (n.params.numEmbeddings as number) : 10)));
        inputs[i.nodeId] = { dtype: 'int64', dims, data: BigInt64Array.from({ length: elementCount(dims) }, () => BigInt(Math.floor(rng.next() * vocab))) };
      }
    }
    const upstream = random(debug.upstreamType!.shape.map((d) => (typeof d === 'number' ? d : batch)));
    const run = await debug.run({ inputs, upstream });
    lap('step traced');
    const checks: LayerCheck[] = [];
    for (const step of run.trace.backward.filter((s) => s.op !== 'Input')) {
      checks.push(...(await checkGradients(engine, run, [step.layer])));
      const c = checks[checks.length - 1];
      lap(`${c.layer} (${c.op}): ${c.maxRelativeError.toExponential(1)} over ${c.checked} in ${c.dtype}${c.pass ? '' : ' FAIL'}`);
    }
    return checks;
  } finally {
    await debug.release();
  }
}

interface TemplateResult {
  id: string;
  layers: number;
  failed: string[];
  worst: number;
  float32: number;
  seconds: number;
  peakRssMb: number;
  cut?: string;
  error?: string;
}

/** Runs in the child: one template, its result as one JSON line. */
async function checkOne(id: string, sizes: CheckSizes, verbose: boolean): Promise<TemplateResult> {
  const started = performance.now();
  const engine = new NodeEngine();
  const done = (fields: Partial<TemplateResult>): TemplateResult => ({
    id,
    layers: 0,
    failed: [],
    worst: 0,
    float32: 0,
    seconds: (performance.now() - started) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    ...fields,
  });
  let cut: string | undefined;
  try {
    const checked = checkedDocument(id, sizes);
    cut = checked.cut;
    const checks = await checkDocument(engine, checked.doc, sizes.batch, { log: verbose ? (l) => console.error(`  ${id}: ${l}`) : undefined });
    return done({
      cut,
      layers: checks.filter((c) => c.checked > 0).length,
      failed: checks.filter((c) => !c.pass).map((c) => `${c.layer} (${c.op}) ${c.maxRelativeError.toExponential(1)}${c.note ? `: ${c.note}` : ''}`),
      worst: Math.max(0, ...checks.map((c) => c.maxRelativeError)),
      float32: checks.filter((c) => c.checked > 0 && c.dtype === 'float32').length,
    });
  } catch (e) {
    return done({ cut, error: String((e as Error)?.message ?? e).split('\n')[0] });
  } finally {
    await engine.dispose();
  }
}

function line(r: TemplateResult): string {
  const ok = !r.error && r.failed.length === 0 && r.layers > 0;
  const figures = `${String(r.layers).padStart(3)} layers, largest relative error ${r.worst.toExponential(1)}${r.float32 ? ` (${r.float32} in float32)` : ''}, ${r.seconds.toFixed(0)} s, peak RSS ${(r.peakRssMb / 1024).toFixed(1)} GB`;
  const why = [...(r.cut ? [r.cut] : []), ...(r.error ? [r.error] : r.failed)];
  return `${ok ? 'pass' : 'FAIL'} ${r.id.padEnd(24)} ${figures}${why.length ? ` — ${why.join('; ')}` : ''}`;
}

function parseArgs(args: string[]): { ids: string[]; sizes: CheckSizes; one: boolean; verbose: boolean } {
  const sizes: CheckSizes = { seq: 8, batch: 2 };
  const ids: string[] = [];
  let one = false;
  let verbose = false;
  for (let i = 0; i < args.length; i++) {
    const option = args[i];
    if (option === '--one') one = true;
    else if (option === '--verbose') verbose = true;
    else if (option === '--seq' || option === '--batch') {
      const value = Number(args[++i]);
      if (!Number.isInteger(value) || value < 1) throw new Error(`${option} needs a whole number of at least 1, got "${args[i]}"`);
      sizes[option.slice(2) as keyof CheckSizes] = value;
    } else if (option.startsWith('--')) throw new Error(`unknown option ${option} (options: --seq N, --batch N, --verbose)`);
    else ids.push(option);
  }
  const known = templateIds();
  const unknown = ids.find((id) => !known.includes(id));
  if (unknown) throw new Error(`no template "${unknown}"; templates: ${known.join(', ')}`);
  return { ids: ids.length > 0 ? ids : known, sizes, one, verbose };
}

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args);
  } catch (e) {
    console.error(`check:gradients: ${(e as Error).message}`);
    return 2;
  }
  const { ids, sizes, one, verbose } = parsed;
  if (one) {
    console.log(JSON.stringify(await checkOne(ids[0], sizes, verbose)));
    return 0;
  }
  console.log(`Per-layer gradient check, sequence length ${sizes.seq}, batch ${sizes.batch}`);
  let failures = 0;
  for (const id of ids) {
    const started = performance.now();
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--one', id, '--seq', String(sizes.seq), '--batch', String(sizes.batch), ...(verbose ? ['--verbose'] : [])],
      {
        encoding: 'utf8',
        // Per-layer progress (--verbose) goes straight through; the result comes back as the last line of stdout.
        stdio: ['ignore', 'pipe', verbose ? 'inherit' : 'pipe'],
        maxBuffer: 1 << 26,
      },
    );
    const last = child.stdout.trim().split('\n').pop() ?? '';
    let result: TemplateResult;
    try {
      result = JSON.parse(last) as TemplateResult;
    } catch {
      const why = child.signal ? `killed by ${child.signal} (out of memory?)` : (child.stderr?.trim().split('\n').pop() ?? `exit ${child.status}`);
      result = { id, layers: 0, failed: [], worst: 0, float32: 0, seconds: (performance.now() - started) / 1000, peakRssMb: 0, error: why };
    }
    if (result.error || result.failed.length > 0 || result.layers === 0) failures++;
    console.log(line(result));
  }
  return failures === 0 ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
