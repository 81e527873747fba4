/** Embedding.tiedTo (Vaswani et al.'s one table for source and target): one initializer, read by both lookups, counted once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { inferShapes } from '../../core/index.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { doc, node } from '../unit/helpers.ts';

test('a tied Embedding looks up the table of the one it is tied to', async () => {
  const model = doc(
    [
      node('src', 'Input', { shape: [3], dtype: 'int64' }),
      node('tgt', 'Input', { shape: [3], dtype: 'int64' }),
      node('a', 'Embedding', { numEmbeddings: 7, embeddingDim: 4 }),
      node('b', 'Embedding', { numEmbeddings: 7, embeddingDim: 4, tiedTo: 'a' }),
    ],
    [
      ['src', 'a'],
      ['tgt', 'b'],
    ],
  );
  assert.equal(inferShapes(model).getTotals().totalParams, 28);
  const compiled = compileModel(model, { seed: 1 });
  assert.deepEqual([...compiled.weights.keys()], ['a.weight']);
  const session = await ort.InferenceSession.create(encodeModelBytes(compiled.model));
  const ids = new ort.Tensor('int64', BigInt64Array.from([0n, 5n, 2n]), [1, 3]);
  const out = await session.run({ src: ids, tgt: ids });
  assert.deepEqual([...(out.b.data as Float32Array)], [...(out.a.data as Float32Array)]);
  await session.release();
  const wrong = doc(
    [node('src', 'Input', { shape: [3], dtype: 'int64' }), node('a', 'Embedding', { numEmbeddings: 7, embeddingDim: 4 }), node('b', 'Embedding', { numEmbeddings: 8, embeddingDim: 4, tiedTo: 'a' })],
    [
      ['src', 'a'],
      ['src', 'b'],
    ],
  );
  assert.match(
    inferShapes(wrong)
      .diagnostics()
      .find((d) => d.severity === 'error')!.message,
    /cannot tie to "a": it needs a 8×4 table, not 7×4/,
  );
});
