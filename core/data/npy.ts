/** NumPy's .npy format (version 1–3): the arrays `numpy.save` writes, in the dtypes Netloom uses. */
import type { Tensor, TensorArray, TensorDType } from '../engine/engine.ts';

export class NpyFormatError extends Error {}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const DESCR: Record<string, { dtype: TensorDType; bytes: number }> = {
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
  '<i8': { dtype: 'int64', bytes: 8 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '|i1': { dtype: 'int8', bytes: 1 },
  '|u1': { dtype: 'uint8', bytes: 1 },
  '|b1': { dtype: 'bool', bytes: 1 },
};
const DESCR_OF: Record<TensorDType, string> = Object.fromEntries(Object.entries(DESCR).map(([d, { dtype }]) => [dtype, d])) as Record<TensorDType, string>;

function typedArray(dtype: TensorDType, buffer: ArrayBuffer, count: number): TensorArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, count);
    case 'float64':
      return new Float64Array(buffer, 0, count);
    case 'int64':
      return new BigInt64Array(buffer, 0, count);
    case 'int32':
      return new Int32Array(buffer, 0, count);
    case 'int8':
      return new Int8Array(buffer, 0, count);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, 0, count);
  }
}

/** Header text as it may appear in a one-line message: as it is when plain and short, else quoted and escaped. */
const shown = (text: string): string => (/^[\x20-\x7e]{0,40}$/.test(text) ? text : JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text));

/** The array a .npy header declares: its dtype, dims, and where the data starts and ends. */
export function npyLayout(bytes: Uint8Array): { kind: { dtype: TensorDType; bytes: number }; dims: number[]; dataStart: number; dataBytes: number } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new NpyFormatError('not a .npy file (no NUMPY magic)');
  const major = bytes[6];
  if (major < 1 || major > 3 || bytes[7] !== 0) throw new NpyFormatError(`.npy format version ${major}.${bytes[7]} is unknown (Netloom reads 1.0, 2.0 and 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw new NpyFormatError('truncated .npy header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + headerLength > bytes.length) throw new NpyFormatError('truncated .npy header');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new NpyFormatError('unreadable .npy header');
  const kind = DESCR[descr.replace(/^=/, '<')];
  if (!kind) throw new NpyFormatError(`dtype ${shown(descr)} is not supported (use float32, float64, int64, int32, int8, uint8 or bool, little-endian)`);
  if (fortran === 'True') throw new NpyFormatError('Fortran-ordered arrays are not supported; save with np.ascontiguousarray');
  const parts = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.every((p) => /^\d+L?$/.test(p))) throw new NpyFormatError(`shape ${shown(`(${shapeText})`)} is not a list of sizes`);
  const dims = parts.map((p) => Number(p.replace('L', '')));
  const count = dims.reduce((a, b) => a * b, 1);
  if (count * kind.bytes > 2 ** 32) throw new NpyFormatError(`shape (${dims.join(', ')}) declares more elements than one array can hold`);
  return { kind, dims, dataStart: start + headerLength, dataBytes: count * kind.bytes };
}

/** Parses a .npy file, which must hold exactly the data its header declares: no less, no more. */
export function parseNpy(bytes: Uint8Array): Tensor {
  const { kind, dims, dataStart, dataBytes } = npyLayout(bytes);
  const found = bytes.length - dataStart;
  if (found < dataBytes) throw new NpyFormatError(`truncated .npy data: expected ${dataBytes} bytes, found ${found}`);
  if (found > dataBytes) throw new NpyFormatError(`${found - dataBytes} bytes follow the array's data (expected ${dataBytes} bytes); is this really one .npy array?`);
  // Copy into a fresh, aligned buffer: the data may start at any offset of the file.
  const buffer = new Uint8Array(bytes.subarray(dataStart, dataStart + dataBytes)).buffer;
  return { dtype: kind.dtype, dims, data: typedArray(kind.dtype, buffer, dataBytes / kind.bytes) };
}

export function encodeNpy(t: Tensor): Uint8Array {
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[t.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const headerBytes = new TextEncoder().encode(header);
  const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint8Array(10 + headerBytes.length + data.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerBytes.length, true);
  out.set(headerBytes, 10);
  out.set(data, 10 + headerBytes.length);
  return out;
}
