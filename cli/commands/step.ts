/** `netloom step`: one training step, printed layer by layer — forward, then backward (the debugger without a window). */
import { NpyFormatError, parseNpy } from '../../core/data/npy.ts';
import { EngineError, type Tensor } from '../../core/engine/engine.ts';
import { GradientError } from '../../core/autodiff/rules.ts';
import { CompileError } from '../../core/convert/compile.ts';
import type { TensorType } from '../../core/graph/dim.ts';
import { inferShapes } from '../../core/shape/infer.ts';
import { backwardLines, formatNumber, forwardLines, summarize } from '../../core/debug/format.ts';
import { checkGradients, type LayerCheck } from '../../core/debug/gradcheck.ts';
import { Debugger, ExampleError, parseInlineValues, sizedForExample, tensorFor, type DebugRun, type NamedTensor } from '../../core/debug/trace.ts';
import { OPTIMIZERS, type OptimizerName } from '../../core/train/optimizers.ts';
import { LOSSES, type LossName } from '../../core/train/step.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { parse } from '../args.ts';
import { readBytes, UsageError, UserError } from '../files.ts';
import { compileFailure, loadModelOrTemplate } from '../models.ts';

/** A value given on the command line: inline numbers shaped to `type`, or a .npy file taken as it is. */
async function valueOf(text: string, type: TensorType, what: string): Promise<Tensor> {
  const inline = parseInlineValues(text);
  if (inline) {
    try {
      return tensorFor(type, inline, what);
    } catch (e) {
      if (e instanceof ExampleError) throw new UserError(e.message);
      throw e;
    }
  }
  if (!text.toLowerCase().endsWith('.npy')) throw new UsageError(`${what}: "${text}" is neither numbers (e.g. -2 or [1,-2,3]) nor a .npy file`);
  try {
    return parseNpy(await readBytes(text));
  } catch (e) {
    if (e instanceof NpyFormatError) throw new UserError(`${text}: ${e.message}`);
    throw e;
  }
}

/** "name=values" → [name, values]; a bare value names the only candidate. */
function named(text: string, option: string, only: string[]): [string, string] {
  const eq = text.indexOf('=');
  if (eq > 0 && !/^[[\d\-−]/.test(text)) return [text.slice(0, eq), text.slice(eq + 1)];
  if (only.length !== 1) throw new UsageError(`--${option} needs name=values (one of ${only.join(', ')})`);
  return [only[0], text];
}

/** A tensor for --json: dims, and the numbers up to 4096 elements. */
const json = (t: Tensor) => ({ dims: t.dims, ...(t.data.length <= 4096 ? { data: Array.from(t.data as ArrayLike<number>, Number) } : { summary: summarize(t) }) });
const jsonNamed = (list: NamedTensor[]) => list.map((n) => ({ name: n.name, ...json(n.value) }));

function printText(run: DebugRun, layers: Set<string> | null, upstreamAt: string | undefined): void {
  const chosen = (id: string) => !layers || layers.has(id);
  console.log('Forward');
  for (const s of run.trace.forward.filter((s) => chosen(s.layer)))
    console.log(
      forwardLines(s, layers && s.op !== 'Input' ? run.expand(s.layer) : undefined)
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  console.log(upstreamAt ? `Backward, from ∂L/∂${upstreamAt} given (L = Σ ∂L/∂${upstreamAt} · ${upstreamAt} = ${formatNumber(run.trace.loss)})` : `Loss L = ${formatNumber(run.trace.loss)}\nBackward`);
  for (const s of run.trace.backward.filter((s) => chosen(s.layer)))
    console.log(
      backwardLines(s, layers && s.op !== 'Input' ? run.expand(s.layer) : undefined)
        .map((l) => `  ${l}`)
        .join('\n'),
    );
}

function printChecks(checks: LayerCheck[]): void {
  console.log('Gradient check (central finite differences)');
  for (const c of checks)
    console.log(
      `  ${c.layer} (${c.op}): largest relative error ${c.maxRelativeError.toExponential(2)} over ${c.checked} entries in ${c.dtype} — ${c.pass ? 'pass' : 'FAIL'}${c.note ? ` (${c.note})` : ''}`,
    );
}

export async function stepCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    template: { type: 'string' },
    input: { type: 'string', short: 'i', multiple: true },
    target: { type: 'string' },
    loss: { type: 'string' },
    'grad-output': { type: 'string' },
    layer: { type: 'string', multiple: true },
    param: { type: 'string', multiple: true },
    update: { type: 'boolean' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    check: { type: 'boolean' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  });
  if ((positionals.length === 1) === (values.template !== undefined) || positionals.length > 1) throw new UsageError('step takes one model file (.json or .onnx) or --template <id>');
  const loss = values.loss as LossName | undefined;
  if (loss !== undefined && !(loss in LOSSES)) throw new UsageError(`--loss must be one of ${Object.keys(LOSSES).join(', ')}`);
  const optimizer = (values.optimizer ?? 'sgd') as OptimizerName;
  if (!OPTIMIZERS.includes(optimizer)) throw new UsageError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}`);
  // The perceptron rule's step is y·x itself (η = 1, deck 003); the others start small.
  const lr = values.lr === undefined ? (optimizer === 'perceptron' ? 1 : 0.1) : Number(values.lr);
  if (!Number.isFinite(lr) || lr < 0) throw new UsageError(`--lr must be a number of at least 0, got "${values.lr}"`);
  if (values['grad-output'] !== undefined && (loss !== undefined || values.target !== undefined))
    throw new UsageError('--grad-output starts the backward pass instead of a loss: give it without --loss and --target');
  const seed = values.seed === undefined ? 0 : Number(values.seed);

  const model = await loadModelOrTemplate(positionals[0], values.template);
  const outputIds = model.doc.nodes.filter((n) => n.op !== 'Input' && !model.doc.edges.some((e) => e.from.split(':')[0] === n.id)).map((n) => n.id);
  const gradOutput = values['grad-output'] !== undefined ? named(values['grad-output'], 'grad-output', outputIds) : undefined;
  // Inputs are read against the model's Input layers (the target of its own loss among them); their sizes
  // then fix any symbolic ones (a sequence length T), which the training graph needs known.
  const inference = inferShapes(model.doc);
  const inputLayers = model.doc.nodes.filter((n) => n.op === 'Input').map((n) => n.id);
  const given: Record<string, Tensor> = {};
  for (const text of values.input ?? []) {
    const [id, value] = named(text, 'input', inputLayers);
    const type = inference.node(id)?.outputs?.[0];
    if (!inputLayers.includes(id) || !type) throw new UsageError(`--input: the model has no input "${id}"; its inputs: ${inputLayers.join(', ')}`);
    given[id] = await valueOf(value, type, `--input ${id}`);
  }
  const engine = new NodeEngine();
  try {
    let debug: Debugger;
    try {
      debug = await Debugger.open(engine, sizedForExample(model.doc, given), { loss, weights: model.weights, seed, optimizer, lr, upstreamAt: gradOutput?.[0] });
    } catch (e) {
      if (e instanceof CompileError) throw compileFailure(e);
      if (e instanceof GradientError) throw new UserError(`cannot step through this model yet: ${e.message}`);
      throw e;
    }
    const inputIds = debug.graph.inputs.map((i) => i.nodeId);
    const inputs = Object.fromEntries(inputIds.filter((id) => given[id]).map((id) => [id, given[id]]));
    const missing = inputIds.filter((id) => !inputs[id]);
    if (missing.length > 0) throw new UsageError(`step needs --input for ${missing.map((m) => `"${m}"`).join(', ')}`);
    // A model's own loss reads its target from an input layer, given with --input or --target.
    let target = debug.upstreamType ? undefined : given[debug.graph.target.nodeId];
    if (values.target !== undefined) target = await valueOf(values.target, debug.graph.target.type, '--target');
    const upstream = gradOutput ? await valueOf(gradOutput[1], debug.upstreamType!, `--grad-output ${gradOutput[0]}`) : undefined;
    const params: Record<string, Tensor> = {};
    for (const text of values.param ?? []) {
      const [key, value] = named(
        text,
        'param',
        debug.graph.params.map((p) => p.key),
      );
      const param = debug.graph.params.find((p) => p.key === key);
      if (!param) throw new UsageError(`--param: the model has no trainable parameter "${key}"; its parameters: ${debug.graph.params.map((p) => p.key).join(', ')}`);
      params[key] = await valueOf(value, { dtype: 'float32', shape: param.shape }, `--param ${key}`);
    }
    let run: DebugRun;
    try {
      run = await debug.run({ inputs, target, upstream, params });
    } catch (e) {
      if (e instanceof ExampleError) throw new UserError(e.message);
      throw e;
    }
    const layers = values.layer ? new Set(values.layer) : null;
    for (const id of layers ?? []) if (!run.trace.forward.some((s) => s.layer === id)) throw new UsageError(`--layer: the model has no layer "${id}"`);
    const update = values.update ? await run.update() : null;
    const checks = values.check ? await checkGradients(engine, run, layers ? [...layers] : undefined) : null;
    await debug.release();

    if (values.json) {
      const chosen = (id: string) => !layers || layers.has(id);
      for (const s of run.trace.forward.filter((s) => chosen(s.layer)))
        console.log(JSON.stringify({ phase: 'forward', layer: s.layer, op: s.op, formula: s.formula, inputs: jsonNamed(s.inputs), outputs: jsonNamed(s.outputs) }));
      console.log(JSON.stringify({ phase: 'loss', loss: run.trace.loss, ...(debug.upstreamType ? { upstreamAt: debug.graph.target.nodeId } : {}) }));
      for (const s of run.trace.backward.filter((s) => chosen(s.layer))) {
        const downstream = s.downstream.map((d) => ({ input: d.input, ...json(d.value), ...(d.fanOut ? { fanOut: { readers: d.fanOut.readers, total: json(d.fanOut.total) } } : {}) }));
        console.log(JSON.stringify({ phase: 'backward', layer: s.layer, op: s.op, rule: s.rule, upstream: jsonNamed(s.upstream), downstream, params: jsonNamed(s.params) }));
      }
      if (update)
        console.log(
          JSON.stringify({
            phase: 'update',
            optimizer: update.optimizer,
            lr: update.lr,
            lossBefore: update.lossBefore,
            lossAfter: update.lossAfter,
            params: update.params.map((p) => ({ key: p.key, before: json(p.before), gradient: json(p.gradient), after: json(p.after) })),
          }),
        );
      for (const c of checks ?? []) console.log(JSON.stringify({ phase: 'check', ...c }));
    } else {
      printText(run, layers, debug.upstreamType ? debug.graph.target.nodeId : undefined);
      if (update) {
        console.log(`Update (${update.optimizer}, η = ${formatNumber(update.lr)}): ${update.optimizer === 'sgd' ? 'W ← W − η∇W' : `the ${update.optimizer} rule`}`);
        for (const p of update.params) console.log(`  ${p.key}: ${summarize(p.before)} − ${formatNumber(update.lr)}·${summarize(p.gradient)} → ${summarize(p.after)}`);
        console.log(`  loss ${formatNumber(update.lossBefore)} → ${formatNumber(update.lossAfter)}`);
      }
      if (checks) printChecks(checks);
    }
    return checks?.some((c) => !c.pass) ? 1 : 0;
  } catch (e) {
    if (e instanceof EngineError) throw new UserError(e.message);
    throw e;
  } finally {
    await engine.dispose();
  }
}
