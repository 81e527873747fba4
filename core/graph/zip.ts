/**
 * Unzipping with a bound: each member inflates into a buffer of the size the archive declares for it,
 * so inflation stops there (a "zip bomb" cannot grow), and the declared sizes together must fit
 * `maxBytes` (the memory available) before anything is inflated.
 */
import { unzipSync } from 'fflate';

export class ZipSizeError extends Error {}

export function unzipWithin(bytes: Uint8Array, maxBytes: number, keep: (name: string) => boolean = () => true): Record<string, Uint8Array> {
  let declared = 0;
  unzipSync(bytes, {
    filter: (f) => {
      if (keep(f.name)) declared += f.originalSize;
      return false;
    },
  });
  if (declared > maxBytes) throw new ZipSizeError(`its contents would need ${declared} bytes once inflated; ${Math.floor(maxBytes)} are available`);
  return unzipSync(bytes, { filter: (f) => keep(f.name) });
}
