/** A layer on the canvas: op, id, key params, output shape, parameter count, and its typed ports. */
import { Handle, Position, type Node, type NodeHandle, type NodeProps } from '@xyflow/react';
import { memo } from 'react';
import { formatCount, formatShape, getLayer, type ModelNode, type NodeReport } from '../../core/index.ts';
import { outputPorts } from '../../core/layers/index.ts';
import { formatOverlay, type LayerOverlay } from './overlay.tsx';

export interface LayerNodeData extends Record<string, unknown> {
  node: ModelNode;
  report: NodeReport | undefined;
  severity: 'error' | 'warning' | null;
  message: string | null;
  /** The canvas overlay's statistic for this layer, when one is shown. */
  overlay?: LayerOverlay;
}

function keyParams(node: ModelNode): string {
  const spec = getLayer(node.op);
  if (!spec) return '';
  return Object.entries(spec.params)
    .filter(([, s]) => s.key)
    .map(([name]) => node.params[name])
    .filter((v) => v !== undefined && v !== null)
    .map((v) => (Array.isArray(v) ? `[${v.join(',')}]` : String(v)))
    .join(' · ');
}

/**
 * Where LayerNode's handles are (6 px dots centred on the 1 px border, spread along the top and bottom),
 * given to React Flow up front: without them it draws every layer once to measure them, and 10,000
 * layers took seconds to appear.
 */
export function layerHandles(node: ModelNode, width: number, height: number): NodeHandle[] {
  const spec = getLayer(node.op);
  const along = (ports: { name: string }[], type: 'source' | 'target'): NodeHandle[] =>
    ports.map((p, i) => ({
      id: p.name,
      type,
      position: type === 'target' ? Position.Top : Position.Bottom,
      x: 1 + ((i + 1) * (width - 2)) / (ports.length + 1) - 3,
      y: type === 'target' ? -2 : height - 4,
      width: 6,
      height: 6,
    }));
  return spec ? [...along(spec.inputs, 'target'), ...along(outputPorts(spec, node.params), 'source')] : [];
}

export type LayerFlowNode = Node<LayerNodeData, 'layer'>;
export type GroupFlowNode = Node<GroupNodeData, 'group'>;
/** The canvas's nodes: layers and group boxes, typed by their data. */
export type FlowNode = LayerFlowNode | GroupFlowNode;

export const LayerNode = memo(function LayerNode({ data, selected }: NodeProps<LayerFlowNode>) {
  const { node, report, severity, message, overlay } = data;
  const spec = getLayer(node.op);
  const inputs = spec?.inputs ?? [];
  const outputs = spec ? outputPorts(spec, node.params) : [];
  const shape = report?.outputs?.[0] ? formatShape(report.outputs[0].shape) : '?';
  const op = node.op === 'OnnxOp' ? String(node.params.opType) : node.op;
  // The accessible name ("conv1 Conv2d") is on React Flow's node wrapper (Canvas sets ariaLabel).
  return (
    <div
      className={`layer-node ${severity ?? ''} ${selected ? 'selected' : ''}`}
      title={message ?? undefined}
      data-testid={`node-${node.id}`}
      style={overlay ? { boxShadow: `inset 6px 0 0 ${overlay.colour}, 0 0 0 2px ${overlay.colour}` } : undefined}
    >
      {inputs.map((port, i) => (
        <Handle
          key={port.name}
          type="target"
          position={Position.Top}
          id={port.name}
          style={{ left: `${((i + 1) * 100) / (inputs.length + 1)}%` }}
          title={`${port.name}: ${port.help}`}
          className={port.dtype === 'int64' ? 'port-int' : ''}
        />
      ))}
      <div className="layer-head">
        <span className="layer-op" title={op}>
          {op}
        </span>
        <span className="layer-id" title={node.id}>
          {node.id}
        </span>
      </div>
      <div className="layer-params">{keyParams(node)}</div>
      <div className="layer-foot">
        <span className="layer-shape" data-testid="shape" title={shape}>
          {shape}
        </span>
        <span className="layer-count" data-testid="params">
          {formatCount(report?.paramCount ?? 0)}
        </span>
      </div>
      {overlay && (
        <div className="layer-overlay" data-testid="overlay" style={{ background: overlay.colour }}>
          {formatOverlay(overlay.value)}
        </div>
      )}
      {severity && (
        <div className={`layer-badge ${severity}`} aria-hidden="true">
          {severity === 'error' ? '!' : '⚠'}
        </div>
      )}
      {outputs.map((port, i) => (
        <Handle key={port.name} type="source" position={Position.Bottom} id={port.name} style={{ left: `${((i + 1) * 100) / (outputs.length + 1)}%` }} title={port.name} />
      ))}
    </div>
  );
});

export interface GroupNodeData extends Record<string, unknown> {
  label: string;
  groupId: string;
  collapsed: boolean;
  members: number;
  params: number;
  /** How many sibling blocks are identical to this one (1: none). */
  repeat: number;
  /** Shapes flowing into and out of the block. */
  inputs: string[];
  outputs: string[];
  onToggle: (id: string) => void;
}

export const GroupNode = memo(function GroupNode({ data: g }: NodeProps<GroupFlowNode>) {
  return (
    <div className={`group-node ${g.collapsed ? 'collapsed' : ''}`} data-testid={`group-${g.groupId}`}>
      {g.collapsed && <Handle type="target" position={Position.Top} id="in" />}
      <div className="group-head">
        <button type="button" className="nodrag" onClick={() => g.onToggle(g.groupId)} aria-label={`${g.collapsed ? 'Expand' : 'Collapse'} ${g.label}`} aria-expanded={!g.collapsed}>
          {g.collapsed ? '▸' : '▾'}
        </button>
        <span className="group-label" title={g.label}>
          {g.label}
        </span>
        {g.repeat > 1 && (
          <span className="group-repeat" title={`${g.repeat} identical blocks`}>
            ×{g.repeat}
          </span>
        )}
        <span className="group-meta">
          {g.members} layers · {formatCount(g.params)} params
        </span>
      </div>
      {g.collapsed && (
        <div className="group-shapes" data-testid="group-shapes" title={`${g.inputs.join(', ')} → ${g.outputs.join(', ')}`}>
          {g.inputs.join(', ') || '–'} → {g.outputs.join(', ') || '–'}
        </div>
      )}
      {g.collapsed && <Handle type="source" position={Position.Bottom} id="out" />}
    </div>
  );
});
