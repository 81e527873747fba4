/** Layout after a change of what is visible: expanding, collapsing, revealing a layer, grouping. */
import { groupsOf, type Group } from '../../core/graph/modules.ts';
import type { EditorStore } from '../state/store.ts';
import { allCollapsed, revealing } from '../state/hierarchy.ts';
import { autoLayout } from './layout.ts';

/** Lays the document out as it shows with `groups`, then applies both as one undoable step. */
export async function arrange(store: EditorStore, groups: Group[] = groupsOf(store.get().doc)): Promise<void> {
  const doc = store.get().doc;
  const positions = await autoLayout(doc, groups);
  // An edit that landed while the worker ran wins: its document is not overwritten with an older one.
  if (store.get().doc !== doc) return;
  store.arrange(groups, positions);
}

export const toggleGroup = (store: EditorStore, id: string) =>
  arrange(
    store,
    groupsOf(store.get().doc).map((g) => (g.id === id ? { ...g, collapsed: !g.collapsed } : g)),
  );

export const setAllCollapsed = (store: EditorStore, collapsed: boolean) => arrange(store, allCollapsed(groupsOf(store.get().doc), collapsed));

/** Expands whatever hides a layer (no layout when nothing does). */
export async function reveal(store: EditorStore, id: string): Promise<void> {
  const groups = groupsOf(store.get().doc);
  const next = revealing(groups, id);
  if (next.some((g, i) => g !== groups[i])) await arrange(store, next);
}
