/**
 * The per-layer gradient check: each layer's ONNX nodes alone, as a small model computing
 * Σ ∂L/∂y · y from the traced inputs and parameters, differentiated by central finite differences
 * and compared with the gradients the step graph's backward pass produced. In float64 where ONNX
 * Runtime has float64 kernels for all of the layer's ops, otherwise in float32.
 */
import type { Engine, Tensor } from '../engine/engine.ts';
import { DataType, encodeModelBytes, tensorValues, type ModelProto, type NodeProto, type TensorProto } from '../onnx/proto.ts';
import { maskName, type DebugRun } from './trace.ts';

export interface LayerCheck {
  layer: string;
  op: string;
  /** The largest |analytic − numeric| / max(|analytic|, |numeric|, noise floor) over the entries checked. */
  maxRelativeError: number;
  /** How many entries were perturbed. */
  checked: number;
  dtype: 'float64' | 'float32';
  pass: boolean;
  /** Why a layer was left out or checked in float32. */
  note?: string;
}

/** Entries perturbed per tensor: the largest analytic gradient and evenly spaced others. */
const SAMPLES = 6;
const TOLERANCE = { float64: 1e-3, float32: 2e-2 };
// float32 layers are mostly the linear ones without float64 kernels (Conv, pooling), where a large step costs nothing.
const STEP = { float64: 1e-6, float32: 1e-2 };
const EPSILON = { float64: 2.2e-16, float32: 1.2e-7 };

type Precision = 'float64' | 'float32';

/** The tensor's numbers in the check's precision. */
function asPrecision(t: Tensor, precision: Precision): Tensor {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') return t;
  return { dtype: precision, dims: t.dims, data: precision === 'float64' ? Float64Array.from(t.data as Float32Array) : Float32Array.from(t.data as Float64Array) };
}

function toDouble(t: TensorProto): TensorProto {
  if ((t.data_type ?? DataType.FLOAT) !== DataType.FLOAT) return t;
  return { name: t.name, dims: t.dims, data_type: DataType.DOUBLE, raw_data: new Uint8Array(Float64Array.from(tensorValues(t) as Float32Array).buffer) };
}

/**
 * Erf in float64, which ONNX Runtime has no kernel for (GELU's): Abramowitz and Stegun 7.1.26,
 * erf(x) = sign(x)·(1 − t(a₁ + t(a₂ + t(a₃ + t(a₄ + t·a₅))))·e^(−x²)), t = 1/(1 + p|x|), within 1.5e-7 of erf and as
 * smooth, so its finite differences are erf's derivative to about 1e-6 (the tolerance is 1e-3).
 */
const ERF_P = 0.3275911;
const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];

function erfAsDouble(n: NodeProto): NodeProto[] {
  const [x, y] = [n.input[0], n.output[0]];
  const v = (name: string) => `${n.name}/erf64/${name}`;
  const constant = (name: string, value: number): NodeProto => ({
    name: v(name),
    op_type: 'Constant',
    input: [],
    output: [v(name)],
    attribute: [{ name: 'value', type: 4, t: { dims: [], data_type: DataType.DOUBLE, raw_data: new Uint8Array(Float64Array.of(value).buffer) } }],
  });
  const op = (op_type: string, inputs: string[], output: string): NodeProto => ({ name: v(output), op_type, input: inputs, output: [v(output)] });
  // Horner from a₅ down: h₅ = a₅, hₖ = aₖ + t·hₖ₊₁, then t·h₁.
  const horner: NodeProto[] = [];
  let h = v('a5');
  for (let k = 4; k >= 1; k--) {
    horner.push(op('Mul', [v('t'), h], `th${k}`), op('Add', [v(`a${k}`), v(`th${k}`)], `h${k}`));
    h = v(`h${k}`);
  }
  return [
    constant('p', ERF_P),
    constant('one', 1),
    ...ERF_A.map((a, k) => constant(`a${k + 1}`, a)),
    op('Abs', [x], 'abs'),
    op('Mul', [v('p'), v('abs')], 'pabs'),
    op('Add', [v('one'), v('pabs')], 'denominator'),
    op('Reciprocal', [v('denominator')], 't'),
    ...horner,
    op('Mul', [v('t'), h], 'polynomial'),
    op('Mul', [x, x], 'square'),
    op('Neg', [v('square')], 'negated'),
    op('Exp', [v('negated')], 'gaussian'),
    op('Mul', [v('polynomial'), v('gaussian')], 'tail'),
    op('Sub', [v('one'), v('tail')], 'magnitude'),
    op('Sign', [x], 'sign'),
    { name: v('erf'), op_type: 'Mul', input: [v('sign'), v('magnitude')], output: [y] },
  ];
}

/** The layer's nodes rewritten for float64: casts, constants and fills produce doubles; Erf is built from ops that have float64 kernels. */
function nodesToDouble(nodes: NodeProto[]): NodeProto[] {
  return nodes.flatMap((n) => {
    if (n.op_type === 'Erf') return erfAsDouble(n);
    const attribute = (n.attribute ?? []).map((a) => {
      if (n.op_type === 'Cast' && a.name === 'to' && a.i === DataType.FLOAT) return { ...a, i: DataType.DOUBLE };
      if (a.t) return { ...a, t: toDouble(a.t) };
      return a;
    });
    if (n.op_type === 'ConstantOfShape' && !attribute.some((a) => a.name === 'value'))
      attribute.push({ name: 'value', type: 4, t: { dims: [1], data_type: DataType.DOUBLE, raw_data: new Uint8Array(8) } });
    return { ...n, attribute };
  });
}

interface Probe {
  /** The value perturbed, and its analytic gradient from the trace. */
  value: string;
  analytic: Tensor;
}

/** Checks each chosen layer (default: all but inputs) and returns one result per layer. */
export async function checkGradients(engine: Engine, run: DebugRun, layers?: string[]): Promise<LayerCheck[]> {
  const results: LayerCheck[] = [];
  for (const step of run.trace.backward) {
    if (step.op === 'Input' || (layers && !layers.includes(step.layer))) continue;
    results.push(await checkLayer(engine, run, step.layer, step.op));
  }
  return results;
}

/**
 * Active Dropout draws a new mask on every run; the check replays the traced one instead: y = x · mask/(1 − p),
 * the scaled mask fed as a value.
 */
function replayDropout(run: DebugRun, nodes: NodeProto[]): { nodes: NodeProto[]; masks: Map<string, Tensor> } {
  const masks = new Map<string, Tensor>();
  const replayed = nodes.map((n) => {
    if (n.op_type !== 'Dropout' || !n.output[1]) return n;
    const mask = run.value(maskName(n.output[1]))!;
    const ratio = n.input[1] ? Number(tensorValues(run.constant(n.input[1])!)[0]) : 0.5;
    const name = `check/${maskName(n.output[1])}`;
    masks.set(name, { dtype: 'float32', dims: mask.dims, data: (mask.data as Float32Array).map((m) => m / (1 - ratio)) });
    return { name: n.name, op_type: 'Mul', input: [n.input[0], name], output: [n.output[0]] };
  });
  return { nodes: replayed, masks };
}

async function checkLayer(engine: Engine, run: DebugRun, layer: string, op: string): Promise<LayerCheck> {
  const { nodes, masks } = replayDropout(run, run.layerNodes(layer));
  const back = run.trace.backward.find((s) => s.layer === layer)!;
  const result = (fields: Partial<LayerCheck>): LayerCheck => ({ layer, op, maxRelativeError: 0, checked: 0, dtype: 'float64', pass: true, ...fields });
  const made = new Set(nodes.flatMap((n) => n.output));
  const external = [...new Set(nodes.flatMap((n) => n.input).filter((v) => v && !made.has(v)))];
  // What the gradient was taken with respect to: the layer's inputs and parameters (a tied weight read here
  // included), each compared with the layer's own share of its gradient, which is what the layer alone computes.
  const probes: Probe[] = external.flatMap((value) => {
    const analytic = masks.has(value) ? undefined : run.share(layer, value);
    return analytic ? [{ value, analytic }] : [];
  });
  if (probes.length === 0) return result({ note: 'no gradient flows through this layer' });
  const moved = probes.map((p) => p.value);
  const probed = (name: string) => fedName(name, moved);

  const unread = external.find((v) => !run.constant(v) && !run.value(v) && !masks.has(v));
  if (unread) return result({ pass: false, note: `not checked: the value "${unread}" it reads was not fetched` });
  const upstream = back.upstream;
  let last: unknown;
  for (const precision of ['float64', 'float32'] as const) {
    const model = layerModel(
      run,
      (name) => masks.get(name) ?? run.value(name),
      nodes,
      external,
      upstream.map((u) => u.name),
      moved,
      precision,
    );
    let session;
    try {
      // In float64, basic optimisation only: ONNX Runtime's fusions (x·σ(x) to QuickGelu) have float32 kernels
      // only. In float32 the fused kernels (LayerNorm, Gelu) round less than their separate nodes, so they stay.
      session = await engine.createSession(encodeModelBytes(model), { optimization: precision === 'float64' ? 'basic' : 'all' });
    } catch (e) {
      last = e;
      continue;
    }
    try {
      const source = (name: string) => masks.get(name) ?? run.value(name)!;
      // Built for the runtime and let go: the probes' entries are read from the traced values (float32, exact in float64).
      const feeds: Record<string, Tensor> = {};
      for (const name of external) if (!run.constant(name)) feeds[probed(name)] = asPrecision(source(name), precision);
      upstream.forEach((u, k) => (feeds[`check/upstream${k}`] = asPrecision(u.value, 'float64')));
      // The values stay in the runtime; each run sends one entry per probe (its own where it is moved), so a
      // big layer's weights are not copied across on every one of the check's runs.
      await session.carry(feeds, {});
      for (const name of Object.keys(feeds)) delete feeds[name];
      const Entry = precision === 'float64' ? Float64Array : Float32Array;
      const objective = async (moved?: { probe: Probe; index: number; value: number }) => {
        const entries: Record<string, Tensor> = {};
        for (const p of probes) {
          const index = p === moved?.probe ? moved.index : 0;
          entries[`check/at/${p.value}`] = { dtype: 'int64', dims: [1, 1], data: BigInt64Array.of(BigInt(index)) };
          entries[`check/entry/${p.value}`] = { dtype: precision, dims: [1], data: Entry.of(p === moved?.probe ? moved.value : Number(source(p.value).data[0])) };
        }
        return Number((await session!.run(entries))['check/objective'].data[0]);
      };
      const centre = await objective();
      let worst = 0;
      let checked = 0;
      let kinks = 0;
      let unjudged = 0;
      for (const probe of probes) {
        const x = source(probe.value);
        const analytic = probe.analytic.data as Float32Array;
        const scale = analytic.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        for (const i of sampleIndices(analytic)) {
          const h = STEP[precision] * Math.max(1, Math.abs(Number(x.data[i])));
          // The step as stored (float32 rounds x ± h).
          const original = Number(x.data[i]);
          const shifted = async (delta: number) => {
            const moved = Entry.of(original + delta)[0];
            return { value: await objective({ probe, index: i, value: moved }), step: moved - original };
          };
          const up = await shifted(h);
          const down = await shifted(-h);
          const [above, below] = [up.value, down.value];
          const numeric = (above - below) / (up.step - down.step);
          // Rounding in the objective limits what finite differences can see: that, or a thousandth of the tensor's largest gradient, is the floor.
          const floor = Math.max(1e-3 * scale, (10 * EPSILON[precision] * Math.max(Math.abs(centre), 1)) / h, 1e-12);
          const error = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
          const [right, left] = [(above - centre) / up.step, (centre - below) / -down.step];
          const central = error(analytic[i], numeric);
          if (central > TOLERANCE[precision] && error(right, left) > TOLERANCE[precision]) {
            // A kink (ReLU at 0, a tie in a max): any value between the one-sided slopes is a valid (sub)gradient.
            kinks++;
            const inside = analytic[i] >= Math.min(left, right) - floor * TOLERANCE[precision] && analytic[i] <= Math.max(left, right) + floor * TOLERANCE[precision];
            // Outside them, the point is a tie that several terms share (a value that is the maximum of two
            // overlapping pooling windows): the slopes sum the terms, the rule's tie-break picks some of them,
            // and no finite difference can judge that choice. Such a probe is counted, not judged.
            if (!inside) {
              unjudged++;
              continue;
            }
          } else worst = Math.max(worst, central);
          checked++;
        }
      }
      const notes = [
        ...(precision === 'float32' ? [`ONNX Runtime has no float64 ${/implementation for (\w+)/.exec(firstLine(last))?.[1] ?? 'kernel for an op here'}`] : []),
        ...(kinks > unjudged ? [`${kinks - unjudged} at a kink, checked against the one-sided slopes`] : []),
        ...(unjudged > 0 ? [`${unjudged} at a tie shared by several terms (overlapping windows), not judged`] : []),
      ];
      // A layer none of whose probes could be judged has not passed.
      return result({
        maxRelativeError: worst,
        checked,
        dtype: precision,
        pass: worst <= TOLERANCE[precision] && (checked > 0 || unjudged === 0),
        ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
      });
    } catch (e) {
      last = e;
    } finally {
      await session.release();
    }
  }
  return result({ pass: false, note: `the layer alone could not be run: ${firstLine(last)}` });
}

/** The name a value is fed under: a probed one's base, which the check's runs move one entry of. */
const fedName = (name: string, moved: readonly string[]) => (moved.includes(name) ? `check/base/${name}` : name);

const firstLine = (e: unknown) =>
  String((e as Error)?.message ?? e)
    .split('\n')[0]
    .slice(0, 160);

function sampleIndices(analytic: Float32Array): number[] {
  let largest = 0;
  for (let i = 1; i < analytic.length; i++) if (Math.abs(analytic[i]) > Math.abs(analytic[largest])) largest = i;
  const spaced = Array.from({ length: Math.min(SAMPLES, analytic.length) }, (_, k) => Math.floor(((k + 0.5) * analytic.length) / Math.min(SAMPLES, analytic.length)));
  return [...new Set([largest, ...spaced])];
}

/** The layer alone: its nodes, its constants, everything else fed; one output, Σₖ upstreamₖ · yₖ. */
function layerModel(run: DebugRun, valueOf: (name: string) => Tensor | undefined, nodes: NodeProto[], external: string[], outputs: string[], moved: string[], precision: Precision): ModelProto {
  const float = precision === 'float64' ? DataType.DOUBLE : DataType.FLOAT;
  const constants = external.map((name) => run.constant(name)).filter((t): t is TensorProto => !!t);
  const fed = external.filter((name) => !run.constant(name));
  const typeOf = (t: Tensor) => (t.dtype === 'float32' || t.dtype === 'float64' ? float : t.dtype === 'int64' ? DataType.INT64 : DataType.BOOL);
  const input = (name: string, t: Tensor) => ({ name, type: { tensor_type: { elem_type: typeOf(t), shape: { dim: t.dims.map((d) => ({ dim_value: d })) } } } });
  // The objective is summed in float64 either way: its rounding is what finite differences see.
  const terms = outputs.map((y, k) => ({ wide: `check/wide${k}`, product: `check/product${k}`, term: `check/term${k}`, y, upstream: `check/upstream${k}` }));
  const objective: NodeProto[] = [
    ...terms.flatMap((t) => [
      { name: t.wide, op_type: 'Cast', input: [t.y], output: [t.wide], attribute: [{ name: 'to', type: 2, i: DataType.DOUBLE }] },
      { name: t.product, op_type: 'Mul', input: [t.wide, t.upstream], output: [t.product] },
      { name: t.term, op_type: 'ReduceSum', input: [t.product], output: [t.term], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
    ]),
    { name: 'check/objective', op_type: 'Sum', input: terms.map((t) => t.term), output: ['check/objective'] },
  ];
  const own = precision === 'float64' ? nodesToDouble(nodes) : nodes;
  const probed = (name: string) => fedName(name, moved);
  // Each probed value is its fed base with one entry set: x = reshape(scatterND(flatten(base), [[at]], [entry]), shape(base)).
  const setEntry: NodeProto[] = moved.flatMap((x) => [
    { name: `check/shape/${x}`, op_type: 'Shape', input: [probed(x)], output: [`check/shape/${x}`] },
    { name: `check/flat/${x}`, op_type: 'Reshape', input: [probed(x), 'check/flat'], output: [`check/flat/${x}`] },
    { name: `check/set/${x}`, op_type: 'ScatterND', input: [`check/flat/${x}`, `check/at/${x}`, `check/entry/${x}`], output: [`check/set/${x}`] },
    { name: `check/moved/${x}`, op_type: 'Reshape', input: [`check/set/${x}`, `check/shape/${x}`], output: [x] },
  ]);
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: run.opset }],
    producer_name: 'netloom',
    graph: {
      name: 'gradient check',
      node: [...setEntry, ...own, ...objective],
      initializer: [...(precision === 'float64' ? constants.map(toDouble) : constants), { name: 'check/flat', dims: [1], data_type: DataType.INT64, int64_data: [-1] }],
      input: [
        ...fed.map((name) => input(probed(name), valueOf(name)!)),
        ...moved.flatMap((x) => [
          { name: `check/at/${x}`, type: { tensor_type: { elem_type: DataType.INT64, shape: { dim: [{ dim_value: 1 }, { dim_value: 1 }] } } } },
          { name: `check/entry/${x}`, type: { tensor_type: { elem_type: float, shape: { dim: [{ dim_value: 1 }] } } } },
        ]),
        ...outputs.map((y, k) => ({
          ...input(`check/upstream${k}`, run.gradient(y)!),
          type: { tensor_type: { elem_type: DataType.DOUBLE, shape: { dim: run.gradient(y)!.dims.map((d) => ({ dim_value: d })) } } },
        })),
      ],
      output: [{ name: 'check/objective', type: { tensor_type: { elem_type: DataType.DOUBLE, shape: { dim: [] } } } }],
    },
  };
}
