/** Embeddings and positions: Embedding, PositionalEncoding, RotaryEmbedding. */
import { dimOf, rope, ropeTables } from '../onnx/lowering.ts';
import type { InferContext, LayerSpec, LowerContext } from './spec.ts';
import { ONE_OUTPUT, normalInit, expectFloat, expectRank, knownDim, only, param, tensor } from './common.ts';

const Embedding: LayerSpec = {
  op: 'Embedding',
  starting: { numEmbeddings: 1000, embeddingDim: 64 },
  category: 'Embedding',
  summary: 'Looks up a learned vector for each token id.',
  doc: 'A table of numEmbeddings vectors of size embeddingDim; each integer id in the input selects one row. Parameters: numEmbeddings·embeddingDim.',
  params: {
    numEmbeddings: { type: 'int', label: 'Vocabulary size', help: 'Number of distinct ids (rows of the table).', min: 1, key: true },
    embeddingDim: { type: 'int', label: 'Embedding dim', help: 'Size of each vector.', min: 1, key: true },
    paddingIdx: { type: 'int', label: 'Padding index', help: 'An id whose vector stays zero and gets no gradient.', default: null, nullable: true },
    tiedTo: { type: 'nodeRef', label: 'Tied to', help: 'Share the table of this Embedding (source and target sharing one vocabulary, as in Vaswani et al.).', default: null, nullable: true },
  },
  inputs: [{ name: 'input', help: 'Integer token ids.', dtype: 'int64' }],
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    if (x.dtype !== 'int64') ctx.fail(`expects integer ids (int64), got ${x.dtype}`, { suggestion: 'Set the Input dtype to int64.' });
    const V = ctx.int('numEmbeddings');
    const D = ctx.int('embeddingDim');
    const pad = ctx.maybeInt('paddingIdx');
    if (pad !== null && (pad >= V || pad < -V)) ctx.fail(`paddingIdx ${pad} is outside the vocabulary of ${V}`, { field: 'paddingIdx' });
    ctx.formula(() => `out shape = input shape × embeddingDim = [${x.shape.join(', ')}, ${D}]`);
    const weight = param('weight', [V, D], `V·D = ${V}·${D}`, normalInit(1));
    const tiedTo = ctx.params.tiedTo as string | null;
    if (tiedTo !== null) {
      const other = ctx.paramsOf(tiedTo)?.find((p) => p.name === 'weight');
      if (!other || other.shape.join() !== weight.shape.join()) ctx.fail(`cannot tie to "${tiedTo}": it needs a ${V}×${D} table${other ? `, not ${other.shape.join('×')}` : ''}`, { field: 'tiedTo' });
      weight.tiedTo = tiedTo;
      weight.formula = `shared with ${tiedTo}.weight (counted there)`;
    }
    return { outputs: [tensor([...x.shape, D])], params: [weight], macs: 0 };
  },
  lower(ctx: LowerContext) {
    ctx.b.op('Gather', [ctx.weight('weight'), ctx.inputs[0]], { axis: 0 }, ctx.outputs[0]);
  },
};

const PositionalEncoding: LayerSpec = {
  op: 'PositionalEncoding',
  category: 'Embedding',
  summary: 'Adds position vectors pᵢ to each token (sinusoidal or learned).',
  doc: 'x_i + p_i for each position i. Sinusoidal: p(i, 2k) = sin(i/10000^(2k/d)), p(i, 2k+1) = cos(i/10000^(2k/d)), no parameters. Learned: a maxLen×d table of parameters (T×d, as the course says).',
  params: {
    kind: { type: 'enum', label: 'Kind', help: 'Fixed sinusoids, or a learned table.', default: 'sinusoidal', values: ['sinusoidal', 'learned'], key: true },
    maxLen: { type: 'int', label: 'Max length', help: 'Longest sequence supported.', default: 5000, min: 1 },
    dropout: { type: 'float', label: 'Dropout', help: 'Dropout applied after adding positions.', default: 0, min: 0, max: 0.999 },
  },
  inputs: [{ name: 'input', help: 'Token vectors N×T×d.' }],
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    expectRank(ctx, x, [3], 'N×T×d');
    const T = x.shape[1];
    const D = knownDim(ctx, x.shape[2], 'model dimension d');
    const maxLen = ctx.int('maxLen');
    if (typeof T === 'number' && T > maxLen) ctx.fail(`the sequence length ${T} exceeds maxLen ${maxLen}`, { field: 'maxLen', suggestion: `Set maxLen to at least ${T}.` });
    if (ctx.str('kind') === 'sinusoidal') {
      if (D % 2 !== 0) ctx.fail(`sinusoidal positions need an even d, got ${D}`);
      return { outputs: [x], macs: 0 };
    }
    return { outputs: [x], params: [param('weight', [maxLen, D], `maxLen·d = ${maxLen}·${D}`, normalInit(1))], macs: 0 };
  },
  lower(ctx: LowerContext) {
    const b = ctx.b;
    const x = ctx.inputs[0];
    const D = ctx.inputTypes[0]!.shape[2] as number;
    let table: string;
    // A decoder step's one token sits at ctx.decode.position; a whole sequence starts at 0.
    const start = ctx.decode?.position;
    if (ctx.str('kind') === 'learned') {
      const first = start ? b.unsqueeze(start, [0]) : b.ints([0]);
      table = b.op('Slice', [ctx.weight('weight'), first, start ? b.op('Add', [first, dimOf(b, x, 1)]) : dimOf(b, x, 1), b.ints([0])]);
    } else {
      // p(i, 2k) = sin(i·θₖ), p(i, 2k+1) = cos(i·θₖ), θₖ = 10000^(−2k/d), interleaved.
      const { cos, sin } = ropeTables(b, x, 1, D, 10000, start);
      table = b.reshape(b.op('Concat', [b.unsqueeze(sin, [2]), b.unsqueeze(cos, [2])], { axis: 2 }), [-1, D]);
    }
    b.op('Add', [x, table], {}, ctx.outputs[0]);
  },
};

const RotaryEmbedding: LayerSpec = {
  op: 'RotaryEmbedding',
  category: 'Embedding',
  summary: 'Rotates pairs of features by a position-dependent angle (RoPE).',
  doc: 'Rotates each pair (x₂ₖ, x₂ₖ₊₁) within every head by the angle i·θₖ, θₖ = base^(−2k/headDim), so dot products depend on relative position. No parameters. MultiheadAttention can apply it to queries and keys itself (rotary: true).',
  params: {
    headDim: { type: 'int', label: 'Head dim', help: 'Size of each head; defaults to the whole last dimension.', default: null, nullable: true, min: 2 },
    base: { type: 'float', label: 'Base', help: 'Frequency base θ.', default: 10000, min: 1 },
  },
  inputs: [{ name: 'input', help: 'N×T×d, or N×heads×T×headDim.' }],
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    expectRank(ctx, x, [3, 4], 'N×T×d or N×H×T×d');
    const D = knownDim(ctx, x.shape[x.shape.length - 1], 'feature size');
    const head = ctx.maybeInt('headDim') ?? D;
    if (head % 2 !== 0) ctx.fail(`the head dimension must be even, got ${head}`, { field: 'headDim' });
    if (D % head !== 0) ctx.fail(`feature size ${D} is not a multiple of headDim ${head}`, { field: 'headDim' });
    return { outputs: [x], macs: 0 };
  },
  lower(ctx: LowerContext) {
    const shape = ctx.inputTypes[0]!.shape;
    const D = shape[shape.length - 1] as number;
    rope(ctx.b, ctx.inputs[0], shape.length, D, ctx.maybeInt('headDim') ?? D, ctx.float('base'), ctx.outputs[0], ctx.decode?.position);
  },
};

export const embeddingLayers: LayerSpec[] = [Embedding, PositionalEncoding, RotaryEmbedding];
