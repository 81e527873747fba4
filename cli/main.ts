/** The `netloom` command. Every failure is one line on stderr and a non-zero exit; never a stack trace. */
import { parseArgs } from 'node:util';
import { formatSummary, inferShapes, summarize } from '../core/index.ts';
import { UserError, loadModel, loadTemplate, templateIds } from './files.ts';

const HELP = `netloom — design neural networks, see every shape and parameter count

Usage:
  netloom info <model.json> [--json]       Summarise a model: output shapes, parameters, MACs, diagnostics
  netloom info --template <id> [--json]    The same for a built-in template
  netloom templates                        List the built-in templates
  netloom --help | --version

Exit status: 0 when the model is valid, 1 when it has errors, 2 for bad usage or unreadable files.`;

async function info(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, template: { type: 'string' } } });
  if (positionals.length > 1 || (positionals.length === 1) === (values.template !== undefined)) {
    throw new UsageError('info takes one model file, or --template <id>');
  }
  const doc = values.template !== undefined ? await loadTemplate(values.template) : await loadModel(positionals[0]);
  const inference = inferShapes(doc);
  const summary = summarize(inference);
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  return inference.hasErrors() ? 1 : 0;
}

class UsageError extends UserError {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    console.log('0.1.0');
    return 0;
  }
  if (command === 'info') return info(rest);
  if (command === 'templates') {
    console.log((await templateIds()).join('\n'));
    return 0;
  }
  throw new UsageError(`unknown command "${command}"; see netloom --help`);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // parseArgs reports unknown flags with a TypeError carrying an ERR_PARSE_ARGS code.
  const usage = e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
  const message = e instanceof UserError || usage ? (e as Error).message : `internal error: ${(e as Error).message ?? e}`;
  console.error(`netloom: ${message}`);
  process.exitCode = 2;
}
