/**
 * node same-weights.mjs EXPECTED.safetensors ACTUAL.safetensors [INITIAL.safetensors] — whether two of
 * Netloom's weights files hold the same parameters to 1e-4 relative, judged as
 * tests/integration/webgpu.test.ts judges WebGPU against the CPU: every element of ACTUAL within
 * 1e-4·max|expected| + 1e-4·|expected| of EXPECTED's. Prints one line: "same to 1e-4" or "NOT the same
 * to 1e-4", the largest difference relative to its tensor's largest value, and that tensor. Given the
 * weights both started from, it adds how far the updates (after − initial) differ, relative to each
 * tensor's largest update: a few steps move the weights little, so that is the finer comparison. Exit
 * status 0 when the same, 1 when not, 2 when a file cannot be read or the files hold different tensors.
 * Bundled into the GPU pack (scripts/gpu-pack.sh), which carries Node but no Python packages of its own.
 */
import { readFileSync } from 'node:fs';
import { decodeSafetensors, type Weights } from '../../core/graph/weights.ts';

function largestAbs(data: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < data.length; i++) largest = Math.max(largest, Math.abs(data[i]));
  return largest;
}

/** The largest |actual − expected| relative to its tensor's largest |expected|, and that tensor. */
function largestRelative(expected: Map<string, ArrayLike<number>>, actual: Map<string, ArrayLike<number>>): { worst: number; name: string } {
  let worst = 0;
  let name = '';
  for (const [key, e] of expected) {
    const a = actual.get(key)!;
    let difference = 0;
    for (let i = 0; i < e.length; i++) difference = Math.max(difference, Math.abs(a[i] - e[i]));
    const scale = largestAbs(e);
    const relative = scale > 0 ? difference / scale : difference;
    if (!Number.isFinite(relative) || relative >= worst) [worst, name] = [relative, key];
  }
  return { worst, name };
}

const arrays = (w: Weights) => new Map([...w].map(([key, t]) => [key, t.data as ArrayLike<number>]));
const minus = (a: Weights, b: Weights) => new Map([...a].map(([key, t]) => [key, t.data.map((v, i) => v - b.get(key)!.data[i])]));

function main(paths: string[]): number {
  let files: Weights[];
  try {
    files = paths.map((p) => decodeSafetensors(new Uint8Array(readFileSync(p))).weights);
  } catch (e) {
    console.log(`same-weights: cannot read the weights: ${(e as Error).message}`);
    return 2;
  }
  const [expected, actual, initial] = files;
  const sameShape = (other: Weights) => other.size === expected.size && [...expected].every(([key, t]) => other.get(key)?.shape.join() === t.shape.join());
  if (!files.every(sameShape)) {
    console.log(`same-weights: ${paths.join(', ')} hold different tensors`);
    return 2;
  }
  const same = [...expected].every(([key, e]) => {
    const scale = largestAbs(e.data);
    const a = actual.get(key)!.data;
    return e.data.every((v, i) => Math.abs(a[i] - v) <= 1e-4 * scale + 1e-4 * Math.abs(v));
  });
  const { worst, name } = largestRelative(arrays(expected), arrays(actual));
  let line = `${same ? 'same' : 'NOT the same'} to 1e-4: largest difference ${worst.toExponential(1)} of the tensor's largest value (${name}, ${expected.size} tensors)`;
  if (initial) {
    const update = largestRelative(minus(expected, initial), minus(actual, initial));
    line += `; the updates differ by ${update.worst.toExponential(1)} of the largest update (${update.name})`;
  }
  console.log(line);
  return same ? 0 : 1;
}

const args = process.argv.slice(2);
if (args.length !== 2 && args.length !== 3) {
  console.error('usage: same-weights.mjs EXPECTED.safetensors ACTUAL.safetensors [INITIAL.safetensors]');
  process.exitCode = 2;
} else process.exitCode = main(args);
