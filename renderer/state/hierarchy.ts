/**
 * Questions about the module hierarchy (nested groups) that the canvas, layout and Find ask: what is
 * visible, what stands for a hidden layer, which blocks repeat, what a block takes in and gives out.
 * Plain TypeScript, unit-tested in Node.
 */
import { parseEdgeEnd, type ModelDocument } from '../../core/index.ts';
import type { Group } from '../../core/graph/modules.ts';

const depthOf = (group: Group, byId: Map<string, Group>): number => {
  let depth = 0;
  for (let g = group.parent ? byId.get(group.parent) : undefined; g; g = g.parent ? byId.get(g.parent) : undefined) depth++;
  return depth;
};

/** Groups from the outermost in; a group's enclosing groups come before it. */
export function outerFirst(groups: Group[]): Group[] {
  const byId = new Map(groups.map((g) => [g.id, g]));
  return groups
    .map((g) => [g, depthOf(g, byId)] as const)
    .sort((a, b) => a[1] - b[1] || b[0].nodes.length - a[0].nodes.length)
    .map(([g]) => g);
}

export interface Visibility {
  /** What stands for each layer on the canvas: the layer itself, or the outermost collapsed group around it. */
  shownAs: Map<string, string>;
  /** The innermost group around each layer that is in a group. */
  innermost: Map<string, string>;
  /** Groups drawn on the canvas (no collapsed group around them), outermost first. */
  visibleGroups: Group[];
}

export function visibility(doc: ModelDocument, groups: Group[]): Visibility {
  const ordered = outerFirst(groups);
  const hiddenGroups = new Set<string>();
  const visibleGroups: Group[] = [];
  const shownAs = new Map<string, string>();
  const innermost = new Map<string, string>();
  for (const g of ordered) {
    if (g.parent && (hiddenGroups.has(g.parent) || ordered.find((p) => p.id === g.parent)?.collapsed)) hiddenGroups.add(g.id);
    else visibleGroups.push(g);
    for (const id of g.nodes) {
      innermost.set(id, g.id);
      if (g.collapsed && !shownAs.has(id)) shownAs.set(id, g.id);
    }
  }
  for (const n of doc.nodes) if (!shownAs.has(n.id)) shownAs.set(n.id, n.id);
  return { shownAs, innermost, visibleGroups };
}

/** The groups around a layer, outermost first (its breadcrumb). */
export function groupPath(groups: Group[], nodeId: string): Group[] {
  return outerFirst(groups.filter((g) => g.nodes.includes(nodeId)));
}

/** The groups with every group around `nodeId` expanded, so that the layer shows. */
export function revealing(groups: Group[], nodeId: string): Group[] {
  return groups.map((g) => (g.collapsed && g.nodes.includes(nodeId) ? { ...g, collapsed: false } : g));
}

export const allCollapsed = (groups: Group[], collapsed: boolean): Group[] => groups.map((g) => (g.collapsed === collapsed ? g : { ...g, collapsed }));

/** Both ends' layers of every edge, and each layer's edges (indices into doc.edges); built once per edge list. */
const edgeIndexes = new WeakMap<ModelDocument['edges'], { ends: { from: string; to: string }[]; touching: Map<string, number[]> }>();
function edgeIndex(doc: ModelDocument) {
  let index = edgeIndexes.get(doc.edges);
  if (!index) {
    const ends = doc.edges.map((e) => ({ from: parseEdgeEnd(e.from).node, to: parseEdgeEnd(e.to).node }));
    const touching = new Map<string, number[]>();
    const add = (node: string, i: number) => (touching.get(node) ?? touching.set(node, []).get(node)!).push(i);
    ends.forEach((e, i) => {
      add(e.from, i);
      if (e.to !== e.from) add(e.to, i);
    });
    index = { ends, touching };
    edgeIndexes.set(doc.edges, index);
  }
  return index;
}

/**
 * The edges with an end among `members`, in document order, with their ends' layers. Blocks ask this for
 * each of their layers instead of scanning every edge: 1,000 blocks × 10,000 edges took half a second.
 */
function edgesTouching(doc: ModelDocument, members: Iterable<string>): { edge: ModelDocument['edges'][number]; from: string; to: string }[] {
  const { ends, touching } = edgeIndex(doc);
  const found = new Set<number>();
  for (const id of members) for (const i of touching.get(id) ?? []) found.add(i);
  return [...found].sort((a, b) => a - b).map((i) => ({ edge: doc.edges[i], ...ends[i] }));
}

/**
 * How many sibling blocks (same enclosing group) have exactly the same layers, parameters and internal
 * wiring as each group, when there are several: ViT-B/16's twelve encoder layers are ×12 each.
 */
export function repeats(doc: ModelDocument, groups: Group[]): Map<string, number> {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const signature = (g: Group) => {
    const members = new Set(g.nodes);
    const local = new Map(g.nodes.map((id, i) => [id, i]));
    const layers = g.nodes.map((id) => `${byId.get(id)?.op}${JSON.stringify(byId.get(id)?.params)}`);
    const wires = edgesTouching(doc, g.nodes)
      .filter((e) => members.has(e.from) && members.has(e.to))
      .map((e) => `${local.get(e.from)}>${local.get(e.to)}`);
    return `${g.parent ?? ''}|${layers.join(';')}|${wires.join(';')}`;
  };
  const bySignature = new Map<string, string[]>();
  for (const g of groups) {
    const key = signature(g);
    (bySignature.get(key) ?? bySignature.set(key, []).get(key)!).push(g.id);
  }
  const counts = new Map<string, number>();
  for (const ids of bySignature.values()) if (ids.length > 1) for (const id of ids) counts.set(id, ids.length);
  return counts;
}

/** The edge sources that feed a block from outside, and those inside it that feed the rest of the model. */
export function boundary(doc: ModelDocument, members: Set<string>): { inputs: string[]; outputs: string[] } {
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  const fed = new Set<string>();
  for (const { edge, from, to } of edgesTouching(doc, members)) {
    const inside = members.has(from);
    if (inside) fed.add(from);
    if (inside !== members.has(to)) (inside ? outputs : inputs).add(edge.from);
  }
  // A block whose last layer feeds nothing is the model's end: that layer is its output.
  if (outputs.size === 0) for (const id of members) if (!fed.has(id)) outputs.add(id);
  return { inputs: [...inputs], outputs: [...outputs] };
}

/** Layers whose id, op or module path (an imported layer's PyTorch module, else its blocks) contains the query (case-insensitive); exact ids first. */
export function findLayers(doc: ModelDocument, groups: Group[], query: string): { id: string; op: string; path: string }[] {
  const q = query.trim().toLowerCase();
  const pathOf = new Map<string, string>();
  for (const g of outerFirst(groups)) for (const id of g.nodes) pathOf.set(id, `${pathOf.has(id) ? `${pathOf.get(id)}/` : ''}${g.label}`);
  const found = doc.nodes
    .map((n) => ({ id: n.id, op: n.op === 'OnnxOp' ? String(n.params.opType) : n.op, path: n.module ?? pathOf.get(n.id) ?? '' }))
    .filter((r) => r.id.toLowerCase().includes(q) || r.op.toLowerCase().includes(q) || r.path.toLowerCase().includes(q));
  const rank = (r: { id: string; path: string }) => (r.id.toLowerCase() === q ? 2 : r.path.toLowerCase() === q ? 1 : 0);
  return found.sort((a, b) => rank(b) - rank(a));
}
