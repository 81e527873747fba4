/**
 * Expanding or collapsing one block without laying out the whole model again. Only the block's own
 * layers go to the layout worker (or the layout they had when it was last collapsed is reused); the
 * block opens or closes where it is, centred on its old place and with its top kept; what lies below it
 * moves down or up by the change in its height, and what lies beside it moves aside if the open block
 * would reach it. So the layout's rules hold: one direction, no overlaps, everything else in its order.
 */
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import { parseEdgeEnd, type ModelDocument } from '../../core/index.ts';
import type { Group } from '../../core/graph/modules.ts';
import { visibility } from '../state/hierarchy.ts';
import { groupBoxes, type Box } from './groupBoxes.ts';
import { COLLAPSED_HEIGHT, GROUP_PAD, LAYER_GAP, layoutGraph, NODE_HEIGHT, NODE_WIDTH, positionsOf, SIBLING_GAP, type Positions } from './layout.ts';

/** A block's inside: its layers' places relative to the top-left corner of its (expanded) box, and the box's size. */
export interface BlockLayout {
  width: number;
  height: number;
  offsets: Positions;
}

/** One block on its own: its layers, the edges among them, and its nested groups (the outermost ones at the top level). */
export function blockDocument(doc: ModelDocument, groups: Group[], id: string): { doc: ModelDocument; groups: Group[] } {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const members = new Set(byId.get(id)?.nodes ?? []);
  const inside = (g: Group): boolean => {
    for (let p = g.parent; p; p = byId.get(p)?.parent) if (p === id) return true;
    return false;
  };
  const nested = groups.filter(inside).map((g) => (g.parent === id ? { id: g.id, label: g.label, nodes: g.nodes, collapsed: g.collapsed } : g));
  const within = (end: string) => members.has(parseEdgeEnd(end).node);
  return {
    doc: { ...doc, nodes: doc.nodes.filter((n) => members.has(n.id)), edges: doc.edges.filter((e) => within(e.from) && within(e.to)), groups: nested },
    groups: nested,
  };
}

/** What the layout worker is given to expand block `id`: its own layers only, as they show inside it. */
export function blockGraph(doc: ModelDocument, groups: Group[], id: string): ElkNode {
  const block = blockDocument(doc, groups, id);
  return layoutGraph(block.doc, block.groups);
}

/** A block's inside from its layers' places (any origin): what groupBoxes would draw around them. */
export function measureBlock(doc: ModelDocument, groups: Group[], id: string, at: Positions): BlockLayout {
  const block = blockDocument(doc, groups, id);
  const view = visibility(block.doc, block.groups);
  const place = (n: string) => at[n] ?? { x: 0, y: 0 };
  const boxes = groupBoxes(view, place);
  const parts: Box[] = [
    ...block.doc.nodes.filter((n) => !view.innermost.has(n.id)).map((n) => ({ ...place(n.id), width: NODE_WIDTH, height: NODE_HEIGHT })),
    ...view.visibleGroups.filter((g) => !g.parent).flatMap((g) => boxes.get(g.id) ?? []),
  ];
  const left = Math.min(...parts.map((b) => b.x));
  const top = Math.min(...parts.map((b) => b.y));
  const right = Math.max(...parts.map((b) => b.x + b.width));
  const bottom = Math.max(...parts.map((b) => b.y + b.height));
  const offsets: Positions = {};
  for (const n of block.doc.nodes) offsets[n.id] = { x: place(n.id).x - left + GROUP_PAD.left, y: place(n.id).y - top + GROUP_PAD.top };
  return { width: right - left + GROUP_PAD.left + GROUP_PAD.right, height: bottom - top + GROUP_PAD.top + GROUP_PAD.bottom, offsets };
}

/** The block's inside from the layout worker's answer to blockGraph. */
export const laidOutBlock = (doc: ModelDocument, groups: Group[], id: string, laidOut: ElkNode): BlockLayout =>
  measureBlock(doc, groups, id, positionsOf(laidOut, blockDocument(doc, groups, id).groups));

const overlapsAcross = (a: Box, b: Box, gap = 0) => a.x < b.x + b.width + gap && b.x < a.x + a.width + gap;
const overlapsDown = (a: Box, b: Box) => a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * Every layer's place once block `id` is expanded with `inside` as its layout, or collapsed (`inside`
 * null), starting from the places in `doc` as it shows with `before`. `after` is `before` with the block
 * toggled. Null when a layer has no place yet (a full layout is needed then).
 */
export function placeToggled(doc: ModelDocument, before: Group[], after: Group[], id: string, inside: BlockLayout | null): Positions | null {
  if (doc.nodes.some((n) => !n.position)) return null;
  const index = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const at = (n: string) => doc.nodes[index.get(n)!].position!;
  const view = visibility(doc, before);
  const boxes = groupBoxes(view, at);
  const old = boxes.get(id);
  const block = after.find((g) => g.id === id);
  if (!old || !block) return null;
  const members = new Set(block.nodes);
  const width = inside ? inside.width : NODE_WIDTH;
  const height = inside ? inside.height : COLLAPSED_HEIGHT;
  // Centred on the old place (truncated, so that collapsing and expanding again lands on the same pixel).
  const now: Box = { x: old.x + Math.trunc((old.width - width) / 2), y: old.y, width, height };

  // What else is drawn: each visible layer, and each collapsed block as one unit with all its layers.
  const units = new Map<string, { box: Box; layers: string[] }>();
  for (const n of doc.nodes) {
    if (members.has(n.id)) continue;
    const shown = view.shownAs.get(n.id)!;
    const unit = units.get(shown) ?? { box: shown === n.id ? { ...at(n.id), width: NODE_WIDTH, height: NODE_HEIGHT } : boxes.get(shown)!, layers: [] };
    unit.layers.push(n.id);
    units.set(shown, unit);
  }
  const all = [...units.values()].filter((u) => u.box);
  const below = all.filter((u) => u.box.y >= old.y + old.height);
  const rest = all.filter((u) => u.box.y < old.y + old.height);
  const move = new Map<(typeof all)[number], { dx: number; dy: number }>();

  let dy = now.height - old.height;
  // Moving up stops where a layer below would come closer than a layer gap to one beside the block.
  if (dy < 0)
    for (const b of below) for (const r of rest) if (overlapsAcross(b.box, r.box) && r.box.y + r.box.height <= b.box.y) dy = Math.max(dy, Math.min(0, r.box.y + r.box.height + LAYER_GAP - b.box.y));
  for (const b of below) move.set(b, { dx: 0, dy });

  // Beside the open block: move each side outwards, as one, until it clears the block by a sibling gap.
  if (inside) {
    const centre = now.x + now.width / 2;
    const beside = rest.filter((u) => overlapsDown(u.box, now));
    const right = beside.filter((u) => u.box.x + u.box.width / 2 >= centre);
    const left = beside.filter((u) => u.box.x + u.box.width / 2 < centre);
    const pushRight = Math.max(0, ...right.filter((u) => overlapsAcross(u.box, now, SIBLING_GAP)).map((u) => now.x + now.width + SIBLING_GAP - u.box.x));
    const pushLeft = Math.max(0, ...left.filter((u) => overlapsAcross(u.box, now, SIBLING_GAP)).map((u) => u.box.x + u.box.width + SIBLING_GAP - now.x));
    if (pushRight > 0) for (const u of right) move.set(u, { dx: pushRight, dy: 0 });
    if (pushLeft > 0) for (const u of left) move.set(u, { dx: -pushLeft, dy: 0 });
  }

  const positions: Positions = {};
  for (const u of all) {
    const { dx, dy } = move.get(u) ?? { dx: 0, dy: 0 };
    for (const n of u.layers) positions[n] = { x: at(n).x + dx, y: at(n).y + dy };
  }
  for (const n of members) {
    const offset = inside?.offsets[n] ?? { x: GROUP_PAD.left, y: GROUP_PAD.top };
    positions[n] = { x: now.x + offset.x, y: now.y + offset.y };
  }
  return positions;
}
