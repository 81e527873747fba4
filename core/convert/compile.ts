/**
 * Compiles a model document to ONNX: graph inputs from Input nodes, initializers from the weights,
 * every other layer lowered by its spec, graph outputs from the sink layers.
 */
import { parseEdgeEnd, type ModelDocument, type ParamValue } from '../graph/types.ts';
import { initWeights, weightKey, weightsTooLarge, type Weights } from '../graph/weights.ts';
import { resolveParams, Params } from '../layers/params.ts';
import type { LowerContext, TensorType } from '../layers/spec.ts';
import type { Diagnostic } from '../graph/diagnostics.ts';
import { inferShapes, type NodeReport, type ShapeInference } from '../shape/infer.ts';
import { DEFAULT_OPSET, OnnxBuilder, SUPPORTED_OPSETS, floatTensor, irVersionFor, valueInfo, type LayerRecord } from '../onnx/builder.ts';
import type { ModelProto } from '../onnx/proto.ts';
import { getLayer, outputPorts } from '../layers/index.ts';

export interface CompileOptions {
  opset?: number;
  /** Existing tensors (imported or trained); anything missing is initialised from `seed`. */
  weights?: Weights;
  seed?: number;
  /** Training graphs keep Dropout active and BatchNorm on batch statistics. */
  training?: boolean;
  /** Training graphs: recurrent layers pass gradients back at most this many time steps (0: the whole sequence). */
  truncateBptt?: number;
  /** Refuse, before allocating, a model whose weights need more bytes than this (the memory available). */
  memoryLimit?: number;
  /** Every layer's outputs become graph outputs too, so one run shows them all (the app's tensor views). */
  exposeLayers?: boolean;
  /** Compile one decoder step with a KV cache of this many slots (see core/train/generate.ts). */
  decode?: { capacity: number };
}

export interface GraphValue {
  name: string;
  nodeId: string;
  port: number;
  type: TensorType;
}

export interface CompiledModel {
  model: ModelProto;
  /** Per layer: the ONNX nodes and values it produced, and its outputs. */
  layers: Map<string, LayerRecord>;
  weights: Weights;
  inputs: GraphValue[];
  /** The model's results: outputs of layers that nothing reads. */
  outputs: GraphValue[];
  /** With `exposeLayers`: the other layers' outputs, also graph outputs. */
  exposed: GraphValue[];
  /** The ONNX value of each layer output, by "<id>:<port>". */
  values: Map<string, string>;
  /** Training graphs: each buffer's value after the step, by weight key ("bn1.running_mean"). */
  bufferUpdates: Map<string, string>;
  /** The builder, for appending to the graph (the training step adds the backward pass and updates). */
  builder: OnnxBuilder;
  /** The shape inference the graph was compiled from. */
  inference: ShapeInference;
  /** Decoder steps: each cache, fed as `input` and returned as `output` (the next step's input). */
  caches: { input: string; output: string; type: TensorType }[];
}

export class CompileError extends Error {
  constructor(
    message: string,
    readonly diagnostics: Diagnostic[] = [],
  ) {
    super(message);
  }
}

export function compileModel(doc: ModelDocument, options: CompileOptions = {}): CompiledModel {
  const opset = options.opset ?? DEFAULT_OPSET;
  if (!(SUPPORTED_OPSETS as readonly number[]).includes(opset))
    throw new CompileError(`opset ${opset} is not supported; use ${SUPPORTED_OPSETS[0]} to ${SUPPORTED_OPSETS[SUPPORTED_OPSETS.length - 1]}`);
  const inference = inferShapes(doc);
  const errors = inference.diagnostics().filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CompileError(`the model has ${errors.length} error(s); run "netloom info" to see them`, errors);

  const reports = inference.nodes();
  const tooLarge = weightsTooLarge(reports, options.memoryLimit);
  if (tooLarge) throw new CompileError(`cannot build this model: ${tooLarge}`);
  const weights = initWeights(reports, options.seed ?? 0, options.weights);
  const b = new OnnxBuilder(opset);
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const reportOf = new Map(reports.map((r) => [r.id, r]));

  // Official value names: the node id, or "<id>.<port>" for multi-output layers.
  const values = new Map<string, string>();
  for (const r of reports) {
    const ports = outputPorts(getLayer(r.op)!, byId.get(r.id)!.params);
    r.outputs!.forEach((_, port) => values.set(`${r.id}:${port}`, b.reserve(ports.length === 1 ? r.id : `${r.id}.${ports[port].name}`)));
  }
  for (const [key, t] of weights) b.addInitializer(floatTensor(key, t.shape, t.data));

  const inputs: GraphValue[] = [];
  const bufferUpdates = new Map<string, string>();
  const caches: CompiledModel['caches'] = [];
  const position = options.decode ? b.reserve('position') : '';

  for (const r of reports) {
    const node = byId.get(r.id)!;
    const spec = getLayer(r.op)!;
    const params = resolveParams(spec.params, node.params ?? {}).values;
    if (r.op === 'Input') {
      inputs.push({ name: values.get(`${r.id}:0`)!, nodeId: r.id, port: 0, type: r.outputs![0] });
      continue;
    }
    b.beginLayer(r.id, r.op, node.params ?? {});
    const fed = inference.incoming(r.id).map((c) => (c ? values.get(`${c.node}:${c.port}`)! : ''));
    const ctx = new Lowering(
      b,
      r,
      params,
      fed,
      r.outputs!.map((_, p) => values.get(`${r.id}:${p}`)!),
      options.training ?? false,
      options.truncateBptt ?? 0,
      reportOf,
      bufferUpdates,
    );
    if (options.decode) {
      const { capacity } = options.decode;
      ctx.decode = {
        position,
        capacity,
        cache: (name, type) => {
          const cache = { input: b.reserve(`cache/${r.id}/${name}`), output: b.reserve(`next/cache/${r.id}/${name}`), type };
          caches.push(cache);
          return { past: cache.input, store: (present) => void b.op('Identity', [present], {}, cache.output) };
        },
      };
    }
    try {
      spec.lower(ctx);
    } catch (e) {
      throw new CompileError(`${r.id} (${r.op}) cannot be ${options.training ? 'trained' : 'exported'}: ${(e as Error).message}`);
    }
    b.endLayer(ctx.outputs);
  }

  const outputs = sinkOutputs(inference, reports, values);
  const sinks = new Set(outputs.map((v) => v.name));
  const exposed = options.exposeLayers ? layerOutputs(reports, values).filter((v) => !sinks.has(v.name)) : [];
  const model: ModelProto = {
    ir_version: irVersionFor(opset),
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'netloom',
    producer_version: '0.1.0',
    doc_string: `${doc.name} (exported by Netloom)`,
    graph: {
      name: doc.name,
      node: b.nodes,
      initializer: b.initializers,
      input: [...inputs.map((v) => valueInfo(v.name, v.type)), ...(options.decode ? [valueInfo(position, { shape: [], dtype: 'int64' })] : []), ...caches.map((c) => valueInfo(c.input, c.type))],
      output: [...outputs.map((v) => valueInfo(v.name, v.type)), ...exposed.map((v) => valueInfo(v.name, v.type)), ...caches.map((c) => valueInfo(c.output, c.type))],
    },
  };
  return { model, layers: b.layers, weights, inputs, outputs, exposed, values, bufferUpdates, builder: b, inference, caches };
}

/** The document for inference: loss layers, and the inputs only they read (the targets), are left out. */
export function predictionModel(doc: ModelDocument): ModelDocument {
  const losses = new Set(doc.nodes.filter((n) => getLayer(n.op)?.category === 'Loss').map((n) => n.id));
  if (losses.size === 0) return doc;
  const readers = new Map<string, Set<string>>();
  for (const e of doc.edges) {
    const from = parseEdgeEnd(e.from).node;
    if (!readers.has(from)) readers.set(from, new Set());
    readers.get(from)!.add(parseEdgeEnd(e.to).node);
  }
  const targets = doc.nodes.filter((n) => n.op === 'Input' && readers.has(n.id) && [...readers.get(n.id)!].every((r) => losses.has(r))).map((n) => n.id);
  const gone = new Set([...losses, ...targets]);
  return { ...doc, nodes: doc.nodes.filter((n) => !gone.has(n.id)), edges: doc.edges.filter((e) => !gone.has(parseEdgeEnd(e.from).node) && !gone.has(parseEdgeEnd(e.to).node)) };
}

/** Every output of every layer but the inputs. */
function layerOutputs(reports: NodeReport[], values: Map<string, string>): GraphValue[] {
  return reports.filter((r) => r.op !== 'Input').flatMap((r) => r.outputs!.map((type, port) => ({ name: values.get(`${r.id}:${port}`)!, nodeId: r.id, port, type })));
}

/** Outputs of layers that nothing reads: the model's results. */
function sinkOutputs(inference: ShapeInference, reports: NodeReport[], values: Map<string, string>): GraphValue[] {
  const read = new Set(reports.flatMap((r) => inference.incoming(r.id).map((c) => c?.node)));
  return layerOutputs(
    reports.filter((r) => !read.has(r.id)),
    values,
  );
}

class Lowering extends Params implements LowerContext {
  decode?: LowerContext['decode'];
  constructor(
    readonly b: OnnxBuilder,
    private readonly report: NodeReport,
    params: Record<string, ParamValue>,
    readonly inputs: string[],
    readonly outputs: string[],
    readonly training: boolean,
    readonly truncateBptt: number,
    private readonly reports: Map<string, NodeReport>,
    private readonly bufferUpdates: Map<string, string>,
  ) {
    super(params);
  }
  get nodeId(): string {
    return this.report.id;
  }
  get inputTypes(): (TensorType | undefined)[] {
    return this.report.inputs;
  }
  get outputTypes(): TensorType[] {
    return this.report.outputs!;
  }
  updateBuffer(name: string, value: string): void {
    if (!this.report.buffers.some((p) => p.name === name)) throw new Error(`${this.report.op} has no buffer "${name}"`);
    this.bufferUpdates.set(weightKey(this.report.id, name), value);
  }

  weight(name: string): string {
    const own = [...this.report.params, ...this.report.buffers].find((p) => p.name === name);
    if (!own) throw new Error(`${this.report.op} has no parameter "${name}"`);
    if (own.tiedTo && !this.reports.has(own.tiedTo)) throw new Error(`tied weight owner "${own.tiedTo}" is missing`);
    return weightKey(own.tiedTo ?? this.report.id, name);
  }
}
