/**
 * Generation on ONNX Runtime: a decoder-step graph with a key/value cache (a rolling buffer under a sliding
 * window) gives exactly the tokens that recomputing the whole context gives, and a seed fixes the text.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelDocument } from '../../core/index.ts';
import { decoderStep, generate, type GenerateOptions } from '../../core/train/generate.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { doc, node } from '../unit/helpers.ts';

const V = 20;

/** A small GPT: token and learned (or sinusoidal) positions, causal encoder layers, a final LayerNorm and the head. */
function gpt(positions: 'learned' | 'sinusoidal'): ModelDocument {
  return doc(
    [
      node('tokens', 'Input', { shape: ['T'], dtype: 'int64' }),
      node('emb', 'Embedding', { numEmbeddings: V, embeddingDim: 16 }),
      node('pos', 'PositionalEncoding', { kind: positions, maxLen: 32 }),
      node('block1', 'TransformerEncoderLayer', { nhead: 2, dimFeedforward: 32, dropout: 0, causal: true, normFirst: true }),
      node('block2', 'TransformerEncoderLayer', { nhead: 2, dimFeedforward: 32, dropout: 0, causal: true }),
      node('norm', 'LayerNorm'),
      node('head', 'Linear', { outFeatures: V }),
    ],
    [
      ['tokens', 'emb'],
      ['emb', 'pos'],
      ['pos', 'block1'],
      ['block1', 'block2'],
      ['block2', 'norm'],
      ['norm', 'head'],
    ],
  );
}

/** Mistral in miniature: rotary GQA attention over a sliding window of 3 (a rolling buffer of 3 slots), RMSNorm, SwiGLU. */
function mistral(): ModelDocument {
  return doc(
    [
      node('tokens', 'Input', { shape: ['T'], dtype: 'int64' }),
      node('emb', 'Embedding', { numEmbeddings: V, embeddingDim: 16 }),
      node('norm1', 'RMSNorm'),
      node('attn', 'MultiheadAttention', { numHeads: 4, numKeyValueHeads: 2, bias: false, rotary: true, causal: true, slidingWindow: 3 }),
      node('res1', 'Add'),
      node('norm2', 'RMSNorm'),
      node('ffn', 'MixtureOfExperts', { numExperts: 3, topK: 2, hiddenFeatures: 24 }),
      node('res2', 'Add'),
      node('head', 'Linear', { outFeatures: V, bias: false }),
    ],
    [
      ['tokens', 'emb'],
      ['emb', 'norm1'],
      ['norm1', 'attn'],
      ['emb', 'res1'],
      ['attn', 'res1'],
      ['res1', 'norm2'],
      ['norm2', 'ffn'],
      ['res1', 'res2'],
      ['ffn', 'res2'],
      ['res2', 'head'],
    ],
  );
}

const sampling: Omit<GenerateOptions, 'cache'> = { length: 14, temperature: 1.5, topK: 8, seed: 7, weightSeed: 3 };

describe('generation', () => {
  for (const [name, model] of [
    ['GPT, learned positions', gpt('learned')],
    ['GPT, sinusoidal positions', gpt('sinusoidal')],
    ['Mistral-like, sliding window 3', mistral()],
  ] as const) {
    test(`${name}: the KV cache gives exactly the tokens of full recomputation, sampled and greedy`, async () => {
      const engine = new NodeEngine();
      for (const options of [sampling, { ...sampling, temperature: 0, topK: null }]) {
        const full = await generate(engine, model, [1, 2, 3], { ...options, cache: false });
        const cached = await generate(engine, model, [1, 2, 3], { ...options, cache: true });
        assert.equal(full.length, 14);
        assert.deepEqual(cached, full);
      }
      await engine.dispose();
    });
  }

  test('the same seed gives the same tokens; another seed other tokens', async () => {
    const engine = new NodeEngine();
    const run = (seed: number) => generate(engine, gpt('learned'), [4], { ...sampling, length: 24, seed, cache: true });
    assert.deepEqual(await run(11), await run(11));
    assert.notDeepEqual(await run(11), await run(12));
    await engine.dispose();
  });

  test('a sliding window makes the cache a rolling buffer of w slots; otherwise it holds the whole sequence', () => {
    const rolling = decoderStep(mistral(), 3);
    assert.deepEqual(
      rolling.caches.map((c) => [c.input, c.type.shape]),
      [
        ['cache/attn/keys', ['N', 2, 3, 4]],
        ['cache/attn/values', ['N', 2, 3, 4]],
      ],
    );
    assert.deepEqual(
      rolling.caches.map((c) => c.output),
      ['next/cache/attn/keys', 'next/cache/attn/values'],
    );
    assert.equal(decoderStep(gpt('learned'), 17).caches.length, 4, 'two layers, keys and values each');
  });

  test('past the learned positions (32), recomputation slides the context while the cache refuses in words', async () => {
    const engine = new NodeEngine();
    assert.equal((await generate(engine, gpt('learned'), [1, 2, 3], { ...sampling, length: 40, cache: false })).length, 40);
    await assert.rejects(
      generate(engine, gpt('learned'), [1, 2, 3], { ...sampling, length: 40, cache: true }),
      /reads at most 32 positions: with the cache, prompt \+ length \(43\) must not exceed that/,
    );
    await engine.dispose();
  });

  test('a layer that mixes positions without a cache is refused by name', () => {
    const lstm = doc(
      [
        node('tokens', 'Input', { shape: [10], dtype: 'int64' }),
        node('emb', 'Embedding', { numEmbeddings: V, embeddingDim: 8 }),
        node('lstm', 'LSTM', { hiddenSize: 8 }),
        node('head', 'Linear', { outFeatures: V }),
      ],
      [
        ['tokens', 'emb'],
        ['emb', 'lstm'],
        ['lstm:output', 'head'],
      ],
    );
    assert.throws(() => decoderStep(lstm, 10), /lstm \(LSTM\) has no decoder step/);
  });
});
