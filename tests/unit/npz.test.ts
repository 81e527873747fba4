/** .npz archives (zips of .npy files, stored or deflated) as training data. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { datasetFromArrays } from '../../core/data/arrays.ts';
import { DatasetError } from '../../core/data/dataset.ts';
import { encodeNpy, parseNpy } from '../../core/data/npy.ts';
import { parseNpz } from '../../core/data/npz.ts';
import { loadNpz } from '../../cli/datasets.ts';

const x = encodeNpy({ dtype: 'float64', dims: [3, 2], data: Float64Array.from([1, 2, 3, 4, 5, 6]) });
const y = encodeNpy({ dtype: 'int64', dims: [3], data: BigInt64Array.from([0n, 1n, 2n]) });

test('np.savez and np.savez_compressed archives read, and become a dataset', async () => {
  for (const level of [0, 6] as const) {
    const arrays = parseNpz(zipSync({ 'x.npy': x, 'y.npy': y }, { level }));
    assert.deepEqual([...arrays.keys()], ['x', 'y']);
    assert.deepEqual(arrays.get('x')!.dims, [3, 2]);
  }
  const file = join(mkdtempSync(join(tmpdir(), 'netloom-npz-')), 'd.npz');
  writeFileSync(file, zipSync({ 'x.npy': x, 'y.npy': y }));
  const ds = await loadNpz(file, 'input');
  assert.equal(ds.size, 3);
  assert.equal(ds.x.dtype, 'float32', 'float64 data is converted');
  assert.deepEqual(ds.x.dims, [2]);
  assert.deepEqual([...(ds.y.data as BigInt64Array)], [0n, 1n, 2n]);
});

test('archives without x and y, or with mismatched sample counts, are refused by name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netloom-npz-'));
  writeFileSync(join(dir, 'a.npz'), zipSync({ 'images.npy': x }));
  await assert.rejects(() => loadNpz(join(dir, 'a.npz'), 'input'), /a\.npz: needs arrays "x" and "y" \(or "input" and "target"\); it has images/);
  writeFileSync(join(dir, 'b.npz'), zipSync({ 'x.npy': x, 'y.npy': encodeNpy({ dtype: 'int64', dims: [2], data: BigInt64Array.from([0n, 1n]) }) }));
  await assert.rejects(() => loadNpz(join(dir, 'b.npz'), 'input'), /x has 3 samples but y has 2/);
  writeFileSync(join(dir, 'c.npz'), 'not a zip');
  await assert.rejects(() => loadNpz(join(dir, 'c.npz'), 'input'), /c\.npz: not a \.npz archive/);
});

test('arrays become a dataset in core, for the CLI and the app alike: x/y or the input name and "target", .npy pairs too', () => {
  const pair = new Map([
    ['input', parseNpy(x)],
    ['target', parseNpy(encodeNpy({ dtype: 'int32', dims: [3], data: Int32Array.from([1, 0, 1]) }))],
  ]);
  const ds = datasetFromArrays('pair', pair, 'input');
  assert.deepEqual(ds.x, { dims: [2], dtype: 'float32', data: Float32Array.from([1, 2, 3, 4, 5, 6]) });
  assert.deepEqual(ds.y, { dims: [], dtype: 'int64', data: BigInt64Array.from([1n, 0n, 1n]) }, 'int32 labels become int64');
  const images = datasetFromArrays('digits', new Map([...pair, ['x', parseNpy(encodeNpy({ dtype: 'uint8', dims: [3, 2, 2], data: Uint8Array.from({ length: 12 }, (_, i) => i * 20) }))]]), 'input');
  assert.deepEqual(images.x.dims, [1, 2, 2], 'uint8 N×H×W images become one-channel floats');
  assert.throws(
    () =>
      datasetFromArrays(
        'bad',
        new Map([
          ['x', parseNpy(encodeNpy({ dtype: 'uint8', dims: [3, 2], data: new Uint8Array(6) }))],
          ['y', pair.get('target')!],
        ]),
        'input',
      ),
    (e: unknown) => e instanceof DatasetError && e.message === 'bad: x is uint8; use float32 or int64',
  );
  assert.throws(() => datasetFromArrays('only-x', new Map([['x', pair.get('input')!]]), 'image'), /only-x: needs arrays "x" and "y" \(or "image" and "target"\); it has x/);
});
