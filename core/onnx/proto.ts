/**
 * ONNX protobuf I/O through protobufjs and ONNX's own schema. Large tensors are never copied on
 * encode: the model comes out as a list of chunks in which raw weight bytes are views of the
 * caller's buffers, so a 500 MB model is written with little more than 500 MB in memory.
 */
import protobuf from 'protobufjs/minimal.js';
import { onnx } from './onnx-pb.js';

// The generated module (onnx-pb.js, typed by pbts in onnx-pb.d.ts) is the codec. The interfaces below are
// the plain objects that codec's toObject gives back and takes: what the rest of Netloom reads and builds.

export interface StringStringEntry {
  key: string;
  value: string;
}

export interface TensorProto {
  name?: string;
  dims?: number[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: Int64[];
  double_data?: number[];
  uint64_data?: Int64[];
  string_data?: Uint8Array[];
  data_location?: number;
  external_data?: StringStringEntry[];
  doc_string?: string;
}

export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  doc_string?: string;
  /** Inside a function body: the attribute takes the value of the calling node's attribute of this name. */
  ref_attr_name?: string;
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
  /** ONNX ≥ 1.16 (field 14): exporters record a node's module scope here (pkg.torch.onnx.name_scopes). */
  metadata_props?: StringStringEntry[];
}

export interface DimensionProto {
  dim_value?: number;
  dim_param?: string;
}

export interface TypeProto {
  tensor_type?: { elem_type: number; shape?: { dim: DimensionProto[] } };
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
  doc_string?: string;
}

export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer?: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  doc_string?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version: number;
}

export interface ModelProto {
  ir_version: number;
  opset_import: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: number;
  doc_string?: string;
  graph: GraphProto;
  metadata_props?: StringStringEntry[];
  /** Model-local functions, called by nodes whose domain and op_type name them. */
  functions?: FunctionProto[];
}

export interface FunctionProto {
  name: string;
  domain?: string;
  /** Formal inputs and outputs: the names the body uses for the calling node's values. */
  input: string[];
  output: string[];
  /** Names of the attributes a call may set (the body refers to them with ref_attr_name). */
  attribute?: string[];
  node: NodeProto[];
  opset_import?: OperatorSetIdProto[];
  doc_string?: string;
}

/**
 * An ONNX int64 kept exactly: a number while it is a safe integer, else its decimal string. PyTorch
 * writes INT64_MAX for "to the end" of a slice; as a JS number it would come back wrapped to INT64_MIN.
 */
export type Int64 = number | string;

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

export const int64Exact = (v: bigint): Int64 => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

/** An Int64 (or a computed number, which is saturated to the int64 range) as a bigint. */
export function int64Big(v: Int64): bigint {
  if (typeof v === 'string') return BigInt(v);
  if (!Number.isInteger(v)) throw new RangeError(`${v} is not an integer`);
  const big = BigInt(v);
  return big > INT64_MAX ? INT64_MAX : big < INT64_MIN ? INT64_MIN : big;
}

/**
 * Protobuf longs come back from the decoder as strings (exact); sizes and versions become numbers, the
 * int64 values (attribute ints, int64_data) become Int64.
 */
const SIZE_FIELDS = new Set(['ir_version', 'model_version', 'version', 'dims', 'dim_value', 'begin', 'end']);
const VALUE_FIELDS = new Set(['i', 'ints', 'int64_data', 'uint64_data']);

function exactLongs<T>(message: T): T {
  const visit = (o: unknown): void => {
    if (!o || typeof o !== 'object' || ArrayBuffer.isView(o)) return;
    if (Array.isArray(o)) {
      for (const item of o) visit(item);
      return;
    }
    const record = o as Record<string, unknown>;
    for (const [key, value] of Object.entries(record)) {
      const convert = SIZE_FIELDS.has(key) ? Number : VALUE_FIELDS.has(key) ? (v: string) => int64Exact(BigInt(v)) : null;
      if (convert && typeof value === 'string') record[key] = convert(value);
      else if (convert && Array.isArray(value) && typeof value[0] === 'string') record[key] = (value as string[]).map(convert);
      else visit(value);
    }
  };
  visit(message);
  return message;
}

const DECODE_OPTIONS = { longs: String, arrays: true, defaults: false };

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;

/** ONNX AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

// Static encoders and decoders generated from onnx.proto: nothing is compiled with eval at run time.
const Model = onnx.ModelProto;
const Graph = onnx.GraphProto;
const Tensor = onnx.TensorProto;

/** A serialized TensorProto (ONNX's test data files, input_0.pb). */
export function decodeTensor(bytes: Uint8Array): TensorProto {
  return exactLongs(Tensor.toObject(Tensor.decode(bytes), DECODE_OPTIONS) as TensorProto);
}

/** A nested message (a tensor or graph attribute) as base64 protobuf, for keeping it in a JSON document. */
export function messageToBase64(kind: 'TensorProto' | 'GraphProto', value: TensorProto | GraphProto): string {
  const bytes = kind === 'TensorProto' ? Tensor.encode(Tensor.fromObject(value)).finish() : Graph.encode(Graph.fromObject(value)).finish();
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function messageFromBase64<T>(kind: 'TensorProto' | 'GraphProto', text: string): T {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return exactLongs((kind === 'TensorProto' ? Tensor.toObject(Tensor.decode(bytes), DECODE_OPTIONS) : Graph.toObject(Graph.decode(bytes), DECODE_OPTIONS)) as T);
}

const ELEMENT_BYTES: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.INT32]: 4, [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.BOOL]: 1 };

/** A tensor's element count from its dims, refusing dims that are not sizes or that no typed array can hold. */
export function tensorElementCount(t: TensorProto): number {
  const dims = t.dims ?? [];
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new OnnxFormatError(`tensor "${t.name}" has dims [${dims.join(', ')}], which are not sizes`);
  const count = dims.reduce((a, b) => a * b, 1);
  // Its bytes must fit one Uint8Array (V8: 2³² elements).
  if (count * (ELEMENT_BYTES[t.data_type ?? DataType.FLOAT] ?? 1) > 2 ** 32) throw new OnnxFormatError(`tensor "${t.name}" declares ${count.toExponential(2)} elements, more than one tensor can hold`);
  return count;
}

/** Refuses a tensor whose data does not hold exactly the elements its dims declare (checked without copying). */
export function checkTensorData(t: TensorProto): void {
  const type = t.data_type ?? DataType.FLOAT;
  const count = tensorElementCount(t);
  if (t.data_location === 1 || ELEMENT_BYTES[type] === undefined) return; // external data is checked where it is read; other types by ONNX Runtime
  const raw = t.raw_data;
  if (raw && raw.length > 0) {
    if (raw.length !== count * ELEMENT_BYTES[type])
      throw new OnnxFormatError(`tensor "${t.name}" has ${raw.length} bytes of data but its dims [${(t.dims ?? []).join(', ')}] need ${count * ELEMENT_BYTES[type]} (is it truncated?)`);
    return;
  }
  const values = type === DataType.FLOAT ? t.float_data : type === DataType.DOUBLE ? t.double_data : type === DataType.INT64 ? t.int64_data : t.int32_data;
  if ((values?.length ?? 0) !== count) throw new OnnxFormatError(`tensor "${t.name}" holds ${values?.length ?? 0} values but its dims [${(t.dims ?? []).join(', ')}] need ${count} (is it truncated?)`);
}

/** An int64 tensor's values, exactly. */
export function int64Values(t: TensorProto): Int64[] {
  const raw = t.raw_data;
  if (!raw || raw.length === 0) return t.int64_data ?? [];
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.length / 8 }, (_, i) => int64Exact(view.getBigInt64(i * 8, true)));
}

/**
 * A tensor's values as numbers (any storage field, any numeric type); floats as a Float32Array. The data
 * must hold exactly the elements the dims declare: short (truncated) data is refused, never zero-filled.
 * int64 values beyond 2^53 are rounded (INT64_MAX reads as 2^63): fine for shape arithmetic, which only
 * clamps with them; use int64Values to keep them.
 */
export function tensorValues(t: TensorProto): Float32Array | number[] {
  const type = t.data_type ?? DataType.FLOAT;
  if (ELEMENT_BYTES[type] === undefined) throw new OnnxFormatError(`tensor "${t.name}" has data type ${type}, which Netloom cannot read`);
  checkTensorData(t);
  const count = tensorElementCount(t);
  const raw = t.raw_data;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (type === DataType.FLOAT) {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(raw);
      return out;
    }
    if (type === DataType.DOUBLE) return Float32Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true));
    if (type === DataType.INT64) return Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true)));
    if (type === DataType.INT32) return Array.from({ length: count }, (_, i) => view.getInt32(i * 4, true));
    if (type === DataType.INT8) return Array.from({ length: count }, (_, i) => view.getInt8(i));
    return Array.from(raw);
  }
  if (type === DataType.FLOAT) return Float32Array.from(t.float_data ?? []);
  if (type === DataType.DOUBLE) return Float32Array.from(t.double_data ?? []);
  if (type === DataType.INT64) return (t.int64_data ?? []).map(Number);
  return (t.int32_data ?? []).map(Number);
}

export const isFloatTensor = (t: TensorProto): boolean => (t.data_type ?? DataType.FLOAT) === DataType.FLOAT || t.data_type === DataType.DOUBLE;

export class OnnxFormatError extends Error {}

/** Decodes a model. Raw tensor bytes stay views of `bytes`. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  let message: onnx.ModelProto;
  try {
    message = Model.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`not a valid ONNX model (${(e as Error).message.replace(/^index out of range.*/, 'the file is truncated')})`);
  }
  const model = exactLongs(Model.toObject(message, DECODE_OPTIONS) as ModelProto);
  if (!model.graph) throw new OnnxFormatError('not a valid ONNX model (it has no graph)');
  return model;
}

const frame = (field: number, length: number): Uint8Array =>
  protobuf.Writer.create()
    .uint32((field << 3) | 2)
    .uint32(length)
    .finish();

const GRAPH_FIELD = 7; // ModelProto.graph
const INITIALIZER_FIELD = 5; // GraphProto.initializer
const RAW_DATA_FIELD = 9; // TensorProto.raw_data

/** Encodes a model as chunks to be written one after another; raw tensor data is not copied. */
export function encodeModel(model: ModelProto): Uint8Array[] {
  const { graph, ...modelRest } = model;
  const { initializer = [], ...graphRest } = graph;
  const tensorChunks: Uint8Array[] = [];
  let initializersLength = 0;
  for (const tensor of initializer) {
    const { raw_data, ...head } = tensor;
    const headBytes = Tensor.encode(Tensor.fromObject(head)).finish();
    const parts = raw_data ? [headBytes, frame(RAW_DATA_FIELD, raw_data.length), raw_data] : [headBytes];
    const length = parts.reduce((n, p) => n + p.length, 0);
    const outer = frame(INITIALIZER_FIELD, length);
    tensorChunks.push(outer, ...parts);
    initializersLength += outer.length + length;
  }
  const graphHead = Graph.encode(Graph.fromObject(graphRest)).finish();
  const modelHead = Model.encode(Model.fromObject(modelRest)).finish();
  return [modelHead, frame(GRAPH_FIELD, graphHead.length + initializersLength), graphHead, ...tensorChunks];
}

/** The chunks joined into one buffer (for small models, tests and ONNX Runtime sessions). */
export function concatChunks(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export const encodeModelBytes = (model: ModelProto): Uint8Array => concatChunks(encodeModel(model));

/** Protobuf messages cannot pass 2 GiB: bigger models keep their weights in a side file. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

/**
 * Moves tensors of at least `minBytes` into external data (ONNX's data_location EXTERNAL), stored in
 * `location` beside the model. Returns the model to write and the side file's chunks.
 */
export function externalizeTensors(model: ModelProto, location: string, minBytes = 1024): { model: ModelProto; data: Uint8Array[] } {
  const data: Uint8Array[] = [];
  let offset = 0;
  const initializer = (model.graph.initializer ?? []).map((t) => {
    if (!t.raw_data || t.raw_data.length < minBytes) return t;
    const { raw_data, ...rest } = t;
    // Keep each tensor 64-byte aligned in the side file, as ONNX's own writer does.
    const pad = (64 - (offset % 64)) % 64;
    if (pad) data.push(new Uint8Array(pad));
    offset += pad;
    const entry = {
      ...rest,
      data_location: 1,
      external_data: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw_data.length) },
      ],
    };
    data.push(raw_data);
    offset += raw_data.length;
    return entry;
  });
  return { model: { ...model, graph: { ...model.graph, initializer } }, data };
}

export function initializerBytes(model: ModelProto): number {
  return (model.graph.initializer ?? []).reduce((n, t) => n + (t.raw_data?.length ?? 0), 0);
}

/** The side files an ONNX model keeps tensors in (external data), in order of first use. */
export function externalDataLocations(model: ModelProto): string[] {
  const locations = (model.graph.initializer ?? []).filter((t) => t.data_location === 1).map((t) => t.external_data?.find((e) => e.key === 'location')?.value ?? '');
  return [...new Set(locations)];
}

/**
 * Pulls external data into the model's tensors: `read` gives a side file's bytes by its location (or
 * undefined when it was not provided). Problems are OnnxFormatError, naming the file or tensor.
 */
export function internalizeTensors(model: ModelProto, read: (location: string) => Uint8Array | undefined): void {
  for (const t of model.graph.initializer ?? []) {
    if (t.data_location !== 1) continue;
    const entry = (key: string) => t.external_data?.find((e) => e.key === key)?.value;
    const location = entry('location');
    if (!location) throw new OnnxFormatError(`tensor "${t.name}" has external data without a location`);
    const data = read(location);
    if (!data) throw new OnnxFormatError(`tensor "${t.name}" keeps its values in the external data file "${location}", which was not provided`);
    const offset = Number(entry('offset') ?? 0);
    const length = entry('length') !== undefined ? Number(entry('length')) : data.length - offset;
    if (offset + length > data.length) throw new OnnxFormatError(`${location}: too short for tensor "${t.name}" (is it truncated?)`);
    t.raw_data = data.subarray(offset, offset + length);
    delete t.data_location;
    delete t.external_data;
  }
}
