/**
 * The store while training holds the model (every edit path refused, the lock outside the undo history)
 * and trained weights as one undoable step (what Export ONNX writes follows Undo and Redo).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { compileModel } from '../../core/convert/compile.ts';
import type { Weights } from '../../core/graph/weights.ts';
import { parseModel } from '../../core/index.ts';
import { decodeModel, encodeModelBytes, tensorValues } from '../../core/onnx/proto.ts';
import { EditorStore } from '../../renderer/state/store.ts';

const MESSAGE = 'Training — the model is locked.';

function mlp(): EditorStore {
  const r = parseModel(readFileSync(new URL('../../assets/templates/mlp-3-4-2.json', import.meta.url), 'utf8'));
  assert.ok(r.ok);
  const store = new EditorStore();
  store.load(r.doc, 'mlp.json');
  return store;
}

/** linear1's weight as Export ONNX writes it: the model compiled with the store's weights, encoded and read back. */
function exported(store: EditorStore): number[] {
  const bytes = encodeModelBytes(compileModel(store.get().doc, { weights: store.get().weights }).model);
  return [...tensorValues(decodeModel(bytes).graph.initializer!.find((t) => t.name === 'linear1.weight')!)];
}

test('while locked, every edit path is refused and says why; the document and its history stay as they were', () => {
  const store = mlp();
  store.setParam('linear1', 'outFeatures', 5);
  // linear2's input free, so that connecting it would be allowed but for the lock.
  store.removeEdges([{ from: 'sigmoid1', to: 'linear2' }]);
  // Something to redo, too.
  store.rename('renamed');
  store.undo();
  store.select(['linear1']);
  const heard: string[] = [];
  store.onRefused((m) => heard.push(m));
  let stops = 0;
  store.lock({ message: MESSAGE, detail: 'Stopping keeps the weights trained so far.', stop: () => stops++ });
  const { doc, weights } = store.get();
  const clip = store.copy(['linear1']);

  const attempts: [string, () => unknown][] = [
    ['addNode', () => assert.equal(store.addNode('ReLU', { x: 0, y: 0 }), '')],
    ['addNodeAfter', () => assert.equal(store.addNodeAfter('ReLU', { x: 0, y: 0 }, 'linear2'), '')],
    ['setParam', () => store.setParam('linear1', 'outFeatures', 7)],
    ['setTrainable', () => store.setTrainable('linear1', false)],
    ['rename', () => store.rename('other')],
    ['replace', () => store.replace({ ...doc, nodes: [] })],
    ['moveNodes', () => store.moveNodes({ linear1: { x: 500, y: 500 } })],
    ['connect', () => assert.equal(store.connect('sigmoid1', 'linear2'), MESSAGE)],
    ['rewire', () => assert.equal(store.rewire(undefined, 'sigmoid1', 'linear2'), MESSAGE)],
    ['removeEdges', () => store.removeEdges([doc.edges[0]])],
    ['deleteNodes', () => store.deleteNodes(['sigmoid1'])],
    ['paste', () => assert.deepEqual(store.paste(clip), [])],
    ['cut', () => store.cut()],
    ['group', () => store.group(['linear1', 'sigmoid1'])],
    ['arrange', () => store.arrange([], { linear1: { x: 1, y: 1 } })],
    ['setWeights', () => store.setWeights(new Map())],
    ['undo', () => store.undo()],
    ['redo', () => store.redo()],
    ['load', () => assert.equal(store.load({ ...doc, name: 'another' }, 'another.json'), false)],
  ];
  for (const [name, attempt] of attempts) {
    const before = heard.length;
    attempt();
    assert.equal(heard.length, before + 1, `${name} is refused with the lock's message`);
    assert.equal(store.get().doc, doc, `${name} leaves the document alone`);
    assert.equal(store.get().weights, weights, `${name} leaves the weights alone`);
  }
  assert.deepEqual(new Set(heard), new Set([MESSAGE]));
  assert.equal(store.get().fileName, 'mlp.json');
  // Selecting is not an edit: the selection (and the inspector) still follow clicks.
  store.select(['sigmoid1']);
  assert.deepEqual(store.get().selection, ['sigmoid1']);
  store.get().locked!.stop();
  assert.equal(stops, 1, 'the lock offers Stop');

  store.unlock();
  assert.equal(store.get().locked, null);
  assert.ok(store.canUndo() && store.canRedo(), 'locking and unlocking are not steps of the history');
  store.undo();
  assert.equal(store.get().doc.edges.length, 3, 'undo after the lock undoes the edit before it');
  store.undo();
  assert.equal(store.get().doc.nodes.find((n) => n.id === 'linear1')!.params.outFeatures, 4);
  assert.ok(!store.canUndo(), 'and nothing more: the refused edits left no steps');
  assert.equal(store.get().locked, null, 'undo does not bring the lock back');
  store.addNode('ReLU', { x: 0, y: 0 });
  assert.equal(store.get().doc.nodes.length, 5, 'edits work again');
});

test('trained weights are one undoable step: Export ONNX writes the earlier weights after Undo and the trained ones after Redo', () => {
  const store = mlp();
  const fresh = exported(store);
  store.setParam('linear2', 'bias', false);
  const inferred = store.get().inferred;
  // What training hands back: every parameter of the model, changed.
  const trained: Weights = new Map([...compileModel(store.get().doc).weights].map(([k, t]) => [k, { shape: t.shape, data: t.data.map((v) => v * 3 + 0.5) }]));
  assert.equal(store.setWeights(trained), true);
  assert.equal(store.get().inferred, inferred, 'new weights leave the document and its inference as they were');
  const after = exported(store);
  assert.deepEqual(after, [...trained.get('linear1.weight')!.data]);
  assert.notDeepEqual(after, fresh);

  store.undo();
  assert.equal(store.get().weights, undefined);
  assert.deepEqual(exported(store), fresh, 'Undo: the weights before training');
  assert.equal(store.get().doc.nodes.find((n) => n.id === 'linear2')!.params.bias, false, 'Undo took back the weights only');
  store.redo();
  assert.equal(store.get().weights, trained);
  assert.deepEqual(exported(store), after, 'Redo: the trained weights');

  // Earlier steps carry the weights of their time: undoing past the training restores both.
  store.undo();
  store.undo();
  assert.equal(store.get().doc.nodes.find((n) => n.id === 'linear2')!.params.bias, undefined);
  assert.equal(store.get().weights, undefined);
  store.redo();
  store.redo();
  assert.equal(store.get().weights, trained);

  // A second training's weights undo to the first's; opening a document starts a fresh history with its own weights.
  const again: Weights = new Map([...trained].map(([k, t]) => [k, { shape: t.shape, data: t.data.map((v) => v - 1) }]));
  store.setWeights(again);
  store.undo();
  assert.equal(store.get().weights, trained);
  store.load(store.get().doc, 'mlp.json', again);
  assert.equal(store.get().weights, again);
  assert.ok(!store.canUndo());
});
