/**
 * The training-step graph: forward, loss (the model's own loss node, or one attached to its output),
 * regularisation, the backward pass, gradient clipping and the optimiser update, as one ONNX graph that an
 * ordinary inference session runs. Trainable parameters and optimiser state are graph inputs and outputs.
 * A second graph, for evaluation, runs the forward pass with Dropout off.
 */
import type { ModelDocument, ParamValue } from '../graph/types.ts';
import type { Weights } from '../graph/weights.ts';
import { getLayer, outputPorts } from '../layers/index.ts';
import { buildBackward } from '../autodiff/backward.ts';
import { batchNormsAsInference } from '../autodiff/batchnorm.ts';
import { poolBeforeRelu } from '../onnx/pool-before-relu.ts';
import { mergeDuplicateNodes } from '../onnx/merge-duplicates.ts';
import { annotate } from '../autodiff/types.ts';
import { compileModel, CompileError, type CompiledModel, type GraphValue } from '../convert/compile.ts';
import { valueInfo, type OnnxBuilder } from '../onnx/builder.ts';
import type { ModelProto, NodeProto } from '../onnx/proto.ts';
import type { Dim, TensorType } from '../graph/dim.ts';
import { inferShapes } from '../shape/infer.ts';
import { clipByGlobalNorm, emitUpdate, gradientSeed, stateSlots, type OptimizerConfig, type OptimizerName } from './optimizers.ts';

export const LOSSES = {
  'cross-entropy': 'CrossEntropyLoss',
  mse: 'MSELoss',
  l1: 'L1Loss',
  hinge: 'MultiMarginLoss',
  bce: 'BCEWithLogitsLoss',
  'binary-hinge': 'HingeLoss',
  perceptron: 'PerceptronLoss',
} as const;
/** The loss an optimiser implies when none is chosen: the perceptron rule is SGD on the perceptron criterion. */
export const DEFAULT_LOSS: Partial<Record<OptimizerName, LossName>> = { perceptron: 'perceptron' };
/** Losses on a score and a ±1 label: a threshold unit (Sign, Heaviside) ending the model is the decision, and they read the score before it. */
const BINARY_LOSSES: readonly string[] = ['binary-hinge', 'perceptron'];
const THRESHOLDS: readonly string[] = ['Sign', 'Heaviside'];
export type LossName = keyof typeof LOSSES;

export interface Regularization {
  l1?: number;
  l2?: number;
  /** Parameter keys ("fc1.weight"); default: every weight (not biases or norm parameters). */
  params?: string[];
}

export interface TrainingGraphOptions {
  optimizer: OptimizerConfig;
  /** Needed when the model does not end in a loss node. */
  loss?: LossName;
  regularization?: Regularization;
  clipNorm?: number;
  /** Recurrent layers pass gradients back at most this many time steps (0 or absent: the whole sequence). */
  truncateBptt?: number;
  weights?: Weights;
  seed?: number;
  opset?: number;
  /** As compileModel's: refuse weights that need more bytes than this. */
  memoryLimit?: number;
  /**
   * Debugging: backpropagation starts from a gradient given at this layer's output ("id" or "id:port")
   * instead of from a loss. The gradient is fed as the target input "upstream"; the loss is Σ upstream·y.
   */
  upstream?: string;
  /** The engine's MaxPool never writes its Indices output: see BackwardOptions (core/autodiff/backward.ts). */
  maxPoolWithoutIndices?: boolean;
  /** The engine has no float64 arithmetic: BatchNorm's sums stay in float32 (see BackwardOptions). */
  withoutFloat64?: boolean;
  /** Debugging: return every value's gradient and each gradient a node sends to an input (see `trace`). */
  trace?: boolean;
  /**
   * Also output each layer's ‖∂L/∂W‖ over its trained parameters as GRADIENT_NORMS (the canvas overlay
   * shows them while the app trains). Costs a pass over every gradient, and SGD's Gemm fold (gemmStep).
   */
  gradientNorms?: boolean;
}

/** The step graph's output of per-layer gradient norms, in the order of TrainingGraph.gradientNormLayers. */
export const GRADIENT_NORMS = 'gradient-norms';

/** What the debugger reads from a step graph built with `trace`. */
export interface StepTrace {
  compiled: CompiledModel;
  /** The forward nodes, in topological order. */
  forward: NodeProto[];
  /** Each value's gradient ∂L/∂value, by value name. */
  gradients: Map<string, string>;
  /** Each gradient a node's rule sends to one of its inputs (a fanned-out value's gradient is their sum). */
  contributions: { value: string; node: string; gradient: string }[];
}

export interface TrainingGraph {
  step: ModelProto;
  eval: ModelProto;
  /** Trainable parameters, fed as inputs under their keys and returned as "next/<key>". */
  params: { key: string; shape: number[] }[];
  /** Buffers the step updates (BatchNorm's running statistics): inputs and "next/<key>" outputs too, but never differentiated. */
  buffers: { key: string; shape: number[] }[];
  slots: string[];
  /** The model's data inputs and the target input. */
  inputs: GraphValue[];
  target: GraphValue;
  /** Output names (the same in both graphs). */
  loss: string;
  prediction: string;
  predictionType: TensorType;
  /** Every tensor of the model at the start (frozen parameters and buffers included). */
  weights: Weights;
  /** The document actually trained (with the attached loss, if any). */
  doc: ModelDocument;
  trace?: StepTrace;
  /** Per layer, the step graph's nodes (by name) of its forward pass, its backward pass and its parameters' updates. */
  layerNodes: Map<string, LayerNodes>;
  /** With `gradientNorms`: the layers whose norms GRADIENT_NORMS holds, in its order. */
  gradientNormLayers?: string[];
}

export interface LayerNodes {
  forward: string[];
  backward: string[];
  update: string[];
}

export const nextName = (key: string) => `next/${key}`;
export const stateName = (slot: string, key: string) => `state/${slot}/${key}`;
/** The parameter or buffer a carried value belongs to: itself, or the parameter whose optimiser state it is. */
const ownerOf = (name: string) => (name.startsWith('state/') ? name.split('/').slice(2).join('/') : name);

/** The values each step hands to the next: trained parameters, their optimiser state, running statistics. */
export function carriedNames(graph: TrainingGraph): string[] {
  return [...graph.params.flatMap((p) => [p.key, ...graph.slots.map((s) => stateName(s, p.key))]), ...graph.buffers.map((b) => b.key)];
}

/** Each carried value as training starts: parameters and running statistics as the graph has them, optimiser state at zero. */
export function initialCarried(graph: TrainingGraph): Weights {
  return new Map(
    carriedNames(graph).map((name) => {
      const owner = graph.weights.get(ownerOf(name))!;
      return [name, name === ownerOf(name) ? owner : { shape: owner.shape, data: new Float32Array(owner.data.length) }];
    }),
  );
}

/**
 * The target Input for a prediction: class indices (no class axis) or values of the same shape; its
 * batch implied when the prediction has one first, else written out (an imported model with a fixed or
 * sequence-first layout).
 */
/** The target Input for a target of this shape (batch first): a fixed batch stays as it is, not N. */
function targetParams(shape: Dim[], classes: boolean): Record<string, ParamValue> {
  const params: Record<string, ParamValue> = shape[0] === 'N' ? { shape: shape.slice(1) } : { shape, batch: false };
  if (classes) params.dtype = 'int64';
  return params;
}

/** The document with a loss node: its own, or `loss` attached to its single output with a new target input. */
export function withLoss(doc: ModelDocument, loss?: LossName): { doc: ModelDocument; lossId: string; targetId: string } {
  const own = doc.nodes.find((n) => getLayer(n.op)?.category === 'Loss');
  if (own) {
    const target = doc.edges.find((e) => e.to === `${own.id}:1` || e.to === `${own.id}:target`);
    if (!target) throw new CompileError(`the loss ${own.id} has no target connected`);
    return { doc, lossId: own.id, targetId: target.from.split(':')[0] };
  }
  if (!loss) throw new CompileError(`the model has no loss node; choose a loss (--loss ${Object.keys(LOSSES).join('|')})`);
  const inference = inferShapes(doc);
  const errors = inference.diagnostics().filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CompileError(`the model has ${errors.length} error(s); run "netloom info" to see them`, errors);
  const read = new Set(doc.edges.map((e) => e.from.split(':')[0]));
  const sinks = inference.nodes().filter((r) => !read.has(r.id) && r.op !== 'Input');
  if (sinks.length !== 1) throw new CompileError(`a loss attaches to a model with exactly one output; this one has ${sinks.length} (${sinks.map((r) => r.id).join(', ')})`);
  // The loss reads the sink's output, or for a binary loss after a threshold unit, what feeds that unit.
  let from = sinks[0].id;
  let prediction = sinks[0].outputs![0];
  if (BINARY_LOSSES.includes(loss) && THRESHOLDS.includes(sinks[0].op)) {
    const feed = inference.incoming(sinks[0].id)[0]!;
    from = doc.edges.find((e) => e.to.split(':')[0] === sinks[0].id)!.from;
    prediction = inference.node(feed.node)!.outputs![feed.port];
  }
  const classes = loss === 'cross-entropy' || loss === 'hinge';
  const taken = new Set(doc.nodes.map((n) => n.id));
  // A language model's scores N×T×V meet cross-entropy as PyTorch's cross_entropy wants them, N×V×T
  // (targets N×T), through a Permute.
  const sequence = loss === 'cross-entropy' && prediction.shape.length === 3 && inference.nodes().some((r) => r.op === 'Input' && r.outputs![0].dtype === 'int64');
  const permuteId = taken.has('scores_by_class') ? 'scores_by_class_' : 'scores_by_class';
  const extraNodes = sequence ? [{ id: permuteId, op: 'Permute', params: { dims: [0, 2, 1] } }] : [];
  const extraEdges = sequence ? [{ from, to: permuteId }] : [];
  const lossInput = sequence ? permuteId : from;
  const targetShape = sequence ? prediction.shape.slice(0, 2) : classes ? [prediction.shape[0], ...prediction.shape.slice(2)] : prediction.shape;
  const targetId = taken.has('target') ? 'target_' : 'target';
  const lossId = taken.has('loss') ? 'loss_' : 'loss';
  return {
    lossId,
    targetId,
    doc: {
      ...doc,
      nodes: [...doc.nodes, ...extraNodes, { id: targetId, op: 'Input', params: targetParams(targetShape, classes) }, { id: lossId, op: LOSSES[loss], params: {} }],
      edges: [...doc.edges, ...extraEdges, { from: lossInput, to: `${lossId}:input` }, { from: targetId, to: `${lossId}:target` }],
    },
  };
}

/** The trainable parameters (tied copies left out), as the compiled graph's initializers name them. */
function trainableParams(compiled: CompiledModel): { key: string; shape: number[] }[] {
  const trainable = new Set(
    compiled.inference
      .nodes()
      .filter((r) => r.trainable)
      .flatMap((r) => r.params.filter((p) => !p.tiedTo).map((p) => `${r.id}.${p.name}`)),
  );
  return (compiled.model.graph.initializer ?? []).filter((t) => trainable.has(t.name!)).map((t) => ({ key: t.name!, shape: t.dims ?? [] }));
}

const floatInput = (p: { key: string; shape: number[] }) => valueInfo(p.key, { shape: p.shape, dtype: 'float32' });

/** Debugging's start: the loss Σ upstream·y for a gradient "upstream" fed at a layer output, so ∂L/∂y = upstream. */
function lossFromUpstream(compiled: CompiledModel, doc: ModelDocument, at: string): { loss: string; feed: { node: string; port: number }; target: GraphValue } {
  const [node, port = '0'] = at.split(':');
  const report = compiled.inference.node(node);
  if (!report?.outputs) throw new CompileError(`there is no layer "${node}" to start the backward pass from`);
  const index = /^\d+$/.test(port) ? Number(port) : outputPorts(getLayer(report.op)!, doc.nodes.find((n) => n.id === node)?.params).findIndex((p) => p.name === port);
  const value = compiled.values.get(`${node}:${index}`);
  if (!value) throw new CompileError(`the layer "${node}" has no output "${port}"`);
  const type = report.outputs[index];
  const b = compiled.builder;
  const target = { name: b.fresh('upstream'), nodeId: node, port: index, type };
  compiled.model.graph.input.push(valueInfo(target.name, type));
  return { loss: b.op('ReduceSum', [b.op('Mul', [value, target.name])], { keepdims: 0 }, b.fresh('loss')), feed: { node, port: index }, target };
}

/**
 * What a training graph must be built with for an execution provider, for what its kernels cannot do.
 * WebGPU's MaxPool, ONNX Runtime Web's and onnxruntime-node's alike (1.30), never writes its Indices output,
 * which MaxPool's usual gradient reads: there the step finds each window's maximum by comparison
 * (core/autodiff/maxpool.ts). WebGPU has no float64, and DirectML computes none (it only casts to it):
 * there BatchNorm's sums stay in float32, where the CPU, CUDA and WebAssembly kernels accumulate them in
 * float64 as torch does (core/autodiff/batchnorm.ts).
 */
export function stepOptionsFor(provider: string | undefined): Partial<TrainingGraphOptions> {
  if (provider === 'webgpu') return { maxPoolWithoutIndices: true, withoutFloat64: true };
  return provider === 'dml' ? { withoutFloat64: true } : {};
}

export function buildTrainingGraph(source: ModelDocument, options: TrainingGraphOptions): TrainingGraph {
  const { doc, lossId, targetId } = options.upstream !== undefined ? { doc: source, lossId: '', targetId: '' } : withLoss(source, options.loss ?? DEFAULT_LOSS[options.optimizer.name]);
  const compiled = compileModel(doc, { weights: options.weights, seed: options.seed, opset: options.opset, training: true, truncateBptt: options.truncateBptt, memoryLimit: options.memoryLimit });
  const b = compiled.builder;
  const graph = compiled.model.graph;
  // Parameters stay initializers while the backward pass is built (so their types are known); the
  // ones that train become inputs at the end.
  const params = trainableParams(compiled);
  const start = options.upstream !== undefined ? lossFromUpstream(compiled, doc, options.upstream) : null;
  const loss = start?.loss ?? compiled.values.get(`${lossId}:0`)!;
  const feed = start?.feed ?? compiled.inference.incoming(lossId)[0]!;
  const prediction = compiled.values.get(`${feed.node}:${feed.port}`)!;
  if (!start && compiled.inference.node(lossId)!.outputs![0].shape.length !== 0) throw new CompileError(`the loss ${lossId} must reduce to a scalar (reduction 'mean' or 'sum') to train`);

  // λR(W): L2 and L1 penalties on the chosen parameters, added to the loss.
  let objective = loss;
  const reg = options.regularization;
  if (reg && (reg.l1 || reg.l2)) {
    const chosen = reg.params ?? params.map((p) => p.key).filter((k) => /(^|\.)weight$|_weight$|weight_(ih|hh)/.test(k) && !/norm/.test(k));
    const terms: string[] = [];
    for (const key of chosen) {
      if (reg.l2) terms.push(b.op('Mul', [b.floats([reg.l2]), b.op('ReduceSum', [b.op('Mul', [key, key])], { keepdims: 0 })]));
      if (reg.l1) terms.push(b.op('Mul', [b.floats([reg.l1]), b.op('ReduceSum', [b.op('Abs', [key])], { keepdims: 0 })]));
    }
    objective = b.op('Sum', [loss, ...terms]);
  }

  // Not when debugging: the debugger reads each layer's output as the layer computed it.
  if (!options.trace && options.upstream === undefined) poolBeforeRelu(b.nodes, new Set([loss, objective, prediction]), (base) => b.fresh(base));
  const forward = [...b.nodes];
  const types = annotate(graph, b.opset);
  // Traced: the float data inputs are differentiated too, and every gradient on the way is kept.
  const traced = options.trace ? compiled.inputs.filter((v) => v.type.dtype === 'float32' && v.nodeId !== targetId).map((v) => v.name) : [];
  const contributions: StepTrace['contributions'] = [];
  const onContribution = options.trace ? (value: string, node: NodeProto, gradient: string) => void contributions.push({ value, node: node.name!, gradient }) : undefined;
  const origins = new Map<string, string>();
  const lr = 'lr';
  const step = 'step';
  const seededWith = gradientSeed(options.optimizer, { clipped: !!options.clipNorm, traced: !!options.trace }) ?? undefined;
  if (seededWith === lr) types.set(lr, { shape: [], dtype: 'float32' });
  // The value the backward pass starts from, where not 1: lr itself, or a constant.
  const seed = typeof seededWith === 'number' ? b.floats([seededWith]) : seededWith;
  const grads = buildBackward(b, {
    nodes: forward,
    loss: objective,
    seed,
    wrt: [...params.map((p) => p.key), ...traced],
    types,
    everyValue: options.trace,
    onContribution,
    origins,
    maxPoolWithoutIndices: options.maxPoolWithoutIndices,
    withoutFloat64: options.withoutFloat64,
  });
  batchNormsAsInference(b, (v) => types.get(v), options.withoutFloat64);
  // Parameters the loss never reaches stay constants of the graph.
  const trained = params.filter((p) => grads.has(p.key));
  graph.input.push(...trained.map(floatInput));
  const keys = trained.map((p) => p.key);
  // Traced: the update reads a copy, so that the SGD fold (gemmStep) leaves the gradient there to fetch.
  let gradValues = keys.map((k) => (options.trace ? b.op('Identity', [grads.get(k)!]) : grads.get(k)!));
  if (options.clipNorm) gradValues = clipByGlobalNorm(b, gradValues, options.clipNorm);

  const slots = stateSlots(options.optimizer.name);
  const updates = new Map<string, string[]>();
  const sharedScalars = new Map<string, string>();
  graph.input.push(valueInfo(lr, { shape: [], dtype: 'float32' }), valueInfo(step, { shape: [], dtype: 'float32' }));
  const outputs = [valueInfo(loss, { shape: [], dtype: 'float32' }), valueInfo(prediction, compiled.inference.node(feed.node)!.outputs![feed.port])];
  const layerOfKey = new Map<string, string>(compiled.inference.nodes().flatMap((r) => r.params.map((p): [string, string] => [`${r.id}.${p.name}`, r.id])));
  // Before the updates: they may take a gradient's Gemm into the update (gemmStep), which a reader here prevents.
  const gradientNormLayers = options.gradientNorms ? gradientNormsOutput(b, keys, grads, layerOfKey, seed) : undefined;
  if (gradientNormLayers) outputs.push(valueInfo(GRADIENT_NORMS, { shape: [gradientNormLayers.length], dtype: 'float32' }));
  keys.forEach((key, i) => {
    const shape = params.find((p) => p.key === key)!.shape;
    const state = Object.fromEntries(slots.map((s) => [s, stateName(s, key)]));
    for (const s of slots) graph.input.push(valueInfo(stateName(s, key), { shape, dtype: 'float32' }));
    // The update's nodes are the new ones: it may also take the gradient's own Gemm out of the graph (gemmStep).
    const before = new Set(b.nodes);
    const next = emitUpdate(b, options.optimizer, { param: key, grad: gradValues[i], state, lr, step, seededWith }, sharedScalars);
    const own = b.nodes.filter((n) => !before.has(n));
    for (const n of own) n.doc_string = `update of ${key}`;
    updates.set(
      key,
      own.map((n) => n.name!),
    );
    // Renamed rather than copied through an Identity: these are megabytes on every step.
    outputs.push(valueInfo(b.rename(next.param, nextName(key)), { shape, dtype: 'float32' }));
    for (const s of slots) outputs.push(valueInfo(b.rename(next.state[s], nextName(stateName(s, key))), { shape, dtype: 'float32' }));
  });
  // Running statistics: fed in, updated by the forward pass, carried out (not differentiated).
  const buffers = [...compiled.bufferUpdates.keys()].map((key) => ({ key, shape: compiled.weights.get(key)!.shape }));
  for (const { key, shape } of buffers) {
    graph.input.push(floatInput({ key, shape }));
    outputs.push(valueInfo(b.rename(compiled.bufferUpdates.get(key)!, nextName(key)), { shape, dtype: 'float32' }));
  }
  const fed = new Set([...keys, ...buffers.map((p) => p.key)]);
  // What the backward pass recomputes (a BatchNorm's centred input, element counts, shapes) is computed
  // once; not when tracing, which fetches every gradient by the name it was made under.
  if (!options.trace) mergeDuplicateNodes(b.nodes, new Set(outputs.map((v) => v.name)));
  graph.node = b.nodes;
  graph.initializer = b.initializers.filter((t) => !fed.has(t.name!));
  graph.output = outputs;

  // The evaluation graph reads the same parameters and buffers, fed from the step's outputs.
  const evaluation = compileModel(doc, { weights: compiled.weights, opset: options.opset, training: false });
  const evalGraph = evaluation.model.graph;
  evalGraph.initializer = (evalGraph.initializer ?? []).filter((t) => !fed.has(t.name!));
  evalGraph.input.push(...[...trained, ...buffers].map(floatInput));
  if (options.upstream !== undefined) lossFromUpstream(evaluation, doc, options.upstream);
  evaluation.model.graph.output = [valueInfo(loss, { shape: [], dtype: 'float32' }), outputs[1]];

  const target = start?.target ?? compiled.inputs.find((v) => v.nodeId === targetId)!;
  const layerNodes = new Map<string, LayerNodes>();
  const present = new Set(b.nodes.map((n) => n.name!));
  for (const [id, record] of compiled.layers) {
    const own = new Set(record.nodes);
    const ownsOrigin = (origin: string | undefined) => !!origin && (own.has(origin) || (origin.startsWith('param:') && layerOfKey.get(origin.slice(6)) === id));
    layerNodes.set(id, {
      forward: record.nodes.filter((n) => present.has(n)),
      backward: b.nodes.filter((n) => ownsOrigin(origins.get(n.name!))).map((n) => n.name!),
      update: keys.filter((k) => layerOfKey.get(k) === id).flatMap((k) => (updates.get(k) ?? []).filter((n) => present.has(n))),
    });
  }
  return {
    layerNodes,
    step: compiled.model,
    eval: evaluation.model,
    params: trained,
    buffers,
    slots,
    inputs: compiled.inputs.filter((v) => v.nodeId !== targetId),
    target,
    loss,
    prediction,
    predictionType: compiled.inference.node(feed.node)!.outputs![feed.port],
    weights: compiled.weights,
    doc,
    ...(options.trace ? { trace: { compiled, forward, gradients: grads, contributions } } : {}),
    ...(gradientNormLayers ? { gradientNormLayers } : {}),
  };
}

/**
 * GRADIENT_NORMS: per layer, √Σ‖∂L/∂p‖² over its trained parameters p, as one vector; returns the layers
 * in its order. A backward pass started from `seed` (lr or 1 − β₁, see gradientSeed) made every gradient
 * that many times ∂L/∂p: the norms divide it out.
 */
function gradientNormsOutput(b: OnnxBuilder, keys: string[], grads: Map<string, string>, layerOfKey: Map<string, string>, seed: string | undefined): string[] {
  const byLayer = new Map<string, string[]>();
  for (const key of keys) {
    const layer = layerOfKey.get(key) ?? key;
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), b.op('ReduceSumSquare', [grads.get(key)!], { keepdims: 0 })]);
  }
  const squares = [...byLayer.values()].map((terms) => b.unsqueeze(terms.length === 1 ? terms[0] : b.op('Sum', terms), [0]));
  const norms = b.op('Sqrt', [squares.length === 1 ? squares[0] : b.op('Concat', squares, { axis: 0 })]);
  b.rename(seed ? b.op('Div', [norms, seed]) : norms, GRADIENT_NORMS);
  return [...byLayer.keys()];
}
