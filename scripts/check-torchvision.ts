/**
 * npm run check:torchvision [--models a,b] [--max-params N] — every classification model of torchvision
 * (0.14, Debian's python3-torchvision), exported by torch in both styles, imports into Netloom, counts what
 * PyTorch counts, re-exports to the same function and trains like torch. Per model, in processes run one
 * after another, torch's export, Netloom's side, torch's comparison (scripts/torchvision_reference.py is
 * torch's side):
 *  - export (opset 17): PRESERVE without constant folding (BatchNorm kept), and torch's default eval
 *    export (BatchNorm folded into the convolutions);
 *  - each file imports without errors and counts exactly torch's parameters for it (for the folded file:
 *    those of torch.fx's conv/BatchNorm fusion of the model);
 *  - each re-export gives the original file's outputs on ONNX Runtime for the same batch (1e-4, relative to
 *    the largest output);
 *  - one SGD step (cross-entropy, batch 2, lr 0.01, BatchNorm in training mode, Dropout p = 0) of each
 *    import, Netloom's step graph on ONNX Runtime against torch's train() step from the same weights (of
 *    the model for the PRESERVE file, of torch's fused model for the folded one): every parameter after
 *    it within 1e-4 of torch's, relative to the tensor's largest value, or no further from torch's
 *    float64 step than torch's float32 step is (an ill-conditioned model; the float64 step is taken only
 *    then).
 * Prints one line per model and a summary; exits 1 if any model fails. Models over --max-params (by
 * default none) are skipped, saying so. vit_h_14's and regnet_y_128gf's files (632 M and 645 M
 * parameters) pass ONNX's 2 GB: torch writes their weights as external data, read here as `netloom
 * import` reads them (cli/models.ts), and ONNX Runtime opens such files itself (ortSession). Each
 * side holds as few copies of those 2.5 GB at once as it can: its phases run one after another, and
 * the sides never at the same time.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { inferShapes } from '../core/index.ts';
import { compileModel } from '../core/convert/compile.ts';
import { importOnnx } from '../core/convert/import.ts';
import { encodeNpy, parseNpy } from '../core/data/npy.ts';
import { optimizerConfig } from '../core/train/optimizers.ts';
import { buildTrainingGraph, initialCarried, nextName } from '../core/train/step.ts';
import { readOnnx } from '../cli/models.ts';
import { ortSession, outputDifference, PYTHON, pythonTorchMissing } from './check-pytorch.ts';

const TORCH_EXPORT = 'torch cannot export it:';
const HELPER = fileURLToPath(new URL('torchvision_reference.py', import.meta.url));
const TOLERANCE = 1e-4;
const LR = 0.01;
/** An ill-conditioned step passes when Netloom's is at most this many times further from float64 torch's than float32 torch's is. */
const GAP_FACTOR = 2;
/** One model may take this long (vit_h_14 on a busy 2-core machine). */
const MODEL_TIMEOUT_MS = 120 * 60_000;

interface StyleResult {
  /** Netloom's count and torch's for the file (null: torch's cannot be computed, see `error`). */
  params: number | null;
  torchParams: number | null;
  /** The largest |re-exported − original| output on ONNX Runtime, relative to the largest |original|. */
  difference: number | null;
  error?: string;
}

interface StepResult {
  /** Parameters after the step: Netloom against float32 torch, and float32 torch against float64 torch (null: not taken, float32 matched). */
  param: number;
  torchParam: number | null;
  /** Parameters after the step: Netloom against float64 torch. */
  param64: number | null;
  /** The updates (after − before), relative to the model's largest update, on the same two pairs. */
  update: number;
  torchUpdate: number | null;
  worst: string;
  untrained: string[];
}

export interface ModelResult {
  name: string;
  preserve?: StyleResult;
  eval?: StyleResult;
  /** The step of the PRESERVE file's import and of the folded file's. */
  step?: StepResult;
  stepError?: string;
  evalStep?: StepResult;
  evalStepError?: string;
  /** The steps again on another input, taken when the first is off: see `stepPasses`. */
  retry?: StepResult;
  evalRetry?: StepResult;
  error?: string;
  seconds: number;
  /** Peak resident memory of Netloom's process and of torch's, in MB. */
  rssMB: number;
  torchRssMB: number;
}

const STYLES = ['preserve', 'eval'] as const;
type Style = (typeof STYLES)[number];

/** Where torch's side exports a style: a folder of its own, as torch writes a file past 2 GB's weights as one file per tensor beside it. */
const exportedFile = (dir: string, style: Style) => join(dir, style, `${style}.onnx`);

/** Exit status of the helper when torch's exporter fails on the model. */
const EXPORT_FAILED = 3;

function python(args: string[], env = process.env): { ok: true; json: Record<string, unknown> } | { ok: false; error: string; status: number | null } {
  const run = spawnSync(PYTHON, [HELPER, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, timeout: MODEL_TIMEOUT_MS, env });
  if (run.status !== 0) return { ok: false, status: run.status, error: (run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').pop()! };
  return { ok: true, json: JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown> };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** A session's one output for one input; the session is released. */
async function runOnce(session: ort.InferenceSession, input: string, x: ort.Tensor, output: string): Promise<Float32Array> {
  try {
    return (await session.run({ [input]: x }))[output].data as Float32Array;
  } finally {
    await session.release();
  }
}

/**
 * Imports one exported file, counts it and compares its re-export (written to `reexport` if past 2 GB)
 * with it on ONNX Runtime. One phase at a time, so that 2.5 GB of weights (vit_h_14's) are not held
 * several times at once: ONNX Runtime opens the original file and its external data itself, and is
 * done with them before the import.
 */
async function checkStyle(file: string, reexport: string, name: string, x: ort.Tensor): Promise<NetloomStyle> {
  const want = await runOnce(await ort.InferenceSession.create(file), 'x', x, 'y');
  const { doc, weights } = importOnnx(await readOnnx(file), name);
  const inference = inferShapes(doc);
  const errors = inference.diagnostics().filter((d) => d.severity === 'error');
  const params = errors.length ? null : inference.getTotals().totalParams;
  if (errors.length) return { params, difference: null, error: `${errors.length} shape errors, first ${errors[0].nodeId}: ${errors[0].message}` };
  const compiled = compileModel(doc, { weights });
  const got = await runOnce(await ortSession(compiled.model, reexport), compiled.inputs[0].name, x, compiled.outputs[0].name);
  const { scale, worst } = outputDifference(want, got);
  return { params, difference: got.length === want.length ? worst / scale : Infinity };
}

/** One SGD step of an imported file in Netloom (its step graph written to `stepFile` if past 2 GB); writes each parameter before and after it for torch's side. */
async function netloomStep(file: string, stepFile: string, name: string, x: ort.Tensor, target: ort.Tensor, out: string): Promise<void> {
  const { doc, weights } = importOnnx(await readOnnx(file), name);
  const graph = buildTrainingGraph(doc, { optimizer: optimizerConfig('sgd', { lr: LR }), loss: 'cross-entropy', weights });
  const session = await ortSession(graph.step, stepFile);
  const feed: Record<string, ort.Tensor> = {
    [graph.inputs[0].name]: x,
    [graph.target.name]: target,
    lr: new ort.Tensor('float32', new Float32Array([LR]), []),
    step: new ort.Tensor('float32', new Float32Array([1]), []),
  };
  for (const [key, { shape, data }] of initialCarried(graph)) feed[key] = new ort.Tensor('float32', data, shape);
  const result = await session.run(feed);
  await session.release();
  mkdirSync(out);
  graph.params.forEach((p, i) => {
    const before = graph.weights.get(p.key)!.data;
    writeFileSync(join(out, `${i}.before.npy`), encodeNpy({ dtype: 'float32', dims: p.shape, data: before }));
    writeFileSync(join(out, `${i}.after.npy`), encodeNpy({ dtype: 'float32', dims: p.shape, data: result[nextName(p.key)].data as Float32Array }));
  });
  writeFileSync(join(out, 'keys.json'), JSON.stringify(graph.params.map((p) => p.key)));
}

/** Frees what a phase is done with before the next: V8 collects by its own heap's pressure, not the machine's. */
const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

type NetloomStyle = Omit<StyleResult, 'torchParams'>;

/** What Netloom's process reports of one model. */
interface NetloomSide {
  preserve: NetloomStyle;
  eval: NetloomStyle;
  /** Why a step could not be taken, by style. */
  stepErrors: Partial<Record<Style, string>>;
  rssMB: number;
}

/**
 * Netloom's side of one model (`--netloom NAME DIR`): both exported files imported, counted and
 * re-exported, then stepped, each step's parameters written to DIR/netloom-STYLE for torch's side.
 */
async function netloomSide(name: string, dir: string): Promise<NetloomSide> {
  const xn = parseNpy(new Uint8Array(readFileSync(join(dir, 'x.npy'))));
  const x = new ort.Tensor('float32', xn.data as Float32Array, xn.dims);
  const tn = parseNpy(new Uint8Array(readFileSync(join(dir, 'target.npy'))));
  const target = new ort.Tensor('int64', tn.data as BigInt64Array, tn.dims);
  const side: NetloomSide = { preserve: { params: null, difference: null }, eval: { params: null, difference: null }, stepErrors: {}, rssMB: 0 };
  for (const style of STYLES) {
    collectGarbage();
    try {
      side[style] = await checkStyle(exportedFile(dir, style), join(dir, `netloom-${style}.onnx`), name, x);
    } catch (e) {
      side[style] = { params: null, difference: null, error: message(e) };
    }
  }
  for (const style of STYLES) {
    collectGarbage();
    try {
      await netloomStep(exportedFile(dir, style), join(dir, `step-${style}.onnx`), name, x, target, join(dir, `netloom-${style}`));
    } catch (e) {
      side.stepErrors[style] = message(e);
    }
  }
  return { ...side, rssMB: process.resourceUsage().maxRSS / 1024 };
}

/**
 * Netloom's side in a process of its own (its peak memory is its own; one that runs out of it stops only
 * itself), which exits before torch's side compares: the two never hold their copies of the weights at once.
 */
function netloomInChild(name: string, dir: string): NetloomSide | { error: string } {
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), '--netloom', name, dir], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    timeout: MODEL_TIMEOUT_MS,
  });
  try {
    return JSON.parse(child.stdout?.trim().split('\n').pop() ?? '') as NetloomSide;
  } catch {
    const why = child.error ? message(child.error) : child.signal ? `killed by ${child.signal}` : (child.stderr ?? '').trim().split('\n').pop();
    return { error: `Netloom's process failed: ${why}` };
  }
}

/**
 * Everything for one model, on input `seed`, one process after another: torch exports it, Netloom checks
 * and steps both files, torch compares the steps.
 */
function checkModel(name: string, seed?: string): ModelResult {
  const started = performance.now();
  const env = seed ? { ...process.env, CHECK_TORCHVISION_SEED: seed } : process.env;
  const dir = mkdtempSync(join(tmpdir(), `netloom-torchvision-${name}-`));
  const result: ModelResult = { name, seconds: 0, rssMB: 0, torchRssMB: 0 };
  try {
    const exported = python(['export', name, dir], env);
    if (!exported.ok) return { ...result, error: exported.status === EXPORT_FAILED ? `${TORCH_EXPORT} ${exported.error}` : `torch's side: ${exported.error}` };
    const torch = exported.json as { params: number; fused: number | null; fusedError?: string; rssMB: number };
    result.torchRssMB = torch.rssMB;
    const netloom = netloomInChild(name, dir);
    if ('error' in netloom) return { ...result, error: netloom.error };
    result.rssMB = netloom.rssMB;
    result.preserve = { ...netloom.preserve, torchParams: torch.params };
    result.eval = { ...netloom.eval, torchParams: torch.fused };
    if (torch.fused === null) result.eval.error ??= `torch's count for the folded file: ${torch.fusedError}`;
    for (const [style, field, errorField] of [
      ['preserve', 'step', 'stepError'],
      ['eval', 'evalStep', 'evalStepError'],
    ] as const) {
      if (netloom.stepErrors[style]) {
        result[errorField] = netloom.stepErrors[style];
        continue;
      }
      const compared = python(['compare', name, dir, style], env);
      if (compared.ok) {
        result[field] = compared.json as unknown as StepResult;
        result.torchRssMB = Math.max(result.torchRssMB, compared.json.rssMB as number);
      } else result[errorField] = `torch comparison: ${compared.error}`;
    }
  } catch (e) {
    result.error = message(e);
  } finally {
    if (process.env.KEEP) console.error(dir);
    else rmSync(dir, { recursive: true, force: true });
  }
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

const styleOk = (s?: StyleResult) => !!s && !s.error && s.params === s.torchParams && s.difference !== null && s.difference <= TOLERANCE;
/** Within 1e-4 of torch's float32 step, or no further from it than torch's own float32 step is from its float64 one. */
const stepOk = (s?: StepResult) => !!s && s.untrained.length === 0 && (s.param <= TOLERANCE || (s.param64 !== null && s.torchParam !== null && s.param64 <= GAP_FACTOR * s.torchParam));
/**
 * A float32 rounding difference can flip a ReLU's or a max pool's decision where an input lands within
 * rounding of the kink: that input's gradient then differs in one place, and through BatchNorm's batch
 * statistics in the whole channel. It is specific to the input, where a wrong rule is not: a model whose
 * step is off passes when its step on a second input matches.
 */
const stepPasses = (r: ModelResult) => stepOk(r.step) || stepOk(r.retry);
const evalStepPasses = (r: ModelResult) => stepOk(r.evalStep) || stepOk(r.evalRetry);
/** torch 1.13 itself cannot export some models to opset 17 (swin_v2's aten::zero): there is no file to check. */
const torchCannotExport = (r: ModelResult) => r.error?.startsWith(TORCH_EXPORT) === true;
export const modelOk = (r: ModelResult) => !r.error && styleOk(r.preserve) && styleOk(r.eval) && stepPasses(r) && evalStepPasses(r);

const count = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString('en-US'));
const figure = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toExponential(1));

function formatStyle(label: string, s?: StyleResult): string {
  if (!s) return `${label} —`;
  const counts = s.params === s.torchParams ? count(s.params) : `${count(s.params)} (torch ${count(s.torchParams)})`;
  return `${label} ${counts}, re-export ${figure(s.difference)}`;
}

/** A step's figures: against float32 torch, and where that is over 1e-4, against float64 torch with torch's own float32 gap; then the second input's. */
function formatStep(label: string, s?: StepResult, retry?: StepResult): string {
  if (!s) return `${label} —`;
  const one = (t: StepResult) => `${figure(t.param)}${t.param64 === null ? '' : ` (vs f64 ${figure(t.param64)}, torch f32 vs f64 ${figure(t.torchParam)})`}`;
  return `${label} ${one(s)}${retry ? `, input 2: ${one(retry)}` : ''}`;
}

export function formatResult(r: ModelResult): string {
  const parts = [formatStyle('preserve', r.preserve), formatStyle('eval', r.eval)];
  parts.push(formatStep('step', r.step, r.retry), formatStep('eval step', r.evalStep, r.evalRetry));
  parts.push(`${r.seconds.toFixed(0)} s`, `peak RSS ${r.rssMB.toFixed(0)} MB (torch ${r.torchRssMB.toFixed(0)} MB)`);
  const problems = [
    r.error,
    r.preserve?.error && `preserve: ${r.preserve.error}`,
    r.eval?.error && `eval: ${r.eval.error}`,
    r.stepError && `step: ${r.stepError}`,
    r.evalStepError && `eval step: ${r.evalStepError}`,
  ];
  for (const [label, s, passes] of [
    ['', r.step, stepPasses(r)],
    ['eval ', r.evalStep, evalStepPasses(r)],
  ] as const) {
    if (s?.untrained.length) problems.push(`${label}untrained: ${s.untrained.slice(0, 3).join(', ')}`);
    if (s && !passes) problems.push(`${label}worst ${s.worst}`);
  }
  const why = problems.filter(Boolean).join('; ');
  if (torchCannotExport(r)) return `skip ${r.name.padEnd(20)} ${r.error}`;
  return `${modelOk(r) ? 'ok  ' : 'FAIL'} ${r.name.padEnd(20)} ${parts.join(' | ')}${why ? ` — ${why}` : ''}`;
}

function option(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  if (args[0] === '--netloom') {
    console.log(JSON.stringify(await netloomSide(args[1], args[2])));
    return 0;
  }
  const missing = pythonTorchMissing();
  if (missing) {
    console.error(`check:torchvision: ${missing}`);
    return 2;
  }
  const listed = python(['list']);
  if (!listed.ok) {
    console.error(`check:torchvision: cannot list torchvision's models: ${listed.error}`);
    return 2;
  }
  const all = listed.json as Record<string, number>;
  const picked = option(args, '--models')?.split(',') ?? Object.keys(all);
  const unknown = picked.filter((n) => !(n in all));
  if (unknown.length) {
    console.error(`check:torchvision: no classification model ${unknown.join(', ')} in torchvision (see --models)`);
    return 2;
  }
  const maxParams = Number(option(args, '--max-params') ?? Infinity);
  const size = option(args, '--size');
  if (size) process.env.CHECK_TORCHVISION_SIZE = size;
  const results: ModelResult[] = [];
  const skipped: string[] = [];
  for (const name of picked.sort((a, b) => all[a] - all[b])) {
    if (all[name] > maxParams) {
      skipped.push(name);
      console.log(`skip ${name.padEnd(20)} ${count(all[name])} parameters: over --max-params ${count(maxParams)}`);
      continue;
    }
    const r = checkModel(name);
    if ((r.step && !stepOk(r.step)) || (r.evalStep && !stepOk(r.evalStep))) {
      const again = checkModel(name, '3');
      if (r.step && !stepOk(r.step)) r.retry = again.step;
      if (r.evalStep && !stepOk(r.evalStep)) r.evalRetry = again.evalStep;
      r.seconds += again.seconds;
      r.rssMB = Math.max(r.rssMB, again.rssMB);
      r.torchRssMB = Math.max(r.torchRssMB, again.torchRssMB);
    }
    results.push(r);
    console.log(formatResult(r));
  }
  const unexportable = results.filter(torchCannotExport);
  const checked = results.filter((r) => !torchCannotExport(r));
  const failed = checked.filter((r) => !modelOk(r));
  console.log(
    `check:torchvision: ${checked.length - failed.length} of ${checked.length} models pass` +
      (failed.length ? `; failing: ${failed.map((r) => r.name).join(', ')}` : '') +
      (unexportable.length ? `; torch cannot export: ${unexportable.map((r) => r.name).join(', ')}` : '') +
      (skipped.length ? `; not run (over ${count(maxParams)} parameters): ${skipped.join(', ')}` : ''),
  );
  return failed.length ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main(process.argv.slice(2));
