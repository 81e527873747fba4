import { join } from 'node:path';
import { DatasetError } from '../../core/data/dataset.ts';
import { buildVocabulary, decode, describeVocabulary, encode, type TextLevel } from '../../core/data/text.ts';
import { CompileError } from '../../core/convert/compile.ts';
import { EngineError } from '../../core/engine/engine.ts';
import { cacheProblem, generate, languageModel } from '../../core/train/generate.ts';
import { NodeEngine } from '../../engines/node/engine.ts';
import { intOption, parse } from '../args.ts';
import { readText, TEXT_DIR, UsageError, UserError } from '../files.ts';
import { compileFailure, loadModelOrTemplate } from '../models.ts';

export const SHIPPED_TEXT = join(TEXT_DIR, 'sonnets.txt');

export async function generateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    template: { type: 'string' },
    prompt: { type: 'string' },
    length: { type: 'string' },
    temperature: { type: 'string' },
    'top-k': { type: 'string' },
    seed: { type: 'string' },
    text: { type: 'string' },
    level: { type: 'string' },
    'no-cache': { type: 'boolean' },
  });
  if (positionals.length > 1 || (positionals.length === 1) === (values.template !== undefined)) throw new UsageError('generate takes one model file (.json or .onnx), or --template <id>');
  const level = (values.level ?? 'char') as TextLevel;
  if (level !== 'char' && level !== 'word') throw new UsageError(`--level must be char or word, got "${values.level}"`);
  const temperature = values.temperature === undefined ? 1 : Number(values.temperature);
  if (!Number.isFinite(temperature) || temperature < 0) throw new UsageError(`--temperature must be a number of at least 0, got "${values.temperature}"`);
  const length = intOption(values.length, 'length', 1, 100000, 200);
  const topK = values['top-k'] === undefined ? null : intOption(values['top-k'], 'top-k', 1, 1 << 30, 1);
  const seed = intOption(values.seed, 'seed', 0, 2 ** 32 - 1, 0);

  const textFile = (values.text as string | undefined) ?? SHIPPED_TEXT;
  const vocabulary = buildVocabulary(await readText(textFile), level);
  const model = await loadModelOrTemplate(positionals[0], values.template as string | undefined);
  let prompt: number[];
  try {
    prompt = encode(vocabulary, values.prompt ?? vocabulary.tokens[0]);
  } catch (e) {
    if (e instanceof DatasetError) throw new UserError(`--prompt: ${e.message} built from ${textFile}`);
    throw e;
  }
  const engine = new NodeEngine();
  try {
    const lm = languageModel(model.doc);
    if (vocabulary.tokens.length > lm.vocabulary) throw new UserError(`the model predicts ${lm.vocabulary} tokens but the vocabulary of ${textFile} has ${vocabulary.tokens.length}`);
    console.error(`vocabulary (${textFile}, ${level} level): ${describeVocabulary(vocabulary)}`);
    const options = { length, temperature, topK, seed, vocabularySize: vocabulary.tokens.length, weights: model.weights };
    // Attention models generate with the KV cache where every layer has a decoder step and the positions fit; others recompute.
    const cache = !values['no-cache'] && cacheProblem(model.doc, prompt.length + length) === null;
    const ids = await generate(engine, model.doc, prompt, { ...options, cache });
    process.stdout.write(`${decode(vocabulary, [...prompt, ...ids])}\n`);
  } catch (e) {
    if (e instanceof CompileError) throw compileFailure(e);
    if (e instanceof EngineError) throw new UserError(e.message);
    throw e;
  } finally {
    await engine.dispose();
  }
  return 0;
}
