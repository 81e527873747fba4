import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensorStats } from '../../core/data/stats.ts';

test('tensor statistics: finite values only for min, max, mean and (population) std; NaN and Inf counted', () => {
  const s = tensorStats(new Float32Array([1, 2, 3, 4, NaN, Infinity, -Infinity]), 3);
  assert.equal(s.count, 7);
  assert.deepEqual([s.min, s.max, s.mean, s.nan, s.inf], [1, 4, 2.5, 1, 2]);
  assert.ok(Math.abs(s.std - Math.sqrt(1.25)) < 1e-12, 'numpy.std([1, 2, 3, 4]) = 1.118');
  assert.deepEqual(s.histogram, [1, 1, 2], 'bins [1, 2), [2, 3), [3, 4]');
});

test('tensor statistics: a constant tensor puts everything in the first bin; an all-NaN one has no statistics', () => {
  assert.deepEqual(tensorStats([5, 5, 5], 4).histogram, [3, 0, 0, 0]);
  const empty = tensorStats([NaN, NaN]);
  assert.ok(Number.isNaN(empty.mean) && Number.isNaN(empty.min));
  assert.deepEqual(empty.histogram, []);
});
