/**
 * Text generation from a language model (decks 000 and 004), against the Engine interface so the CLI and
 * the app's Run panel share it: seeded sampling with temperature and top-k, by full recomputation (the
 * whole context through the model for every new token) or with a key/value cache (one decoder-step graph
 * per token, its caches carried inside the engine from step to step).
 */
import type { Engine, Session, Tensor } from '../engine/engine.ts';
import type { ModelDocument } from '../graph/types.ts';
import { Rng, type Weights } from '../graph/weights.ts';
import type { TensorType } from '../graph/dim.ts';
import { encodeModelBytes } from '../onnx/proto.ts';
import { compileModel, CompileError, type CompiledModel } from '../convert/compile.ts';
import { inferShapes } from '../shape/infer.ts';

export interface SamplingOptions {
  /** Tokens to generate. */
  length: number;
  /** Divides the scores before the softmax; 0 picks the most likely token. */
  temperature: number;
  /** Sample among the k most likely tokens only; null for all. */
  topK: number | null;
  seed: number;
  /** Only ids below this are sampled: the vocabulary's size, when the model predicts more (an untrained template). */
  vocabularySize?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Generate with a key/value cache (a decoder-step graph) instead of recomputing the whole context. */
  cache: boolean;
  /** Weights of the model; missing ones are initialised from `weightSeed`. */
  weights?: Weights;
  weightSeed?: number;
}

/** Layers a decoder step runs as they are: they treat every position alike and on its own. */
const POSITIONWISE = new Set([
  'Input',
  'Embedding',
  'Linear',
  'LayerNorm',
  'RMSNorm',
  'Add',
  'Mul',
  'Dropout',
  'Identity',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Sigmoid',
  'Tanh',
  'GELU',
  'SiLU',
  'FeedForward',
  'MixtureOfExperts',
  'Scale',
]);
/** Layers with a decoder step of their own: attention reads and writes its cache, positions start at the step's position. */
const STEPPED = new Set(['MultiheadAttention', 'TransformerEncoderLayer', 'PositionalEncoding', 'RotaryEmbedding']);

/** A language model's token input (int64 N×T) and its scores output (N×T×V). */
export interface LanguageModel {
  input: string;
  /** The input's length when fixed (char-lstm's 100), or null when symbolic. */
  length: number | null;
  output: string;
  vocabulary: number;
}

export function languageModel(doc: ModelDocument): LanguageModel {
  const inference = inferShapes(doc);
  const errors = inference.diagnostics().filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new CompileError(`the model has ${errors.length} error(s); run "netloom info" to see them`, errors);
  const inputs = inference.nodes().filter((r) => r.op === 'Input');
  const read = new Set(doc.edges.map((e) => e.from.split(':')[0]));
  const sinks = inference.nodes().filter((r) => !read.has(r.id) && r.op !== 'Input');
  const tokens = inputs.length === 1 ? inputs[0].outputs![0] : null;
  if (!tokens || tokens.dtype !== 'int64' || tokens.shape.length !== 2) throw new CompileError('generating needs a language model: one int64 input of token ids N×T');
  const scores: TensorType | undefined = sinks.length === 1 && sinks[0].outputs!.length >= 1 ? sinks[0].outputs![0] : undefined;
  if (!scores || scores.dtype !== 'float32' || scores.shape.length !== 3 || typeof scores.shape[2] !== 'number') {
    throw new CompileError(`generating needs one output of token scores N×T×V; this model gives ${sinks.map((s) => `${s.id} ${s.outputs?.[0]?.shape.join('×')}`).join(', ')}`);
  }
  return { input: inputs[0].id, length: typeof tokens.shape[1] === 'number' ? tokens.shape[1] : null, output: sinks[0].id, vocabulary: scores.shape[2] };
}

/**
 * The decoder-step graph: the model with its token input cut to one token, a `position` input, and each
 * causal attention's keys and values as a cache input and output (N×kvHeads×capacity×headDim). With
 * capacity = a sliding window the cache is a rolling buffer (position i in slot i mod capacity).
 */
export function decoderStep(doc: ModelDocument, capacity: number, weights?: Weights, seed = 0): CompiledModel {
  const lm = languageModel(doc);
  const stepless = steplessLayer(doc);
  if (stepless) throw new CompileError(stepless);
  const stepDoc: ModelDocument = { ...doc, nodes: doc.nodes.map((n) => (n.id === lm.input ? { ...n, params: { ...n.params, shape: [1] } } : n)) };
  return compileModel(stepDoc, { weights, seed, decode: { capacity } });
}

/** Why a layer of the model cannot run one position at a time, or null. */
function steplessLayer(doc: ModelDocument): string | null {
  const n = doc.nodes.find((m) => !POSITIONWISE.has(m.op) && !STEPPED.has(m.op));
  return n ? `${n.id} (${n.op}) has no decoder step (it mixes positions without a cache); generate without the cache` : null;
}

/** Why generating `total` positions (prompt and new tokens) cannot use the key/value cache, or null when it can. */
export function cacheProblem(doc: ModelDocument, total: number): string | null {
  const limit = contextLimit(doc, languageModel(doc));
  if (limit !== null && total > limit) return `the model reads at most ${limit} positions: with the cache, prompt + length (${total}) must not exceed that (without it, the context slides)`;
  return steplessLayer(doc);
}

/** The smallest sliding window of the model's attention layers when all have one (the rolling buffer's size), else null. */
export function slidingWindowOf(doc: ModelDocument): number | null {
  const attention = doc.nodes.filter((n) => n.op === 'MultiheadAttention' || n.op === 'TransformerEncoderLayer');
  const windows = attention.map((n) => (typeof n.params.slidingWindow === 'number' ? n.params.slidingWindow : null));
  return windows.length > 0 && windows.every((w) => w !== null) ? Math.min(...(windows as number[])) : null;
}

/** The most tokens the model reads at once: its fixed input length, and the rows of its learned position tables; null when unlimited. */
export function contextLimit(doc: ModelDocument, lm: LanguageModel): number | null {
  const tables = doc.nodes.filter((n) => n.op === 'PositionalEncoding' && n.params.kind === 'learned').map((n) => (typeof n.params.maxLen === 'number' ? n.params.maxLen : 5000));
  const limits = [...(lm.length === null ? [] : [lm.length]), ...tables];
  return limits.length > 0 ? Math.min(...limits) : null;
}

/** One token from the scores: argmax at temperature 0, else a seeded draw from softmax(scores/T) over the top k. */
export function sampleToken(scores: Float32Array, options: SamplingOptions, rng: Rng): number {
  const V = Math.min(scores.length, options.vocabularySize ?? scores.length);
  let order = Array.from({ length: V }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  if (options.temperature === 0) return order[0];
  if (options.topK !== null) order = order.slice(0, options.topK);
  const top = scores[order[0]];
  const weights = order.map((i) => Math.exp((scores[i] - top) / options.temperature));
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < order.length; k++) {
    u -= weights[k];
    if (u < 0) return order[k];
  }
  return order[order.length - 1];
}

const ids = (tokens: number[]): Tensor => ({ dtype: 'int64', dims: [1, tokens.length], data: BigInt64Array.from(tokens.map(BigInt)) });

/** Generates `options.length` tokens after `prompt`; returns them (not the prompt). The same seed gives the same tokens. */
export async function generate(engine: Engine, doc: ModelDocument, prompt: number[], options: GenerateOptions): Promise<number[]> {
  if (prompt.length === 0) throw new CompileError('generating needs a prompt of at least one token');
  const lm = languageModel(doc);
  const rng = new Rng(options.seed);
  const out: number[] = [];
  const total = prompt.length + options.length;
  const limit = contextLimit(doc, lm);
  let session: Session | null = null;
  try {
    if (!options.cache) {
      const compiled = compileModel(doc, { weights: options.weights, seed: options.weightSeed });
      session = await engine.createSession(encodeModelBytes(compiled.model));
      const scoresName = compiled.outputs[0].name;
      const context = [...prompt];
      for (let i = 0; i < options.length; i++) {
        // The context slides over the last `limit` tokens; a fixed-length input is padded on the right (a causal model never reads the padding).
        const window = limit === null ? context : context.slice(-limit);
        const fed = lm.length === null ? window : [...window, ...new Array(lm.length - window.length).fill(0)];
        const result = await session.run({ [compiled.inputs[0].name]: ids(fed) }, [scoresName]);
        const scores = (result[scoresName].data as Float32Array).subarray((window.length - 1) * lm.vocabulary, window.length * lm.vocabulary);
        const next = sampleToken(scores, options, rng);
        context.push(next);
        out.push(next);
      }
      return out;
    }
    const problem = cacheProblem(doc, total);
    if (problem) throw new CompileError(problem);
    const capacity = slidingWindowOf(doc) ?? total;
    const step = decoderStep(doc, capacity, options.weights, options.weightSeed);
    session = await engine.createSession(encodeModelBytes(step.model));
    const zeros = (t: TensorType): Tensor => {
      const dims = t.shape.map((d) => (typeof d === 'number' ? d : 1));
      return { dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) };
    };
    await session.carry(Object.fromEntries(step.caches.map((c) => [c.input, zeros(c.type)])), Object.fromEntries(step.caches.map((c) => [c.input, c.output])));
    const scoresName = step.outputs[0].name;
    let token = prompt[0];
    for (let position = 0; position < total - 1; position++) {
      const result = await session.run({ [step.inputs[0].name]: ids([token]), position: { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(position)) } }, [scoresName]);
      if (position + 1 < prompt.length) {
        token = prompt[position + 1];
        continue;
      }
      token = sampleToken(result[scoresName].data as Float32Array, options, rng);
      out.push(token);
    }
    return out;
  } finally {
    await session?.release();
  }
}
