/**
 * ONNX attributes: the one reader that autodiff, import and the op shape rules share, and the JSON form
 * in which the document keeps an imported node's attributes.
 */
import { AttrType, messageFromBase64, OnnxFormatError, type Int64, messageToBase64, type AttributeProto, type GraphProto, type NodeProto, type TensorProto } from './proto.ts';

/**
 * An attribute as kept in the document: its ONNX type and a JSON value (nested messages as base64;
 * int64 values beyond 2^53 as decimal strings, so they round-trip exactly).
 */
export interface JsonAttribute {
  type: 'float' | 'int' | 'string' | 'floats' | 'ints' | 'strings' | 'tensor' | 'graph';
  value: number | string | number[] | string[] | Int64[];
}

const utf8 = new TextDecoder();
const STRING_TYPES: Record<number, JsonAttribute['type']> = {
  [AttrType.FLOAT]: 'float',
  [AttrType.INT]: 'int',
  [AttrType.STRING]: 'string',
  [AttrType.FLOATS]: 'floats',
  [AttrType.INTS]: 'ints',
  [AttrType.STRINGS]: 'strings',
  [AttrType.TENSOR]: 'tensor',
  [AttrType.GRAPH]: 'graph',
};

export function attributeToJson(a: AttributeProto): JsonAttribute {
  const type = STRING_TYPES[a.type];
  switch (type) {
    case 'float':
      return { type, value: a.f ?? 0 };
    case 'int':
      return { type, value: a.i ?? 0 };
    case 'string':
      return { type, value: utf8.decode(a.s ?? new Uint8Array()) };
    case 'floats':
      return { type, value: a.floats ?? [] };
    case 'ints':
      return { type, value: a.ints ?? [] };
    case 'strings':
      return { type, value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case 'tensor':
      return { type, value: messageToBase64('TensorProto', a.t!) };
    case 'graph':
      return { type, value: messageToBase64('GraphProto', a.g!) };
    default:
      throw new OnnxFormatError(`attribute "${a.name}" has a type (${a.type}) Netloom cannot keep`);
  }
}

export function attributeFromJson(name: string, a: JsonAttribute): AttributeProto {
  const enc = new TextEncoder();
  switch (a.type) {
    case 'float':
      return { name, type: AttrType.FLOAT, f: a.value as number };
    case 'int':
      return { name, type: AttrType.INT, i: a.value as Int64 };
    case 'string':
      return { name, type: AttrType.STRING, s: enc.encode(a.value as string) };
    case 'floats':
      return { name, type: AttrType.FLOATS, floats: a.value as number[] };
    case 'ints':
      return { name, type: AttrType.INTS, ints: a.value as Int64[] };
    case 'strings':
      return { name, type: AttrType.STRINGS, strings: (a.value as string[]).map((s) => enc.encode(s)) };
    case 'tensor':
      return { name, type: AttrType.TENSOR, t: messageFromBase64<TensorProto>('TensorProto', a.value as string) };
    case 'graph':
      return { name, type: AttrType.GRAPH, g: messageFromBase64<GraphProto>('GraphProto', a.value as string) };
  }
}

/** Typed reads of a node's attributes, with ONNX's defaults given by the caller. */
export interface Attributes {
  get(name: string): AttributeProto | undefined;
  int(name: string, fallback: number): number;
  ints(name: string): number[] | undefined;
  float(name: string, fallback: number): number;
  string(name: string, fallback: string): string;
  tensor(name: string): TensorProto | undefined;
}

function reader(get: (name: string) => AttributeProto | undefined): Attributes {
  return {
    get,
    // As numbers for arithmetic: INT64_MAX reads as 2^63, which every rule treats as "no limit".
    int: (name, fallback) => Number(get(name)?.i ?? fallback),
    ints: (name) => get(name)?.ints?.map(Number),
    float: (name, fallback) => get(name)?.f ?? fallback,
    string: (name, fallback) => {
      const s = get(name)?.s;
      return s ? utf8.decode(s) : fallback;
    },
    tensor: (name) => get(name)?.t,
  };
}

/** The attributes of an ONNX node. */
export function attributesOf(node: NodeProto): Attributes {
  return reader((name) => node.attribute?.find((a) => a.name === name));
}

/** The attributes of an imported node as the document keeps them (decoded only when read). */
export function jsonAttributes(attributes: Record<string, JsonAttribute>): Attributes {
  return reader((name) => (attributes[name] ? attributeFromJson(name, attributes[name]) : undefined));
}

// Shorthands for the rules and the importer, which read one attribute of a node at a time.
export const attr = (node: NodeProto, name: string): AttributeProto | undefined => attributesOf(node).get(name);
export const attrInt = (node: NodeProto, name: string, fallback: number): number => attributesOf(node).int(name, fallback);
export const attrInts = (node: NodeProto, name: string): number[] | undefined => attributesOf(node).ints(name);
export const attrFloat = (node: NodeProto, name: string, fallback: number): number => attributesOf(node).float(name, fallback);
export const attrString = (node: NodeProto, name: string, fallback = ''): string => attributesOf(node).string(name, fallback);
