/**
 * The models bench/gpu/run.sh measures, written as model documents for `netloom train` and `netloom
 * export --format pytorch`: the training benchmark's CA2-style CNN (bench/train.bench.ts benchModels),
 * and GPT-mini, the char-gpt template (4 causal Transformer layers, d 128) without dropout, since
 * dropout's random masks differ between providers and the run compares parameters after three steps.
 *
 * Usage: node --import tsx bench/gpu/models.ts <folder>   (writes cnn.json and gpt-mini.json there)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serializeModel, type ModelDocument } from '../../core/index.ts';
import { loadTemplate } from '../../cli/files.ts';
import { benchModels } from '../train.bench.ts';

function withoutDropout(doc: ModelDocument): ModelDocument {
  return {
    ...doc,
    name: 'GPT-mini (char-gpt without dropout)',
    nodes: doc.nodes.map((n) => (n.op === 'TransformerEncoderLayer' || 'dropout' in n.params ? { ...n, params: { ...n.params, dropout: 0 } } : n)),
  };
}

const folder = process.argv[2];
if (!folder) throw new Error('usage: bench/gpu/models.ts <folder>');
mkdirSync(folder, { recursive: true });
const models: Record<string, ModelDocument> = { cnn: { ...benchModels().cnn, name: 'CA2-style CNN (bench/train.bench.ts)' }, 'gpt-mini': withoutDropout(await loadTemplate('char-gpt')) };
for (const [name, doc] of Object.entries(models)) writeFileSync(join(folder, `${name}.json`), serializeModel(doc));
