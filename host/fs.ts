/**
 * Node file helpers shared by the CLI and the desktop shell: atomic writes, reads whose failures are one
 * line for a person, reads confined to a model's folder (for paths that come from inside a file), and the
 * check that an output will not overwrite an input.
 */
import { randomBytes } from 'node:crypto';
import { constants, promises as fs, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';

/** An error meant for a person: printed as one line, never with a stack trace. */
export class UserError extends Error {}

/** A mistake in the command line itself. */
export class UsageError extends UserError {}

// Temporary files are named ".<file>.<writer pid>-<random>.netloom.tmp", so a person can tell what they
// are, and a later write to the same folder can tell which ones a killed writer left behind.
const TEMP_SUFFIX = '.netloom.tmp';
const TEMP_NAME = /^\..+\.(\d+)-[0-9a-f]{12}\.netloom\.tmp$/;

const tempFileName = (file: string): string => `.${basename(file)}.${process.pid}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary files of writers that no longer run (killed mid-write); others' live ones stay. */
export async function removeStaleTempFiles(folder: string): Promise<string[]> {
  const names = await fs.readdir(folder).catch(() => [] as string[]);
  const stale = names.filter((name) => {
    const pid = TEMP_NAME.exec(name)?.[1];
    return pid !== undefined && !isRunning(Number(pid));
  });
  await Promise.all(stale.map((name) => fs.rm(join(folder, name), { force: true })));
  return stale;
}

/** The most bytes one read or write call is given: Node refuses (or aborts on) 2 GB and more. */
const IO_LIMIT = 2 ** 30;

/**
 * Writes via a temporary file and a rename, so a crash never leaves a half-written file. `data` may be
 * a list of chunks (an ONNX model whose weights are views of their own buffers), written in turn.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array | Uint8Array[]): Promise<void> {
  await removeStaleTempFiles(dirname(file));
  const temp = join(dirname(file), tempFileName(file));
  try {
    if (typeof data === 'string') await fs.writeFile(temp, data);
    else {
      const handle = await fs.open(temp, 'w');
      try {
        for (const chunk of Array.isArray(data) ? data : [data]) for (let at = 0; at < chunk.length; at += IO_LIMIT) await handle.write(chunk.subarray(at, at + IO_LIMIT));
      } finally {
        await handle.close();
      }
    }
    await fs.rename(temp, file);
  } catch (e) {
    await fs.rm(temp, { force: true });
    throw new UserError(`${file}: could not write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function readFailure(file: string, e: unknown): UserError {
  if (e instanceof UserError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a file' : code === 'EACCES' ? 'permission denied' : code === 'ELOOP' ? 'too many symbolic links' : (e as Error).message;
  return new UserError(`${file}: ${why}`);
}

/** Reads `length` bytes from `offset` of a regular file (not a device, pipe or folder), all of it by default. */
async function readRegularFile(file: string, offset = 0, length?: number): Promise<Uint8Array> {
  let handle: fs.FileHandle | undefined;
  try {
    // Look before opening (opening a pipe would wait for a writer), and again once open (it may have changed).
    const kind = (stat: Stats) => {
      if (stat.isDirectory()) throw new UserError(`${file}: is a folder, not a file`);
      if (!stat.isFile()) throw new UserError(`${file}: is not a regular file (a device, pipe or socket)`);
    };
    kind(await fs.stat(file));
    handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stat = await handle.stat();
    kind(stat);
    const size = length ?? stat.size - offset;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(size) || size < 0 || offset + size > stat.size) {
      throw new UserError(`${file}: bytes ${offset} to ${offset + size} are asked for, but the file has ${stat.size}`);
    }
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      // One read takes at most 2 GB (past that Node aborts), and one tensor's external data can be larger.
      const { bytesRead } = await handle.read(bytes, done, Math.min(size - done, IO_LIMIT), offset + done);
      if (bytesRead === 0) throw new UserError(`${file}: ended early (changed while being read?)`);
      done += bytesRead;
    }
    return bytes;
  } catch (e) {
    throw readFailure(file, e);
  } finally {
    await handle?.close();
  }
}

/** Reads a file a person named (a command-line argument, a file they picked). */
export function readBytes(file: string): Promise<Uint8Array> {
  return readRegularFile(file);
}

/**
 * Reads a file that another file names (an ONNX model's external data, a document's weights), following
 * ONNX's rule for external data: the path is relative and stays inside `folder`, through symbolic links
 * too; it is a regular file; and the byte range asked for lies within it. `what` says in errors what the
 * file is ("the weights file named by m.json").
 */
export async function readInside(folder: string, path: string, what: string, range: { offset?: number; length?: number } = {}): Promise<Uint8Array> {
  const refuse = (why: string) => new UserError(`${what}, ${JSON.stringify(path)}, ${why}`);
  if (path === '' || path.includes('\0')) throw refuse('is not a file name');
  if (isAbsolute(path) || /^[a-zA-Z]:|^[\\/]/.test(path)) throw refuse(`is an absolute path; it must be relative to the model's folder`);
  if (path.split(/[\\/]/).includes('..')) throw refuse(`leaves the model's folder ("..")`);
  const file = join(folder, path);
  try {
    const real = await fs.realpath(file);
    const inside = relative(await fs.realpath(folder), real);
    if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) throw refuse(`leaves the model's folder through a symbolic link`);
    return await readRegularFile(real, range.offset, range.length);
  } catch (e) {
    if (e instanceof UserError && e.message.startsWith(what)) throw e;
    const failure = readFailure(file, e);
    throw new UserError(`${failure.message.replace(/^[^:]*: /, `${file}: `)} (${what})`);
  }
}

/**
 * Refuses outputs that are one of the inputs (the same file, by real path or by inode), before any work
 * is done, so that no command destroys what it reads. An output that does not exist yet clashes with nothing.
 */
export async function refuseOverwritingInputs(outputs: string[], inputs: string[]): Promise<void> {
  const identity = async (file: string) => ({ stat: await fs.stat(file).catch(() => null), real: await fs.realpath(file).catch(() => null) });
  for (const output of outputs) {
    const out = await identity(output);
    if (!out.stat) continue;
    for (const input of inputs) {
      const other = await identity(input);
      const sameInode = other.stat !== null && out.stat.dev === other.stat.dev && out.stat.ino === other.stat.ino;
      if (sameInode || (out.real !== null && out.real === other.real)) throw new UsageError(`${output} is the input ${input}; choose another output so the input is not overwritten`);
    }
  }
}
