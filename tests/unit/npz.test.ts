/** .npz archives (zips of .npy files, stored or deflated) as training data. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { zipSync } from 'fflate';
import { encodeNpy } from '../../core/data/npy.ts';
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
