/** Every layer spec against PyTorch: output shapes and parameter counts from tests/fixtures/layers.json. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { LAYERS, inferShapes, type ParamValue } from '../../core/index.ts';
import { doc, node } from './helpers.ts';

interface Case {
  name: string;
  op: string;
  params: Record<string, ParamValue>;
  inputs: { shape: number[]; dtype: string }[];
  outputShapes: (number | string)[][];
  paramCount: number;
}

const fixtures = JSON.parse(readFileSync(new URL('../fixtures/layers.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('layer specs match PyTorch', () => {
  for (const c of fixtures.cases) {
    test(`${c.name} (${c.op})`, () => {
      const inputs = c.inputs.map((inp, i) => node(`in${i}`, 'Input', { shape: inp.shape, dtype: inp.dtype }));
      const model = doc(
        [...inputs, node('layer', c.op, c.params)],
        inputs.map((_, i) => [`in${i}`, `layer:${i}`]),
      );
      const result = inferShapes(model);
      const errors = result.diagnostics().filter((d) => d.severity === 'error');
      assert.deepEqual(errors, []);
      const report = result.node('layer')!;
      assert.deepEqual(
        report.outputs!.map((o) => o.shape),
        c.outputShapes,
      );
      assert.equal(report.paramCount, c.paramCount);
    });
  }

  test('every catalogue layer has a PyTorch fixture (Input is exercised by all of them)', () => {
    const covered = new Set(fixtures.cases.map((c) => c.op));
    // OnnxOp is made by the importer; the import tests cover it.
    const missing = LAYERS.filter((l) => !l.internal)
      .map((l) => l.op)
      .filter((op) => op !== 'Input' && !covered.has(op));
    assert.deepEqual(missing, []);
  });
});

describe('layer specs are complete', () => {
  for (const spec of LAYERS) {
    test(spec.op, () => {
      assert.ok(spec.summary.length > 0 && spec.doc.length > 0, 'has docs');
      for (const [name, p] of Object.entries(spec.params)) {
        assert.match(name, /^[a-z][A-Za-z0-9]*$/, 'params are camelCase (digits allowed, as in dim0)');
        assert.ok(p.label && p.help, `${name} has a label and help text`);
      }
      assert.ok(spec.outputs.length > 0, 'has an output');
    });
  }
});
