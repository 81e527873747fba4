/** The editor's document store: undo history, ids, wiring rules, clipboard, groups. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseModel } from '../../core/index.ts';
import { EditorStore, groupsOf } from '../../renderer/state/store.ts';
import { nextId } from '../../renderer/state/ids.ts';

const at = { x: 0, y: 0 };

function ca2(): EditorStore {
  const r = parseModel(readFileSync(new URL('../../assets/templates/ca2-cnn.json', import.meta.url), 'utf8'));
  assert.ok(r.ok);
  const store = new EditorStore();
  store.load(r.doc, 'ca2.json');
  return store;
}

test('ids are readable and unique per op', () => {
  assert.equal(nextId('Conv2d', ['conv1', 'conv2', 'linear1']), 'conv3');
  assert.equal(nextId('BatchNorm2d', []), 'batchnorm1');
  assert.equal(nextId('MultiheadAttention', ['multiheadattention1']), 'multiheadattention2');
  const store = new EditorStore();
  assert.equal(store.addNode('Conv2d', at), 'conv1');
  assert.equal(store.addNode('Conv2d', at), 'conv2');
  store.deleteNodes(['conv1']);
  assert.equal(store.addNode('Conv2d', at), 'conv1', 'freed ids are reused');
});

test('every change can be undone and redone, and re-infers', () => {
  const store = ca2();
  assert.equal(store.inference.getTotals().totalParams, 661_591);
  store.setParam('conv1', 'kernelSize', 3);
  assert.equal(store.inference.getTotals().totalParams, 661_591 - 20 * (25 - 9), '20 filters of 3×3 instead of 5×5');
  const id = store.addNode('ReLU', at);
  store.connect('linear2', id);
  store.moveNodes({ [id]: { x: 10, y: 20 } });
  assert.ok(store.get().dirty);
  for (let i = 0; i < 4; i++) store.undo();
  assert.equal(store.inference.getTotals().totalParams, 661_591);
  assert.deepEqual(
    store.get().doc.nodes.map((n) => n.id),
    ca2()
      .get()
      .doc.nodes.map((n) => n.id),
  );
  assert.ok(!store.canUndo());
  for (let i = 0; i < 4; i++) store.redo();
  assert.deepEqual(store.get().doc.nodes.find((n) => n.id === id)!.position, { x: 10, y: 20 });
  assert.ok(!store.canRedo());
  store.undo();
  store.addNode('Tanh', at);
  assert.ok(!store.canRedo(), 'a new change clears the redo stack');
});

test('invalid connections are refused with a reason', () => {
  const store = ca2();
  assert.match(store.connect('linear2', 'conv1')!, /already connected to face/);
  assert.match(store.connect('relu3', 'relu3')!, /cannot feed itself/);
  const extra = store.addNode('ReLU', at);
  store.connect('linear2', extra);
  assert.match(store.connectionProblem(extra, 'face')!, /takes no edges/);
  store.removeEdges([{ from: 'face', to: 'conv1' }]);
  assert.match(store.connect(extra, 'conv1')!, /would make a cycle: .* → conv1/);
  const sum = store.addNode('Add', at);
  assert.equal(store.connect('relu1', sum), null);
  assert.equal(store.connect('relu2', sum), null, 'variadic layers take more edges');
});

test('copy and paste give fresh ids, keep inner edges and offset positions', () => {
  const store = ca2();
  store.moveNodes({ conv1: { x: 100, y: 50 } });
  store.select(['conv1', 'relu1', 'maxpool1']);
  const clip = store.copy();
  assert.equal(clip.edges.length, 2);
  const ids = store.paste(clip);
  assert.deepEqual(ids, ['conv3', 'relu4', 'maxpool3']);
  assert.deepEqual(store.get().selection, ids);
  const doc = store.get().doc;
  assert.deepEqual(doc.nodes.find((n) => n.id === 'conv3')!.position, { x: 440, y: 50 }, 'beside the copied layers: their width, a layer and a gap to the right');
  assert.ok(doc.edges.some((e) => e.from === 'conv3' && e.to === 'relu4'));
  const cut = store.cut();
  assert.equal(cut.nodes.length, 3);
  assert.equal(store.get().doc.nodes.length, 11);
  assert.deepEqual(store.duplicate(), []);
});

test('pasting a tied head with its embedding re-ties it to the copy', () => {
  const store = new EditorStore();
  const emb = store.addNode('Embedding', at);
  const head = store.addNode('Linear', at, { outFeatures: 1000, bias: false, tiedTo: emb });
  store.select([emb, head]);
  const [, newHead] = store.duplicate();
  assert.equal(store.get().doc.nodes.find((n) => n.id === newHead)!.params.tiedTo, 'embedding2');
});

test('groups collapse and expand, and deleting members shrinks them', () => {
  const store = ca2();
  const g = store.group(['conv1', 'relu1', 'maxpool1'], 'Feature block')!;
  assert.deepEqual(groupsOf(store.get().doc)[0], { id: g, label: 'Feature block', nodes: ['conv1', 'relu1', 'maxpool1'], collapsed: false });
  store.toggleGroup(g);
  assert.ok(groupsOf(store.get().doc)[0].collapsed);
  store.deleteNodes(['relu1']);
  assert.deepEqual(groupsOf(store.get().doc)[0].nodes, ['conv1', 'maxpool1']);
  store.undo();
  store.undo();
  store.undo();
  assert.deepEqual(groupsOf(store.get().doc), []);
});
