/**
 * ONNX → Netloom graph. Nodes become catalogue layers where the pattern is unambiguous (Conv with its
 * weights → Conv2d, Gemm or MatMul + Add → Linear, BatchNormalization → BatchNorm2d, activations, pools,
 * Flatten, Reshape, Add, Concat, ...); everything else becomes an OnnxOp that keeps the node whole.
 */
import type { ModelDocument, ModelNode, ParamValue } from '../graph/types.ts';
import { moduleGroups, moduleName, modulePath, OPEN_COLLAPSED_ABOVE } from '../graph/modules.ts';
import { weightKey, type Weights } from '../graph/weights.ts';
import { getLayer } from '../layers/index.ts';
import type { OnnxInput } from '../layers/onnxop.ts';
import { attr, attrFloat, attrInt, attrInts, attrString, attributeToJson } from '../onnx/attributes.ts';
import type { Dim, DType, TensorType } from '../graph/dim.ts';
import { inferShapes } from '../shape/infer.ts';
import { DataType, OnnxFormatError, int64Values, isFloatTensor, tensorValues, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/proto.ts';

export interface ImportResult {
  doc: ModelDocument;
  weights: Weights;
}


/** Symmetric pads [b1, b2, ..., e1, e2, ...] as one number per axis, or null when they differ. */
function symmetricPads(pads: number[] | undefined, rank: number): number[] | null {
  if (!pads) return new Array(rank).fill(0);
  const begin = pads.slice(0, rank);
  return begin.every((p, i) => p === pads[rank + i]) ? begin : null;
}

/** A single number when all entries agree (PyTorch's int form), else the list. */
const compact = (values: number[]): number | number[] => (values.every((v) => v === values[0]) ? values[0] : values);

const floatArray = (t: TensorProto): Float32Array => tensorValues(t) as Float32Array;

function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/** Float inputs that hold sizes (not weights), by op: kept as constants so shapes can be computed from them. */
const SHAPE_SETTINGS: Record<string, number[]> = { Resize: [1, 2], Upsample: [1] };

class Importer {
  readonly nodes: ModelNode[] = [];
  /** Each layer's PyTorch module path, read from its ONNX node's name. */
  readonly modulePaths = new Map<string, string[]>();
  readonly edges: { from: string; to: string }[] = [];
  readonly weights: Weights = new Map();
  private readonly ids = new Set<string>();
  private readonly source = new Map<string, string>();
  private readonly consumers = new Map<string, NodeProto[]>();
  private readonly initializers: Map<string, TensorProto>;
  private readonly types = new Map<string, TensorType>();
  private readonly graphOutputs: Set<string>;
  private readonly skip = new Set<NodeProto>();
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
    private readonly opset: number,
  ) {
    const g = model.graph;
    this.initializers = new Map((g.initializer ?? []).map((t) => [t.name!, t]));
    this.graphOutputs = new Set(g.output.map((o) => o.name));
    // Constant nodes, and Identity nodes that copy an initializer, are constants too (PyTorch emits both).
    for (const n of g.node) {
      const value = n.op_type === 'Constant' && !n.domain ? attr(n, 'value')?.t : n.op_type === 'Identity' ? this.initializers.get(n.input[0]) : undefined;
      if (value && !this.graphOutputs.has(n.output[0])) {
        this.initializers.set(n.output[0], { ...value, name: n.output[0] });
        this.skip.add(n);
        if (n.op_type === 'Constant') this.literals.add(n.output[0]);
      }
    }
    for (const n of g.node) for (const i of n.input) if (i) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
    for (const [name, t] of this.initializers) {
      const direct = (this.consumers.get(name) ?? []).filter((n) => !this.skip.has(n));
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
    let id = (base ?? '').replace(/[^\w.-]+/g, '_').replace(/^[^A-Za-z]+/, '').replace(/_+$/, '');
    if (!id) id = fallback;
    let unique = id;
    for (let k = 2; this.ids.has(unique); k++) unique = `${id}_${k}`;
    this.ids.add(unique);
    return unique;
  }

  const(name: string): TensorProto | undefined {
    return this.initializers.get(name);
  }

  /** Adds a node fed by the given ONNX values; its outputs become those ONNX values. */
  add(op: string, params: Record<string, ParamValue>, inputs: string[], outputs: string[], onnxNode: NodeProto | null): string {
    const exposed = outputs.find((o) => this.graphOutputs.has(o) && !this.consumers.has(o));
    const id = this.id(exposed ?? onnxNode?.name ?? '', `${op.toLowerCase()}${this.nodes.length + 1}`);
    const path = modulePath(onnxNode?.name ?? '');
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
  private hasBatch(name: string): boolean {
    const first = this.types.get(name)?.shape[0];
    return first === undefined ? this.batchedModel : first === 'N' || (this.batchedModel && typeof first === 'number');
  }

  setWeight(id: string, name: string, shape: number[], data: Float32Array): void {
    this.weights.set(weightKey(id, name), { shape, data });
  }

  /** Tries the catalogue patterns; returns false when the node must stay an OnnxOp. */
  recognise(n: NodeProto): boolean {
    const [x] = n.input;
    const isValue = (name: string) => !!name && !this.const(name) && !this.integers.has(name);
    const single = n.output.filter(Boolean).length === 1;
    const activation: Record<string, [string, (n: NodeProto) => Record<string, ParamValue>]> = {
      Relu: ['ReLU', () => ({})],
      Sigmoid: ['Sigmoid', () => ({})],
      Tanh: ['Tanh', () => ({})],
      LeakyRelu: ['LeakyReLU', (m) => ({ negativeSlope: attrFloat(m, 'alpha', 0.01) })],
      Elu: ['ELU', (m) => ({ alpha: attrFloat(m, 'alpha', 1) })],
      Identity: ['Identity', () => ({})],
    };
    if (n.domain && n.domain !== 'ai.onnx') return false;
    if (activation[n.op_type] && isValue(x)) {
      const [op, params] = activation[n.op_type];
      this.add(op, params(n), [x], n.output, n);
      return true;
    }
    switch (n.op_type) {
      case 'Softmax':
      case 'LogSoftmax':
        if (this.opset < 13 || !isValue(x)) return false;
        this.add(n.op_type, { dim: attrInt(n, 'axis', -1) }, [x], n.output, n);
        return true;
      case 'Gelu':
        if (!isValue(x)) return false;
        this.add('GELU', { approximate: attrString(n, 'approximate') === 'tanh' ? 'tanh' : 'none' }, [x], n.output, n);
        return true;
      case 'Conv':
        return this.conv(n);
      case 'ConvTranspose':
        return this.convTranspose(n);
      case 'Gemm':
        return this.gemm(n);
      case 'MatMul':
        return this.matmul(n);
      case 'BatchNormalization': {
        const [, s, b, m, v] = n.input.map((i) => this.const(i));
        if (!single || !isValue(x) || !s || !b || !m || !v || attrInt(n, 'training_mode', 0) !== 0) return false;
        const id = this.add('BatchNorm2d', { eps: attrFloat(n, 'epsilon', 1e-5), momentum: Math.round((1 - attrFloat(n, 'momentum', 0.9)) * 1e6) / 1e6 }, [x], n.output, n);
        const C = s.dims![0];
        this.setWeight(id, 'weight', [C], floatArray(s));
        this.setWeight(id, 'bias', [C], floatArray(b));
        this.setWeight(id, 'running_mean', [C], floatArray(m));
        this.setWeight(id, 'running_var', [C], floatArray(v));
        return true;
      }
      case 'LayerNormalization': {
        const s = this.const(n.input[1]);
        const b = n.input[2] ? this.const(n.input[2]) : undefined;
        // The catalogue's LayerNorm normalises trailing dimensions of each sample, never across the batch.
        const rank = this.types.get(x)?.shape.length;
        if (!single || !isValue(x) || !s || (n.input[2] && !b) || attrInt(n, 'axis', -1) !== -s.dims!.length || (rank !== undefined && rank <= s.dims!.length)) return false;
        const shape = s.dims!;
        const id = this.add('LayerNorm', { normalizedShape: shape, eps: attrFloat(n, 'epsilon', 1e-5), bias: !!b }, [x], n.output, n);
        this.setWeight(id, 'weight', shape, floatArray(s));
        if (b) this.setWeight(id, 'bias', shape, floatArray(b));
        return true;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const k = attrInts(n, 'kernel_shape');
        const pads = symmetricPads(attrInts(n, 'pads'), 2);
        const autoPad = attrString(n, 'auto_pad');
        // PyTorch (and so the catalogue) pads at most half a window.
        if (!single || !isValue(x) || k?.length !== 2 || !pads || pads.some((p, i) => p > k[i] / 2) || (autoPad && autoPad !== 'NOTSET') || attrInt(n, 'storage_order', 0) !== 0) return false;
        const params: Record<string, ParamValue> = { kernelSize: compact(k), stride: compact(attrInts(n, 'strides') ?? [1, 1]), padding: compact(pads), ceilMode: attrInt(n, 'ceil_mode', 0) === 1 };
        if (n.op_type === 'MaxPool') params.dilation = compact(attrInts(n, 'dilations') ?? [1, 1]);
        else params.countIncludePad = attrInt(n, 'count_include_pad', 0) === 1;
        this.add(n.op_type === 'MaxPool' ? 'MaxPool2d' : 'AvgPool2d', params, [x], n.output, n);
        return true;
      }
      case 'GlobalAveragePool':
        if (!isValue(x)) return false;
        this.add('AdaptiveAvgPool2d', { outputSize: 1 }, [x], n.output, n);
        return true;
      case 'Flatten':
        if (!isValue(x) || attrInt(n, 'axis', 1) !== 1) return false;
        this.add('Flatten', {}, [x], n.output, n);
        return true;
      case 'Reshape': {
        const shape = this.const(n.input[1]);
        if (!isValue(x) || !shape || !this.hasBatch(x) || attrInt(n, 'allowzero', 0) !== 0) return false;
        const target = tensorValues(shape) as number[];
        const rest = target.slice(1);
        // The catalogue's Reshape keeps the batch: fine for a leading 0, and for a leading -1 when the
        // rest holds exactly one sample.
        const sample = this.types.get(x)?.shape.slice(1);
        const oneSample = sample?.every((d) => typeof d === 'number') && (sample as number[]).reduce((p, d) => p * d, 1) === rest.reduce((p, d) => p * d, 1);
        if (target.length < 2 || !(target[0] === 0 || (target[0] === -1 && oneSample)) || rest.some((d) => d === 0) || rest.filter((d) => d === -1).length > (target[0] === -1 ? 0 : 1)) return false;
        this.add('Reshape', { shape: rest }, [x], n.output, n);
        return true;
      }
      case 'SoftmaxCrossEntropyLoss': {
        // The catalogue's cross-entropy on class indices: no class weights, and no log-probability output read.
        const [scores, labels] = n.input;
        if (n.input.length !== 2 || !isValue(scores) || !labels || this.const(labels) || this.types.get(labels)?.dtype !== 'int64' || (n.output[1] ?? '') !== '') return false;
        const reduction = attrString(n, 'reduction') || 'mean';
        this.add('CrossEntropyLoss', { reduction, ignoreIndex: attrInt(n, 'ignore_index', -100) }, n.input, n.output.slice(0, 1), n);
        return true;
      }
      case 'Add':
      case 'Mul':
        if (n.input.length < 2 || !n.input.every(isValue)) return false;
        this.add(n.op_type, {}, n.input, n.output, n);
        return true;
      case 'Concat': {
        // The catalogue's Concat never joins along the batch (dim 0).
        const axis = attrInt(n, 'axis', 1);
        const rank = this.types.get(x)?.shape.length;
        const along = axis < 0 && rank !== undefined ? axis + rank : axis;
        if (n.input.length < 2 || !n.input.every(isValue) || along < 1 || (axis < 0 && rank === undefined)) return false;
        this.add('Concat', { dim: axis }, n.input, n.output, n);
        return true;
      }
      case 'Dropout': {
        if (!isValue(x) || n.output.slice(1).some((o) => o && this.consumers.has(o))) return false;
        const ratio = n.input[1] ? this.const(n.input[1]) : undefined;
        if (n.input[1] && !ratio) return false;
        const p = ratio ? (tensorValues(ratio) as Float32Array)[0] : attrFloat(n, 'ratio', 0.5);
        this.add('Dropout', { p: Math.round(p * 1e6) / 1e6 }, [x], n.output.slice(0, 1), n);
        return true;
      }
      case 'Gather': {
        // A row lookup in a float table by integer ids: nn.Embedding.
        const table = this.const(x);
        const ids = n.input[1];
        if (!table || !isFloatTensor(table) || table.dims?.length !== 2 || attrInt(n, 'axis', 0) !== 0 || !ids || this.const(ids) || !this.integers.has(ids)) return false;
        const [V, D] = table.dims;
        const id = this.add('Embedding', { numEmbeddings: V, embeddingDim: D }, [ids], n.output, n);
        this.setWeight(id, 'weight', [V, D], floatArray(table));
        return true;
      }
      case 'LRN':
        if (!isValue(x)) return false;
        this.add('LocalResponseNorm', { size: attrInt(n, 'size', 5), alpha: attrFloat(n, 'alpha', 1e-4), beta: attrFloat(n, 'beta', 0.75), k: attrFloat(n, 'bias', 1) }, [x], n.output, n);
        return true;
      default:
        return false;
    }
  }

  private conv(n: NodeProto): boolean {
    const [x, wName, bName] = n.input;
    const w = this.const(wName);
    const b = bName ? this.const(bName) : undefined;
    if (!w || !isFloatTensor(w) || (bName && !b) || this.const(x) || this.integers.has(x)) return false;
    const rank = w.dims!.length - 2;
    const autoPad = attrString(n, 'auto_pad');
    const pads = symmetricPads(attrInts(n, 'pads'), rank);
    if ((rank !== 1 && rank !== 2) || !pads || (autoPad && autoPad !== 'NOTSET')) return false;
    const groups = attrInt(n, 'group', 1);
    const ones = new Array(rank).fill(1);
    const id = this.add(
      `Conv${rank}d`,
      { outChannels: w.dims![0], kernelSize: compact(w.dims!.slice(2)), stride: compact(attrInts(n, 'strides') ?? ones), padding: compact(pads), dilation: compact(attrInts(n, 'dilations') ?? ones), groups, bias: !!b },
      [x],
      n.output,
      n,
    );
    this.setWeight(id, 'weight', w.dims!, floatArray(w));
    if (b) this.setWeight(id, 'bias', b.dims!, floatArray(b));
    return true;
  }

  private convTranspose(n: NodeProto): boolean {
    const [x, wName, bName] = n.input;
    const w = this.const(wName);
    const b = bName ? this.const(bName) : undefined;
    const pads = symmetricPads(attrInts(n, 'pads'), 2);
    const autoPad = attrString(n, 'auto_pad');
    if (!w || w.dims!.length !== 4 || (bName && !b) || this.const(x) || !pads || attr(n, 'output_shape') || (autoPad && autoPad !== 'NOTSET')) return false;
    const groups = attrInt(n, 'group', 1);
    const id = this.add(
      'ConvTranspose2d',
      { outChannels: w.dims![1] * groups, kernelSize: compact(w.dims!.slice(2)), stride: compact(attrInts(n, 'strides') ?? [1, 1]), padding: compact(pads), outputPadding: compact(attrInts(n, 'output_padding') ?? [0, 0]), dilation: compact(attrInts(n, 'dilations') ?? [1, 1]), groups, bias: !!b },
      [x],
      n.output,
      n,
    );
    this.setWeight(id, 'weight', w.dims!, floatArray(w));
    if (b) this.setWeight(id, 'bias', b.dims!, floatArray(b));
    return true;
  }

  private linear(n: NodeProto, x: string, weight: Float32Array, out: number, inF: number, bias: TensorProto | undefined, outputs: string[]): void {
    const owner = this.tiedOwner(weight, [out, inF]);
    const id = this.add('Linear', owner ? { outFeatures: out, bias: !!bias, tiedTo: owner } : { outFeatures: out, bias: !!bias }, [x], outputs, n);
    if (!owner) this.setWeight(id, 'weight', [out, inF], weight);
    if (bias) this.setWeight(id, 'bias', [out], floatArray(bias));
  }

  /**
   * An earlier Embedding whose table this Linear's weight equals exactly: PyTorch's output head tied to
   * the token embedding, which constant folding wrote as a transposed copy. Only embeddings: equal
   * Linear weights are parameters PyTorch keeps apart (deep-copied layers), and constant tensors (such as
   * zero-initialised heads) are never taken for ties.
   */
  private tiedOwner(weight: Float32Array, shape: number[]): string | undefined {
    if (weight.every((v) => v === weight[0])) return undefined;
    return this.nodes.find((node) => {
      if (node.op !== 'Embedding') return false;
      const other = this.weights.get(weightKey(node.id, 'weight'));
      return !!other && other.shape.join() === shape.join() && other.data.every((v, i) => v === weight[i]);
    })?.id;
  }

  private gemm(n: NodeProto): boolean {
    const [x, bName, cName] = n.input;
    const w = this.const(bName);
    const c = cName ? this.const(cName) : undefined;
    if (!w || w.dims!.length !== 2 || this.const(x) || (cName && !c) || attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || (c && attrFloat(n, 'beta', 1) !== 1)) return false;
    const transB = attrInt(n, 'transB', 0) === 1;
    const [out, inF] = transB ? w.dims! : [w.dims![1], w.dims![0]];
    if (c && (tensorValues(c).length !== out || c.dims!.some((d, i) => d !== 1 && i !== c.dims!.length - 1))) return false;
    this.linear(n, x, transB ? floatArray(w) : transpose2d(floatArray(w), inF, out), out, inF, c, n.output);
    return true;
  }

  private matmul(n: NodeProto): boolean {
    const [x, wName] = n.input;
    const w = this.const(wName);
    if (!w || !isFloatTensor(w) || w.dims!.length !== 2 || this.const(x)) return false;
    const [inF, out] = w.dims!;
    // MatMul followed by Add of a bias vector, with nothing else reading the product, is one Linear.
    const readers = this.consumers.get(n.output[0]) ?? [];
    const add = readers.length === 1 && readers[0].op_type === 'Add' && !this.graphOutputs.has(n.output[0]) ? readers[0] : undefined;
    const biasName = add?.input.find((i) => i !== n.output[0]);
    const bias = biasName ? this.const(biasName) : undefined;
    const fuse = !!bias && bias.dims!.length === 1 && bias.dims![0] === out;
    if (fuse) this.skip.add(add!);
    this.linear(n, x, transpose2d(floatArray(w), inF, out), out, inF, fuse ? bias : undefined, fuse ? add!.output : n.output);
    return true;
  }

  /** Keeps the node as it is. */
  generic(n: NodeProto): void {
    const onnxInputs: OnnxInput[] = [];
    const edges: string[] = [];
    const pendingWeights: [string, TensorProto][] = [];
    const owned = new Set<string>();
    n.input.forEach((name, slot) => {
      const c = name ? this.const(name) : undefined;
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
      if (this.skip.has(n)) continue;
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

export function importOnnx(model: ModelProto, name?: string): ImportResult {
  const opset = model.opset_import.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 1;
  const importer = new Importer(model, opset);
  importer.run();
  const doc: ModelDocument = { format: 'netloom.model', version: 1, name: name ?? (model.graph.name || 'imported model'), nodes: importer.nodes, edges: importer.edges };
  fixByRank(doc);
  // Only the layers that survived the import's pattern matching.
  const paths = new Map(doc.nodes.flatMap((n) => (importer.modulePaths.has(n.id) ? [[n.id, importer.modulePaths.get(n.id)!] as const] : [])));
  const groups = moduleGroups(paths, doc.nodes.length > OPEN_COLLAPSED_ABOVE);
  if (groups.length > 0) doc.groups = groups;
  return { doc, weights: importer.weights };
}
