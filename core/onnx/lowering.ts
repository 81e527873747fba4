/** Lowering snippets shared by several layer specs: linear maps, activations, RoPE, attention. */
import type { OnnxBuilder } from './builder.ts';

/** y = x·Wᵀ + b with W in PyTorch's [out, in] layout: Gemm for 2-D inputs, MatMul otherwise. */
export function linear(b: OnnxBuilder, x: string, rank: number, weight: string, bias: string | null, out?: string): string {
  if (rank === 2) return b.op('Gemm', bias ? [x, weight, bias] : [x, weight], { transB: 1 }, out);
  const product = b.op('MatMul', [x, b.op('Transpose', [weight], { perm: [1, 0] })], {}, bias ? undefined : out);
  return bias ? b.op('Add', [product, bias], {}, out) : product;
}

export function gelu(b: OnnxBuilder, x: string, approximate: boolean, out?: string): string {
  if (b.opset >= 20) return b.op('Gelu', [x], { approximate: approximate ? 'tanh' : 'none' }, out);
  let inner: string;
  if (approximate) {
    // tanh(√(2/π)·(x + 0.044715·x³))
    const cube = b.op('Mul', [b.op('Mul', [x, x]), x]);
    const poly = b.op('Add', [x, b.op('Mul', [cube, b.floats([0.044715])])]);
    inner = b.op('Tanh', [b.op('Mul', [poly, b.floats([Math.sqrt(2 / Math.PI)])])]);
  } else {
    inner = b.op('Erf', [b.op('Div', [x, b.floats([Math.SQRT2])])]);
  }
  return b.op('Mul', [b.op('Mul', [x, b.floats([0.5])]), b.op('Add', [inner, b.floats([1])])], {}, out);
}

export function silu(b: OnnxBuilder, x: string, out?: string): string {
  return b.op('Mul', [x, b.op('Sigmoid', [x])], {}, out);
}

export function activation(b: OnnxBuilder, kind: string, x: string, out?: string): string {
  if (kind === 'relu') return b.op('Relu', [x], {}, out);
  if (kind === 'gelu') return gelu(b, x, false, out);
  if (kind === 'silu') return silu(b, x, out);
  throw new Error(`no lowering for activation ${kind}`);
}

/** The length of axis `axis` of x, as a 1-D int64 tensor of one element. */
export function dimOf(b: OnnxBuilder, x: string, axis: number): string {
  return b.op('Shape', [x], { start: axis, end: axis + 1 });
}

/**
 * RoPE angles for positions start..start+T−1 (T read from axis `axis` of x; start an int64 scalar value,
 * 0 when absent): cos and sin, each T×(headDim/2).
 */
export function ropeTables(b: OnnxBuilder, x: string, axis: number, headDim: number, base: number, start?: string): { cos: string; sin: string } {
  const T = b.squeeze(dimOf(b, x, axis), [0]);
  const first = start ?? b.ints([0], true);
  const positions = b.op('Cast', [b.op('Range', [first, start ? b.op('Add', [start, T]) : T, b.ints([1], true)])], { to: 1 });
  const inverse = Array.from({ length: headDim / 2 }, (_, k) => base ** ((-2 * k) / headDim));
  const angles = b.op('Mul', [b.unsqueeze(positions, [1]), b.floats(inverse, [headDim / 2])]);
  return { cos: b.op('Cos', [angles]), sin: b.op('Sin', [angles]) };
}

/**
 * Rotates each pair (x₂ₖ, x₂ₖ₊₁) of the last axis, split into heads of `headDim`. `x` is N×H×T×headDim
 * (positions on axis 2) or N×T×D (positions on axis 1).
 */
export function rope(b: OnnxBuilder, x: string, rank: number, size: number, headDim: number, base: number, out?: string, start?: string): string {
  const half = headDim / 2;
  const positionAxis = rank === 4 ? 2 : 1;
  let { cos, sin } = ropeTables(b, x, positionAxis, headDim, base, start);
  // Pairs on a new last axis: [..., heads?, half, 2].
  const pairs = rank === 4 ? b.reshape(x, [0, 0, 0, half, 2]) : b.reshape(x, [0, 0, size / headDim, half, 2]);
  if (rank === 3) {
    cos = b.unsqueeze(cos, [1]);
    sin = b.unsqueeze(sin, [1]);
  }
  const even = b.op('Gather', [pairs, b.ints([0], true)], { axis: -1 });
  const odd = b.op('Gather', [pairs, b.ints([1], true)], { axis: -1 });
  const first = b.op('Sub', [b.op('Mul', [even, cos]), b.op('Mul', [odd, sin])]);
  const second = b.op('Add', [b.op('Mul', [even, sin]), b.op('Mul', [odd, cos])]);
  const joined = b.op('Concat', [b.unsqueeze(first, [-1]), b.unsqueeze(second, [-1])], { axis: -1 });
  return b.reshape(joined, rank === 4 ? [0, 0, 0, headDim] : [0, 0, size], out);
}

export interface AttentionArgs {
  query: string;
  key: string;
  value: string;
  E: number;
  heads: number;
  kvHeads: number;
  /** Projections (PyTorch layout [out, in]) and biases (null when absent; a null projection is the identity). */
  wq: string | null;
  wk: string | null;
  wv: string | null;
  wo: string | null;
  bq: string | null;
  bk: string | null;
  bv: string | null;
  bo: string | null;
  causal: boolean;
  slidingWindow: number | null;
  rotary: boolean;
  /** Divide the scores by √headDim (the default); deck 000's attention is unscaled. */
  scaled?: boolean;
  /** A decoder step: one query at `position`, keys and values kept in a cache (see KeyValueCache). */
  cache?: KeyValueCache;
  out?: string;
}

/** A cache tensor of a decoder step: its value before the step (a graph input) and where its value after goes. */
export interface CacheSlot {
  past: string;
  store(present: string): void;
}

/**
 * Keys and values of the tokens seen so far, N×kvHeads×capacity×headDim each (deck 004: queries and
 * scores are not kept). The token at position i goes to slot i mod capacity, so with capacity = the
 * sliding window the cache is a rolling buffer; with capacity ≥ the sequence, slot i is position i.
 */
export interface KeyValueCache {
  /** int64 scalar: the position of this step's token. */
  position: string;
  capacity: number;
  keys: CacheSlot;
  values: CacheSlot;
}

/** Writes this step's key or value (N×h×1×d) into its slot, and returns the whole updated cache. */
function storeInCache(b: OnnxBuilder, cache: KeyValueCache, slot: CacheSlot, fresh: string): string {
  const slots = b.op('Range', [b.ints([0], true), b.ints([cache.capacity], true), b.ints([1], true)]);
  const here = b.reshape(b.op('Equal', [slots, b.op('Mod', [cache.position, b.ints([cache.capacity], true)])]), [1, 1, cache.capacity, 1]);
  const updated = b.op('Where', [here, fresh, slot.past]);
  slot.store(updated);
  return updated;
}

/**
 * The additive mask over the cache's slots for the query at `position`: slot s holds position
 * p = position − ((position − s) mod capacity); it counts when p ≥ 0 (written already) and, with a
 * sliding window w, when position − p < w. 1×1×1×capacity.
 */
function cacheMask(b: OnnxBuilder, cache: KeyValueCache, window: number | null): string {
  const slots = b.op('Range', [b.ints([0], true), b.ints([cache.capacity], true), b.ints([1], true)]);
  const age = b.op('Mod', [b.op('Sub', [cache.position, slots]), b.ints([cache.capacity], true)]);
  const conditions = [b.op('LessOrEqual', [age, cache.position])];
  if (window !== null) conditions.push(b.op('Less', [age, b.ints([window], true)]));
  const allowed = conditions.length === 2 ? b.op('And', conditions) : conditions[0];
  return b.reshape(b.op('Where', [allowed, b.floats([0]), b.floats([-Infinity])]), [1, 1, 1, cache.capacity]);
}

/** Multi-head scaled dot-product attention, batch first, as torch.nn.MultiheadAttention computes it. */
export function attention(b: OnnxBuilder, a: AttentionArgs): string {
  const hd = a.E / a.heads;
  const split = (x: string, heads: number) => b.op('Transpose', [b.reshape(x, [0, 0, heads, hd])], { perm: [0, 2, 1, 3] });
  const project = (x: string, w: string | null, bias: string | null, out?: string) => (w === null ? x : linear(b, x, 3, w, bias, out));
  let q = split(project(a.query, a.wq, a.bq), a.heads);
  let k = split(project(a.key, a.wk, a.bk), a.kvHeads);
  let v = split(project(a.value, a.wv, a.bv), a.kvHeads);
  if (a.rotary) {
    q = rope(b, q, 4, a.E, hd, 10000, undefined, a.cache?.position);
    k = rope(b, k, 4, a.E, hd, 10000, undefined, a.cache?.position);
  }
  if (a.cache) {
    k = storeInCache(b, a.cache, a.cache.keys, k);
    v = storeInCache(b, a.cache, a.cache.values, v);
  }
  if (a.kvHeads !== a.heads) {
    // Each key/value head serves heads/kvHeads query heads (repeat_interleave on the head axis).
    const repeat = (x: string) => b.reshape(b.op('Expand', [b.unsqueeze(x, [2]), b.ints([1, 1, a.heads / a.kvHeads, 1, 1])]), [0, a.heads, -1, hd]);
    k = repeat(k);
    v = repeat(v);
  }
  let scores = b.op('MatMul', [q, b.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
  if (a.scaled !== false) scores = b.op('Mul', [scores, b.floats([1 / Math.sqrt(hd)])]);
  if (a.cache) scores = b.op('Add', [scores, cacheMask(b, a.cache, a.slidingWindow)]);
  else if (a.causal || a.slidingWindow !== null) scores = b.op('Add', [scores, attentionMask(b, q, k, a.causal, a.slidingWindow)]);
  const weights = b.op('Softmax', [scores], { axis: -1 });
  const context = b.reshape(b.op('Transpose', [b.op('MatMul', [weights, v])], { perm: [0, 2, 1, 3] }), [0, 0, a.E], a.wo === null ? a.out : undefined);
  return project(context, a.wo, a.bo, a.out);
}

/** 0 where query i may attend to key j (j ≤ i, and i − j < window with a sliding window), −∞ elsewhere: Tq×Tk. */
function attentionMask(b: OnnxBuilder, q: string, k: string, causal: boolean, window: number | null): string {
  return positionMask(b, b.squeeze(dimOf(b, q, 2), [0]), b.squeeze(dimOf(b, k, 2), [0]), causal, window);
}

/**
 * The additive mask for Tq queries and Tk keys (int64 scalars): 0 where query i may see key j, −∞ elsewhere.
 * Causal: j ≤ i. A sliding window of w: also i − j < w, so each query sees w keys, itself included.
 */
export function positionMask(b: OnnxBuilder, Tq: string, Tk: string, causal: boolean, window: number | null): string {
  const range = (T: string) => b.op('Range', [b.ints([0], true), T, b.ints([1], true)]);
  const i = b.unsqueeze(range(Tq), [1]);
  const j = b.unsqueeze(range(Tk), [0]);
  const conditions: string[] = [];
  if (causal || window !== null) conditions.push(b.op('LessOrEqual', [j, i]));
  if (window !== null) conditions.push(b.op('Less', [b.op('Sub', [i, j]), b.ints([window], true)]));
  const allowed = conditions.length === 2 ? b.op('And', conditions) : conditions[0];
  return b.op('Where', [allowed, b.floats([0]), b.floats([-Infinity])]);
}
