/**
 * PyTorch's exported torchvision models open as Netloom graphs with torchvision's parameter counts, and
 * re-export to the same function (outputs within 1e-4 relative on ONNX Runtime).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { inferShapes } from '../../core/index.ts';
import { compileModel } from '../../core/convert/compile.ts';
import { importOnnx } from '../../core/convert/import.ts';
import { decodeModel, encodeModelBytes } from '../../core/onnx/proto.ts';
import { MODEL_CACHE, torchvisionModels } from './model-cache.ts';

const models = torchvisionModels();

describe('torchvision models through import and re-export', { skip: typeof models === 'string' ? models : false }, () => {
  for (const [name, { params, input }] of Object.entries(typeof models === 'string' ? {} : models)) {
    test(name, async () => {
      const bytes = readFileSync(`${MODEL_CACHE}/${name}.onnx`);
      const { doc, weights } = importOnnx(decodeModel(bytes), name);
      const inference = inferShapes(doc);
      assert.deepEqual(
        inference.diagnostics().filter((d) => d.severity === 'error'),
        [],
      );
      assert.equal(inference.getTotals().totalParams, params, 'parameter count equals torchvision');
      assert.ok(
        doc.nodes.some((n) => n.op === 'Conv2d'),
        'convolutions are recognised',
      );

      const compiled = compileModel(doc, { weights });
      const original = await ort.InferenceSession.create(bytes);
      const again = await ort.InferenceSession.create(encodeModelBytes(compiled.model));
      const dims = [2, ...input];
      const x = new ort.Tensor(
        'float32',
        Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)),
        dims,
      );
      const expected = (await original.run({ x })).y.data as Float32Array;
      const actual = (await again.run({ [compiled.inputs[0].name]: x }))[compiled.outputs[0].name].data as Float32Array;
      const scale = Math.max(...expected.map(Math.abs));
      assert.ok(scale > 0, 'the output is not trivially zero');
      const worst = Math.max(...expected.map((v, i) => Math.abs(v - actual[i])));
      assert.ok(worst <= 1e-4 * scale, `max difference ${worst} against output scale ${scale}`);
      await original.release();
      await again.release();
    });
  }
});
