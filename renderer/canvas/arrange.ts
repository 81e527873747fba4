/** Layout after a change of what is visible: expanding, collapsing, revealing a layer, grouping. */
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import type { ModelDocument } from '../../core/index.ts';
import { groupsOf, type Group } from '../../core/graph/modules.ts';
import type { EditorStore } from '../state/store.ts';
import { allCollapsed, groupPath } from '../state/hierarchy.ts';
import { autoLayout, layoutInWorker, type Positions } from './layout.ts';
import { blockDocument, blockGraph, laidOutBlock, measureBlock, placeToggled, type BlockLayout } from './relayout.ts';

/** Lays the document out as it shows with `groups`, then applies both as one undoable step. */
export async function arrange(store: EditorStore, groups: Group[] = groupsOf(store.get().doc)): Promise<void> {
  const doc = store.get().doc;
  const positions = await autoLayout(doc, groups);
  // An edit that landed while the worker ran wins: its document is not overwritten with an older one.
  if (store.get().doc !== doc) return;
  store.arrange(groups, positions);
}

/** Each block's inside as it was when last collapsed, with what it held then (its layers, wiring and nested blocks). */
const remembered = new Map<string, { content: string; inside: BlockLayout }>();
function contentOf(doc: ModelDocument, groups: Group[], id: string): string {
  const block = blockDocument(doc, groups, id);
  return JSON.stringify([block.doc.nodes.map((n) => n.id), block.doc.edges, block.groups.map((g) => [g.id, g.collapsed])]);
}

/**
 * Expands or collapses one block, laying out only its inside (`layout`: the layout worker) and moving
 * what lies below or beside it (relayout.ts); a block expanded again gets back the inside it had. The
 * whole model is laid out only when some layer has no place yet or the block is hidden.
 */
export async function toggleGroup(store: EditorStore, id: string, layout: (graph: ElkNode) => Promise<ElkNode> = layoutInWorker): Promise<void> {
  const doc = store.get().doc;
  const before = groupsOf(doc);
  const after = before.map((g) => (g.id === id ? { ...g, collapsed: !g.collapsed } : g));
  const block = after.find((g) => g.id === id);
  if (!block) return;
  const content = contentOf(doc, after, id);
  let inside: BlockLayout | null = null;
  if (block.collapsed) {
    const places: Positions = Object.fromEntries(doc.nodes.flatMap((n) => (n.position ? [[n.id, n.position]] : [])));
    if (block.nodes.every((n) => places[n])) remembered.set(id, { content, inside: measureBlock(doc, before, id, places) });
  } else {
    const last = remembered.get(id);
    inside = last?.content === content ? last.inside : laidOutBlock(doc, after, id, await layout(blockGraph(doc, after, id)));
  }
  if (store.get().doc !== doc) return;
  const positions = placeToggled(doc, before, after, id, inside);
  if (positions) store.arrange(after, positions);
  else await arrange(store, after);
}

export const setAllCollapsed = (store: EditorStore, collapsed: boolean) => arrange(store, allCollapsed(groupsOf(store.get().doc), collapsed));

/** Expands whatever hides a layer, outermost first, one block at a time (nothing when nothing does). */
export async function reveal(store: EditorStore, id: string): Promise<void> {
  for (;;) {
    const hiding = groupPath(groupsOf(store.get().doc), id).find((g) => g.collapsed);
    if (!hiding) return;
    const doc = store.get().doc;
    await toggleGroup(store, hiding.id);
    if (store.get().doc === doc) return;
  }
}
