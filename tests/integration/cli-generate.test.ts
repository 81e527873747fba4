/** netloom generate and netloom train --text, as a person runs them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { doc, node } from '../unit/helpers.ts';

const BIN = new URL('../../bin/netloom.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'netloom-generate-'));
const netloom = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: dir });
const ok = (r: ReturnType<typeof netloom>) => assert.equal(r.status, 0, r.stderr);

test('generate samples the char-GPT template: the same seed gives the same text, with or without the KV cache', () => {
  const args = ['generate', '--template', 'char-gpt', '--prompt', 'Love is', '--length', '30', '--top-k', '5', '--temperature', '1.2'];
  const a = netloom(...args, '--seed', '4');
  ok(a);
  assert.match(a.stdout, /^Love is.{30}\n$/s);
  assert.match(a.stderr, /vocabulary \(.*sonnets\.txt, char level\): 53 characters: \\n !',-\.:;\?ABC/);
  assert.equal(netloom(...args, '--seed', '4').stdout, a.stdout);
  assert.equal(netloom(...args, '--seed', '4', '--no-cache').stdout, a.stdout);
});

test('generate runs the char-LSTM template by recomputation (another seed, other text), and refuses a prompt outside the vocabulary in one line', () => {
  const r = netloom('generate', '--template', 'char-lstm', '--prompt', 'Shall', '--length', '10', '--seed', '1');
  ok(r);
  assert.match(r.stdout, /^Shall.{10}\n$/s);
  assert.notEqual(netloom('generate', '--template', 'char-lstm', '--prompt', 'Shall', '--length', '10', '--seed', '2').stdout, r.stdout);
  const bad = netloom('generate', '--template', 'char-lstm', '--prompt', 'Zebra');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^netloom: --prompt: character "Z" is not in the vocabulary of 53 characters built from .*sonnets\.txt\n$/);
});

test("train --text trains a language model on a person's text at word level, showing the vocabulary", () => {
  writeFileSync(join(dir, 'mine.txt'), 'the cat sat on the mat and the dog sat on the log '.repeat(8));
  const model = doc(
    [
      node('words', 'Input', { shape: ['T'], dtype: 'int64' }),
      node('emb', 'Embedding', { numEmbeddings: 12, embeddingDim: 8 }),
      node('attn', 'MultiheadAttention', { numHeads: 2, causal: true }),
      node('head', 'Linear', { outFeatures: 12 }),
    ],
    [
      ['words', 'emb'],
      ['emb', 'attn'],
      ['attn', 'head'],
    ],
  );
  writeFileSync(join(dir, 'lm.json'), JSON.stringify(model));
  const r = netloom(
    'train',
    'lm.json',
    '--text',
    'mine.txt',
    '--level',
    'word',
    '--seq-len',
    '8',
    '--epochs',
    '2',
    '--batch-size',
    '4',
    '--optimizer',
    'adam',
    '--loss',
    'cross-entropy',
    '-o',
    'trained.json',
    '--json',
  );
  ok(r);
  assert.match(r.stderr, /vocabulary \(mine\.txt, word level\): 8 words: and cat dog log mat on sat the/);
  const epochs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.event === 'epoch');
  assert.equal(epochs.length, 2);
  const g = netloom('generate', 'trained.json', '--text', 'mine.txt', '--level', 'word', '--prompt', 'the cat', '--length', '4', '--temperature', '0');
  ok(g);
  assert.match(g.stdout, /^the cat( (and|cat|dog|log|mat|on|sat|the)){4}\n$/);
});
