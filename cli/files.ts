/** File access for the CLI: reading models and templates, and atomic writes. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblem, parseModel, type ModelDocument } from '../core/index.ts';

/** An error meant for a person: printed as one line, never with a stack trace. */
export class UserError extends Error {}

/** A mistake in the command line itself. */
export class UsageError extends UserError {}

export const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets', 'templates');

export async function readText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new UserError(`${file}: ${why}`);
  }
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
  return (await fs.readdir(TEMPLATE_DIR)).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')).sort();
}

export async function loadTemplate(id: string): Promise<ModelDocument> {
  const ids = await templateIds();
  if (!ids.includes(id)) throw new UserError(`no template "${id}"; templates: ${ids.join(', ')}`);
  return loadModel(join(TEMPLATE_DIR, `${id}.json`));
}

/**
 * Writes via a temporary file and a rename, so a crash never leaves a half-written file. `data` may be
 * a list of chunks (an ONNX model whose weights are views of their own buffers), written in turn.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array | Uint8Array[]): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    if (Array.isArray(data)) {
      const handle = await fs.open(temp, 'w');
      try {
        for (const chunk of data) await handle.write(chunk);
      } finally {
        await handle.close();
      }
    } else {
      await fs.writeFile(temp, data);
    }
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw new UserError(`${file}: could not write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : (e as Error).message}`);
  }
}
