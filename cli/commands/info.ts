import { formatSummary, inferShapes, summarize } from '../../core/index.ts';
import { UsageError } from '../files.ts';
import { loadModelOrTemplate } from '../models.ts';
import { parse } from '../args.ts';

export async function info(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean' }, template: { type: 'string' } });
  if (positionals.length > 1 || (positionals.length === 1) === (values.template !== undefined)) throw new UsageError('info takes one model file (.json, .netloom or .onnx), or --template <id>');
  const { doc } = await loadModelOrTemplate(positionals[0], values.template as string | undefined);
  const inference = inferShapes(doc);
  const summary = summarize(inference);
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  return inference.hasErrors() ? 1 : 0;
}
