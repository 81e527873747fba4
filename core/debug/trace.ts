/**
 * The debugger: one training step, every value shown. The step graph (buildTrainingGraph with `trace`)
 * is made of ordinary ONNX nodes, so every forward value and every gradient can be a graph output; one
 * run fetches them all, and stepping through the layers afterwards only reads what was fetched.
 */
import { elementCount, type Engine, type Session, type Tensor } from '../engine/engine.ts';
import type { ModelDocument } from '../graph/types.ts';
import type { Weights } from '../graph/weights.ts';
import type { TensorType } from '../graph/dim.ts';
import { RULE_EXPLANATIONS } from '../autodiff/rules.ts';
import { getLayer } from '../layers/index.ts';
import { annotate } from '../autodiff/types.ts';
import { encodeModelBytes, isFloatTensor, tensorValues, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/proto.ts';
import { CompileError } from '../convert/compile.ts';
import { optimizerConfig, type OptimizerName } from '../train/optimizers.ts';
import { buildTrainingGraph, DEFAULT_LOSS, initialCarried, nextName, type LossName, type StepTrace, type TrainingGraph } from '../train/step.ts';
import { formatTensor, layerFormula } from './format.ts';

export interface DebugOptions {
  /** A loss to attach when the model has none; without one (and without a loss node) backprop starts from `upstreamAt`. */
  loss?: LossName;
  /** The layer output ("id" or "id:port") where a given gradient starts the backward pass; default: the model's output. */
  upstreamAt?: string;
  weights?: Weights;
  seed?: number;
  optimizer?: OptimizerName;
  /** The update step's learning rate η. */
  lr?: number;
  /**
   * Fetch only what the per-layer gradient check reads: each layer's outputs and their gradients, and what each
   * layer sends back to the values it reads from outside (its inputs and parameters). The values and gradients
   * inside composite layers (a weight's transpose and its gradient), the total parameter gradients and the update
   * are left in the runtime, which holds a large model's step in a fraction of the memory. No `update()` then.
   */
  layerBoundaries?: boolean;
}

export interface DebugExample {
  /** By input layer id. */
  inputs: Record<string, Tensor>;
  /** The label(s), in loss mode. */
  target?: Tensor;
  /** ∂L/∂y at `upstreamAt`, in upstream mode; default ones (∂L/∂y = 1). */
  upstream?: Tensor;
  /** Starting values for parameters by key ("w.weight"), in place of the model's (deck 003 starts at w = 0). */
  params?: Record<string, Tensor>;
}

export interface NamedTensor {
  /** The value's name: a layer id, or an ONNX value inside a composite layer. */
  name: string;
  value: Tensor;
}

export interface ForwardStep {
  layer: string;
  op: string;
  inputs: NamedTensor[];
  outputs: NamedTensor[];
  /** "q = x + y = −2 + 5 = 3". */
  formula: string;
}

export interface Downstream {
  /** The input value (its producing layer's id for a layer output). */
  input: string;
  /** ∂L/∂x as this layer sends it. */
  value: Tensor;
  /** Where x fans out to several layers: every reader, and the total ∂L/∂x, which is the sum of what they send. */
  fanOut?: { readers: string[]; total: Tensor };
}

export interface BackwardStep {
  layer: string;
  op: string;
  /** ∂L/∂y for each output that receives a gradient. */
  upstream: NamedTensor[];
  /** The local gradient in words, one line per kind of ONNX node the layer is made of. */
  rule: string[];
  downstream: Downstream[];
  /** ∂L/∂W, ∂L/∂b… by parameter key ("fc1.weight"). */
  params: NamedTensor[];
}

/** One ONNX node of a composite layer, with its values and their gradients. */
export interface NodeStep {
  name: string;
  op: string;
  inputs: NamedTensor[];
  outputs: NamedTensor[];
  /** ∂L/∂ of each output that receives a gradient. */
  gradients: NamedTensor[];
  rule?: string;
}

export interface UpdateStep {
  optimizer: OptimizerName;
  lr: number;
  /** W ← W − η∇W per parameter (for SGD; other optimisers with their own rule): before, gradient, after. */
  params: { key: string; before: Tensor; gradient: Tensor; after: Tensor }[];
  lossBefore: number;
  /** The loss on the same example with the updated parameters (with active Dropout, a new mask). */
  lossAfter: number;
}

export interface Trace {
  loss: number;
  forward: ForwardStep[];
  backward: BackwardStep[];
}

/** A problem with the example a person gave: names the input and what is wrong. */
export class ExampleError extends Error {}

const float32 = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

function add(a: Tensor, b: Tensor): Tensor {
  const out = Float32Array.from(a.data as Float32Array);
  for (let i = 0; i < out.length; i++) out[i] += Number(b.data[i]);
  return { dtype: 'float32', dims: a.dims, data: out };
}

/** Inline numbers ("-2", "[1,-2,3,-1]", "[[1,2],[3,4]]") flattened, or null when the text is not a list of numbers. */
export function parseInlineValues(text: string): number[] | null {
  const trimmed = text.trim();
  if (!/^[[\]\d\s,.eE+\-−]+$/.test(trimmed)) return null;
  const numbers = trimmed
    .replace(/−/g, '-')
    .replace(/[[\]]/g, ' ')
    .split(/[\s,]+/)
    .filter((s) => s.length > 0)
    .map(Number);
  return numbers.length > 0 && numbers.every(Number.isFinite) ? numbers : null;
}

/** A tensor for a value of static type `type` from flat numbers, the batch (and any one symbolic size) inferred. */
export function tensorFor(given: TensorType, values: number[], what: string): Tensor {
  // With another unknown size (a sequence length), the batch is one sample.
  const type = given.shape[0] === 'N' && given.shape.slice(1).some((d) => typeof d !== 'number') ? { ...given, shape: [1, ...given.shape.slice(1)] } : given;
  const known = type.shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
  const free = type.shape.filter((d) => typeof d !== 'number').length;
  if (free > 1) throw new ExampleError(`${what}: the shape ${type.shape.join('×')} has more than one unknown size; give a .npy file`);
  if (values.length % known !== 0 || (free === 0 && values.length !== known) || values.length === 0)
    throw new ExampleError(`${what}: ${values.length} value(s) do not fill the shape ${type.shape.join('×')}`);
  const dims = type.shape.map((d) => (typeof d === 'number' ? d : values.length / known));
  return type.dtype === 'int64' ? { dtype: 'int64', dims, data: BigInt64Array.from(values.map((v) => BigInt(Math.trunc(v)))) } : float32(dims, values);
}

const BOOLEAN_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);

/**
 * The document with each Input's symbolic sizes (a sequence length T, not the batch) set from the
 * example's tensors: the training graph needs them known.
 */
export function sizedForExample(doc: ModelDocument, inputs: Record<string, Tensor>): ModelDocument {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const t = inputs[n.id];
      const shape = n.params.shape as (number | string)[] | undefined;
      if (n.op !== 'Input' || !t || !shape?.some((d) => typeof d === 'string')) return n;
      const dims = n.params.batch === false ? t.dims : t.dims.slice(1);
      return { ...n, params: { ...n.params, shape: shape.map((d, i) => (typeof d === 'string' ? (dims[i] ?? d) : d)) } };
    }),
  };
}

/** The float copy of a Dropout mask that the debugger fetches. */
export const maskName = (mask: string) => `debug/mask/${mask}`;

/** An ONNX graph output for a value whose type the caller does not declare (the runtime knows it). */
const anyFloat = (name: string): ValueInfoProto => ({ name, type: { tensor_type: { elem_type: 1 } } });

export class Debugger {
  private constructor(
    readonly graph: TrainingGraph,
    private readonly trace: StepTrace,
    private readonly session: Session,
    private readonly options: Required<Pick<DebugOptions, 'optimizer' | 'lr'>>,
    private readonly constants: Map<string, Tensor>,
    /** Whether backprop starts from a given gradient (fed as the graph's target) rather than a loss. */
    private readonly fromUpstream: boolean,
  ) {}

  /** Builds the traced step graph and opens it on `engine`. Throws CompileError/GradientError for models that cannot be traced. */
  static async open(engine: Engine, doc: ModelDocument, options: DebugOptions = {}): Promise<Debugger> {
    const optimizer = options.optimizer ?? 'sgd';
    const ownLoss = doc.nodes.some((n) => getLayer(n.op)?.category === 'Loss');
    // An optimiser that implies its loss (the perceptron rule) brings it, unless a gradient is given instead.
    const loss = options.loss ?? (ownLoss || options.upstreamAt !== undefined ? undefined : DEFAULT_LOSS[optimizer]);
    const upstream = loss !== undefined || ownLoss ? undefined : (options.upstreamAt ?? soleOutput(doc));
    const lr = options.lr ?? 0.1;
    const graph = buildTrainingGraph(doc, { optimizer: optimizerConfig(optimizer, { lr }), loss, weights: options.weights, seed: options.seed, upstream, trace: true });
    const trace = graph.trace!;
    const model = graph.step;
    // Every forward value and every gradient becomes an output; constants are read here instead.
    const constants = new Map<string, Tensor>();
    for (const t of model.graph.initializer ?? [])
      if (isFloatTensor(t) && (t.dims ?? []).reduce((a, b) => a * b, 1) <= 4096) constants.set(t.name!, float32(t.dims ?? [], tensorValues(t) as ArrayLike<number>));
    const fed = new Set(model.graph.input.map((v) => v.name));
    const declared = new Set(model.graph.output.map((v) => v.name));
    // Forward values are fetched where they are float (the shape rules say; comparisons and masks are bool); gradients always are.
    const types = annotate(model.graph, model.opset_import[0].version);
    const floatForward = trace.forward.filter((n) => !BOOLEAN_OPS.has(n.op_type)).flatMap((n) => n.output.filter((o, i) => !(n.op_type === 'Dropout' && i > 0) && types.get(o)?.dtype === 'float32'));
    let wanted = [...floatForward, ...trace.gradients.values(), ...trace.contributions.map((c) => c.gradient)];
    if (options.layerBoundaries) {
      const layerOfNode = new Map([...trace.compiled.layers].flatMap(([id, record]) => record.nodes.map((n) => [n, id] as const)));
      const producer = new Map(trace.forward.flatMap((n) => n.output.map((o) => [o, layerOfNode.get(n.name!)] as const)));
      const outputs = new Set(trace.compiled.values.values());
      // Values a layer's nodes read from outside the layer that are not layer outputs (a BatchNorm's batch statistics).
      const crossing = new Set(trace.forward.flatMap((n) => n.input.filter((v) => v && producer.has(v) && producer.get(v) !== layerOfNode.get(n.name!))));
      wanted = [
        ...floatForward.filter((v) => outputs.has(v) || crossing.has(v)),
        ...[...trace.gradients].filter(([v]) => outputs.has(v)).map(([, g]) => g),
        ...trace.contributions.filter((c) => producer.get(c.value) !== layerOfNode.get(c.node)).map((c) => c.gradient),
      ];
      model.graph.output = model.graph.output.filter((v) => v.name === graph.loss);
      declared.clear();
      declared.add(graph.loss);
    }
    for (const name of wanted) {
      if (!name || declared.has(name) || fed.has(name) || constants.has(name)) continue;
      declared.add(name);
      model.graph.output.push(anyFloat(name));
    }
    // Dropout's masks (bool) are fetched as floats: the gradient check replays them.
    for (const n of trace.forward) {
      if (n.op_type !== 'Dropout' || !n.output[1]) continue;
      model.graph.node.push({ name: maskName(n.output[1]), op_type: 'Cast', input: [n.output[1]], output: [maskName(n.output[1])], attribute: [{ name: 'to', type: 2, i: 1 }] });
      model.graph.output.push(anyFloat(maskName(n.output[1])));
    }
    const session = await engine.createSession(encodeModelBytes(model));
    return new Debugger(graph, trace, session, { optimizer, lr }, constants, upstream !== undefined);
  }

  /** The loss's start in upstream mode: the layer output that receives the given gradient. */
  get upstreamType(): TensorType | undefined {
    return this.fromUpstream ? this.graph.target.type : undefined;
  }

  /** Runs one forward and backward pass on the example and returns the trace; later steps read it. */
  async run(example: DebugExample): Promise<DebugRun> {
    const feeds: Record<string, Tensor> = {};
    for (const input of this.graph.inputs) {
      const given = example.inputs[input.nodeId];
      if (!given) throw new ExampleError(`no value for the input "${input.nodeId}"`);
      feeds[input.name] = given;
    }
    const unknown = Object.keys(example.inputs).filter((k) => !this.graph.inputs.some((i) => i.nodeId === k));
    if (unknown.length > 0) throw new ExampleError(`the model has no input "${unknown[0]}"; its inputs: ${this.graph.inputs.map((i) => i.nodeId).join(', ')}`);
    const batched = this.graph.inputs.filter((i) => i.type.shape[0] === 'N');
    const batch = batched.length > 0 ? feeds[batched[0].name].dims[0] : 1;
    const other = batched.find((i) => feeds[i.name].dims[0] !== batch);
    if (other) throw new ExampleError(`the inputs' batch sizes differ: ${batched[0].nodeId} has ${batch}, ${other.nodeId} has ${feeds[other.name].dims[0]}`);
    if (this.upstreamType) {
      const shape = this.upstreamType.shape.map((d) => (typeof d === 'number' ? d : batch));
      const given = example.upstream ?? float32(shape, new Array(elementCount(shape)).fill(1));
      if (elementCount(given.dims) !== elementCount(shape))
        throw new ExampleError(`the upstream gradient at "${this.graph.target.nodeId}" needs ${elementCount(shape)} value(s) (${shape.join('×')}), got ${elementCount(given.dims)}`);
      feeds[this.graph.target.name] = { ...given, dims: shape };
    } else {
      if (!example.target) throw new ExampleError(`the loss needs a target for "${this.graph.target.nodeId}"`);
      feeds[this.graph.target.name] = example.target;
    }
    const carried = initialCarried(this.graph);
    // The model's own arrays, not copies: nothing writes to feeds, and a large model's weights are held once.
    for (const [name, t] of carried) feeds[name] = { dtype: 'float32', dims: t.shape, data: t.data };
    for (const [key, given] of Object.entries(example.params ?? {})) {
      const param = this.graph.params.find((p) => p.key === key);
      if (!param) throw new ExampleError(`the model has no trainable parameter "${key}"; its parameters: ${this.graph.params.map((p) => p.key).join(', ')}`);
      if (elementCount(given.dims) !== elementCount(param.shape))
        throw new ExampleError(`the parameter "${key}" needs ${elementCount(param.shape)} value(s) (${param.shape.join('×')}), got ${elementCount(given.dims)}`);
      feeds[key] = float32(param.shape, given.data as ArrayLike<number>);
    }
    feeds.lr = float32([], [this.options.lr]);
    feeds.step = float32([], [1]);
    const values = await this.session.run(feeds);
    return new DebugRun(this, this.graph, this.trace, { ...Object.fromEntries(this.constants), ...feeds, ...values }, feeds);
  }

  /** The loss of the example's feeds with other parameters (the update step's "after"). */
  async lossWith(feeds: Record<string, Tensor>, params: Record<string, Tensor>): Promise<number> {
    const out = await this.session.run({ ...feeds, ...params }, [this.graph.loss]);
    return Number(out[this.graph.loss].data[0]);
  }

  get settings() {
    return this.options;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** The single output layer of a model without a loss (where the backward pass starts by default). */
function soleOutput(doc: ModelDocument): string {
  const read = new Set(doc.edges.map((e) => e.from.split(':')[0]));
  const sinks = doc.nodes.filter((n) => !read.has(n.id) && n.op !== 'Input');
  if (sinks.length !== 1) throw new CompileError(`the model has ${sinks.length} outputs (${sinks.map((n) => n.id).join(', ')}); choose where the gradient starts (--grad-output)`);
  return sinks[0].id;
}

/** One example's forward and backward values, read layer by layer. */
export class DebugRun {
  readonly trace: Trace;
  private readonly layerOfNode = new Map<string, string>();

  constructor(
    private readonly debug: Debugger,
    private readonly graph: TrainingGraph,
    private readonly step: StepTrace,
    private readonly values: Record<string, Tensor>,
    private readonly feeds: Record<string, Tensor>,
  ) {
    for (const [id, record] of step.compiled.layers) for (const n of record.nodes) this.layerOfNode.set(n, id);
    const forward = this.forwardSteps();
    this.trace = { loss: Number(this.values[graph.loss].data[0]), forward, backward: this.backwardSteps(forward) };
  }

  value(name: string): Tensor | undefined {
    return this.values[name];
  }

  gradient(name: string): Tensor | undefined {
    const g = this.step.gradients.get(name);
    return g ? this.values[g] : undefined;
  }

  get opset(): number {
    return this.step.compiled.builder.opset;
  }

  /** A constant of the step graph (shape tensors, scalars the lowering wrote). */
  constant(name: string): TensorProto | undefined {
    return this.graph.step.graph.initializer?.find((t) => t.name === name);
  }

  get inference() {
    return this.step.compiled.inference;
  }

  /** The values feeding each input port of a layer, named by their producer ("x", or "lstm:1" for a port). */
  layerInputs(id: string): { name: string; value: string }[] {
    return this.inference.incoming(id).flatMap((c) => (c ? [{ name: c.port === 0 ? c.node : `${c.node}:${c.port}`, value: this.step.compiled.values.get(`${c.node}:${c.port}`)! }] : []));
  }

  /** The layer's forward ONNX nodes, in order. */
  layerNodes(id: string): NodeProto[] {
    const names = new Set(this.step.compiled.layers.get(id)?.nodes ?? []);
    // A training-mode BatchNorm runs as its batch statistics and an inference-mode node (batchNormsAsInference),
    // which names the statistics' nodes after it; they are the layer's too.
    const owner = (name: string) => names.has(name) || names.has(name.split('/statistics/')[0]);
    return this.graph.step.graph.node.filter((n) => owner(n.name!));
  }

  /** What the layer's own nodes send back to `value`: its share of ∂L/∂value where other layers read it too (a tied weight). */
  share(layer: string, value: string): Tensor | undefined {
    const mine = new Set(this.step.compiled.layers.get(layer)?.nodes ?? []);
    const sent = this.step.contributions.filter((c) => c.value === value && mine.has(c.node)).map((c) => this.values[c.gradient]);
    return sent.length > 0 ? sent.reduce(add) : undefined;
  }

  /** The ONNX values of the layer's outputs. */
  layerOutputs(id: string): string[] {
    return (this.inference.node(id)!.outputs ?? []).map((_, p) => this.step.compiled.values.get(`${id}:${p}`)!);
  }

  private forwardSteps(): ForwardStep[] {
    return this.inference.nodes().map((r) => {
      const inputs = this.layerInputs(r.id).map((i) => ({ name: i.name, value: this.values[i.value] }));
      const outputs = this.layerOutputs(r.id).map((name) => ({ name, value: this.values[name] }));
      const formula = r.op === 'Input' ? `${r.id} = ${formatTensor(outputs[0].value)}` : layerFormula(r.id, r.op, inputs, outputs[0]?.value);
      return { layer: r.id, op: r.op, inputs, outputs, formula };
    });
  }

  private backwardSteps(forward: ForwardStep[]): BackwardStep[] {
    const readers = new Map<string, string[]>();
    for (const r of this.inference.nodes()) for (const i of this.layerInputs(r.id)) readers.set(i.value, [...new Set([...(readers.get(i.value) ?? []), r.id])]);
    const steps: BackwardStep[] = [];
    for (const f of [...forward].reverse()) {
      const upstream = this.layerOutputs(f.layer).flatMap((name) => {
        const g = this.gradient(name);
        return g ? [{ name, value: g }] : [];
      });
      if (upstream.length === 0) continue;
      const record = this.step.compiled.layers.get(f.layer);
      const ops = [...new Set((record?.nodes ?? []).map((n) => this.step.forward.find((m) => m.name === n)?.op_type).filter((o): o is string => !!o && !!RULE_EXPLANATIONS[o]))];
      const downstream: Downstream[] = this.layerInputs(f.layer).flatMap((input) => {
        const value = this.share(f.layer, input.value);
        if (!value) return [];
        const all = readers.get(input.value) ?? [];
        const fanOut = all.length > 1 ? { readers: all, total: this.gradient(input.value)! } : undefined;
        return [{ input: input.name, value, ...(fanOut ? { fanOut } : {}) }];
      });
      const params = (this.inference.node(f.layer)?.params ?? []).flatMap((p) => {
        const key = `${f.layer}.${p.name}`;
        const g = this.gradient(key);
        return g ? [{ name: key, value: g }] : [];
      });
      const rule =
        f.op === 'Input'
          ? ['an input: ∂L/∂x is what the layers reading it send back, added']
          : ops.map((o) => (RULE_EXPLANATIONS[o].startsWith(o) ? RULE_EXPLANATIONS[o] : `${o}: ${RULE_EXPLANATIONS[o]}`));
      steps.push({ layer: f.layer, op: f.op, upstream, rule, downstream, params });
    }
    return steps;
  }

  /** A composite layer's ONNX nodes, in order, with their values and gradients. */
  expand(layer: string): NodeStep[] {
    const record = this.step.compiled.layers.get(layer);
    if (!record) {
      if (this.inference.node(layer)) return []; // an input: no nodes
      throw new ExampleError(`there is no layer "${layer}" to expand`);
    }
    const named = (names: string[]) => names.flatMap((name) => (name && this.values[name] ? [{ name, value: this.values[name] }] : []));
    return record.nodes.flatMap((n) => {
      const node: NodeProto | undefined = this.step.forward.find((m) => m.name === n);
      if (!node) return [];
      const gradients = node.output.flatMap((o) => {
        const g = o ? this.gradient(o) : undefined;
        return g ? [{ name: o, value: g }] : [];
      });
      return [{ name: n, op: node.op_type, inputs: named(node.input), outputs: named(node.output), gradients, ...(RULE_EXPLANATIONS[node.op_type] ? { rule: RULE_EXPLANATIONS[node.op_type] } : {}) }];
    });
  }

  /** The optimiser's step on every trained parameter, and the loss before and after it. */
  async update(): Promise<UpdateStep> {
    const params = this.graph.params.map(({ key }) => ({ key, before: this.values[key], gradient: this.gradient(key)!, after: this.values[nextName(key)] }));
    const lossAfter = await this.debug.lossWith(this.feeds, Object.fromEntries(params.map((p) => [p.key, p.after])));
    return { ...this.debug.settings, params, lossBefore: this.trace.loss, lossAfter };
  }
}
