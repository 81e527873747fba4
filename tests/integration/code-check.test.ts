/**
 * The generated code proven by Debian's Python packages, when they are there (skipped, saying why,
 * otherwise): model.py run by python3-torch against ONNX Runtime, and ONNX text parsed back by
 * python3-onnx. npm run check:pytorch and check:onnx-text run the same checks on every model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeEngine } from '../../engines/node/engine.ts';
import type { ModelDocument } from '../../core/index.ts';
import { checkPyTorch, pythonTorchMissing, templateDocument } from '../../scripts/check-pytorch.ts';
import { checkOnnxText, pythonOnnxMissing, textCases } from '../../scripts/check-onnx-text.ts';

const torchMissing = pythonTorchMissing();
const onnxMissing = pythonOnnxMissing();

/** Runs a document's model.py in PyTorch and its ONNX export in ONNX Runtime: same parameter count, same outputs. */
async function agreesWithOnnxRuntime(doc: ModelDocument): Promise<Awaited<ReturnType<typeof checkPyTorch>>> {
  const engine = new NodeEngine();
  try {
    const r = await checkPyTorch(doc.name, doc, undefined, engine);
    assert.equal(r.error, undefined, `${doc.name}: ${r.error}`);
    assert.equal(r.torchParams, r.params, doc.name);
    assert.ok(r.ok, `${doc.name}: max difference ${r.difference}`);
    return r;
  } finally {
    await engine.dispose();
  }
}

test("model.py of small templates runs in PyTorch with Netloom's parameter count and ONNX Runtime's outputs", { skip: torchMissing ?? false }, async () => {
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

test("deck 003's threshold units export as torch.sign and torch.heaviside with their value at 0, and agree with ONNX Runtime", { skip: torchMissing ?? false }, async () => {
  const doc: ModelDocument = {
    format: 'netloom.model',
    version: 1,
    name: 'threshold units',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [4] } },
      { id: 'w', op: 'Linear', params: { outFeatures: 3 } },
      { id: 'sign', op: 'Sign', params: { atZero: 1 } },
      { id: 'step', op: 'Heaviside', params: { atZero: 0.5 } },
      { id: 'relu', op: 'ReLU', params: {} },
      { id: 'zero', op: 'Sign', params: { atZero: -1 } },
    ],
    edges: [
      { from: 'x', to: 'w' },
      { from: 'w', to: 'sign' },
      { from: 'w', to: 'step' },
      // ReLU makes exact zeros, so the value at 0 is what is compared there.
      { from: 'w', to: 'relu' },
      { from: 'relu', to: 'zero' },
    ],
  };
  await agreesWithOnnxRuntime(doc);
});

test("the course's attention by hand (deck 000: no projections, unscaled; deck 001: no output projection) runs in PyTorch as in ONNX Runtime", { skip: torchMissing ?? false }, async () => {
  const attention = (name: string, params: Record<string, boolean | number>): ModelDocument => ({
    format: 'netloom.model',
    version: 1,
    name,
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [5, 8] } },
      { id: 'attn', op: 'MultiheadAttention', params: { numHeads: 1, ...params } },
    ],
    edges: [{ from: 'x', to: 'attn' }],
  });
  await agreesWithOnnxRuntime(attention('deck 000', { inputProjection: false, outputProjection: false, scaled: false, bias: false }));
  await agreesWithOnnxRuntime(attention('deck 001', { outputProjection: false, bias: false }));
});

test("a mixture of experts (top 2 of 4 SwiGLU experts) runs in PyTorch as in ONNX Runtime, with its parameters named as Mixtral's", { skip: torchMissing ?? false }, async () => {
  const doc: ModelDocument = {
    format: 'netloom.model',
    version: 1,
    name: 'moe',
    nodes: [
      { id: 'x', op: 'Input', params: { shape: [6, 8] } },
      { id: 'moe', op: 'MixtureOfExperts', params: { numExperts: 4, topK: 2, hiddenFeatures: 16 } },
    ],
    edges: [{ from: 'x', to: 'moe' }],
  };
  await agreesWithOnnxRuntime(doc);
});

test('model.py takes several inputs by name and writes several outputs to a folder, with ids that are not Python names', { skip: torchMissing ?? false }, async () => {
  const doc: ModelDocument = {
    format: 'netloom.model',
    version: 1,
    name: 'two in, two out',
    nodes: [
      { id: 'a', op: 'Input', params: { shape: ['T', 8] } },
      { id: 'b', op: 'Input', params: { shape: ['T', 8] } },
      { id: 'block.0/attn', op: 'MultiheadAttention', params: { numHeads: 2, slidingWindow: 3 } },
      { id: 'sum', op: 'Add', params: {} },
      { id: 'lstm', op: 'LSTM', params: { hiddenSize: 4, bidirectional: true } },
      { id: 'head', op: 'Linear', params: { outFeatures: 3 } },
      { id: 'relu', op: 'ReLU', params: {} },
    ],
    edges: [
      { from: 'a', to: 'block.0/attn:query' },
      { from: 'b', to: 'block.0/attn:key' },
      { from: 'a', to: 'sum' },
      { from: 'block.0/attn', to: 'sum' },
      { from: 'sum', to: 'lstm' },
      { from: 'lstm', to: 'head' },
      { from: 'sum', to: 'relu' },
    ],
  };
  const r = await agreesWithOnnxRuntime(doc);
  assert.deepEqual(r.outputs, ['relu', 'head']);
});

test('ONNX text of small models and training steps parses back to the same graph, and a changed text does not', { skip: onnxMissing ?? false }, () => {
  // The quick ones here (npm run check:onnx-text also parses the Llama block, the LSTM and the CA2 CNN).
  const cases = textCases(
    ['mlp-3-4-2', 'conv-example', 'lenet5', 'autoencoder'],
    [
      ['mlp-3-4-2', 'mse'],
      ['lenet5', 'cross-entropy'],
    ],
  );
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
