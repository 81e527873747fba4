/** File access for the CLI: reading models and templates, and atomic writes. */
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem, fromTemplate, parseModel, type ModelDocument } from '../core/index.ts';
import { readBytes, UserError } from '../host/fs.ts';

export { readBytes, UsageError, UserError, writeFileAtomic } from '../host/fs.ts';

export const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets', 'templates');
/** Public-domain texts shipped for the text dataset and generation (sources in assets/text/SOURCES.md). */
export const TEXT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets', 'text');

export async function readText(file: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(file));
}

export function loadModelText(text: string, file: string): ModelDocument {
  const result = parseModel(text);
  if (!result.ok) {
    const [first, ...rest] = result.problems;
    const more = rest.length > 0 ? ` (and ${rest.length} more: ${rest.map((p) => formatProblem(p)).join('; ')})` : '';
    throw new UserError(`${formatProblem(first, file)}${more}`);
  }
  return result.doc;
}

export async function loadModel(file: string): Promise<ModelDocument> {
  return loadModelText(await readText(file), file);
}

export async function templateIds(): Promise<string[]> {
  return (await fs.readdir(TEMPLATE_DIR))
    .filter((f) => f.endsWith('.json'))
    .map((f) => basename(f, '.json'))
    .sort();
}

export async function loadTemplate(id: string): Promise<ModelDocument> {
  const ids = await templateIds();
  if (!ids.includes(id)) throw new UserError(`no template "${id}"; templates: ${ids.join(', ')}`);
  return fromTemplate(await loadModel(join(TEMPLATE_DIR, `${id}.json`)));
}
