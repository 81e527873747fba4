/**
 * Where a layer added from the palette (click or Enter) goes: below the selected layer, wired after it,
 * as in Keras-like builders; with nothing selected, at the centre of the view. Never on another layer.
 */
import type { ModelDocument } from '../../core/index.ts';
import { LAYER_GAP, NODE_HEIGHT, NODE_WIDTH } from './layout.ts';

export function newLayerPlace(doc: ModelDocument, selection: string[], viewCentre: { x: number; y: number }): { position: { x: number; y: number }; after: string | null } {
  const selected = selection.length === 1 ? doc.nodes.find((n) => n.id === selection[0]) : undefined;
  const at = selected?.position
    ? { x: selected.position.x, y: selected.position.y + NODE_HEIGHT + LAYER_GAP }
    : { x: Math.round(viewCentre.x - NODE_WIDTH / 2), y: Math.round(viewCentre.y - NODE_HEIGHT / 2) };
  const covers = (x: number, y: number) => doc.nodes.some((n) => n.position && Math.abs(n.position.x - x) < NODE_WIDTH && Math.abs(n.position.y - y) < NODE_HEIGHT);
  while (covers(at.x, at.y)) at.y += NODE_HEIGHT + LAYER_GAP;
  return { position: { x: Math.round(at.x), y: Math.round(at.y) }, after: selected ? selected.id : null };
}
