/** The React Flow canvas. It renders the document; every edit goes back to the store. */
import { Background, Controls, MiniMap, Panel, ReactFlow, applyNodeChanges, useReactFlow, useStore, type Connection, type FinalConnectionState, type NodeChange } from '@xyflow/react';
import { useCallback, useMemo, useRef, useState } from 'react';
import { edgeEnd, formatShape, parseEdgeEnd, type Diagnostic } from '../../core/index.ts';
import { groupsOf, type EditorState, type EditorStore } from '../state/store.ts';
import { boundary, repeats, visibility } from '../state/hierarchy.ts';
import { toggleGroup } from './arrange.ts';
import { groupBoxes } from './groupBoxes.ts';
import { HierarchyBar } from './HierarchyBar.tsx';
import { OverviewMap } from './OverviewMap.tsx';
import { GroupNode, LayerNode, layerHandles, type FlowNode, type GroupNodeData, type LayerNodeData } from './LayerNode.tsx';
import { NODE_HEIGHT, NODE_WIDTH } from './layout.ts';
import { ShapeEdge, type FlowEdge } from './ShapeEdge.tsx';
import { useEdgeValues } from './edgeValues.ts';
import { FlowEdges } from './flowEdges.ts';
import { OverlayControl, useOverlay } from './overlay.tsx';

const nodeTypes = { layer: LayerNode, group: GroupNode };
const edgeTypes = { shape: ShapeEdge };

/** React Flow's MiniMap draws an element per node; past this many, OverviewMap draws them as one path. */
const DETAILED_MINIMAP_UP_TO = 1000;
/** Below this zoom the details are too small to read, so nodes draw their op only (far less to paint). */
const DETAIL_ZOOM = 0.45;

interface Props {
  store: EditorStore;
  state: EditorState;
  onProblem: (message: string) => void;
  onDropLayer: (op: string, position: { x: number; y: number }) => void;
}

export function Canvas({ store, state, onProblem, onDropLayer }: Props) {
  const { doc, selection, inferred } = state;
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const worst = useMemo(() => {
    const map = new Map<string, Diagnostic>();
    for (const d of inferred.diagnostics) if (d.nodeId && (!map.has(d.nodeId) || d.severity === 'error')) map.set(d.nodeId, d);
    return map;
  }, [inferred]);
  const groups = useMemo(() => groupsOf(doc), [doc]);
  const view = useMemo(() => visibility(doc, groups), [doc, groups]);
  // Layers inside a collapsed group, mapped to the outermost collapsed group that stands for them.
  const hidden = useMemo(() => new Map([...view.shownAs].filter(([id, shown]) => id !== shown)), [view]);
  const repeated = useMemo(() => repeats(doc, groups), [doc, groups]);

  // Block boxes change with the document only (inference follows the document), not with the selection.
  const boxes = useMemo((): FlowNode[] => {
    const byId = new Map(doc.nodes.map((n) => [n.id, n]));
    const shapeOf = (end: string) => {
      const { node, port } = parseEdgeEnd(end);
      const type = inferred.inference.node(node)?.outputs?.[typeof port === 'number' ? port : 0];
      return type ? formatShape(type.shape) : '?';
    };
    const places = groupBoxes(view, (id) => byId.get(id)?.position);
    const boxes: FlowNode[] = view.visibleGroups.flatMap((g): FlowNode[] => {
      const box = places.get(g.id);
      if (!box) return [];
      const members = new Set(g.nodes);
      const params = g.nodes.reduce((sum, id) => sum + (inferred.inference.node(id)?.paramCount ?? 0), 0);
      const ends = boundary(doc, members);
      const data: GroupNodeData = {
        label: g.label,
        groupId: g.id,
        collapsed: g.collapsed,
        members: members.size,
        params,
        repeat: repeated.get(g.id) ?? 1,
        inputs: ends.inputs.map(shapeOf),
        outputs: ends.outputs.map(shapeOf),
        onToggle: (id) => void toggleGroup(store, id),
      };
      // Not selectable or draggable, but its collapse button must still take clicks.
      return [
        {
          id: g.id,
          type: 'group',
          position: { x: box.x, y: box.y },
          width: box.width,
          height: box.height,
          measured: { width: box.width, height: box.height },
          data,
          style: { width: box.width, height: box.height, pointerEvents: 'all' as const },
          selectable: false,
          draggable: false,
          ariaLabel: `${g.label} block${g.collapsed ? ' (collapsed)' : ''}`,
        },
      ];
    });
    return boxes;
  }, [doc, view, repeated, store, inferred]);

  // React Flow node objects are reused while their layer, report and status are unchanged, so that
  // an edit re-renders only the nodes it touched. The selection is applied afterwards, so that selecting
  // copies only the layers whose selection changed instead of rebuilding every layer's object.
  const cache = useRef(new Map<string, { key: unknown[]; node: FlowNode }>());
  const overlay = useOverlay(doc);
  const layers = useMemo((): FlowNode[] => {
    const previous = cache.current;
    const next = new Map<string, { key: unknown[]; node: FlowNode }>();
    const layers: FlowNode[] = doc.nodes
      .filter((n) => !hidden.has(n.id))
      .map((n, i) => {
        const d = worst.get(n.id);
        const report = inferred.inference.node(n.id);
        const shade = overlay.layers.get(n.id);
        const key = [n, report, d, shade?.value, shade?.colour];
        const old = previous.get(n.id);
        if (old && old.key.every((k, j) => k === key[j])) {
          next.set(n.id, old);
          return old.node;
        }
        const data: LayerNodeData = { node: n, report, severity: d?.severity ?? null, message: d?.message ?? null, overlay: shade };
        // Known sizes and handles (every layer is NODE_WIDTH × NODE_HEIGHT) let React Flow skip off-screen
        // layers from the start instead of drawing and measuring all of them once (10,000 layers took
        // seconds), and fit the view to layers it has not drawn.
        const node: FlowNode = {
          id: n.id,
          type: 'layer',
          position: n.position ?? { x: 40 + (i % 6) * (NODE_WIDTH + 60), y: 40 + Math.floor(i / 6) * (NODE_HEIGHT + 60) },
          width: NODE_WIDTH,
          height: NODE_HEIGHT,
          measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
          handles: layerHandles(n, NODE_WIDTH, NODE_HEIGHT),
          data,
          ariaLabel: `${n.id} ${n.op}${d ? ` (${d.severity}: ${d.message})` : ''}`,
        };
        next.set(n.id, { key, node });
        return node;
      });
    cache.current = next;
    return layers;
  }, [doc, worst, hidden, inferred, overlay]);
  // What the minimap draws: the document's places, so that it redraws after a drag rather than on every frame of it.
  const outline = useMemo(() => [...boxes, ...layers], [boxes, layers]);
  const derived = useMemo((): FlowNode[] => {
    const selected = new Set(selection);
    return [...boxes, ...layers.map((n) => (selected.has(n.id) ? { ...n, selected: true } : n))];
  }, [boxes, layers, selection]);

  // Local copy so that dragging is smooth; the store gets the final positions on drag stop. It follows
  // `derived` during render (not in an effect, which would draw the old shapes first). Layers that did
  // not change keep the object React Flow has measured, and changed ones keep its measured size: a node
  // without one is measured again, and its edges are not drawn until then, so replacing every object on
  // each edit re-measured all nodes and rebuilt every edge.
  const [nodes, setNodes] = useState<FlowNode[]>(derived);
  const [followed, setFollowed] = useState(derived);
  if (followed !== derived) {
    const before = new Map(followed.map((n) => [n.id, n]));
    const shown = new Map(nodes.map((n) => [n.id, n]));
    setFollowed(derived);
    setNodes(
      derived.map((n) => {
        const current = shown.get(n.id);
        if (!current) return n;
        return before.get(n.id) === n ? current : { ...n, measured: current.measured };
      }),
    );
  }
  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      setNodes((current) =>
        // Selection comes back through the store (derived), in the same render.
        applyNodeChanges(
          changes.filter((c) => c.type === 'position' || c.type === 'dimensions'),
          current,
        ),
      );
      const picks = changes.filter((c): c is Extract<NodeChange<FlowNode>, { type: 'select' }> => c.type === 'select');
      if (picks.length === 0) return;
      const selected = new Set(store.get().selection);
      for (const c of picks) {
        if (c.selected) selected.add(c.id);
        else selected.delete(c.id);
      }
      const layers = new Set(store.get().doc.nodes.map((n) => n.id));
      store.select([...selected].filter((id) => layers.has(id)));
    },
    [store],
  );
  const onNodeDragStop = useCallback(
    (_: unknown, __: FlowNode, dragged: FlowNode[]) => {
      const moved = Object.fromEntries(dragged.filter((n) => n.type === 'layer').map((n) => [n.id, { x: Math.round(n.position.x), y: Math.round(n.position.y) }]));
      if (Object.keys(moved).length > 0) store.moveNodes(moved);
    },
    [store],
  );

  // Edges too are reused while unchanged (flowEdges.ts).
  const [flowEdges] = useState(() => new FlowEdges());
  const edgeValues = useEdgeValues();
  const edges = useMemo(() => flowEdges.build(doc, inferred.inference, { hidden, worst, values: edgeValues }), [flowEdges, doc, hidden, inferred, worst, edgeValues]);

  /** The document's edge end for a canvas handle. */
  const endOf = useCallback(
    (nodeId: string, handle: string | null | undefined, side: 'output' | 'input'): string => {
      const node = doc.nodes.find((n) => n.id === nodeId);
      return node ? edgeEnd(node, handle, side) : nodeId;
    },
    [doc],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      const problem = store.connect(endOf(c.source, c.sourceHandle, 'output'), endOf(c.target, c.targetHandle, 'input'));
      if (problem) onProblem(`Connection refused: ${problem}`);
    },
    [store, endOf, onProblem],
  );
  // React Flow drops an invalid connection silently; say why instead.
  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid || !state.fromNode) return;
      const point = 'changedTouches' in event ? event.changedTouches[0] : event;
      const handle = document.elementFromPoint(point.clientX, point.clientY)?.closest('.react-flow__handle');
      const toNode = handle?.getAttribute('data-nodeid');
      if (!toNode || toNode === state.fromNode.id) return;
      const problem = store.connectionProblem(endOf(state.fromNode.id, state.fromHandle?.id, 'output'), endOf(toNode, handle!.getAttribute('data-handleid'), 'input'));
      if (problem) onProblem(`Connection refused: ${problem}`);
    },
    [store, endOf, onProblem],
  );
  const isValidConnection = useCallback(
    (c: Connection | FlowEdge) => store.connectionProblem(endOf(c.source, c.sourceHandle, 'output'), endOf(c.target, c.targetHandle, 'input')) === null,
    [store, endOf],
  );

  const wrapper = useRef<HTMLDivElement>(null);
  const overview = useStore((s) => s.transform[2] < DETAIL_ZOOM);
  const onDrop = useCallback(
    (e: React.DragEvent) => {
      const op = e.dataTransfer.getData('application/x-netloom-layer');
      if (!op) return;
      e.preventDefault();
      onDropLayer(op, flow.screenToFlowPosition({ x: e.clientX - NODE_WIDTH / 2, y: e.clientY - 20 }));
    },
    [flow, onDropLayer],
  );

  return (
    <div className={`canvas ${overview ? 'overview' : ''}`} ref={wrapper} onDrop={onDrop} onDragOver={(e) => e.preventDefault()} data-testid="canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onNodeDragStop={onNodeDragStop}
        onConnect={onConnect}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onEdgesDelete={(gone) => store.removeEdges(gone.flatMap((e) => (e.data ? [e.data] : [])))}
        // Locked while training: layers are selected but not moved or wired (the store would refuse it anyway).
        nodesDraggable={!state.locked}
        nodesConnectable={!state.locked}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Meta', 'Control', 'Shift']}
        defaultViewport={{ x: 0, y: 0, zoom: 1 }}
        minZoom={0.05}
        onlyRenderVisibleElements
        proOptions={{ hideAttribution: true }}
      >
        <Panel position="top-left">
          <HierarchyBar store={store} state={state} />
        </Panel>
        {doc.nodes.length === 0 && (
          <Panel position="top-center" className="empty-hint">
            <p role="note">
              Start with an <strong>Input</strong>: drag it from the palette on the left (or focus it and press Enter), then add layers — each new one is wired after the selected layer. Or pick a
              model under <strong>Templates</strong>, or open an <code>.onnx</code> file.
            </p>
          </Panel>
        )}
        <Background gap={24} />
        {nodes.length <= DETAILED_MINIMAP_UP_TO ? <MiniMap pannable zoomable ariaLabel="Minimap" /> : <OverviewMap items={outline} />}
        <Controls />
        <Panel position="top-right">
          <OverlayControl overlay={overlay} />
        </Panel>
      </ReactFlow>
    </div>
  );
}
