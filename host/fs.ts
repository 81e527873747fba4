/**
 * Node file helpers shared by the CLI and the desktop shell: atomic writes, and reads whose failures
 * are one line for a person.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** An error meant for a person: printed as one line, never with a stack trace. */
export class UserError extends Error {}

/** A mistake in the command line itself. */
export class UsageError extends UserError {}

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
