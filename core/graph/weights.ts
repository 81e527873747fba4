/**
 * A model's tensors (parameters and buffers such as running statistics), keyed "<node id>.<param name>"
 * like a PyTorch state_dict, with seeded PyTorch-style initialisation and the safetensors sidecar format.
 */

/** How a new model's tensor is initialised, as PyTorch's reset_parameters does for the layer. */
export type ParamInit = { kind: 'uniform'; bound: number } | { kind: 'normal'; std: number } | { kind: 'constant'; value: number };

/** One parameter tensor of a layer, as PyTorch names it. */
export interface ParamTensor {
  init: ParamInit;
  name: string;
  shape: number[];
  count: number;
  /** How the count comes about, e.g. "F·F·C·K = 5·5·3·10". */
  formula: string;
  /** Shared with another node's tensor (weight tying): counted there, once, as PyTorch does. */
  tiedTo?: string;
}

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export type Weights = Map<string, WeightTensor>;

export const weightKey = (nodeId: string, param: string): string => `${nodeId}.${param}`;

/** xoshiro128**, seeded through splitmix32: fast, reproducible, the same in every JavaScript engine. */
export class Rng {
  private s = new Uint32Array(4);
  private spare: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  /** Uniform in [0, 1). */
  next(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result / 4294967296;
  }

  /**
   * out[i] = (2u − 1)·bound for successive uniforms u: the values next() would give, with the state in
   * locals, which is several times faster over the millions of weights of a large model.
   */
  fillUniform(out: Float32Array, bound: number): void {
    const s = this.s;
    let [s0, s1, s2, s3] = [s[0] | 0, s[1] | 0, s[2] | 0, s[3] | 0];
    for (let i = 0; i < out.length; i++) {
      const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      out[i] = (2 * (result / 4294967296) - 1) * bound;
    }
    [s[0], s[1], s[2], s[3]] = [s0, s1, s2, s3];
  }

  /** out[i] = std·z for successive standard normals z: the values normal() would give, a pair at a time. */
  fillNormal(out: Float32Array, std: number): void {
    let i = 0;
    if (this.spare !== null && out.length > 0) out[i++] = this.normal() * std;
    for (; i + 1 < out.length; i += 2) {
      const r = Math.sqrt(-2 * Math.log(1 - this.next()));
      const theta = 2 * Math.PI * this.next();
      out[i] = r * Math.cos(theta) * std;
      out[i + 1] = r * Math.sin(theta) * std;
    }
    if (i < out.length) out[i] = this.normal() * std;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u = 1 - this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export function initialTensor(shape: number[], init: ParamInit, rng: Rng): Float32Array {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  if (init.kind === 'constant') data.fill(init.value);
  else if (init.kind === 'uniform') rng.fillUniform(data, init.bound);
  else rng.fillNormal(data, init.std);
  return data;
}

/** The most bytes one tensor may take: its bytes are viewed as a Uint8Array, which V8 caps at 2³² elements. */
export const MAX_TENSOR_BYTES = 2 ** 32;

export const formatBytes = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`);

/**
 * Says why the model's weights cannot be held in memory, before any is allocated: a tensor larger than a
 * typed array can be, or more bytes in all than `limit`. Null when they fit.
 */
export function weightsTooLarge(nodes: { id: string; params: ParamTensor[]; buffers: ParamTensor[] }[], limit = Infinity): string | null {
  let total = 0;
  for (const node of nodes) {
    for (const p of [...node.params, ...node.buffers]) {
      if (p.tiedTo) continue;
      const count = p.shape.reduce((a, b) => a * b, 1);
      if (count * 4 > MAX_TENSOR_BYTES) return `tensor "${weightKey(node.id, p.name)}" would need ${formatBytes(count * 4)} (${count.toExponential(2)} weights), more than one tensor can hold`;
      total += count * 4;
    }
  }
  return total > limit ? `the weights would need ${formatBytes(total)} of memory; ${formatBytes(limit)} is available` : null;
}

/**
 * Fresh tensors for every parameter and buffer of the given nodes, in order, from one seed.
 * Tensors present in `keep` (an imported or trained model's) are kept as they are.
 */
export function initWeights(nodes: { id: string; params: ParamTensor[]; buffers: ParamTensor[] }[], seed: number, keep?: Weights): Weights {
  const rng = new Rng(seed);
  const weights: Weights = new Map();
  for (const node of nodes) {
    for (const p of [...node.params, ...node.buffers]) {
      if (p.tiedTo) continue;
      const key = weightKey(node.id, p.name);
      const kept = keep?.get(key);
      weights.set(key, kept && kept.shape.join() === p.shape.join() ? kept : { shape: p.shape, data: initialTensor(p.shape, p.init, rng) });
    }
  }
  return weights;
}

// safetensors: an 8-byte little-endian header length, a JSON header, then the raw little-endian data.

export class WeightsFormatError extends Error {}

/** Encodes weights as safetensors chunks; tensor data is not copied. */
export function encodeSafetensors(weights: Weights, metadata: Record<string, string> = {}): Uint8Array[] {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const keys = [...weights.keys()].sort();
  for (const key of keys) {
    const t = weights.get(key)!;
    header[key] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keeps the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  return [prefix, headerBytes, ...keys.map((k) => new Uint8Array(weights.get(k)!.data.buffer, weights.get(k)!.data.byteOffset, weights.get(k)!.data.byteLength))];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes safetensors, refusing (naming the tensor) any entry whose shape, type or byte range is not sound. */
export function decodeSafetensors(bytes: Uint8Array): { weights: Weights; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new WeightsFormatError('not a safetensors file (too short)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new WeightsFormatError('not a safetensors file (the header runs past the end; is it truncated?)');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new WeightsFormatError('not a safetensors file (its header is not JSON)');
  }
  if (!isRecord(header)) throw new WeightsFormatError('not a safetensors file (its header is not a JSON object)');
  const { __metadata__: metadata = {}, ...tensors } = header;
  if (!isRecord(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) throw new WeightsFormatError('"__metadata__" must map names to strings');
  const start = 8 + headerLength;
  const dataLength = bytes.length - start;
  const ranges: { key: string; from: number; to: number }[] = [];
  const weights: Weights = new Map();
  for (const [key, t] of Object.entries(tensors)) {
    const bad = (why: string) => new WeightsFormatError(`tensor "${key}": ${why}`);
    if (!isRecord(t)) throw bad('its entry is not an object');
    if (t.dtype !== 'F32') throw bad(`is ${typeof t.dtype === 'string' ? t.dtype : 'of no dtype'}; Netloom reads F32 tensors`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) throw bad('"shape" must be a list of non-negative integers');
    const offsets = t.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) throw bad('"data_offsets" must be two non-negative integers [begin, end]');
    const [from, to] = offsets as [number, number];
    const shape = t.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (to - from !== count * 4) throw bad(`shape [${shape.join(', ')}] needs ${count * 4} bytes but data_offsets give ${to - from}`);
    if (to > dataLength) throw bad(`its data (bytes ${from} to ${to}) does not fit the file (it has ${dataLength} bytes of data; is it truncated?)`);
    ranges.push({ key, from, to });
    // Copy into an aligned buffer: the data may sit at any byte offset of the file.
    const data = new Float32Array(count);
    new Uint8Array(data.buffer).set(bytes.subarray(start + from, start + to));
    weights.set(key, { shape, data });
  }
  ranges.sort((a, b) => a.from - b.from);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i].from < ranges[i - 1].to && ranges[i].to > ranges[i].from) throw new WeightsFormatError(`tensor "${ranges[i].key}": its data overlaps tensor "${ranges[i - 1].key}"`);
  }
  return { weights, metadata: metadata as Record<string, string> };
}

/**
 * Checks that a weights file gives every parameter and buffer of the model, each in the model's shape,
 * and nothing else: a stale or misspelled file is refused, never silently replaced by fresh weights.
 * Returns the first problem, naming the tensor, or null.
 */
export function weightsMismatch(nodes: { id: string; params: ParamTensor[]; buffers: ParamTensor[] }[], weights: Weights): string | null {
  const expected = new Map<string, number[]>();
  for (const node of nodes) for (const p of [...node.params, ...node.buffers]) if (!p.tiedTo) expected.set(weightKey(node.id, p.name), p.shape);
  for (const [key, shape] of expected) {
    const t = weights.get(key);
    if (!t) return `has no tensor "${key}" (the model's ${key.slice(0, key.lastIndexOf('.'))} needs it, ${shape.join('×') || 'a scalar'})`;
    if (t.shape.join() !== shape.join()) return `tensor "${key}" is [${t.shape.join(', ')}] but the model needs [${shape.join(', ')}]`;
  }
  for (const key of weights.keys()) if (!expected.has(key)) return `tensor "${key}" belongs to no parameter of the model (misspelled, or from another model?)`;
  return null;
}
