/** NumPy's .npz archives (np.savez, np.savez_compressed): a zip of .npy files. */
import { unzipSync } from 'fflate';
import type { Tensor } from '../engine/engine.ts';
import { NpyFormatError, parseNpy } from './npy.ts';

/**
 * Parses an archive. Each member is inflated into a buffer of the size the archive declares for it, so
 * decompression stops there (a "zip bomb" cannot grow), and the declared sizes together must fit
 * `maxBytes` (the memory available) before anything is inflated. parseNpy then requires that size to be
 * exactly what the array's own header declares.
 */
export function parseNpz(bytes: Uint8Array, maxBytes = Infinity): Map<string, Tensor> {
  let files: Record<string, Uint8Array>;
  try {
    let declared = 0;
    unzipSync(bytes, {
      filter: (f) => {
        declared += f.name.endsWith('.npy') ? f.originalSize : 0;
        return false;
      },
    });
    if (declared > maxBytes) throw new NpyFormatError(`the archive's arrays would need ${declared} bytes once inflated; ${Math.floor(maxBytes)} are available`);
    files = unzipSync(bytes, { filter: (f) => f.name.endsWith('.npy') });
  } catch (e) {
    if (e instanceof NpyFormatError) throw e;
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
