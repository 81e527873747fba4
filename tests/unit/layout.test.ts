/**
 * The layout and the module hierarchy (issue #17), with the real ELK in Node: top to bottom from the
 * inputs, chains straight, branches side by side, blocks that cover only their own layers; module
 * paths into nested blocks; repeats; Find; the opening view; the quick layout for huge graphs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';
import { parseModel, type ModelDocument } from '../../core/index.ts';
import { groupsOf, moduleGroups, moduleName, modulePath } from '../../core/graph/modules.ts';
import { groupBoxes } from '../../renderer/canvas/groupBoxes.ts';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH, positionsOf, type Positions } from '../../renderer/canvas/layout.ts';
import { openingViewport } from '../../renderer/canvas/openingView.ts';
import { quickLayout } from '../../renderer/canvas/quickLayout.ts';
import { allCollapsed, findLayers, repeats, revealing, visibility } from '../../renderer/state/hierarchy.ts';

const Elk = ((ElkBundle as unknown as { default?: unknown }).default ?? ElkBundle) as new () => ELK;
const elk = new Elk();

function template(id: string): ModelDocument {
  const r = parseModel(readFileSync(new URL(`../../assets/templates/${id}.json`, import.meta.url), 'utf8'));
  assert.ok(r.ok);
  return r.doc;
}

async function laidOut(doc: ModelDocument, groups = groupsOf(doc)): Promise<Positions> {
  return positionsOf(await elk.layout(layoutGraph(doc, groups)), groups);
}

test('module paths from PyTorch node names, and their dotted module names', () => {
  assert.deepEqual(modulePath('/layer1/layer1.0/conv1/Conv'), ['layer1', 'layer1.0', 'conv1']);
  assert.deepEqual(modulePath('Conv_0'), []);
  assert.equal(moduleName(['layer3', 'layer3.1', 'conv2']), 'layer3.1.conv2');
  assert.equal(moduleName(['encoder', 'layers', 'encoder_layer_0', 'mlp']), 'encoder.layers.encoder_layer_0.mlp');
});

test('modules become nested blocks; one-layer modules and modules equal to their parent add none', () => {
  const paths = new Map<string, string[]>([
    ['a', ['layer1', 'layer1.0', 'conv1']],
    ['b', ['layer1', 'layer1.0', 'bn1']],
    ['c', ['layer1', 'layer1.1', 'conv1']],
    ['d', ['layer1', 'layer1.1', 'bn1']],
    ['e', ['head', 'fc']],
    ['f', ['head', 'fc']],
  ]);
  const groups = moduleGroups(paths, true);
  assert.deepEqual(
    groups.map((g) => [g.id, g.nodes.join(','), g.parent ?? null, g.collapsed]),
    [
      ['m:layer1', 'a,b,c,d', null, true],
      ['m:layer1/layer1.0', 'a,b', 'm:layer1', true],
      ['m:layer1/layer1.1', 'c,d', 'm:layer1', true],
      ['m:head', 'e,f', null, true],
    ],
  );
});

test('ResNet-18 template: top to bottom from the input, chains straight, blocks hold only their layers', async () => {
  const doc = template('resnet18');
  const at = await laidOut(doc);
  const y = (id: string) => at[id].y;
  assert.equal(Math.min(...Object.values(at).map((p) => p.y)), y('image'), 'the input is on top');
  for (const e of doc.edges) assert.ok(y(e.to) > y(e.from), `${e.from} → ${e.to} flows down`);
  // The stem is a chain: one straight column.
  assert.deepEqual(new Set(['image', 'conv1', 'batchnorm1', 'relu1', 'maxpool1'].map((id) => at[id].x)).size, 1);
  // A downsampling skip sits beside its block's main path.
  const placed = { ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: at[n.id] })) };
  // layer2.0: conv6 starts the main path, conv8 the downsampling skip; they sit side by side.
  assert.ok(at['conv8'].y >= at['conv6'].y && at['conv8'].y < at['add3'].y, 'the skip runs alongside the main path');
  for (const main of ['conv6', 'batchnorm6', 'conv7', 'batchnorm7']) assert.ok(Math.abs(at['conv8'].x - at[main].x) >= NODE_WIDTH, `the skip sits beside ${main}`);
  const view = visibility(placed, groupsOf(placed));
  const boxes = groupBoxes(view, (id) => at[id]);
  for (const g of groupsOf(doc)) {
    const box = boxes.get(g.id)!;
    for (const n of doc.nodes.filter((m) => !g.nodes.includes(m.id))) {
      const p = at[n.id];
      const inside = p.x + NODE_WIDTH > box.x && p.x < box.x + box.width && p.y + NODE_HEIGHT > box.y && p.y < box.y + box.height;
      assert.ok(!inside, `${n.id} lies inside ${g.label}'s box without being in it`);
    }
  }
});

test('collapsed blocks are laid out as one box, their layers at its place; Find reveals them', async () => {
  const doc = template('resnet18');
  const collapsed = allCollapsed(groupsOf(doc), true);
  const graph = layoutGraph(doc, collapsed);
  assert.deepEqual(
    graph.children!.map((c) => c.id),
    ['image', 'conv1', 'batchnorm1', 'relu1', 'maxpool1', 'block:layer1', 'block:layer2', 'block:layer3', 'block:layer4', 'adaptiveavgpool1', 'flatten1', 'linear1'],
  );
  const at = await laidOut(doc, collapsed);
  const layer3 = collapsed.find((g) => g.id === 'block:layer3')!;
  assert.equal(new Set(layer3.nodes.map((id) => `${at[id].x},${at[id].y}`)).size, 1, 'all of layer3 sits at its box');
  const found = findLayers(doc, collapsed, 'conv15');
  assert.equal(found[0].id, 'conv15');
  assert.equal(found[0].path, 'layer3/layer3.1');
  const shown = revealing(collapsed, 'conv15');
  assert.deepEqual(
    shown.filter((g) => !g.collapsed).map((g) => g.id),
    ['block:layer3', 'block:layer3/layer3.1'],
  );
  assert.equal(visibility(doc, shown).shownAs.get('conv15'), 'conv15');
});

test('identical sibling blocks are counted; different ones are not', () => {
  const doc = template('resnet18');
  const counts = repeats(doc, groupsOf(doc));
  assert.equal(counts.get('block:layer1/layer1.0'), 2);
  assert.equal(counts.get('block:layer1/layer1.1'), 2);
  assert.equal(counts.get('block:layer2/layer2.0'), undefined, 'layer2.0 downsamples, layer2.1 does not');
});

test('the opening view is at 100 % and starts at the inputs of a model taller than the window', async () => {
  const doc = template('resnet18');
  const at = await laidOut(doc);
  const placed = { ...doc, nodes: doc.nodes.map((n) => ({ ...n, position: at[n.id] })) };
  const view = openingViewport(placed, { width: 1000, height: 600 });
  assert.equal(view.zoom, 1);
  const input = at['image'];
  const screenX = input.x + view.x;
  const screenY = input.y + view.y;
  assert.ok(screenX >= 0 && screenX + NODE_WIDTH <= 1000 && screenY >= 0 && screenY + NODE_HEIGHT <= 600, 'the input is on screen');
  const small = template('mlp-3-4-2');
  const smallAt = await laidOut(small);
  const centred = openingViewport({ ...small, nodes: small.nodes.map((n) => ({ ...n, position: smallAt[n.id] })) }, { width: 1000, height: 1000 });
  assert.equal(centred.zoom, 1, 'a small model is not blown up either');
});

test('the quick layout places a 10,000-layer chain as one straight column, in order', () => {
  const n = 10_000;
  const graph: ElkNode = {
    id: 'root',
    children: Array.from({ length: n }, (_, i) => ({ id: `n${i}`, width: NODE_WIDTH, height: NODE_HEIGHT })),
    edges: Array.from({ length: n - 1 }, (_, i) => ({ id: `e${i}`, sources: [`n${i}::out::0`], targets: [`n${i + 1}::in::0`] })),
  };
  const out = quickLayout(graph, 56, 40);
  assert.equal(new Set(out.children!.map((c) => c.x)).size, 1);
  out.children!.forEach((c, i) => assert.equal(c.y, i * (NODE_HEIGHT + 56)));
});
