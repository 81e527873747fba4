/**
 * Every layer exported to ONNX, loaded by ONNX Runtime, run, and compared with PyTorch's output for the
 * same weights and inputs (tests/fixtures/layer-values.json), and with the shapes `info` reports.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { LAYERS, type ParamValue } from '../../core/index.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { encodeModelBytes } from '../../core/onnx/proto.ts';
import { doc, node } from '../unit/helpers.ts';
import { floats, loadFixture, toOrt, weightsOf, worstError, type FixtureTensor } from './fixtures.ts';

interface ShapeCase {
  name: string;
  op: string;
  params: Record<string, ParamValue>;
  inputs: { shape: number[]; dtype: string }[];
}
interface ValueCase {
  name: string;
  inputs: FixtureTensor[];
  weights: Record<string, FixtureTensor>;
  outputs: FixtureTensor[];
}

const shapes = new Map(loadFixture<{ cases: ShapeCase[] }>('layers.json').cases.map((c) => [c.name, c]));
const values = loadFixture<{ cases: ValueCase[] }>('layer-values.json').cases;

describe('layers on ONNX Runtime match PyTorch', () => {
  for (const v of values) {
    const c = shapes.get(v.name)!;
    test(`${v.name} (${c.op})`, async () => {
      const inputs = c.inputs.map((inp, i) => node(`in${i}`, 'Input', { shape: inp.shape, dtype: inp.dtype }));
      const model = doc(
        [...inputs, node('layer', c.op, c.params)],
        inputs.map((_, i) => [`in${i}`, `layer:${i}`]),
      );
      const compiled = compileModel(model, { weights: weightsOf('layer', v.weights) });
      for (const key of compiled.weights.keys()) assert.ok(key.replace('layer.', '') in v.weights || !key.startsWith('layer.'), `PyTorch has ${key}`);
      const session = await ort.InferenceSession.create(encodeModelBytes(compiled.model));
      const feeds = Object.fromEntries(v.inputs.map((t, i) => [`in${i}`, toOrt(t)]));
      const result = await session.run(feeds);
      assert.equal(compiled.outputs.length, v.outputs.length);
      compiled.outputs.forEach((out, i) => {
        const got = result[out.name];
        assert.deepEqual(got.dims, v.outputs[i].shape, `${out.name} shape`);
        assert.deepEqual(
          out.type.shape.map((d) => (d === 'N' ? 2 : d)),
          v.outputs[i].shape,
          'info shape',
        );
        assert.equal(worstError(got.data as Float32Array, floats(v.outputs[i])), 0, `${out.name} values`);
      });
      await session.release();
    });
  }

  test('every catalogue layer is value-tested (Input through every case)', () => {
    const tested = new Set(values.map((v) => shapes.get(v.name)!.op));
    assert.deepEqual(
      LAYERS.filter((l) => !l.internal)
        .map((l) => l.op)
        .filter((op) => op !== 'Input' && !tested.has(op)),
      [],
    );
  });
});
