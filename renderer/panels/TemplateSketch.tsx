/** A template's card drawing: its layers as small boxes, top to bottom, wired as in the model. */
import { memo } from 'react';
import type { ModelDocument } from '../../core/index.ts';
import { layoutGraph, NODE_HEIGHT, NODE_WIDTH } from '../canvas/layout.ts';
import { quickLayout } from '../canvas/quickLayout.ts';

const WIDTH = 120;
const HEIGHT = 64;

export const TemplateSketch = memo(function TemplateSketch({ doc }: { doc: ModelDocument }) {
  const graph = layoutGraph(doc, []);
  const laid = quickLayout(graph, NODE_HEIGHT / 2, NODE_WIDTH / 4);
  const at = new Map((laid.children ?? []).map((c) => [c.id, c]));
  const xs = [...at.values()].map((c) => c.x ?? 0);
  const ys = [...at.values()].map((c) => c.y ?? 0);
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  const spanX = Math.max(...xs) + NODE_WIDTH - left;
  const spanY = Math.max(...ys) + NODE_HEIGHT - top;
  const scale = Math.min(WIDTH / spanX, HEIGHT / spanY);
  const box = (id: string) => {
    const c = at.get(id)!;
    return { x: ((c.x ?? 0) - left) * scale + (WIDTH - spanX * scale) / 2, y: ((c.y ?? 0) - top) * scale + (HEIGHT - spanY * scale) / 2, w: NODE_WIDTH * scale, h: NODE_HEIGHT * scale };
  };
  const end = (port: string) => port.split('::')[0];
  return (
    <svg className="template-sketch" width={WIDTH} height={HEIGHT} viewBox={`0 0 ${WIDTH} ${HEIGHT}`} aria-hidden="true">
      {(graph.edges ?? []).map((e) => {
        const a = box(end(e.sources[0]));
        const b = box(end(e.targets[0]));
        return <line key={e.id} x1={a.x + a.w / 2} y1={a.y + a.h} x2={b.x + b.w / 2} y2={b.y} />;
      })}
      {[...at.keys()].map((id) => {
        const b = box(id);
        const op = doc.nodes.find((n) => n.id === id)?.op ?? '';
        return (
          <rect
            key={id}
            x={b.x}
            y={b.y}
            width={Math.max(b.w, 1)}
            height={Math.max(b.h, 1)}
            rx={Math.min(2, b.h / 3)}
            className={`sketch-${op === 'Input' ? 'input' : /Conv|Linear|Embedding|LSTM|GRU|RNN|Attention|Transformer|FeedForward/.test(op) ? 'weights' : 'other'}`}
          />
        );
      })}
    </svg>
  );
});
