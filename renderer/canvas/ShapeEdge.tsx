/**
 * An edge labelled with the shape it carries. The label is HTML over the canvas rather than React Flow's
 * SVG label: the SVG label measures itself with getBBox, which forces a layout of the whole canvas each
 * time a shape changes, and on a 500-layer model that cost more than the edit itself.
 */
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from '@xyflow/react';
import { memo } from 'react';
import type { FlowEdge } from './flowEdges.ts';

export type { FlowEdge, ShapeEdgeData } from './flowEdges.ts';

export const ShapeEdge = memo(function ShapeEdge({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, label, markerEnd, style, interactionWidth }: EdgeProps<FlowEdge>) {
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, sourcePosition, targetX, targetY, targetPosition });
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd={markerEnd} style={style} interactionWidth={interactionWidth} />
      {label !== undefined && (
        <EdgeLabelRenderer>
          <div className="edge-shape" style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}>
            {label}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
});
