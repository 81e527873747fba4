/** Re-inference after an edit touches only what the edit can change, and agrees with a full pass. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ShapeInference, inferShapes, parseModel, type ModelDocument } from '../../core/index.ts';

function template(id: string): ModelDocument {
  const r = parseModel(readFileSync(new URL(`../../assets/templates/${id}.json`, import.meta.url), 'utf8'));
  if (!r.ok) throw new Error(id);
  return r.doc;
}

const snapshot = (s: ShapeInference) => ({ totals: s.getTotals(), nodes: s.nodes().map((n) => [n.id, n.outputs, n.paramCount, n.macs, n.diagnostics]) });

test('an edit that keeps the output shape re-infers only the edited node and its direct readers', () => {
  const live = new ShapeInference(template('resnet18'));
  const conv = live.document.nodes.find((n) => n.op === 'Conv2d' && n.params.kernelSize === 3)!;
  const visited = live.setParams(conv.id, { ...conv.params, kernelSize: 5, padding: 2 });
  assert.ok(visited.length <= 3, `visited ${visited.join(', ')}`);
  assert.deepEqual(snapshot(live), snapshot(inferShapes(structuredClone(live.document))));
  assert.equal(live.getTotals().totalParams, 11_689_512 + 64 * 64 * 16);
});

test('an edit that changes shapes flows downstream and matches a full pass', () => {
  const live = new ShapeInference(template('ca2-cnn'));
  live.setParams('conv1', { outChannels: 20, kernelSize: 1 });
  const full = inferShapes(structuredClone(live.document));
  assert.deepEqual(snapshot(live), snapshot(full));
  assert.deepEqual(live.node('linear1')!.inputs[0]!.shape, ['N', 1800]);
});

test('an edit that breaks a node and one that fixes it again', () => {
  const live = new ShapeInference(template('ca2-cnn'));
  live.setParams('conv1', { outChannels: 20, kernelSize: 40 });
  assert.ok(live.hasErrors());
  assert.equal(live.node('linear2')!.outputs, null);
  live.setParams('conv1', { outChannels: 20, kernelSize: 5 });
  assert.ok(!live.hasErrors());
  assert.equal(live.getTotals().totalParams, 661_591);
});

test('changing a tied embedding re-infers the tied head', () => {
  const live = new ShapeInference(template('gpt1'));
  live.setParams('tok_emb', { numEmbeddings: 40000, embeddingDim: 768 });
  const errors = live.diagnostics().filter((d) => d.severity === 'error');
  assert.deepEqual(
    errors.map((e) => [e.nodeId, e.field]),
    [['lm_head', 'tiedTo']],
  );
  live.setParams('tok_emb', { numEmbeddings: 40478, embeddingDim: 768 });
  assert.deepEqual(live.diagnostics(), []);
  assert.equal(live.getTotals().totalParams, 116_534_784);
});

test('inference reads a frozen document and an edit leaves the old document as it was', () => {
  const freeze = <T>(value: T): T => {
    if (value && typeof value === 'object') for (const v of Object.values(value)) freeze(v);
    return Object.freeze(value);
  };
  const doc = freeze(template('ca2-cnn'));
  const before = JSON.stringify(doc);
  const live = new ShapeInference(doc);
  live.setParams('conv1', { outChannels: 8, kernelSize: 3 });
  assert.equal(JSON.stringify(doc), before, 'the document given is unchanged');
  assert.deepEqual(live.document.nodes.find((n) => n.id === 'conv1')!.params, { outChannels: 8, kernelSize: 3 });
  assert.equal(
    live.document.nodes.find((n) => n.id === 'linear1'),
    doc.nodes.find((n) => n.id === 'linear1'),
    'untouched nodes are shared, not copied',
  );
  assert.deepEqual(snapshot(live), snapshot(inferShapes(live.document)));
});
