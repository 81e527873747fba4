/**
 * The Debug panel: one training step of the open model on an example typed into a small table, stepped
 * layer by layer — forward in topological order, then backward in reverse, then the update. Step (F10),
 * Step back, Run to a breakpoint, Restart; the current layer is selected (highlighted) on the canvas and
 * small values are written on the edges. The example is typed, or a dataset sample for an image model
 * (its label the target); large values show as tensor views. One run computes every value (core/debug);
 * stepping only reads it.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ModelDocument } from '../../core/graph/types.ts';
import { getLayer } from '../../core/layers/index.ts';
import { backwardLines, formatNumber, forwardLines, summarize } from '../../core/debug/format.ts';
import { Debugger, parseInlineValues, tensorFor, type DebugRun, type NamedTensor, type UpdateStep } from '../../core/debug/trace.ts';
import type { Tensor } from '../../core/engine/engine.ts';
import { IMAGE_SETS, type ImageSetName } from '../../core/data/builtin.ts';
import { SMALL } from '../../core/debug/format.ts';
import { OPTIMIZERS, type OptimizerName } from '../../core/train/optimizers.ts';
import { coreEngine } from '../run/engine.ts';
import { datasetSample, isImageInput } from '../run/inputs.ts';
import { TensorView } from '../tensors/TensorView.tsx';
import { weightTensor } from '../tensors/LayerTensors.tsx';
import { setEdgeValues } from '../canvas/edgeValues.ts';
import { setOverlayGradients } from '../canvas/overlay.tsx';
import { gradientNorms } from '../../core/debug/overlay.ts';
import type { PanelProps } from './registry.ts';

/** A step, and its text: a composite layer's ONNX nodes shown when `expanded`. */
type Step =
  { kind: 'forward' | 'backward'; layer: string; lines: (expanded: boolean) => string[]; tensors: NamedTensor[] } | { kind: 'update'; layer: null; lines: () => string[]; tensors: NamedTensor[] };

/** The tensors too large to write out (format.ts summarises them), shown as tensor views; parameters in their reading shape. */
const large = (list: NamedTensor[], params = false): NamedTensor[] =>
  list.filter((t) => t.value.data.length > SMALL).map((t) => (params ? { ...t, value: weightTensor(t.value.dims, t.value.data as Float32Array) } : t));

/** The update's rule in words: SGD's formula, or the optimiser named. */
const RULES: Partial<Record<OptimizerName, string>> = { sgd: 'W ← W − η∇W', perceptron: 'the perceptron rule, w ← w + η·y·x on a mistake' };

function stepsOf(run: DebugRun, update: UpdateStep): Step[] {
  return [
    ...run.trace.forward.map((s) => ({
      kind: 'forward' as const,
      layer: s.layer,
      lines: (expanded: boolean) => forwardLines(s, expanded ? run.expand(s.layer) : undefined),
      tensors: large(s.outputs.map((o) => ({ ...o, name: `${o.name} output` }))),
    })),
    ...run.trace.backward.map((s) => ({
      kind: 'backward' as const,
      layer: s.layer,
      lines: (expanded: boolean) => backwardLines(s, expanded ? run.expand(s.layer) : undefined),
      tensors: [
        ...large(s.upstream.map((u) => ({ ...u, name: `∂L/∂${u.name}` }))),
        ...large(
          s.params.map((p) => ({ ...p, name: `∂L/∂${p.name}` })),
          true,
        ),
      ],
    })),
    {
      kind: 'update' as const,
      layer: null,
      tensors: [],
      lines: () => [
        `update (${update.optimizer}, η = ${formatNumber(update.lr)}): ${RULES[update.optimizer] ?? `the ${update.optimizer} rule`}`,
        ...update.params.map((p) => `  ${p.key}: ${summarize(p.before)} → ${summarize(p.after)}`),
        `  loss ${formatNumber(update.lossBefore)} → ${formatNumber(update.lossAfter)}`,
      ],
    },
  ];
}

/** Values on the edges: each layer's output after its forward step, its gradient after its backward step. */
function edgeValuesAt(run: DebugRun, steps: Step[], position: number): Map<string, string> {
  const shown = new Map<string, string>();
  for (const step of steps.slice(0, position + 1)) {
    if (step.kind === 'forward') {
      const value = run.trace.forward.find((s) => s.layer === step.layer)?.outputs[0]?.value;
      if (value && value.data.length <= 8) shown.set(step.layer, summarize(value));
    } else if (step.kind === 'backward') {
      const grad = run.trace.backward.find((s) => s.layer === step.layer)?.upstream[0]?.value;
      const value = shown.get(step.layer);
      if (grad && grad.data.length <= 8 && value) shown.set(step.layer, `${value}; ∂L/∂${step.layer} = ${summarize(grad)}`);
    }
  }
  return shown;
}

export function DebugPanel({ workspace, state }: PanelProps) {
  const doc: ModelDocument = state.doc;
  const inputs = useMemo(() => doc.nodes.filter((n) => n.op === 'Input'), [doc]);
  const lossNode = doc.nodes.find((n) => getLayer(n.op)?.category === 'Loss');
  const targetId = lossNode ? doc.edges.find((e) => e.to === `${lossNode.id}:target` || e.to === `${lossNode.id}:1`)?.from.split(':')[0] : undefined;
  const output = useMemo(() => doc.nodes.filter((n) => n.op !== 'Input' && !doc.edges.some((e) => e.from.split(':')[0] === n.id)), [doc]);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [upstream, setUpstream] = useState('');
  // The example's source: typed values, or a sample of a built-in image set when the model reads images.
  const [source, setSource] = useState<'typed' | ImageSetName>('typed');
  const [index, setIndex] = useState('0');
  const [optimizer, setOptimizer] = useState<OptimizerName>('sgd');
  const [starts, setStarts] = useState<Record<string, string>>({});
  // The inference is updated in place; `inferred` is new with each change.
  const inferred = state.inferred;
  const imageInput = useMemo(() => {
    if (inputs.length - (targetId ? 1 : 0) !== 1) return null;
    const shape = inferred.inference.node(inputs.find((n) => n.id !== targetId)!.id)?.outputs?.[0]?.shape.slice(1);
    return shape && shape.every((d) => typeof d === 'number') && isImageInput(shape as number[]) ? inputs.find((n) => n.id !== targetId)!.id : null;
  }, [inputs, targetId, inferred]);
  const sampled = imageInput && source !== 'typed' ? source : null;
  // Parameters small enough to type a starting value for (deck 003 starts the perceptron at w = 0).
  const smallParams = useMemo(
    () =>
      inferred.inference
        .nodes()
        .filter((r) => r.trainable)
        .flatMap((r) => r.params.filter((p) => !p.tiedTo && p.count <= SMALL).map((p) => ({ key: `${r.id}.${p.name}`, shape: p.shape }))),
    [inferred],
  );
  const [breakpoints, setBreakpoints] = useState<Set<string>>(new Set());
  const [traced, setSession] = useState<{ doc: ModelDocument; run: DebugRun; steps: Step[] } | null>(null);
  // A trace of an earlier version of the model is dropped: Restart traces the model as it is now.
  const session = traced?.doc === doc ? traced : null;
  const [position, setPosition] = useState(-1);
  const [message, setMessage] = useState('');
  const [expanded, setExpanded] = useState(false);
  const debugger_ = useRef<Debugger | null>(null);

  const restart = useCallback(async () => {
    setMessage('');
    setPosition(-1);
    setSession(null);
    try {
      await debugger_.current?.release();
      debugger_.current = null;
      // A dataset sample's label is the target: a model without a loss gets cross-entropy for it.
      const loss = sampled && !lossNode ? 'cross-entropy' : undefined;
      const debug = await Debugger.open(coreEngine(), doc, { weights: workspace.weights.current, loss, optimizer, lr: optimizer === 'perceptron' ? 1 : 0.1 });
      debugger_.current = debug;
      const feeds: Record<string, Tensor> = {};
      let target: Tensor | undefined;
      for (const i of [...debug.graph.inputs, ...(debug.upstreamType ? [] : [debug.graph.target])]) {
        if (sampled && i.nodeId === imageInput) {
          const sample = await datasetSample(sampled, Number(index), i.type);
          feeds[i.nodeId] = sample.tensor;
          if (!texts[debug.graph.target.nodeId]?.trim()) target = tensorFor(debug.graph.target.type, [sample.label], 'the label');
          continue;
        }
        if (i === debug.graph.target && target) continue;
        const text = texts[i.nodeId] ?? '';
        const numbers = parseInlineValues(text);
        if (!numbers) throw new Error(`type numbers for ${i.nodeId} (e.g. -2 or [1, -2, 3])`);
        const t = tensorFor(i.type, numbers, i.nodeId);
        if (i === debug.graph.target) target = t;
        else feeds[i.nodeId] = t;
      }
      const given = upstream.trim() ? parseInlineValues(upstream) : null;
      if (upstream.trim() && !given) throw new Error('type numbers for the upstream gradient (e.g. [4, -1, 5, 9])');
      const batch = Object.values(feeds)[0]?.dims[0] ?? 1;
      const upstreamTensor =
        given && debug.upstreamType ? tensorFor({ ...debug.upstreamType, shape: debug.upstreamType.shape.map((d) => (typeof d === 'number' ? d : batch)) }, given, 'the upstream gradient') : undefined;
      const params: Record<string, Tensor> = {};
      for (const p of smallParams) {
        const text = starts[p.key]?.trim();
        if (!text) continue;
        const numbers = parseInlineValues(text);
        if (!numbers) throw new Error(`type numbers for the start of ${p.key} (e.g. [0, 0])`);
        params[p.key] = tensorFor({ dtype: 'float32', shape: p.shape }, numbers, p.key);
      }
      const run = await debug.run({ inputs: feeds, target, upstream: upstreamTensor, params });
      const update = await run.update();
      setOverlayGradients(doc, gradientNorms(run.trace));
      setSession({ doc, run, steps: stepsOf(run, update) });
    } catch (e) {
      setMessage((e as Error).message);
    }
  }, [doc, texts, upstream, workspace.weights, sampled, lossNode, optimizer, imageInput, index, smallParams, starts]);

  const go = useCallback(
    (next: number) => {
      if (!session) return;
      const clamped = Math.max(-1, Math.min(next, session.steps.length - 1));
      setPosition(clamped);
      const layer = session.steps[clamped]?.layer;
      if (layer) workspace.store.select([layer]);
    },
    [session, workspace.store],
  );

  const step = useCallback(async () => {
    if (!session) return restart().then(() => setPosition(-1));
    go(position + 1);
  }, [session, position, go, restart]);

  const runToBreakpoint = useCallback(() => {
    if (!session) return;
    const hit = session.steps.findIndex((s, i) => i > position && s.layer !== null && breakpoints.has(s.layer));
    go(hit < 0 ? session.steps.length - 1 : hit);
  }, [session, position, breakpoints, go]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'F10' || !session) return;
      e.preventDefault();
      go(position + 1);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [session, position, go]);

  useEffect(() => {
    setEdgeValues(session ? edgeValuesAt(session.run, session.steps, position) : new Map());
  }, [session, position]);
  // Leaving the panel clears the values written on edges and closes the debugger's session in the engine.
  useEffect(
    () => () => {
      setEdgeValues(new Map());
      void debugger_.current?.release();
      debugger_.current = null;
    },
    [],
  );

  const current = session?.steps[position];
  const upstreamAt = !lossNode && output.length === 1 ? output[0].id : null;
  return (
    <div className="debug-panel">
      <div className="debug-example" role="group" aria-label="Example">
        {imageInput && (
          <label>
            Example{' '}
            <select aria-label="Example source" value={source} onChange={(e) => setSource(e.target.value as 'typed' | ImageSetName)}>
              <option value="typed">Typed values</option>
              {IMAGE_SETS.map((d) => (
                <option key={d} value={d}>
                  {d} sample
                </option>
              ))}
            </select>
          </label>
        )}
        {sampled && (
          <label>
            Sample <input aria-label="Sample index" type="number" min={0} value={index} onChange={(e) => setIndex(e.target.value)} />
          </label>
        )}
        {inputs
          .filter((n) => !(sampled && n.id === imageInput))
          .map((n) => (
            <label key={n.id}>
              {n.id === targetId ? `${n.id} (target)` : n.id}{' '}
              <input
                aria-label={`Value of ${n.id}`}
                value={texts[n.id] ?? ''}
                placeholder={sampled && n.id === targetId ? 'the label' : 'e.g. [1, -2, 3]'}
                onChange={(e) => setTexts({ ...texts, [n.id]: e.target.value })}
              />
            </label>
          ))}
        {sampled && !lossNode && <span className="muted">loss: cross-entropy on the sample's label</span>}
        {upstreamAt && !sampled && (
          <label>
            ∂L/∂{upstreamAt} <input aria-label={`Upstream gradient at ${upstreamAt}`} value={upstream} placeholder="1" onChange={(e) => setUpstream(e.target.value)} />
          </label>
        )}
        <label>
          Optimizer{' '}
          <select aria-label="Optimizer" value={optimizer} onChange={(e) => setOptimizer(e.target.value as OptimizerName)}>
            {OPTIMIZERS.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        {smallParams.length > 0 && (
          <details>
            <summary>Start parameters</summary>
            {smallParams.map((p) => (
              <label key={p.key}>
                {p.key} <input aria-label={`Start value of ${p.key}`} value={starts[p.key] ?? ''} placeholder="the model's" onChange={(e) => setStarts({ ...starts, [p.key]: e.target.value })} />
              </label>
            ))}
          </details>
        )}
      </div>
      <div className="debug-controls" role="toolbar" aria-label="Debugger">
        <button type="button" onClick={() => void step()} title="F10">
          Step
        </button>
        <button type="button" onClick={() => go(position - 1)} disabled={!session || position < 0}>
          Step back
        </button>
        <button type="button" onClick={runToBreakpoint} disabled={!session}>
          Run to breakpoint
        </button>
        <button type="button" onClick={() => void restart()}>
          Restart
        </button>
        <label>
          <input type="checkbox" checked={expanded} onChange={(e) => setExpanded(e.target.checked)} /> ONNX nodes
        </label>
        <span aria-live="polite">{session ? (current ? `${current.kind} ${position + 1} of ${session.steps.length}` : 'ready: press Step (F10)') : ''}</span>
      </div>
      {message && <p role="alert">{message}</p>}
      <div className="debug-breakpoints" role="group" aria-label="Breakpoints">
        {doc.nodes
          .filter((n) => n.op !== 'Input')
          .map((n) => (
            <label key={n.id}>
              <input
                type="checkbox"
                aria-label={`Breakpoint at ${n.id}`}
                checked={breakpoints.has(n.id)}
                onChange={(e) =>
                  setBreakpoints((b) => {
                    const next = new Set(b);
                    if (e.target.checked) next.add(n.id);
                    else next.delete(n.id);
                    return next;
                  })
                }
              />
              {n.id}
            </label>
          ))}
      </div>
      {session && (
        <ol className="debug-trace" aria-label="Trace">
          {session.steps.slice(0, position + 1).map((s, i) => (
            <li key={i} aria-current={i === position ? 'step' : undefined} ref={i === position ? (el) => el?.scrollIntoView({ block: 'nearest' }) : undefined}>
              <pre>{s.lines(expanded).join('\n')}</pre>
              {i === position && s.tensors.length > 0 && (
                <div className="debug-tensors">
                  {s.tensors.map((t) => (
                    <TensorView key={t.name} name={t.name} tensor={t.value} />
                  ))}
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
