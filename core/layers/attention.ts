/** Attention and Transformers: MultiheadAttention, FeedForward, TransformerEncoderLayer, TransformerDecoderLayer. */
import { formatShape, type Dim } from '../graph/dim.ts';
import { activation, attention, linear, silu, type KeyValueCache } from '../onnx/lowering.ts';
import type { InferContext, LayerSpec, LowerContext, ParamSchema, ParamTensor, TensorType } from './spec.ts';
import { BIAS, ONES, ZEROS, fanInUniform, xavierUniform, ONE_OUTPUT, addOrNull, expectFloat, knownDim, mulOrNull, param, tensor } from './common.ts';

interface AttentionDims {
  E: number;
  kdim: number;
  vdim: number;
  heads: number;
  kvHeads: number;
  bias: boolean;
  /** Deck 000's attention has no projections at all (q = k = v = x); deck 001's has no output projection. */
  inputProjection?: boolean;
  outputProjection?: boolean;
}

/** Parameter tensors named as PyTorch's nn.MultiheadAttention (or q/k/v/o projections for GQA). */
function attentionParams(a: AttentionDims, prefix = ''): ParamTensor[] {
  const { E, kdim, vdim, heads, kvHeads, bias } = a;
  const kvE = (E / heads) * kvHeads;
  const p: ParamTensor[] = [];
  if (a.inputProjection === false) {
    // q = k = v = the inputs themselves.
  } else if (kvHeads !== heads) {
    p.push(param(`${prefix}q_proj.weight`, [E, E], `E·E = ${E}·${E}`, fanInUniform(E)));
    p.push(param(`${prefix}k_proj.weight`, [kvE, kdim], `(kvHeads·headDim)·kdim = ${kvE}·${kdim}`, fanInUniform(kdim)));
    p.push(param(`${prefix}v_proj.weight`, [kvE, vdim], `(kvHeads·headDim)·vdim = ${kvE}·${vdim}`, fanInUniform(vdim)));
    if (bias) {
      p.push(param(`${prefix}q_proj.bias`, [E], 'E', fanInUniform(E)));
      p.push(param(`${prefix}k_proj.bias`, [kvE], 'kvHeads·headDim', fanInUniform(kdim)));
      p.push(param(`${prefix}v_proj.bias`, [kvE], 'kvHeads·headDim', fanInUniform(vdim)));
    }
  } else if (kdim === E && vdim === E) {
    p.push(param(`${prefix}in_proj_weight`, [3 * E, E], `3E·E = ${3 * E}·${E}`, xavierUniform(E, 3 * E)));
    if (bias) p.push(param(`${prefix}in_proj_bias`, [3 * E], '3E', ZEROS));
  } else {
    p.push(param(`${prefix}q_proj_weight`, [E, E], `E·E = ${E}·${E}`, xavierUniform(E, E)));
    p.push(param(`${prefix}k_proj_weight`, [E, kdim], `E·kdim = ${E}·${kdim}`, xavierUniform(kdim, E)));
    p.push(param(`${prefix}v_proj_weight`, [E, vdim], `E·vdim = ${E}·${vdim}`, xavierUniform(vdim, E)));
    if (bias) p.push(param(`${prefix}in_proj_bias`, [3 * E], '3E', ZEROS));
  }
  if (a.outputProjection === false) return p;
  p.push(param(`${prefix}out_proj.weight`, [E, E], `E·E = ${E}·${E}`, fanInUniform(E)));
  if (bias) p.push(param(`${prefix}out_proj.bias`, [E], 'E', kvHeads !== heads ? fanInUniform(E) : ZEROS));
  return p;
}

/** The projection tensors of an attention block, as ONNX values (PyTorch's packed weight sliced in-graph). */
function attentionWeights(ctx: LowerContext, a: AttentionDims, prefix = '') {
  const { b } = ctx;
  const w = (name: string) => ctx.weight(`${prefix}${name}`);
  const bias = (name: string) => (a.bias ? w(name) : null);
  const out = a.outputProjection === false ? { wo: null, bo: null } : { wo: w('out_proj.weight'), bo: bias('out_proj.bias') };
  if (a.inputProjection === false) return { ...out, wq: null, wk: null, wv: null, bq: null, bk: null, bv: null };
  if (a.kvHeads !== a.heads) {
    return { ...out, wq: w('q_proj.weight'), wk: w('k_proj.weight'), wv: w('v_proj.weight'), bq: bias('q_proj.bias'), bk: bias('k_proj.bias'), bv: bias('v_proj.bias') };
  }
  const packedBias = a.bias ? w('in_proj_bias') : null;
  const third = (x: string | null, i: number) => (x === null ? null : b.slice(x, 0, i * a.E, (i + 1) * a.E));
  const biases = { bq: third(packedBias, 0), bk: third(packedBias, 1), bv: third(packedBias, 2) };
  if (a.kdim === a.E && a.vdim === a.E) {
    const packed = w('in_proj_weight');
    return { ...out, ...biases, wq: third(packed, 0)!, wk: third(packed, 1)!, wv: third(packed, 2)! };
  }
  return { ...out, ...biases, wq: w('q_proj_weight'), wk: w('k_proj_weight'), wv: w('v_proj_weight') };
}

/** In a decoder step, the key/value cache of a causal self-attention (named `<prefix>keys` and `<prefix>values`); otherwise none. */
function kvCache(ctx: LowerContext, a: AttentionDims, prefix: string, causal: boolean, crossAttention: boolean): KeyValueCache | undefined {
  const step = ctx.decode;
  if (!step) return undefined;
  if (crossAttention) throw new Error('cross-attention has no decoder step; generate with full recomputation');
  if (!causal) throw new Error('only causal attention generates token by token (without a causal mask a query sees later tokens)');
  const type = { shape: ['N', a.kvHeads, step.capacity, a.E / a.heads], dtype: 'float32' as const };
  return { position: step.position, capacity: step.capacity, keys: step.cache(`${prefix}keys`, type), values: step.cache(`${prefix}values`, type) };
}

/** Per-sample MACs: the four projections plus QKᵀ and A·V. */
function attentionMacs(a: AttentionDims, Tq: Dim, Tk: Dim): number | null {
  const kvE = (a.E / a.heads) * a.kvHeads;
  const tq = typeof Tq === 'number' ? Tq : null;
  const tk = typeof Tk === 'number' ? Tk : null;
  const proj = mulOrNull(tq, ((a.inputProjection === false ? 0 : 1) + (a.outputProjection === false ? 0 : 1)) * a.E * a.E);
  const kv = a.inputProjection === false ? 0 : mulOrNull(tk, kvE * (a.kdim + a.vdim));
  const scores = mulOrNull(tq, tk, 2 * a.E);
  return addOrNull(proj, kv, scores);
}

function checkHeads(ctx: InferContext, E: number, heads: number, kvHeads: number, headsField: string): void {
  if (E % heads !== 0) ctx.fail(`embedding size ${E} is not divisible by ${heads} heads`, { field: headsField, formula: `headDim = E/heads = ${E}/${heads}` });
  if (heads % kvHeads !== 0) ctx.fail(`${heads} query heads are not a multiple of ${kvHeads} key/value heads`, { field: 'numKeyValueHeads' });
  ctx.formula(() => `headDim = E/heads = ${E}/${heads} = ${E / heads}`);
}

const sequence = (ctx: InferContext, t: TensorType, what: string): void => {
  expectFloat(ctx, t);
  if (t.shape.length !== 3) ctx.fail(`expects ${what} as N×T×E, got ${formatShape(t.shape)}`);
};

const MASKING: Record<string, ParamSchema> = {
  causal: { type: 'bool', label: 'Causal mask', help: 'Each position attends only to itself and earlier positions.', default: false },
  slidingWindow: { type: 'int', label: 'Sliding window', help: 'Attend only to the last w positions, itself included (implies causal); none = unlimited.', default: null, nullable: true, min: 1 },
};

const MultiheadAttention: LayerSpec = {
  op: 'MultiheadAttention',
  starting: { numHeads: 4 },
  category: 'Attention & Transformer',
  summary: 'Scaled dot-product attention with several heads (self or cross).',
  doc: 'output = softmax(QKᵀ/√d)V per head, with Q from `query` and K, V from `key`/`value` (self-attention when they are not connected). Options: a causal mask, a sliding window, rotary positions on Q and K, and fewer key/value heads than query heads (GQA; 1 is MQA). Parameters as torch.nn.MultiheadAttention: 4E² + 4E for self-attention.',
  params: {
    numHeads: { type: 'int', label: 'Heads', help: 'Number of attention heads.', min: 1, key: true },
    numKeyValueHeads: { type: 'int', label: 'Key/value heads', help: 'Fewer key/value heads share queries (GQA; 1 = MQA). Defaults to the number of heads.', default: null, nullable: true, min: 1 },
    bias: BIAS,
    dropout: { type: 'float', label: 'Dropout', help: 'Dropout on the attention weights.', default: 0, min: 0, max: 0.999 },
    ...MASKING,
    rotary: { type: 'bool', label: 'Rotary positions', help: 'Apply RoPE to queries and keys.', default: false },
    inputProjection: { type: 'bool', label: 'Input projections', help: 'Project queries, keys and values with W_q, W_k, W_v; off, q = k = v = the inputs (deck 000).', default: true },
    outputProjection: { type: 'bool', label: 'Output projection', help: 'Project the heads’ output with W_o; off leaves 3D² parameters (deck 001).', default: true },
    scaled: { type: 'bool', label: 'Scaled', help: 'Divide the scores by √headDim; off for deck 000’s unscaled attention.', default: true },
  },
  inputs: [
    { name: 'query', help: 'Queries N×Tq×E.' },
    { name: 'key', help: 'Keys N×Tk×kdim (defaults to the query).', optional: true },
    { name: 'value', help: 'Values N×Tk×vdim (defaults to the key).', optional: true },
  ],
  outputs: [{ name: 'output', help: 'N×Tq×E.' }],
  infer(ctx: InferContext) {
    const q = ctx.inputs[0] as TensorType;
    const k = ctx.inputs[1] ?? q;
    const v = ctx.inputs[2] ?? k;
    sequence(ctx, q, 'the query');
    sequence(ctx, k, 'the key');
    sequence(ctx, v, 'the value');
    if (k.shape[1] !== v.shape[1]) ctx.fail(`key and value lengths differ: ${formatShape(k.shape)} vs ${formatShape(v.shape)}`);
    const E = knownDim(ctx, q.shape[2], 'embedding size');
    const heads = ctx.int('numHeads');
    const kvHeads = ctx.maybeInt('numKeyValueHeads') ?? heads;
    checkHeads(ctx, E, heads, kvHeads, 'numHeads');
    if (ctx.bool('rotary') && (E / heads) % 2 !== 0) ctx.fail(`rotary positions need an even head dimension, got ${E / heads}`, { field: 'rotary' });
    const dims: AttentionDims = {
      E,
      kdim: knownDim(ctx, k.shape[2], 'key size'),
      vdim: knownDim(ctx, v.shape[2], 'value size'),
      heads,
      kvHeads,
      bias: ctx.bool('bias'),
      inputProjection: ctx.bool('inputProjection'),
      outputProjection: ctx.bool('outputProjection'),
    };
    if (!dims.inputProjection && (dims.kdim !== E || dims.vdim !== E || kvHeads !== heads))
      ctx.fail(`without input projections the key and value must be ${E} wide like the query, with as many key/value heads as heads`, { field: 'inputProjection' });
    ctx.formula(() => `scores = QKᵀ${ctx.bool('scaled') ? `/√${E / heads}` : ''}: ${heads}×${q.shape[1]}×${k.shape[1]} per sample`);
    return { outputs: [tensor(['N', q.shape[1], E])], params: attentionParams(dims), macs: attentionMacs(dims, q.shape[1], k.shape[1]) };
  },
  lower(ctx: LowerContext) {
    const [qt, kt, vt] = ctx.inputTypes;
    const query = ctx.inputs[0];
    const key = ctx.inputs[1] || query;
    const value = ctx.inputs[2] || key;
    const E = qt!.shape[2] as number;
    const heads = ctx.int('numHeads');
    const dims: AttentionDims = {
      E,
      kdim: (kt ?? qt)!.shape[2] as number,
      vdim: (vt ?? kt ?? qt)!.shape[2] as number,
      heads,
      kvHeads: ctx.maybeInt('numKeyValueHeads') ?? heads,
      bias: ctx.bool('bias'),
      inputProjection: ctx.bool('inputProjection'),
      outputProjection: ctx.bool('outputProjection'),
    };
    const slidingWindow = ctx.maybeInt('slidingWindow');
    const cache = kvCache(ctx, dims, '', ctx.bool('causal') || slidingWindow !== null, !!(ctx.inputs[1] || ctx.inputs[2]));
    attention(ctx.b, {
      query,
      key,
      value,
      ...dims,
      ...attentionWeights(ctx, dims),
      causal: ctx.bool('causal'),
      slidingWindow,
      rotary: ctx.bool('rotary'),
      scaled: ctx.bool('scaled'),
      cache,
      out: ctx.outputs[0],
    });
  },
};

/** Parameters of a position-wise feed-forward block. */
export function feedForwardParams(D: number, F: number, gated: boolean, bias: boolean, names: [string, string, string]): ParamTensor[] {
  const [up, down, gate] = names;
  const p = [param(`${up}.weight`, [F, D], `F·D = ${F}·${D}`, fanInUniform(D))];
  if (bias) p.push(param(`${up}.bias`, [F], 'F', fanInUniform(D)));
  if (gated) {
    p.push(param(`${gate}.weight`, [F, D], `F·D = ${F}·${D}`, fanInUniform(D)));
    if (bias) p.push(param(`${gate}.bias`, [F], 'F', fanInUniform(D)));
  }
  p.push(param(`${down}.weight`, [D, F], `D·F = ${D}·${F}`, fanInUniform(F)));
  if (bias) p.push(param(`${down}.bias`, [D], 'D', fanInUniform(F)));
  return p;
}

const FeedForward: LayerSpec = {
  op: 'FeedForward',
  starting: { hiddenFeatures: 256 },
  category: 'Attention & Transformer',
  summary: 'Position-wise MLP: W₂·act(W₁x + b₁) + b₂ (ReLU, GELU or SwiGLU).',
  doc: "The Transformer's per-token MLP m = W₂·ReLU(W₁x + b₁) + b₂. SwiGLU (Llama) is W₂·(SiLU(W₁x) ⊙ W₃x), with a third matrix.",
  params: {
    hiddenFeatures: { type: 'int', label: 'Hidden features', help: 'Width F of the hidden layer (often 4·d).', min: 1, key: true },
    activation: { type: 'enum', label: 'Activation', help: 'Non-linearity between the two projections.', default: 'relu', values: ['relu', 'gelu', 'swiglu'], key: true },
    bias: BIAS,
    dropout: { type: 'float', label: 'Dropout', help: 'Dropout after the activation.', default: 0, min: 0, max: 0.999 },
  },
  inputs: [{ name: 'input', help: 'N×…×d.' }],
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = ctx.inputs[0] as TensorType;
    expectFloat(ctx, x);
    if (x.shape.length < 2) ctx.fail(`expects at least N×d, got ${formatShape(x.shape)}`);
    const D = knownDim(ctx, x.shape[x.shape.length - 1], 'model dimension d');
    const F = ctx.int('hiddenFeatures');
    const gated = ctx.str('activation') === 'swiglu';
    const names: [string, string, string] = gated ? ['w1', 'w2', 'w3'] : ['linear1', 'linear2', 'unused'];
    const rows = x.shape.slice(1, -1).reduce<number | null>((a, d) => mulOrNull(a, typeof d === 'number' ? d : null), 1);
    return { outputs: [x], params: feedForwardParams(D, F, gated, ctx.bool('bias'), names), macs: mulOrNull(rows, (gated ? 3 : 2) * D * F) };
  },
  lower(ctx: LowerContext) {
    const activation = ctx.str('activation');
    const names: [string, string, string] = activation === 'swiglu' ? ['w1', 'w2', 'w3'] : ['linear1', 'linear2', 'unused'];
    feedForward(ctx, ctx.inputs[0], ctx.inputTypes[0]!.shape.length, activation, ctx.bool('bias'), names, '', ctx.outputs[0]);
  },
};

/** The feed-forward block: down(act(up(x))), or down(SiLU(up(x)) ⊙ gate(x)) for SwiGLU. */
export function feedForward(ctx: LowerContext, x: string, rank: number, activationKind: string, bias: boolean, [up, down, gate]: [string, string, string], prefix: string, out?: string): string {
  const { b } = ctx;
  const lin = (input: string, name: string, o?: string) => linear(b, input, rank, ctx.weight(`${prefix}${name}.weight`), bias ? ctx.weight(`${prefix}${name}.bias`) : null, o);
  const hidden = activationKind === 'swiglu' ? b.op('Mul', [silu(b, lin(x, up)), lin(x, gate)]) : activation(b, activationKind, lin(x, up));
  return lin(hidden, down, out);
}

const TRANSFORMER_PARAMS: Record<string, ParamSchema> = {
  nhead: { type: 'int', label: 'Heads', help: 'Number of attention heads.', min: 1, key: true },
  dimFeedforward: { type: 'int', label: 'Feed-forward size', help: 'Hidden width of the feed-forward block.', default: 2048, min: 1, key: true },
  dropout: { type: 'float', label: 'Dropout', help: 'Dropout on attention weights and residual branches.', default: 0.1, min: 0, max: 0.999 },
  activation: { type: 'enum', label: 'Activation', help: 'Feed-forward non-linearity.', default: 'relu', values: ['relu', 'gelu'] },
  layerNormEps: { type: 'float', label: 'LayerNorm epsilon', help: 'Epsilon of the LayerNorms.', default: 1e-5, min: 0 },
  normFirst: { type: 'bool', label: 'Pre-norm', help: 'LayerNorm before each sub-block (pre-LN, as GPT-2) instead of after (post-LN, as the original paper).', default: false },
  bias: BIAS,
};

function transformerLayer(decoder: boolean): LayerSpec {
  const E2 = decoder ? '2·(4E² + 4E)' : '4E² + 4E';
  return {
    op: decoder ? 'TransformerDecoderLayer' : 'TransformerEncoderLayer',
    starting: { nhead: 4 },
    category: 'Attention & Transformer',
    summary: decoder ? 'Masked self-attention, cross-attention to memory, feed-forward.' : 'Self-attention and feed-forward, each with a residual and LayerNorm.',
    doc: `As torch.nn.${decoder ? 'TransformerDecoderLayer' : 'TransformerEncoderLayer'} with batch_first, plus normFirst for pre-LN. Parameters: ${E2} (attention) + 2EF + F + E (feed-forward) + ${decoder ? 6 : 4}E (LayerNorms). A decoder-only model (GPT) is a stack of encoder layers with a causal mask.`,
    params: { ...TRANSFORMER_PARAMS, causal: { ...MASKING.causal, default: decoder } },
    inputs: decoder
      ? [
          { name: 'tgt', help: 'Target sequence N×T×E.' },
          { name: 'memory', help: 'Encoder output N×S×E.' },
        ]
      : [{ name: 'src', help: 'Sequence N×T×E.' }],
    outputs: ONE_OUTPUT,
    infer(ctx: InferContext) {
      const x = ctx.inputs[0] as TensorType;
      sequence(ctx, x, decoder ? 'tgt' : 'src');
      const E = knownDim(ctx, x.shape[2], 'model dimension d_model');
      const heads = ctx.int('nhead');
      checkHeads(ctx, E, heads, heads, 'nhead');
      const F = ctx.int('dimFeedforward');
      const bias = ctx.bool('bias');
      const self: AttentionDims = { E, kdim: E, vdim: E, heads, kvHeads: heads, bias };
      const params = attentionParams(self, 'self_attn.');
      let macs = attentionMacs(self, x.shape[1], x.shape[1]);
      if (decoder) {
        const memory = ctx.inputs[1] as TensorType;
        sequence(ctx, memory, 'memory');
        if (memory.shape[2] !== E) ctx.fail(`memory width ${memory.shape[2]} must equal d_model ${E}`);
        params.push(...attentionParams(self, 'multihead_attn.'));
        macs = addOrNull(macs, attentionMacs(self, x.shape[1], memory.shape[1]));
      }
      params.push(...feedForwardParams(E, F, false, bias, ['linear1', 'linear2', 'unused']));
      for (let i = 1; i <= (decoder ? 3 : 2); i++) {
        params.push(param(`norm${i}.weight`, [E], 'E', ONES));
        if (bias) params.push(param(`norm${i}.bias`, [E], 'E', ZEROS));
      }
      const T = typeof x.shape[1] === 'number' ? x.shape[1] : null;
      const ffMacs = mulOrNull(T, 2 * E * F);
      return { outputs: [x], params, macs: addOrNull(macs, ffMacs) };
    },
    lower(ctx: LowerContext) {
      const { b } = ctx;
      const E = ctx.inputTypes[0]!.shape[2] as number;
      const heads = ctx.int('nhead');
      const bias = ctx.bool('bias');
      const dims: AttentionDims = { E, kdim: E, vdim: E, heads, kvHeads: heads, bias };
      const eps = { float: ctx.float('layerNormEps') };
      const norm = (x: string, i: number, out?: string) =>
        b.op('LayerNormalization', bias ? [x, ctx.weight(`norm${i}.weight`), ctx.weight(`norm${i}.bias`)] : [x, ctx.weight(`norm${i}.weight`)], { axis: -1, epsilon: eps }, out);
      const attend = (query: string, memory: string, prefix: string, causal: boolean) =>
        attention(b, {
          query,
          key: memory,
          value: memory,
          ...dims,
          ...attentionWeights(ctx, dims, prefix),
          causal,
          slidingWindow: null,
          rotary: false,
          cache: kvCache(ctx, dims, prefix, causal, prefix === 'multihead_attn.'),
        });
      const ff = (x: string) => feedForward(ctx, x, 3, ctx.str('activation'), bias, ['linear1', 'linear2', 'unused'], '');
      const memory = ctx.inputs[1];
      // Each sub-block is x + f(norm(x)) (pre-norm) or norm(x + f(x)) (post-norm, PyTorch's default).
      const blocks: ((x: string) => string)[] = [(x) => attend(x, x, 'self_attn.', ctx.bool('causal'))];
      if (decoder) blocks.push((x) => attend(x, memory, 'multihead_attn.', false));
      blocks.push(ff);
      let x = ctx.inputs[0];
      blocks.forEach((f, i) => {
        const last = i === blocks.length - 1 ? ctx.outputs[0] : undefined;
        x = ctx.bool('normFirst') ? b.op('Add', [x, f(norm(x, i + 1))], {}, last) : norm(b.op('Add', [x, f(x)]), i + 1, last);
      });
    },
  };
}

export const attentionLayers: LayerSpec[] = [MultiheadAttention, FeedForward, transformerLayer(false), transformerLayer(true)];
