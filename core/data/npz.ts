/** NumPy's .npz archives (np.savez, np.savez_compressed): a zip of .npy files. */
import { unzipSync } from 'fflate';
import type { Tensor } from '../engine/engine.ts';
import { NpyFormatError, parseNpy } from './npy.ts';

export function parseNpz(bytes: Uint8Array): Map<string, Tensor> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new NpyFormatError(`not a .npz archive (${(e as Error).message})`);
  }
  const arrays = new Map<string, Tensor>();
  for (const [name, data] of Object.entries(files)) {
    if (!name.endsWith('.npy')) continue;
    try {
      arrays.set(name.slice(0, -4), parseNpy(data));
    } catch (e) {
      throw new NpyFormatError(`array "${name.slice(0, -4)}": ${(e as Error).message}`);
    }
  }
  return arrays;
}
