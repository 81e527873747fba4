/**
 * Expanding and collapsing one block (renderer/canvas/relayout.ts, arrange.ts's toggleGroup) with the
 * real ELK in Node standing in for the layout worker: only the block's own items are laid out, the rest
 * of the model moves without losing its order or overlapping, and collapsing then expanding a block
 * puts every layer back where it was.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';
import { parseEdgeEnd, parseModel, type ModelDocument } from '../../core/index.ts';
import { groupsOf, type Group } from '../../core/graph/modules.ts';
import { toggleGroup } from '../../renderer/canvas/arrange.ts';
import { groupBoxes, type Box } from '../../renderer/canvas/groupBoxes.ts';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH, positionsOf, SIBLING_GAP, type Positions } from '../../renderer/canvas/layout.ts';
import { allCollapsed, visibility } from '../../renderer/state/hierarchy.ts';
import { EditorStore } from '../../renderer/state/store.ts';
import { doc, node } from './helpers.ts';

const Elk = ((ElkBundle as unknown as { default?: unknown }).default ?? ElkBundle) as new () => ELK;
const elk = new Elk();

/** The ResNet-18 template laid out whole by ELK with `groups`, as it opens. */
async function resnet(groups: (g: Group[]) => Group[]): Promise<ModelDocument> {
  const r = parseModel(readFileSync(new URL('../../assets/templates/resnet18.json', import.meta.url), 'utf8'));
  assert.ok(r.ok);
  const shown = groups(groupsOf(r.doc));
  const at = positionsOf(await elk.layout(layoutGraph(r.doc, shown)), shown);
  return { ...r.doc, groups: shown, nodes: r.doc.nodes.map((n) => ({ ...n, position: at[n.id] })) };
}

/** ELK in place of the layout worker, recording the ids of the items each call was given. */
function countingLayout() {
  const calls: string[][] = [];
  const items = (n: ElkNode): string[] => (n.children ?? []).flatMap((c) => [c.id, ...items(c)]);
  const layout = async (graph: ElkNode) => {
    calls.push(items(graph));
    return elk.layout(graph);
  };
  return { calls, layout };
}

const placesOf = (doc: ModelDocument): Positions => Object.fromEntries(doc.nodes.map((n) => [n.id, n.position!]));

/** What is drawn: each visible layer and each visible collapsed block, as boxes; and the expanded blocks' boxes. */
function drawn(doc: ModelDocument) {
  const view = visibility(doc, groupsOf(doc));
  const at = placesOf(doc);
  const boxes = groupBoxes(view, (id) => at[id]);
  const units = new Map<string, Box>();
  for (const n of doc.nodes) {
    const shown = view.shownAs.get(n.id)!;
    units.set(shown, shown === n.id ? { ...at[n.id], width: NODE_WIDTH, height: NODE_HEIGHT } : boxes.get(shown)!);
  }
  const open = view.visibleGroups.filter((g) => !g.collapsed);
  return { view, units, open: open.map((g) => ({ group: g, box: boxes.get(g.id)! })) };
}

const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/** The layout's rules: no two drawn things overlap, no open block covers what is not in it, every edge points down. */
function assertLayoutRules(doc: ModelDocument) {
  const { view, units, open } = drawn(doc);
  const list = [...units];
  for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) assert.ok(!overlap(list[i][1], list[j][1]), `${list[i][0]} overlaps ${list[j][0]}`);
  for (const { group, box } of open)
    for (const [id, unit] of units) {
      const inside =
        group.nodes.includes(id) ||
        groupsOf(doc)
          .find((g) => g.id === id)
          ?.nodes.every((n) => group.nodes.includes(n));
      assert.ok(inside || !overlap(unit, box), `${group.label}'s box covers ${id}`);
    }
  for (const e of doc.edges) {
    const from = view.shownAs.get(parseEdgeEnd(e.from).node)!;
    const to = view.shownAs.get(parseEdgeEnd(e.to).node)!;
    if (from !== to) assert.ok(units.get(to)!.y > units.get(from)!.y, `${from} → ${to} flows down`);
  }
}

/** Layers outside `members` keep their order top to bottom and left to right. */
function assertOrderKept(before: ModelDocument, after: ModelDocument, members: string[]) {
  const a = placesOf(before);
  const b = placesOf(after);
  const outside = before.nodes.map((n) => n.id).filter((id) => !members.includes(id));
  for (const p of outside)
    for (const q of outside) {
      assert.equal(Math.sign(b[p].y - b[q].y), Math.sign(a[p].y - a[q].y), `${p} and ${q} keep their vertical order`);
      assert.equal(Math.sign(b[p].x - b[q].x), Math.sign(a[p].x - a[q].x), `${p} and ${q} keep their horizontal order`);
    }
}

test('collapsing a block moves what is below it up; expanding it again restores every place without the layout worker', async () => {
  const doc = await resnet((g) => allCollapsed(g, false));
  const store = new EditorStore(doc);
  const { calls, layout } = countingLayout();
  const layer2 = groupsOf(doc).find((g) => g.id === 'block:layer2')!;

  await toggleGroup(store, layer2.id, layout);
  const collapsed = store.get().doc;
  assert.equal(groupsOf(collapsed).find((g) => g.id === layer2.id)!.collapsed, true);
  assertLayoutRules(collapsed);
  assertOrderKept(doc, collapsed, layer2.nodes);
  const shrink = drawn(doc).open.find((o) => o.group.id === layer2.id)!.box.height - drawn(collapsed).units.get(layer2.id)!.height;
  assert.equal(placesOf(doc).conv11.y - placesOf(collapsed).conv11.y, shrink, 'layer3 moves up by what layer2 lost in height');
  assert.deepEqual(placesOf(collapsed).image, placesOf(doc).image, 'what is above stays');

  await toggleGroup(store, layer2.id, layout);
  assert.deepEqual(placesOf(store.get().doc), placesOf(doc));
  assert.equal(calls.length, 0, 'the inside it had is reused');
});

test("expanding a block sends only the block's items to the layout worker and makes room below and beside it", async () => {
  const doc = await resnet((g) => allCollapsed(g, true));
  const store = new EditorStore(doc);
  const { calls, layout } = countingLayout();
  assertLayoutRules(doc);

  await toggleGroup(store, 'block:layer3', layout);
  assert.deepEqual(calls, [['block:layer3/layer3.0', 'block:layer3/layer3.1']], 'layer3 shows its two blocks, collapsed');
  const layer3 = store.get().doc;
  assertLayoutRules(layer3);
  assertOrderKept(doc, layer3, groupsOf(doc).find((g) => g.id === 'block:layer3')!.nodes);

  await toggleGroup(store, 'block:layer3/layer3.0', layout);
  const inner = groupsOf(doc).find((g) => g.id === 'block:layer3/layer3.0')!;
  assert.equal(calls.length, 2);
  assert.deepEqual(new Set(calls[1]), new Set(['conv11', 'batchnorm11', 'relu10', 'conv12', 'batchnorm12', 'add5', 'relu11', 'block:layer3/layer3.0/downsample']));
  assert.ok(
    calls[1].every((id) => inner.nodes.includes(id) || id.startsWith(`${inner.id}/`)),
    'nothing outside layer3.0 is laid out',
  );
  const opened = store.get().doc;
  assertLayoutRules(opened);
  assertOrderKept(layer3, opened, inner.nodes);
  assert.ok(placesOf(opened).adaptiveavgpool1.y > placesOf(layer3).adaptiveavgpool1.y, 'what is below moved down');
});

test('a block opening beside another pushes it aside, keeping the order and the gap', async () => {
  const branch = (p: string) => [1, 2, 3].map((i) => node(`${p}${i}`, 'ReLU'));
  const edges: [string, string][] = [
    ['x', 'a1'],
    ['a1', 'a2'],
    ['a2', 'a3'],
    ['x', 'b1'],
    ['b1', 'b2'],
    ['b2', 'b3'],
    ['a3', 'sum'],
    ['b3', 'sum'],
  ];
  const groups: Group[] = [
    { id: 'A', label: 'A', nodes: ['a1', 'a2', 'a3'], collapsed: true },
    { id: 'B', label: 'B', nodes: ['b1', 'b2', 'b3'], collapsed: true },
  ];
  const plain = { ...doc([node('x', 'Input', { shape: [4] }), ...branch('a'), ...branch('b'), node('sum', 'Add')], edges), groups };
  const at = positionsOf(await elk.layout(layoutGraph(plain, groups)), groups);
  const start = { ...plain, nodes: plain.nodes.map((n) => ({ ...n, position: at[n.id] })) };
  assert.equal(drawn(start).units.get('A')!.y, drawn(start).units.get('B')!.y, 'the two blocks sit side by side');
  const store = new EditorStore(start);
  const { calls, layout } = countingLayout();

  await toggleGroup(store, 'A', layout);
  assert.deepEqual(calls, [['a1', 'a2', 'a3']]);
  const opened = store.get().doc;
  assertLayoutRules(opened);
  assertOrderKept(start, opened, ['a1', 'a2', 'a3']);
  const a = drawn(opened).open[0].box;
  const b = drawn(opened).units.get('B')!;
  const gap = b.x > a.x ? b.x - (a.x + a.width) : a.x - (b.x + b.width);
  assert.ok(gap >= SIBLING_GAP, `B stays ${SIBLING_GAP} px clear of the open A (${gap})`);
});
