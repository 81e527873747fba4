/**
 * The minimap for large models: every layer in one SVG path (React Flow's MiniMap draws an element per
 * node, and at 10,000 layers the page spent seconds laying them out), with the view's frame; a click
 * centres the view there.
 */
import { Panel, useReactFlow, useStore, type Node } from '@xyflow/react';
import { useMemo } from 'react';

const WIDTH = 200;
const HEIGHT = 150;

/** `items`: the layers and blocks at their document places (a new array only when those change). */
export function OverviewMap({ items: nodes }: { items: Node[] }) {
  const flow = useReactFlow();
  const [tx, ty, zoom] = useStore((s) => s.transform);
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  const bounds = useMemo(() => {
    let left = Infinity;
    let top = Infinity;
    let right = -Infinity;
    let bottom = -Infinity;
    let path = '';
    for (const n of nodes) {
      const w = n.width ?? n.measured?.width ?? 0;
      const h = n.height ?? n.measured?.height ?? 0;
      left = Math.min(left, n.position.x);
      top = Math.min(top, n.position.y);
      right = Math.max(right, n.position.x + w);
      bottom = Math.max(bottom, n.position.y + h);
      if (n.type === 'layer') path += `M${n.position.x} ${n.position.y}h${w}v${h}h${-w}z`;
    }
    return { left, top, right, bottom, path };
  }, [nodes]);
  if (nodes.length === 0) return null;
  const view = { x: -tx / zoom, y: -ty / zoom, w: width / zoom, h: height / zoom };
  const left = Math.min(bounds.left, view.x);
  const top = Math.min(bounds.top, view.y);
  const spanX = Math.max(bounds.right, view.x + view.w) - left;
  const spanY = Math.max(bounds.bottom, view.y + view.h) - top;
  return (
    <Panel position="bottom-right">
      <svg
        className="overview-map"
        role="img"
        aria-label="Minimap"
        width={WIDTH}
        height={HEIGHT}
        viewBox={`${left} ${top} ${spanX} ${spanY}`}
        preserveAspectRatio="xMidYMid meet"
        onClick={(e) => {
          const svg = e.currentTarget.getBoundingClientRect();
          const scale = Math.max(spanX / WIDTH, spanY / HEIGHT);
          const x = left + (e.clientX - svg.left - (WIDTH - spanX / scale) / 2) * scale;
          const y = top + (e.clientY - svg.top - (HEIGHT - spanY / scale) / 2) * scale;
          void flow.setCenter(x, y, { zoom, duration: 200 });
        }}
      >
        <path d={bounds.path} className="overview-layers" />
        <rect x={view.x} y={view.y} width={view.w} height={view.h} className="overview-view" vectorEffect="non-scaling-stroke" />
      </svg>
    </Panel>
  );
}
