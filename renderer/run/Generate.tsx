/**
 * Text generation in the Run panel, for language models (token ids in, scores per token out): a prompt,
 * the vocabulary's text (the shipped sonnets or a person's .txt), and the sampling settings; the same seed
 * gives the same text. Attention models sample with the key/value cache where they can (as `netloom
 * generate` does), others recompute the context.
 */
import { useMemo, useState } from 'react';
import { buildVocabulary, decode, describeVocabulary, encode, type TextLevel } from '../../core/data/text.ts';
import type { ModelDocument } from '../../core/graph/types.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { cacheProblem, generate, type LanguageModel } from '../../core/train/generate.ts';
import sonnets from '../../assets/text/sonnets.txt?raw';
import { coreEngine } from './engine.ts';

export function Generate({ doc, lm, weights }: { doc: ModelDocument; lm: LanguageModel; weights: Weights | undefined }) {
  const [prompt, setPrompt] = useState('Shall I');
  const [length, setLength] = useState('80');
  const [temperature, setTemperature] = useState('1');
  const [topK, setTopK] = useState('');
  const [seed, setSeed] = useState('0');
  const [level, setLevel] = useState<TextLevel>('char');
  const [text, setText] = useState<{ name: string; content: string }>({ name: 'the shipped sonnets', content: sonnets });
  const [busy, setBusy] = useState(false);
  const [output, setOutput] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const vocabulary = useMemo(() => buildVocabulary(text.content, level), [text, level]);

  async function run() {
    setBusy(true);
    setError(null);
    try {
      if (vocabulary.tokens.length > lm.vocabulary) throw new Error(`the model predicts ${lm.vocabulary} tokens but the vocabulary of ${text.name} has ${vocabulary.tokens.length}`);
      const ids = encode(vocabulary, prompt);
      const n = Number(length);
      if (!Number.isInteger(n) || n < 1 || n > 10000) throw new Error('Length must be a whole number from 1 to 10,000');
      const t = Number(temperature);
      if (!Number.isFinite(t) || t < 0) throw new Error('Temperature must be a number of at least 0');
      const k = topK.trim() === '' ? null : Number(topK);
      if (k !== null && (!Number.isInteger(k) || k < 1)) throw new Error('Top-k must be empty (all tokens) or a whole number of at least 1');
      const cache = cacheProblem(doc, ids.length + n) === null;
      const tokens = await generate(coreEngine(), doc, ids, { length: n, temperature: t, topK: k, seed: Number(seed) || 0, vocabularySize: vocabulary.tokens.length, weights, cache });
      setOutput(decode(vocabulary, [...ids, ...tokens]));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="generate" aria-label="Generate text">
      <div className="run-controls">
        <label className="field-inline">
          Prompt
          <input aria-label="Prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <label className="field-inline">
          Length
          <input aria-label="Length" type="number" min={1} value={length} onChange={(e) => setLength(e.target.value)} />
        </label>
        <label className="field-inline">
          Temperature
          <input aria-label="Temperature" type="number" min={0} step={0.1} value={temperature} onChange={(e) => setTemperature(e.target.value)} />
        </label>
        <label className="field-inline">
          Top-k
          <input aria-label="Top-k" type="number" min={1} placeholder="all" value={topK} onChange={(e) => setTopK(e.target.value)} />
        </label>
        <label className="field-inline">
          Seed
          <input aria-label="Generation seed" type="number" value={seed} onChange={(e) => setSeed(e.target.value)} />
        </label>
        <label className="field-inline">
          Level
          <select aria-label="Vocabulary level" value={level} onChange={(e) => setLevel(e.target.value as TextLevel)}>
            <option value="char">characters</option>
            <option value="word">words</option>
          </select>
        </label>
        <label className="field-inline">
          Vocabulary from
          <input
            aria-label="Vocabulary text file"
            type="file"
            accept=".txt,text/plain"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void file.text().then((content) => setText({ name: file.name, content }));
            }}
          />
        </label>
        <button type="button" onClick={() => void run()} disabled={busy}>
          {busy ? 'Generating…' : 'Generate'}
        </button>
      </div>
      <p className="muted">
        Vocabulary: {describeVocabulary(vocabulary)} ({text.name}).
      </p>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {output !== null && (
        <output className="generated" aria-label="Generated text">
          {output}
        </output>
      )}
    </section>
  );
}
