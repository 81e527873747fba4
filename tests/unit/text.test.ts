/** Text as data: the vocabulary (characters or words), token ids and next-token pairs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DatasetError } from '../../core/data/dataset.ts';
import { buildVocabulary, decode, describeVocabulary, encode, textDataset, textTrainingSet, withSequenceLength } from '../../core/data/text.ts';
import { doc, node } from './helpers.ts';

test('a character vocabulary holds every distinct character in code-point order, and round-trips', () => {
  const v = buildVocabulary('hello, world\n', 'char');
  assert.deepEqual(v.tokens, ['\n', ' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
  assert.equal(describeVocabulary(v), '10 characters: \\n ,dehlorw');
  assert.equal(decode(v, encode(v, 'hello')), 'hello');
  assert.throws(
    () => encode(v, 'help'),
    (e: unknown) => e instanceof DatasetError && /character "p" is not in the vocabulary of 10 characters/.test(e.message),
  );
});

test('a word vocabulary splits at white space; next-token pairs are windows one token apart', () => {
  const text = 'the cat sat on the mat the end';
  const v = buildVocabulary(text, 'word');
  assert.deepEqual(v.tokens, ['cat', 'end', 'mat', 'on', 'sat', 'the']);
  const ds = textDataset('t.txt', v, text, 3);
  assert.equal(ds.size, 2, '8 words give two windows of 3 with their next word');
  assert.deepEqual([...ds.x.data].map(Number), encode(v, 'the cat sat on the mat'));
  assert.deepEqual([...ds.y.data].map(Number), encode(v, 'cat sat on the mat the'));
  assert.equal(decode(v, [5, 0]), 'the cat');
  assert.throws(() => textDataset('t.txt', v, text, 8), /t\.txt has 8 tokens: too few for one sequence of 8 and its next token/);
  assert.throws(() => buildVocabulary(' \n ', 'word'), /the text is empty/);
});

test('a text for a model: sequences as long as its token input, or the chosen length where that is symbolic (then fixed in the document)', () => {
  const text = 'abcabcabcabca';
  const fixed = textTrainingSet('t.txt', text, 'char', { shape: ['N', 4], dtype: 'int64' }, 64);
  assert.equal(fixed.length, 4);
  assert.equal(fixed.dataset.size, 3, '13 characters give three windows of 4 with their next character');
  assert.equal(fixed.vocabulary.tokens.length, 3);
  const symbolic = textTrainingSet('t.txt', text, 'char', { shape: ['N', 'T'], dtype: 'int64' }, 6);
  assert.deepEqual([symbolic.length, symbolic.dataset.size], [6, 2]);
  const model = doc([node('tokens', 'Input', { shape: ['T'], dtype: 'int64' }), node('embed', 'Embedding', { numEmbeddings: 3, embeddingDim: 2 })], [['tokens', 'embed']]);
  assert.deepEqual(withSequenceLength(model, 6).nodes[0].params, { shape: [6], dtype: 'int64' });
  assert.equal(withSequenceLength(model, 6).nodes[1], model.nodes[1]);
});
