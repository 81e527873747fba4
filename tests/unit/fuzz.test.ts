/**
 * Seeded fuzzing of every parser with damaged files: ONNX models, safetensors weights, .npy arrays,
 * .npz archives, .netloom bundles and model documents. Each damaged file either loads into something
 * sound (its output decodes again) or is refused with a one-line error meant for a person (a UserError
 * or the format's own error, which the CLI prints without a stack trace); and no file given is ever
 * changed. The same seed gives the same cases every run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { encodeNpy, NpyFormatError, parseNpy } from '../../core/data/npy.ts';
import { parseNpz } from '../../core/data/npz.ts';
import { encodeSafetensors, Rng } from '../../core/graph/weights.ts';
import { encodeBundle } from '../../core/graph/bundle.ts';
import { checkTensorData, concatChunks, decodeModel, encodeModel, encodeModelBytes, type ModelProto } from '../../core/onnx/proto.ts';
import { formatSummary, inferShapes, serializeModel, summarize } from '../../core/index.ts';
import { compile, loadModelFile, readOnnx } from '../../cli/models.ts';
import { loadNpz } from '../../cli/datasets.ts';
import { loadTemplate } from '../../cli/files.ts';
import { UserError } from '../../host/fs.ts';

const CASES_PER_SEED_FILE = 150;
const dir = mkdtempSync(join(tmpdir(), 'netloom-fuzz-'));
const rng = new Rng(20261127);
const below = (n: number) => Math.floor(rng.next() * n);
const pick = <T>(items: readonly T[]): T => items[below(items.length)];

const INTERESTING_BYTES = [0x00, 0xff, 0x7f, 0x80, 0x01, 0x22, 0x5b, 0x7b];
const INTERESTING_WORDS = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 1_000_000_000, 0xfffffff0];
const TEXT_SUBSTITUTES = ['-1', '0', '1e9', '1e400', '-0.5', 'null', 'true', '""', '"../../etc/passwd"', '"/dev/zero"', '[]', '{}', '[[[[1]]]]', '{"a":{"b":{}}}'];

/** One random change to a file: bits, bytes, words, truncation, duplication, or (text) a swapped value. */
function mutate(input: Uint8Array, text: boolean): Uint8Array {
  const bytes = input.slice();
  const at = below(Math.max(1, bytes.length));
  switch (below(text ? 7 : 6)) {
    case 0:
      for (let i = 0, n = 1 + below(4); i < n; i++) bytes[below(bytes.length)] ^= 1 << below(8);
      return bytes;
    case 1:
      bytes[at] = pick(INTERESTING_BYTES);
      return bytes;
    case 2:
      if (bytes.length >= 4) new DataView(bytes.buffer).setUint32(Math.min(at, bytes.length - 4), pick(INTERESTING_WORDS), true);
      return bytes;
    case 3:
      return bytes.slice(0, at);
    case 4: {
      const from = below(bytes.length);
      const piece = bytes.slice(from, from + 1 + below(64));
      return concatChunks([bytes.slice(0, at), piece, bytes.slice(at)]);
    }
    case 5:
      return concatChunks([bytes, Uint8Array.from({ length: 1 + below(16) }, () => below(256))]);
    default: {
      const source = new TextDecoder().decode(bytes);
      const values = [...source.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?|"[^"]*"|\[\]|\{\}|true|false|null/g)];
      if (values.length === 0) return bytes;
      const m = pick(values);
      return new TextEncoder().encode(source.slice(0, m.index) + pick(TEXT_SUBSTITUTES) + source.slice(m.index! + m[0].length));
    }
  }
}

const FIELD_VALUES: unknown[] = [undefined, null, -1, 0, 1, 2 ** 31, 1e9, [], [-1], [0], [1, 2, 3], [1e9, 1e9], 'x', ''];

/** One to four fields of an ONNX graph (names, dims, types, attributes, data) set to odd values, re-encoded. */
function mutateFields(bytes: Uint8Array): Uint8Array {
  const model = decodeModel(bytes) as unknown as { graph: Record<string, unknown> };
  const fields: { owner: Record<string, unknown>; key: string }[] = [];
  const walk = (value: unknown): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    for (const [key, child] of Object.entries(value)) {
      fields.push({ owner: value as Record<string, unknown>, key });
      walk(child);
    }
  };
  walk(model.graph);
  for (let k = 0, n = 1 + below(4); k < n; k++) {
    const { owner, key } = pick(fields);
    const value = pick(FIELD_VALUES);
    if (value === undefined) delete owner[key];
    else owner[key] = value;
  }
  try {
    return encodeModelBytes(model as unknown as ModelProto);
  } catch {
    return bytes; // protobufjs refused to encode the odd value: nothing to try
  }
}

/** A refusal a person can read: the CLI's own errors (or a format's, which it wraps), one line, not an internal error. */
function assertRefusal(e: unknown, allowed: (new (...args: never[]) => Error)[], what: string): void {
  if (!allowed.some((kind) => e instanceof kind)) assert.fail(`${what}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
  const message = (e as Error).message;
  assert.ok(message.length > 0 && !message.includes('\n'), `${what}: not one line: ${message}`);
  assert.doesNotMatch(message, /internal error|Invalid typed array length|Maximum call stack|Cannot read properties|is not a function|outside the bounds/, what);
}

/** What `netloom export` does with a model file, and what `info` prints; the output must decode again. */
async function exportAndInfo(file: string): Promise<void> {
  const model = await loadModelFile(file);
  const inference = inferShapes(model.doc);
  formatSummary(summarize(inference));
  if (inference.hasErrors()) return;
  const out = concatChunks(encodeModel(compile(model, { seed: 1 }).model));
  for (const t of decodeModel(out).graph.initializer ?? []) checkTensorData(t);
}

interface Target {
  name: string;
  /** The file to damage, and any files beside it that stay intact. */
  seedFile: string;
  bytes: Uint8Array;
  /** A damaged copy of `bytes`. */
  damage: (i: number) => Uint8Array;
  run: (file: string) => Promise<unknown>;
  allowed: (new (...args: never[]) => Error)[];
}

async function targets(): Promise<Target[]> {
  const lenet = await loadTemplate('lenet5');
  const mlp = await loadTemplate('mlp-3-4-2');
  const onnx = encodeModelBytes(compile({ doc: lenet, sources: [] }, { seed: 0 }).model);
  const weights = compile({ doc: mlp, sources: [] }, { seed: 0 }).weights;
  writeFileSync(join(dir, 'mlp.json'), serializeModel({ ...mlp, weights: 'mlp.safetensors' }));
  const x = encodeNpy({ dtype: 'float32', dims: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 10) });
  const y = encodeNpy({ dtype: 'int64', dims: [4], data: BigInt64Array.from([0n, 1n, 1n, 0n]) });
  const binary = (bytes: Uint8Array) => ({ bytes, damage: () => mutate(bytes, false) });
  const onnxFile = async (f: string) => (await exportAndInfo(f), encodeModelBytes(await readOnnx(f)));
  const document = new TextEncoder().encode(serializeModel(lenet));
  return [
    { name: 'ONNX model (bytes)', seedFile: 'lenet.onnx', ...binary(onnx), allowed: [UserError], run: onnxFile },
    { name: 'ONNX model (fields)', seedFile: 'fields.onnx', bytes: onnx, damage: () => mutateFields(onnx), allowed: [UserError], run: onnxFile },
    {
      name: 'safetensors weights',
      seedFile: 'mlp.safetensors',
      ...binary(concatChunks(encodeSafetensors(weights, { format: 'netloom.weights' }))),
      allowed: [UserError],
      run: () => exportAndInfo(join(dir, 'mlp.json')),
    },
    { name: '.npy array', seedFile: 'x.npy', ...binary(x), allowed: [NpyFormatError], run: async (f) => parseNpy(readFileSync(f)) },
    {
      name: '.npz archive (deflated)',
      seedFile: 'd.npz',
      ...binary(zipSync({ 'x.npy': x, 'y.npy': y }, { level: 6 })),
      allowed: [NpyFormatError],
      run: async (f) => parseNpz(readFileSync(f), 1 << 26),
    },
    { name: '.npz archive (stored)', seedFile: 's.npz', ...binary(zipSync({ 'x.npy': x, 'y.npy': y }, { level: 0 })), allowed: [UserError], run: (f) => loadNpz(f, 'x') },
    { name: '.netloom bundle', seedFile: 'mlp.netloom', ...binary(encodeBundle(mlp, weights)), allowed: [UserError], run: exportAndInfo },
    { name: 'model document', seedFile: 'lenet.json', bytes: document, damage: (i) => mutate(document, i % 2 === 0), allowed: [UserError], run: exportAndInfo },
  ];
}

test('damaged files of every format are loaded soundly or refused in one line, and never changed', { timeout: 240_000 }, async () => {
  for (const target of await targets()) {
    const file = join(dir, target.seedFile);
    writeFileSync(file, target.bytes);
    await target.run(file); // the undamaged file loads
    for (let i = 0; i < CASES_PER_SEED_FILE; i++) {
      const damaged = target.damage(i);
      writeFileSync(file, damaged);
      const what = `${target.name}, case ${i}`;
      try {
        await target.run(file);
      } catch (e) {
        assertRefusal(e, target.allowed, what);
      }
      assert.deepEqual(new Uint8Array(readFileSync(file)), damaged, `${what}: the input was changed`);
    }
    writeFileSync(file, target.bytes);
  }
});
