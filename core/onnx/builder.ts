/**
 * Builds an ONNX graph: unique value names, initializers, constants, attributes, and the map from each
 * layer to the ONNX nodes and values it produced (step-through debugging and training use it).
 */
import type { TensorType } from '../graph/dim.ts';
import { AttrType, DataType, int64Big, type AttributeProto, type Int64, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';

export type AttrValue = number | string | number[] | string[] | { float: number } | { floats: number[] } | TensorProto | GraphProto;

export interface LayerRecord {
  /** The layer's op, as in the model document. */
  op: string;
  nodes: string[];
  values: string[];
  outputs: string[];
}

export const SUPPORTED_OPSETS = [17, 18, 19, 20, 21] as const;
export const DEFAULT_OPSET = 17;
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };
export const irVersionFor = (opset: number): number => IR_VERSION[opset];

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'number') return Number.isInteger(value) ? { name, type: AttrType.INT, i: value } : { name, type: AttrType.FLOAT, f: value };
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) return { name, type: AttrType.INTS, ints: value as number[] };
    return { name, type: AttrType.STRINGS, strings: (value as string[]).map((v) => new TextEncoder().encode(v)) };
  }
  if ('float' in value) return { name, type: AttrType.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: AttrType.FLOATS, floats: value.floats };
  if ('node' in value) return { name, type: AttrType.GRAPH, g: value };
  return { name, type: AttrType.TENSOR, t: value as TensorProto };
}

export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return { name, dims, data_type: DataType.FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function int64Tensor(name: string, dims: number[], values: Int64[]): TensorProto {
  const data = new BigInt64Array(values.map(int64Big));
  return { name, dims, data_type: DataType.INT64, raw_data: new Uint8Array(data.buffer) };
}

export class OnnxBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly layers = new Map<string, LayerRecord>();
  private readonly taken = new Set<string>();
  /** Node names are a namespace of their own in ONNX: a layer's node and its output share the layer id. */
  private readonly nodeNames = new Set<string>();
  private readonly constants = new Map<string, string>();
  private layer: { id: string; doc: string; record: LayerRecord; count: number } | null = null;

  constructor(readonly opset: number) {}

  /** A value name not used yet, based on `base`. */
  fresh(base: string): string {
    let name = base;
    for (let k = 1; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  private freshNodeName(base: string): string {
    let name = base;
    for (let k = 1; this.nodeNames.has(name); k++) name = `${base}_${k}`;
    this.nodeNames.add(name);
    return name;
  }

  reserve(name: string): string {
    if (this.taken.has(name)) throw new Error(`ONNX value name "${name}" is used twice`);
    this.taken.add(name);
    return name;
  }

  /** Everything built until `endLayer` belongs to this layer: names, doc_string, the layer map. */
  beginLayer(id: string, op: string, params: Record<string, unknown>): void {
    const record: LayerRecord = { op, nodes: [], values: [], outputs: [] };
    this.layers.set(id, record);
    this.layer = { id, doc: `netloom ${op} ${JSON.stringify(params)}`, record, count: 0 };
  }

  endLayer(outputs: string[]): void {
    if (this.layer) this.layer.record.outputs = outputs;
    this.layer = null;
  }

  /**
   * Adds a node and returns its output names. `out` gives names (e.g. the layer's official outputs)
   * or a count of outputs to name automatically.
   */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, out: string[] | number = 1): string[] {
    const scope = this.layer;
    const base = scope ? `${scope.id}/${opType}` : opType;
    const outputs = typeof out === 'number' ? Array.from({ length: out }, () => this.fresh(base)) : out.map((n) => (this.taken.has(n) ? n : this.reserve(n)));
    const name = this.freshNodeName(scope ? (scope.count++ === 0 ? scope.id : `${scope.id}/${opType}`) : opType);
    const attributes = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => attribute(k, v));
    const node: NodeProto = { input: inputs, output: outputs, name, op_type: opType, attribute: attributes };
    if (scope) {
      node.doc_string = scope.doc;
      scope.record.nodes.push(name);
      scope.record.values.push(...outputs);
    }
    this.nodes.push(node);
    return outputs;
  }

  /**
   * Gives an existing value a new name everywhere (its producer and its readers), so that a graph output
   * can carry a chosen name without an Identity copy.
   */
  rename(from: string, to: string): string {
    this.reserve(to);
    for (const n of this.nodes) {
      n.output = n.output.map((o) => (o === from ? to : o));
      n.input = n.input.map((i) => (i === from ? to : i));
    }
    return to;
  }

  /** Shorthand for single-output nodes. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue | undefined> = {}, out?: string): string {
    return this.node(opType, inputs, attrs, out === undefined ? 1 : [out])[0];
  }

  addInitializer(tensor: TensorProto): string {
    this.reserve(tensor.name!);
    this.initializers.push(tensor);
    return tensor.name!;
  }

  /** An initializer under a fresh name derived from `base`. */
  addConstant(base: string, tensor: Omit<TensorProto, 'name'>): string {
    const name = this.fresh(base);
    this.initializers.push({ ...tensor, name });
    return name;
  }

  /** Values that pass no gradient back (truncated backpropagation through time). */
  readonly detached = new Set<string>();

  /** A copy of `value` that the backward pass treats as a constant. */
  detach(value: string): string {
    const copy = this.op('Identity', [value]);
    this.detached.add(copy);
    return copy;
  }

  /** A shared int64 constant (shapes, axes, indices). */
  ints(values: number[], scalar = false): string {
    const key = `i${scalar ? 's' : ''}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh(`const_i64_${values.join('_').replace(/-/g, 'm').slice(0, 40)}`);
      this.initializers.push(int64Tensor(name, scalar ? [] : [values.length], values));
      this.constants.set(key, name);
    }
    return name;
  }

  /** A shared float constant; a scalar unless dims are given. */
  floats(values: number[], dims: number[] = []): string {
    const key = `f:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.fresh(`const_f32_${values.length === 1 ? String(values[0]).replace(/[^\w]/g, '_') : values.length}`);
      this.initializers.push(floatTensor(name, dims, new Float32Array(values)));
      this.constants.set(key, name);
    }
    return name;
  }

  /** The shared boolean scalar `true` (Dropout's training_mode). */
  trueScalar(): string {
    let name = this.constants.get('b:1');
    if (!name) {
      name = this.addConstant('const_true', { dims: [], data_type: DataType.BOOL, raw_data: new Uint8Array([1]) });
      this.constants.set('b:1', name);
    }
    return name;
  }

  /** ReduceMean/ReduceMax/...: `axes` moved from attribute to input in opset 18 (ReduceSum in 13). */
  reduce(opType: 'ReduceMean' | 'ReduceMax' | 'ReduceSum' | 'ReduceSumSquare', x: string, axes: number[], keepdims: boolean, out?: string): string {
    const asInput = opType === 'ReduceSum' || this.opset >= 18;
    return asInput ? this.op(opType, [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 }, out) : this.op(opType, [x], { axes, keepdims: keepdims ? 1 : 0 }, out);
  }

  unsqueeze(x: string, axes: number[]): string {
    return this.op('Unsqueeze', [x, this.ints(axes)]);
  }

  squeeze(x: string, axes: number[]): string {
    return this.op('Squeeze', [x, this.ints(axes)]);
  }

  reshape(x: string, shape: number[], out?: string): string {
    return this.op('Reshape', [x, this.ints(shape)], {}, out);
  }

  /** Slice along one axis, [start, end). */
  slice(x: string, axis: number, start: number, end: number): string {
    return this.op('Slice', [x, this.ints([start]), this.ints([end]), this.ints([axis])]);
  }
}

const ELEM_TYPE = { float32: DataType.FLOAT, int64: DataType.INT64 } as const;

export function valueInfo(name: string, type: TensorType): ValueInfoProto {
  return {
    name,
    type: { tensor_type: { elem_type: ELEM_TYPE[type.dtype], shape: { dim: type.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}
