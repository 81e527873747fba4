/**
 * ONNX → Netloom graph. Nodes become catalogue layers where a layer's import pattern (declared in its
 * spec, core/layers) takes them: Conv with its weights → Conv2d, Gemm or MatMul + Add → Linear,
 * activations, pools, ...; everything else becomes an OnnxOp that keeps the node whole.
 */
import type { ModelDocument, ModelNode, ParamValue } from '../graph/types.ts';
import { moduleGroups, moduleName, modulePath, nameScopePath, OPEN_COLLAPSED_ABOVE } from '../graph/modules.ts';
import { weightKey, type WeightTensor, type Weights } from '../graph/weights.ts';
import { getLayer, LAYERS, type ImportContext, type ImportPattern } from '../layers/index.ts';
import type { OnnxInput } from '../layers/onnxop.ts';
import { attr, attrInt, attributeToJson } from '../onnx/attributes.ts';
import { inlineFunctions } from '../onnx/functions.ts';
import { floatArray } from '../onnx/import-forms.ts';
import type { Dim, DType, TensorType } from '../graph/dim.ts';
import { inferShapes } from '../shape/infer.ts';
import { DataType, OnnxFormatError, int64Values, isFloatTensor, tensorValues, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/proto.ts';

export interface ImportResult {
  doc: ModelDocument;
  weights: Weights;
}

/** The catalogue's import patterns by ONNX op type, in catalogue order: the first that takes a node wins. */
const PATTERNS = new Map<string, ImportPattern[]>();
for (const spec of LAYERS) for (const pattern of spec.imports ?? []) for (const op of pattern.onnx) PATTERNS.set(op, [...(PATTERNS.get(op) ?? []), pattern]);

/** Float inputs that hold sizes (not weights), by op: kept as constants so shapes can be computed from them. */
const SHAPE_SETTINGS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };

class Importer implements ImportContext {
  readonly nodes: ModelNode[] = [];
  /** Each layer's module path: the function calls it was inlined from, or its PyTorch module path (node name or metadata). */
  readonly modulePaths = new Map<string, string[]>();
  readonly edges: { from: string; to: string }[] = [];
  readonly weights: Weights = new Map();
  private readonly ids = new Set<string>();
  private readonly source = new Map<string, string>();
  private readonly consumers = new Map<string, NodeProto[]>();
  private readonly initializers: Map<string, TensorProto>;
  private readonly types = new Map<string, TensorType>();
  private readonly graphOutputs: Set<string>;
  private readonly skipped = new Set<NodeProto>();
  /** Values of Constant nodes: literals of the exported code (zero initial states, masks), never parameters. */
  private readonly literals = new Set<string>();
  /**
   * Float initializers read directly by several nodes: one parameter (a tied weight, or one PyTorch
   * sliced into gates or heads), stored at its first reader and tied to it in the others. PyTorch's
   * exporter writes parameters it merged only because their values were equal as Identity copies, which
   * stay parameters of their own.
   */
  private readonly shared = new Set<string>();
  private readonly sharedOwner = new Map<string, { id: string; weight: string }>();
  /** ONNX values holding integers (shape arithmetic): never turned into catalogue layers. */
  private readonly integers = new Set<string>();
  private batchSymbol: string | undefined;
  private batchedModel = true;

  constructor(
    private readonly model: ModelProto,
    readonly opset: number,
    /** The function calls each node inlined from a local function sits in (core/onnx/functions.ts). */
    private readonly calls: Map<NodeProto, string[]>,
  ) {
    const g = model.graph;
    this.initializers = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
    this.graphOutputs = new Set(g.output.map((o) => o.name));
    // Constant nodes, and Identity nodes that copy an initializer, are constants too (PyTorch emits both).
    for (const n of g.node) {
      const value = n.op_type === 'Constant' && !n.domain ? attr(n, 'value')?.t : n.op_type === 'Identity' ? this.initializers.get(n.input[0]) : undefined;
      if (value && !this.graphOutputs.has(n.output[0])) {
        this.initializers.set(n.output[0], { ...value, name: n.output[0] });
        this.skipped.add(n);
        if (n.op_type === 'Constant') this.literals.add(n.output[0]);
      }
    }
    for (const n of g.node) for (const i of n.input) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    for (const [name, t] of this.initializers) {
      const direct = (this.consumers.get(name) ?? []).filter((n) => !this.skipped.has(n));
      if (isFloatTensor(t) && !this.literals.has(name) && new Set(direct).size > 1) this.shared.add(name);
    }
    const firstInput = g.input.find((i) => !this.initializers.has(i.name));
    this.batchSymbol = firstInput?.type?.tensor_type?.shape?.dim[0]?.dim_param;
    for (const v of [...g.input, ...(g.value_info ?? []), ...g.output]) {
      const t = this.typeOf(v);
      if (t) this.types.set(v.name, t);
    }
    this.findIntegers();
  }

  /** Propagates "holds integers" through the graph, in node order (ONNX nodes are topologically sorted). */
  private findIntegers(): void {
    const g = this.model.graph;
    const int = this.integers;
    for (const v of g.input) if (v.type?.tensor_type?.elem_type !== DataType.FLOAT && v.type?.tensor_type?.elem_type !== DataType.DOUBLE) int.add(v.name);
    for (const [name, t] of this.initializers) if (!isFloatTensor(t)) int.add(name);
    const producesInts: Record<string, (n: NodeProto) => boolean> = {
      Shape: () => true,
      Size: () => true,
      ArgMax: () => true,
      ArgMin: () => true,
      NonZero: () => true,
      Equal: () => true,
      Less: () => true,
      Greater: () => true,
      LessOrEqual: () => true,
      GreaterOrEqual: () => true,
      Not: () => true,
      And: () => true,
      Or: () => true,
      Cast: (n) => ![DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16].includes(attrInt(n, 'to', DataType.FLOAT) as 1),
      Where: (n) => int.has(n.input[1]),
      ConstantOfShape: (n) => !!attr(n, 'value')?.t && !isFloatTensor(attr(n, 'value')!.t!),
      Range: (n) => int.has(n.input[0]),
    };
    for (const n of g.node) {
      const rule = producesInts[n.op_type];
      const isInt = rule ? rule(n) : n.input[0] !== undefined && int.has(n.input[0]);
      if (isInt) for (const o of n.output) int.add(o);
    }
  }

  private typeOf(v: ValueInfoProto): TensorType | undefined {
    const tt = v.type?.tensor_type;
    if (!tt?.shape) return undefined;
    const shape: Dim[] = [];
    for (const d of tt.shape.dim) {
      if (d.dim_value !== undefined) shape.push(d.dim_value);
      else if (d.dim_param) shape.push(d.dim_param === this.batchSymbol ? 'N' : d.dim_param.replace(/[^\w]/g, '_'));
      else return undefined;
    }
    const dtype: DType = tt.elem_type === DataType.FLOAT || tt.elem_type === DataType.DOUBLE ? 'float32' : 'int64';
    return { shape, dtype };
  }

  id(base: string | undefined, fallback: string): string {
    let id = (base ?? '')
      .replace(/[^\w.-]+/g, '_')
      .replace(/^[^A-Za-z]+/, '')
      .replace(/_+$/, '');
    if (!id) id = fallback;
    let unique = id;
    for (let k = 2; this.ids.has(unique); k++) unique = `${id}_${k}`;
    this.ids.add(unique);
    return unique;
  }

  constant(name: string): TensorProto | undefined {
    return this.initializers.get(name);
  }

  isInteger(name: string): boolean {
    return this.integers.has(name);
  }

  isValue(name: string): boolean {
    return !!name && !this.constant(name) && !this.integers.has(name);
  }

  type(name: string): TensorType | undefined {
    return this.types.get(name);
  }

  readers(name: string): readonly NodeProto[] {
    return this.consumers.get(name) ?? [];
  }

  isGraphOutput(name: string): boolean {
    return this.graphOutputs.has(name);
  }

  weight(id: string, name: string): WeightTensor | undefined {
    return this.weights.get(weightKey(id, name));
  }

  skip(node: NodeProto): void {
    this.skipped.add(node);
  }

  /** Adds a node fed by the given ONNX values; its outputs become those ONNX values. */
  add(op: string, params: Record<string, ParamValue>, inputs: string[], outputs: string[], onnxNode: NodeProto | null): string {
    const exposed = outputs.find((o) => this.graphOutputs.has(o) && !this.consumers.has(o));
    const id = this.id(exposed ?? onnxNode?.name ?? '', `${op.toLowerCase()}${this.nodes.length + 1}`);
    const path = onnxNode ? this.pathOf(onnxNode) : [];
    this.nodes.push(path.length > 0 ? { id, op, params, module: moduleName(path) } : { id, op, params });
    if (path.length > 0) this.modulePaths.set(id, path);
    // A layer with several named inputs (a loss: input, target) takes the ONNX inputs on its ports, in order.
    const ports = getLayer(op)?.inputs ?? [];
    const byPort = ports.length > 1 && !ports[0].variadic;
    inputs.forEach((value, i) => {
      const from = this.source.get(value);
      if (!from) throw new OnnxFormatError(`node "${onnxNode?.name ?? id}" reads "${value}", which no node, input or initializer produces`);
      this.edges.push({ from, to: byPort ? `${id}:${ports[i].name}` : id });
    });
    outputs.forEach((o, port) => o && this.source.set(o, port === 0 ? id : `${id}:${port}`));
    return id;
  }

  /** Where a node sits: in the function calls it came from, else in the module its name or (when its name has none) its metadata gives. */
  private pathOf(n: NodeProto): string[] {
    const called = this.calls.get(n);
    if (called) return called;
    const named = modulePath(n.name ?? '');
    if (named.length > 0) return named;
    const scopes = n.metadata_props?.find((p) => p.key === 'pkg.torch.onnx.name_scopes')?.value;
    return scopes ? nameScopePath(scopes) : [];
  }

  addInput(v: ValueInfoProto, batched: boolean): void {
    const t = this.typeOf(v);
    if (!t || (batched && t.shape.length === 0)) throw new OnnxFormatError(`input "${v.name}" has no known shape`);
    if (t.shape.includes(0)) throw new OnnxFormatError(`input "${v.name}" has an empty dimension (size 0), which Netloom's Input cannot hold`);
    const elem = v.type!.tensor_type!.elem_type;
    if (elem !== DataType.FLOAT && elem !== DataType.INT64) throw new OnnxFormatError(`input "${v.name}" has element type ${elem}; Netloom reads float32 and int64 inputs`);
    const id = this.id(v.name, 'input');
    const params: Record<string, ParamValue> = { shape: batched ? t.shape.slice(1) : t.shape };
    if (t.dtype === 'int64') params.dtype = 'int64';
    if (!batched) params.batch = false;
    this.nodes.push({ id, op: 'Input', params });
    this.source.set(v.name, id);
  }

  /**
   * Whether the inputs' first dimension is a variable batch: symbolic in every input. A model exported
   * with a fixed batch size keeps its exact shapes (its Reshape constants carry that size, so it could
   * not take another batch anyway).
   */
  private batched(inputs: ValueInfoProto[]): boolean {
    const firsts = inputs.map((v) => v.type?.tensor_type?.shape?.dim ?? []);
    return firsts.length > 0 && firsts.every((dims) => dims[0]?.dim_param);
  }

  /** Whether an ONNX value carries the batch dimension first, as far as the file says. */
  hasBatch(name: string): boolean {
    const first = this.types.get(name)?.shape[0];
    return first === undefined ? this.batchedModel : first === 'N' || (this.batchedModel && typeof first === 'number');
  }

  setWeight(id: string, name: string, shape: number[], data: Float32Array): void {
    this.weights.set(weightKey(id, name), { shape, data });
  }

  /** Tries the catalogue's import patterns for the node's op type; false when the node must stay an OnnxOp. */
  recognise(n: NodeProto): boolean {
    if (n.domain && n.domain !== 'ai.onnx') return false;
    return (PATTERNS.get(n.op_type) ?? []).some((pattern) => pattern.take(n, this));
  }

  /** Keeps the node as it is. */
  generic(n: NodeProto): void {
    const onnxInputs: OnnxInput[] = [];
    const edges: string[] = [];
    const pendingWeights: [string, TensorProto][] = [];
    const owned = new Set<string>();
    n.input.forEach((name, slot) => {
      const c = name ? this.constant(name) : undefined;
      if (!name) onnxInputs.push(null);
      else if (!c) {
        onnxInputs.push('edge');
        edges.push(name);
      } else if (isFloatTensor(c) && SHAPE_SETTINGS[n.op_type]?.includes(slot)) {
        // Resize's scales are shape arithmetic, not weights: kept as values the shape rules can read.
        onnxInputs.push({ constant: [...floatArray(c)], shape: c.dims ?? [], dtype: 'float32' });
      } else if (isFloatTensor(c)) {
        const owner = this.sharedOwner.get(name);
        const ownNames = n.input.map((_, k) => `in${k}`);
        if (owner && (!ownNames.includes(owner.weight) || n.input[ownNames.indexOf(owner.weight)] === name)) {
          onnxInputs.push({ weight: owner.weight, shape: c.dims ?? [], tiedTo: owner.id });
          return;
        }
        onnxInputs.push(this.literals.has(name) ? { weight: `in${slot}`, shape: c.dims ?? [], fixed: true } : { weight: `in${slot}`, shape: c.dims ?? [] });
        if (!owned.has(name)) pendingWeights.push([`in${slot}`, c]);
        owned.add(name);
      } else {
        const dtype = ({ [DataType.INT64]: 'int64', [DataType.INT32]: 'int32', [DataType.BOOL]: 'bool', [DataType.UINT8]: 'uint8', [DataType.INT8]: 'int8' } as const)[c.data_type as 7];
        if (!dtype) throw new OnnxFormatError(`node "${n.name}" has a constant input "${name}" of data type ${c.data_type}, which Netloom cannot keep`);
        onnxInputs.push({ constant: dtype === 'int64' ? int64Values(c) : (tensorValues(c) as number[]), shape: c.dims ?? [], dtype });
      }
    });
    const outputs = n.output.map((o) => this.types.get(o));
    const params: Record<string, ParamValue> = {
      opType: n.op_type,
      attributes: Object.fromEntries((n.attribute ?? []).map((a) => [a.name, attributeToJson(a) as unknown as ParamValue])),
      onnxInputs: onnxInputs as unknown as ParamValue,
      outputCount: n.output.length,
      outputTypes: outputs.every(Boolean) ? (outputs as unknown as ParamValue) : null,
    };
    if (n.domain) params.domain = n.domain;
    if (this.opset !== 17) params.opset = this.opset;
    const id = this.add('OnnxOp', params, edges, n.output, n);
    for (const [name, t] of pendingWeights) {
      this.setWeight(id, name, t.dims ?? [], floatArray(t));
      if (this.shared.has(t.name!) && !this.sharedOwner.has(t.name!)) this.sharedOwner.set(t.name!, { id, weight: name });
    }
  }

  run(): void {
    const g = this.model.graph;
    const inputs = g.input.filter((v) => !this.initializers.has(v.name));
    this.batchedModel = this.batched(inputs);
    for (const input of inputs) this.addInput(input, this.batchedModel);
    for (const n of g.node) {
      if (this.skipped.has(n)) continue;
      // A node reading a shared weight stays an OnnxOp, whose weights can be tied.
      if (n.input.some((i) => this.shared.has(i)) || !this.recognise(n)) this.generic(n);
    }
    // Graph outputs that other nodes also read (or that are inputs) get an Identity, so they stay outputs.
    for (const o of g.output) {
      if (!this.consumers.has(o.name) && !this.nodes.some((n) => n.op === 'Input' && this.source.get(o.name) === n.id)) continue;
      this.add('Identity', {}, [o.name], [''], { input: [], output: [], op_type: 'Identity', name: o.name });
    }
  }
}

/** Nodes imported optimistically whose input rank says otherwise are corrected here. */
function fixByRank(doc: ModelDocument): void {
  const inference = inferShapes(doc);
  for (const node of doc.nodes) {
    const rank = inference.node(node.id)?.inputs[0]?.shape.length;
    if (node.op === 'BatchNorm2d' && (rank === 2 || rank === 3)) node.op = 'BatchNorm1d';
  }
}

export function importOnnx(file: ModelProto, name?: string): ImportResult {
  const { model, calls } = inlineFunctions(file);
  const opset = model.opset_import.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 1;
  const importer = new Importer(model, opset, calls);
  importer.run();
  const doc: ModelDocument = { format: 'netloom.model', version: 1, name: name ?? (model.graph.name || 'imported model'), nodes: importer.nodes, edges: importer.edges };
  fixByRank(doc);
  // Only the layers that survived the import's pattern matching.
  const paths = new Map(doc.nodes.flatMap((n) => (importer.modulePaths.has(n.id) ? [[n.id, importer.modulePaths.get(n.id)!] as const] : [])));
  const groups = moduleGroups(paths, doc.nodes.length > OPEN_COLLAPSED_ABOVE);
  if (groups.length > 0) doc.groups = groups;
  return { doc, weights: importer.weights };
}
