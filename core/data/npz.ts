/** NumPy's .npz archives (np.savez, np.savez_compressed): a zip of .npy files. */
import { unzipWithin, ZipSizeError } from '../graph/zip.ts';
import type { Tensor } from '../engine/engine.ts';
import { NpyFormatError, parseNpy } from './npy.ts';

/**
 * Parses an archive within `maxBytes` (see unzipWithin); parseNpy then requires each member's declared
 * size to be exactly what the array's own header declares.
 */
export function parseNpz(bytes: Uint8Array, maxBytes = Infinity): Map<string, Tensor> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipWithin(bytes, maxBytes, (name) => name.endsWith('.npy'));
  } catch (e) {
    if (e instanceof ZipSizeError) throw new NpyFormatError(`the archive's arrays: ${e.message}`);
    throw new NpyFormatError(`not a .npz archive (${(e as Error).message})`);
  }
  const arrays = new Map<string, Tensor>();
  for (const [name, data] of Object.entries(files)) {
    try {
      arrays.set(name.slice(0, -4), parseNpy(data));
    } catch (e) {
      throw new NpyFormatError(`array "${name.slice(0, -4)}": ${(e as Error).message}`);
    }
  }
  return arrays;
}
