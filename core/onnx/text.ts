/**
 * ONNX's textual syntax, the one onnx.parser reads (as ONNX 1.12 defines it; newer releases print it
 * with onnx.printer):
 *
 *   <ir_version: 8, opset_import: ["" : 17]>
 *   model (float[N, 3] x) => (float[N, 2] y) <float[2, 3] w = {...}> { y = Gemm <transB = 1> (x, w) }
 *
 * That syntax names values with plain identifiers only, so every other name ("conv1/Conv", "lstm1.h")
 * is written with its other characters as "_" (kept unique); and it reads no infinities, so ±∞ (the
 * attention mask's −∞) is written as ±3.4028235e+38, the largest float32, which gives the same softmax.
 */
import { AttrType, DataType, tensorValues, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';

const ELEMENT_NAMES: Record<number, string> = {
  [DataType.FLOAT]: 'float',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'double',
};

const FLOAT_MAX = '3.4028235e+38';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface TextOptions {
  /**
   * Initializers with more values than this are listed as graph inputs, their values left out (a view
   * of a large model); by default every value is written, so the text is the whole model.
   */
  maxValues?: number;
}

/** Value names as identifiers, unique, the same name always giving the same identifier. */
export class TextNames {
  private byName = new Map<string, string>();
  private used = new Set<string>();
  get(name: string): string {
    if (name === '') return '';
    let id = this.byName.get(name);
    if (id !== undefined) return id;
    let base = name.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z_]/.test(base)) base = `_${base}`;
    id = base;
    for (let k = 2; this.used.has(id); k++) id = `${base}_${k}`;
    this.used.add(id);
    this.byName.set(name, id);
    return id;
  }
}

/** A number as the parser reads it for the given element type (floats keep a decimal point). */
function number(v: number, float: boolean): string {
  if (!float) return String(v);
  if (!Number.isFinite(v)) {
    if (Number.isNaN(v)) throw new Error('NaN cannot be written in ONNX text');
    return v > 0 ? FLOAT_MAX : `-${FLOAT_MAX}`;
  }
  // The shortest text that reads back as the same float32 (nine significant digits always do).
  const f = Math.fround(v);
  let text = String(f);
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) {
      text = String(candidate);
      break;
    }
  }
  return /[.e]/.test(text) ? text : `${text}.0`;
}

const isFloatType = (t: number | undefined): boolean => t === undefined || t === DataType.FLOAT || t === DataType.DOUBLE || t === DataType.FLOAT16;

function tensorType(elem: number | undefined, dims: (number | string | undefined)[] | null): string {
  const name = ELEMENT_NAMES[elem ?? DataType.FLOAT] ?? 'float';
  if (dims === null) return name;
  return `${name}[${dims.map((d) => (typeof d === 'number' ? String(d) : d && IDENTIFIER.test(d) ? d : '?')).join(', ')}]`;
}

function valueInfoText(v: ValueInfoProto, names: TextNames): string {
  const tt = v.type?.tensor_type;
  const dims = tt?.shape ? tt.shape.dim.map((d) => d.dim_value ?? d.dim_param) : null;
  return `${tensorType(tt?.elem_type, dims)} ${names.get(v.name)}`;
}

/** A tensor's type: like a value's, but a scalar is just its element type (`float`, not `float[]`). */
const tensorProtoType = (t: TensorProto): string => tensorType(t.data_type, (t.dims ?? []).length > 0 ? t.dims! : null);

function tensorLiteral(t: TensorProto): string {
  const float = isFloatType(t.data_type);
  const values = Array.from(tensorValues(t), (v) => number(v, float));
  return `{${values.join(', ')}}`;
}

function attributeText(a: AttributeProto, names: TextNames, indent: string): string {
  const decode = (s: Uint8Array) => JSON.stringify(new TextDecoder().decode(s));
  switch (a.type) {
    case AttrType.INT:
      return `${a.name} = ${Number(a.i ?? 0)}`;
    case AttrType.FLOAT:
      return `${a.name} = ${number(a.f ?? 0, true)}`;
    case AttrType.STRING:
      return `${a.name} = ${decode(a.s ?? new Uint8Array())}`;
    case AttrType.INTS:
      return `${a.name} = [${(a.ints ?? []).map(Number).join(', ')}]`;
    case AttrType.FLOATS:
      return `${a.name} = [${(a.floats ?? []).map((f) => number(f, true)).join(', ')}]`;
    case AttrType.STRINGS:
      return `${a.name} = [${(a.strings ?? []).map(decode).join(', ')}]`;
    case AttrType.TENSOR:
      return `${a.name} = ${tensorProtoType(a.t!)} ${tensorLiteral(a.t!)}`;
    case AttrType.GRAPH:
      return `${a.name} = ${graphText(a.g!, names, {}, `${indent}  `)}`;
    default:
      throw new Error(`attribute "${a.name}" has a type (${a.type}) ONNX text cannot hold`);
  }
}

/** One node: `out1, out2 = domain.Op <attr = value, ...> (in1, , in3)`. */
export function nodeText(n: NodeProto, names: TextNames, indent = ''): string {
  const outputs = n.output.map((o) => names.get(o)).join(', ');
  const op = n.domain ? `${n.domain}.${n.op_type}` : n.op_type;
  const attributes = (n.attribute ?? []).map((a) => attributeText(a, names, indent));
  const attrs = attributes.length > 0 ? ` <${attributes.join(', ')}>` : '';
  return `${outputs} = ${op}${attrs} (${n.input.map((i) => names.get(i)).join(', ')})`;
}

/** A graph: `name (inputs) => (outputs) <initializers> { nodes }`, nodes one per line. */
export function graphText(g: GraphProto, names: TextNames, options: TextOptions = {}, indent = '', comments?: Map<number, string>): string {
  const limit = options.maxValues ?? Infinity;
  const initializers = g.initializer ?? [];
  const elided = initializers.filter((t) => (t.dims ?? []).reduce((a, b) => a * b, 1) > limit);
  const kept = initializers.filter((t) => !elided.includes(t));
  const inputs = [...g.input.map((v) => valueInfoText(v, names)), ...elided.map((t) => `${tensorType(t.data_type, t.dims ?? [])} ${names.get(t.name!)}`)];
  const header = `${names.get(g.name || 'graph')} (${inputs.join(', ')}) => (${g.output.map((v) => valueInfoText(v, names)).join(', ')})`;
  const init = kept.length > 0 ? `\n${indent}  <${kept.map((t) => `${tensorProtoType(t)} ${names.get(t.name!)} = ${tensorLiteral(t)}`).join(`,\n${indent}   `)}>` : '';
  const lines = g.node.flatMap((n, i) => {
    const line = `${indent}  ${nodeText(n, names, indent)}`;
    const comment = comments?.get(i);
    return comment ? [`${indent}  # ${comment}`, line] : [line];
  });
  const note = elided.length > 0 ? `${indent}# ${elided.length} initializer(s) with over ${limit} values are listed as inputs, their values left out\n${indent}` : '';
  return `${note}${header}${init}\n${indent}{\n${lines.join('\n')}\n${indent}}`;
}

/** A whole model: the `<ir_version, opset_import, ...>` header, then its graph. */
export function modelText(m: ModelProto, options: TextOptions = {}, comments?: Map<number, string>): string {
  const opsets = m.opset_import.map((o) => `${JSON.stringify(o.domain ?? '')} : ${o.version}`).join(', ');
  const header = [`ir_version: ${m.ir_version}`, `opset_import: [${opsets}]`];
  if (m.producer_name) header.push(`producer_name: ${JSON.stringify(m.producer_name)}`);
  if (m.producer_version) header.push(`producer_version: ${JSON.stringify(m.producer_version)}`);
  return `<\n  ${header.join(',\n  ')}\n>\n${graphText(m.graph, new TextNames(), options, '', comments)}\n`;
}
