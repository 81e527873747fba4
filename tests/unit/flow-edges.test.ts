/**
 * The canvas's edges (renderer/canvas/flowEdges.ts) follow the document through the store's edits: an
 * edit that changes no shape gives React Flow the very same edge list (so it does not index every edge
 * again), one that does changes only the edges it reaches, and Undo brings the labels back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowEdges, type EdgeView } from '../../renderer/canvas/flowEdges.ts';
import { EditorStore } from '../../renderer/state/store.ts';
import { doc, node } from './helpers.ts';

const model = doc(
  [node('x', 'Input', { shape: [4] }), node('fc1', 'Linear', { outFeatures: 16 }), node('act', 'LeakyReLU'), node('fc2', 'Linear', { outFeatures: 3 })],
  [
    ['x', 'fc1'],
    ['fc1', 'act'],
    ['act', 'fc2'],
  ],
);
const view: EdgeView = { hidden: new Map(), worst: new Map(), values: new Map() };

test('an edit that changes no shape keeps the edge list; one that does renews only the edges it reaches', () => {
  const store = new EditorStore(model);
  const edges = new FlowEdges();
  const build = () => edges.build(store.get().doc, store.get().inferred.inference, view);
  const first = build();
  assert.deepEqual(
    first.map((e) => [e.source, e.target, e.label]),
    [
      ['x', 'fc1', 'N×4'],
      ['fc1', 'act', 'N×16'],
      ['act', 'fc2', 'N×16'],
    ],
  );

  store.setParam('act', 'negativeSlope', 0.2);
  assert.equal(build(), first, 'a new slope changes no shape: the same list');

  store.setParam('fc1', 'outFeatures', 7);
  const wider = build();
  assert.notEqual(wider, first);
  assert.deepEqual(
    wider.map((e) => e.label),
    ['N×4', 'N×7', 'N×7'],
  );
  assert.equal(wider[0], first[0], 'the edge into fc1 is the same object');

  store.undo();
  const undone = build();
  assert.deepEqual(
    undone.map((e) => e.label),
    ['N×4', 'N×16', 'N×16'],
  );
  // A shown value or an error on the target renews that edge's label or class.
  const valued = edges.build(store.get().doc, store.get().inferred.inference, { ...view, values: new Map([['fc1', '[0.5, …]']]) });
  assert.equal(valued[1].label, 'N×16 = [0.5, …]');
  assert.equal(valued[2], undone[2]);
});
