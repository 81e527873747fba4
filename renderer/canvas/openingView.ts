/**
 * The view a model opens with: at 100 %, where the smallest text on the canvas (edge shapes, 11 px) is
 * readable, never zoomed out to fit. A model that fits is centred; a larger one starts at its inputs
 * (the top, in the top-to-bottom layout) and the rest is reached by scrolling.
 */
import type { ModelDocument } from '../../core/index.ts';
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';

export const OPENING_ZOOM = 1;
const MARGIN = 40;

export function openingViewport(doc: ModelDocument, size: { width: number; height: number }): { x: number; y: number; zoom: number } {
  const placed = doc.nodes.filter((n) => n.position);
  const zoom = OPENING_ZOOM;
  if (placed.length === 0) return { x: 0, y: 0, zoom };
  const xs = placed.map((n) => n.position!.x);
  const ys = placed.map((n) => n.position!.y);
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  const width = Math.max(...xs) + NODE_WIDTH - left;
  const height = Math.max(...ys) + NODE_HEIGHT - top;
  const inputs = placed.filter((n) => n.op === 'Input');
  const start = inputs.length > 0 ? inputs : placed;
  const startX = start.reduce((sum, n) => sum + n.position!.x, 0) / start.length + NODE_WIDTH / 2;
  const startY = Math.min(...start.map((n) => n.position!.y));
  const x = width * zoom + 2 * MARGIN <= size.width ? size.width / 2 - (left + width / 2) * zoom : size.width / 2 - startX * zoom;
  const y = height * zoom + 2 * MARGIN <= size.height ? size.height / 2 - (top + height / 2) * zoom : MARGIN - startY * zoom;
  return { x: Math.round(x), y: Math.round(y), zoom };
}
