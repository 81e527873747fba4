/** Issue #17's rough edges that live outside the browser: rewiring, pasting, field text, MACs totals. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatSummary, getLayer, inferShapes, parseModel, summarize } from '../../core/index.ts';
import { EditorStore } from '../../renderer/state/store.ts';
import { NODE_HEIGHT, NODE_WIDTH } from '../../renderer/canvas/layout.ts';
import { parseField, toText } from '../../renderer/panels/fieldText.ts';

function template(id: string): EditorStore {
  const r = parseModel(readFileSync(new URL(`../../assets/templates/${id}.json`, import.meta.url), 'utf8'));
  assert.ok(r.ok);
  const store = new EditorStore();
  store.load(r.doc, `${id}.json`);
  return store;
}

test('an input change that would make a cycle is refused and leaves the existing edge', () => {
  const store = template('ca2-cnn');
  const before = store.get().doc;
  const old = before.edges.find((e) => e.to === 'conv2')!;
  const problem = store.rewire(old, 'linear2', 'conv2');
  assert.match(problem!, /would make a cycle/);
  assert.equal(store.get().doc, before, 'the document is unchanged');
  assert.ok(store.get().doc.edges.includes(old), 'the existing edge is kept');
  // An allowed change replaces the edge in one undoable step.
  assert.equal(store.rewire(old, 'relu1', 'conv2'), null);
  assert.ok(store.get().doc.edges.some((e) => e.from === 'relu1' && e.to === 'conv2'));
  assert.ok(!store.get().doc.edges.includes(old));
  store.undo();
  assert.equal(store.get().doc, before);
});

test('pasted layers never land on a layer, however often they are pasted', () => {
  const store = template('ca2-cnn');
  store.moveNodes(Object.fromEntries(store.get().doc.nodes.map((n, i) => [n.id, { x: 0, y: i * 150 }])));
  store.select(['conv1', 'relu1']);
  const clip = store.copy();
  for (let round = 0; round < 3; round++) {
    const pasted = new Set(store.paste(clip));
    const nodes = store.get().doc.nodes;
    for (const p of nodes.filter((n) => pasted.has(n.id))) {
      for (const n of nodes.filter((o) => !pasted.has(o.id))) {
        const apart = Math.abs(p.position!.x - n.position!.x) >= NODE_WIDTH || Math.abs(p.position!.y - n.position!.y) >= NODE_HEIGHT;
        assert.ok(apart, `round ${round}: ${p.id} covers ${n.id}`);
      }
    }
  }
});

test('number fields: "abc" is an error naming the field, never NaN; valid text reads back', () => {
  const conv = getLayer('Conv2d')!.params;
  assert.deepEqual(parseField('abc', conv.outChannels), { ok: false, message: 'Out channels: "abc" is not a whole number' });
  assert.deepEqual(parseField('2.5', conv.outChannels), { ok: false, message: 'Out channels: "2.5" is not a whole number' });
  assert.deepEqual(parseField('3, x', conv.kernelSize), { ok: false, message: 'Kernel size: "x" is not a whole number' });
  assert.deepEqual(parseField(' 32 ', conv.outChannels), { ok: true, value: 32 });
  assert.deepEqual(parseField('3, 5', conv.kernelSize), { ok: true, value: [3, 5] });
  assert.deepEqual(parseField('same', conv.padding), { ok: true, value: 'same' });
  const dropout = getLayer('Dropout')!.params;
  assert.equal(parseField('0.1.2', dropout.p).ok, false);
  assert.deepEqual(parseField('0.25', dropout.p), { ok: true, value: 0.25 });
});

test("an OnnxOp's Inputs field shows JSON, not [object Object]", () => {
  const schema = getLayer('OnnxOp')!.params.onnxInputs;
  const inputs = ['edge', { weight: 'W' }, null];
  const text = toText(inputs, schema);
  assert.equal(text, '["edge",{"weight":"W"},null]');
  assert.deepEqual(parseField(text, schema), { ok: true, value: inputs });
});

test('info on a model with symbolic sizes does not claim "Total MACs: 0"', () => {
  const r = parseModel(readFileSync(new URL('../../assets/templates/llama-block.json', import.meta.url), 'utf8'));
  assert.ok(r.ok);
  const text = formatSummary(summarize(inferShapes(r.doc)));
  assert.doesNotMatch(text, /Total MACs: 0\b/);
  assert.match(text, /Total MACs: – \(4 of 7 layers' MACs are unknown/);
  const cnn = parseModel(readFileSync(new URL('../../assets/templates/ca2-cnn.json', import.meta.url), 'utf8'));
  assert.ok(cnn.ok);
  assert.match(formatSummary(summarize(inferShapes(cnn.doc))), /Total MACs: 3,527,500 \(multiply-accumulates per sample\)/);
});
