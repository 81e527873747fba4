/**
 * Where each visible group's box goes: around its own layers and its nested groups' boxes, with the
 * padding the layout leaves (GROUP_PAD); a collapsed group is one box at its layers' place.
 */
import type { Group } from '../../core/graph/modules.ts';
import type { Visibility } from '../state/hierarchy.ts';
import { COLLAPSED_HEIGHT, GROUP_PAD, NODE_HEIGHT, NODE_WIDTH } from './layout.ts';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function groupBoxes(view: Visibility, position: (id: string) => { x: number; y: number } | undefined): Map<string, Box> {
  const boxes = new Map<string, Box>();
  const at = (id: string) => position(id) ?? { x: 0, y: 0 };
  const inner: Group[] = [...view.visibleGroups].reverse();
  for (const g of inner) {
    if (g.collapsed) {
      const xs = g.nodes.map((id) => at(id).x);
      const ys = g.nodes.map((id) => at(id).y);
      boxes.set(g.id, { x: Math.min(...xs) - GROUP_PAD.left, y: Math.min(...ys) - GROUP_PAD.top, width: NODE_WIDTH, height: COLLAPSED_HEIGHT });
      continue;
    }
    const parts: Box[] = g.nodes.filter((id) => view.innermost.get(id) === g.id && view.shownAs.get(id) === id).map((id) => ({ ...at(id), width: NODE_WIDTH, height: NODE_HEIGHT }));
    for (const child of view.visibleGroups) if (child.parent === g.id && boxes.has(child.id)) parts.push(boxes.get(child.id)!);
    if (parts.length === 0) continue;
    const left = Math.min(...parts.map((b) => b.x));
    const top = Math.min(...parts.map((b) => b.y));
    const right = Math.max(...parts.map((b) => b.x + b.width));
    const bottom = Math.max(...parts.map((b) => b.y + b.height));
    boxes.set(g.id, { x: left - GROUP_PAD.left, y: top - GROUP_PAD.top, width: right - left + GROUP_PAD.left + GROUP_PAD.right, height: bottom - top + GROUP_PAD.top + GROUP_PAD.bottom });
  }
  return boxes;
}
