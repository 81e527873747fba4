/**
 * The generated code proven by Debian's Python packages, when they are there (skipped, saying why,
 * otherwise): model.py run by python3-torch against ONNX Runtime, and ONNX text parsed back by
 * python3-onnx. npm run check:pytorch and check:onnx-text run the same checks on every model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeEngine } from '../../engines/node/engine.ts';
import { checkPyTorch, pythonTorchMissing, templateDocument } from '../../scripts/check-pytorch.ts';
import { checkOnnxText, pythonOnnxMissing, textCases } from '../../scripts/check-onnx-text.ts';

const torchMissing = pythonTorchMissing();
const onnxMissing = pythonOnnxMissing();

test('model.py of small templates runs in PyTorch with Netloom\'s parameter count and ONNX Runtime\'s outputs', { skip: torchMissing ?? false }, async () => {
  const engine = new NodeEngine();
  try {
    for (const id of ['mlp-3-4-2', 'llama-block']) {
      const r = await checkPyTorch(id, templateDocument(id), undefined, engine);
      assert.equal(r.error, undefined, `${id}: ${r.error}`);
      assert.equal(r.torchParams, r.params, id);
      assert.ok(r.difference <= 1e-4, `${id}: max difference ${r.difference}`);
    }
  } finally {
    await engine.dispose();
  }
});

test('ONNX text of small models and training steps parses back to the same graph, and a changed text does not', { skip: onnxMissing ?? false }, () => {
  const cases = textCases();
  const mlp = cases.find((c) => c.name === 'mlp-3-4-2')!;
  cases.push({ ...mlp, name: 'changed', text: mlp.text.replace('transB = 1', 'transB = 0') });
  const { status, report } = checkOnnxText(cases);
  const lines = report.trim().split('\n');
  assert.equal(lines.length, cases.length, report);
  assert.deepEqual(
    lines.filter((l) => !l.startsWith('ok')),
    [lines.find((l) => l.startsWith('FAIL changed.txt'))],
    report,
  );
  assert.match(lines.at(-1)!, /FAIL changed.txt: 3 nodes: model.graph.nodes\[0\].*: 1 in the file, 0 in the text/);
  assert.equal(status, 1);
});
