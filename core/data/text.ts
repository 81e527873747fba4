/**
 * Text as a dataset for language models (decks 000 and 004): a vocabulary of characters or words built
 * from the text itself, token ids, and next-token training pairs.
 */
import type { TensorType } from '../graph/dim.ts';
import type { ModelDocument, ModelNode } from '../graph/types.ts';
import { DatasetError, type Dataset } from './dataset.ts';

export type TextLevel = 'char' | 'word';

export interface Vocabulary {
  level: TextLevel;
  /** Token id i is tokens[i]: the text's distinct characters or words, in code-point order. */
  tokens: string[];
}

/** Characters, or words split at white space (punctuation stays on its word). */
function split(text: string, level: TextLevel): string[] {
  return level === 'char' ? Array.from(text) : text.split(/\s+/).filter((w) => w.length > 0);
}

export function buildVocabulary(text: string, level: TextLevel): Vocabulary {
  const tokens = [...new Set(split(text, level))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (tokens.length === 0) throw new DatasetError('the text is empty: there is nothing to build a vocabulary from');
  return { level, tokens };
}

/** Token ids of `text`; a token the vocabulary lacks is an error that names it. */
export function encode(vocabulary: Vocabulary, text: string): number[] {
  const index = new Map(vocabulary.tokens.map((t, i) => [t, i]));
  return split(text, vocabulary.level).map((t) => {
    const id = index.get(t);
    if (id === undefined)
      throw new DatasetError(
        `${vocabulary.level === 'char' ? 'character' : 'word'} ${JSON.stringify(t)} is not in the vocabulary of ${vocabulary.tokens.length} ${vocabulary.level === 'char' ? 'characters' : 'words'}`,
      );
    return id;
  });
}

export function decode(vocabulary: Vocabulary, ids: number[]): string {
  return ids.map((id) => vocabulary.tokens[id] ?? `⟨${id}⟩`).join(vocabulary.level === 'char' ? '' : ' ');
}

/** The vocabulary in one line, as a person checks it: size and (for characters) every symbol, escaped. */
export function describeVocabulary(v: Vocabulary): string {
  const shown = v.level === 'char' ? v.tokens.map((t) => JSON.stringify(t).slice(1, -1)).join('') : v.tokens.slice(0, 20).join(' ') + (v.tokens.length > 20 ? ' …' : '');
  return `${v.tokens.length} ${v.level === 'char' ? 'characters' : 'words'}: ${shown}`;
}

/**
 * Next-token pairs: x is `length` consecutive ids, y the same window one token later, taken every `length`
 * tokens (non-overlapping windows). Both int64.
 */
export function textDataset(name: string, vocabulary: Vocabulary, text: string, length: number): Dataset {
  const ids = encode(vocabulary, text);
  const count = Math.floor((ids.length - 1) / length);
  if (count < 1) throw new DatasetError(`${name} has ${ids.length} tokens: too few for one sequence of ${length} and its next token`);
  const x = new BigInt64Array(count * length);
  const y = new BigInt64Array(count * length);
  for (let s = 0; s < count; s++) {
    for (let t = 0; t < length; t++) {
      x[s * length + t] = BigInt(ids[s * length + t]);
      y[s * length + t] = BigInt(ids[s * length + t + 1]);
    }
  }
  return { name, size: count, x: { dims: [length], dtype: 'int64', data: x }, y: { dims: [length], dtype: 'int64', data: y }, classes: vocabulary.tokens.length };
}

/** The document with a symbolic token-sequence length (["T"]) fixed to `length` for training on text, so every size in the step graph is known. */
export function withSequenceLength(doc: ModelDocument, length: number): ModelDocument {
  const symbolic = (n: ModelNode) => n.op === 'Input' && n.params.dtype === 'int64' && Array.isArray(n.params.shape) && n.params.shape.length === 1 && typeof n.params.shape[0] === 'string';
  return { ...doc, nodes: doc.nodes.map((n) => (symbolic(n) ? { ...n, params: { ...n.params, shape: [length] } } : n)) };
}

/**
 * A text as next-token pairs for a model whose token input is `input` (N×T): sequences as long as its T,
 * or `length` where T is symbolic (the document is then trained through withSequenceLength).
 */
export function textTrainingSet(name: string, text: string, level: TextLevel, input: TensorType, length: number): { dataset: Dataset; vocabulary: Vocabulary; length: number } {
  const vocabulary = buildVocabulary(text, level);
  const fixed = input.shape[1];
  const sequence = typeof fixed === 'number' ? fixed : length;
  return { dataset: textDataset(name, vocabulary, text, sequence), vocabulary, length: sequence };
}
