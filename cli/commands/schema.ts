/** `netloom schema [-o file]`: the model document's JSON Schema, for an editor to map documents to (README, "JSON Schema"). */
import { modelSchemaText } from '../../core/layers/schema.ts';
import { parse } from '../args.ts';
import { UsageError, writeFileAtomic } from '../files.ts';

export async function schemaCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { output: { type: 'string', short: 'o' } });
  if (positionals.length > 0) throw new UsageError('schema takes no model: netloom schema [-o netloom.model.schema.json]');
  if (values.output === undefined) process.stdout.write(modelSchemaText());
  else {
    await writeFileAtomic(values.output, modelSchemaText());
    console.log(`wrote ${values.output}`);
  }
  return 0;
}
