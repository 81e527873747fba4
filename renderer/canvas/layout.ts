/** Auto-layout with elkjs: layered, left to right, ports in their declared order. */
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';
import { getLayer, parseEdgeEnd, type ModelDocument } from '../../core/index.ts';
import { outputPorts } from '../../core/layers/index.ts';

// elkjs is CommonJS: its default export arrives wrapped or not, depending on the bundler.
const ElkConstructor = ((ElkBundle as unknown as { default?: unknown }).default ?? ElkBundle) as new () => ELK;
const elk = new ElkConstructor();
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 96;

export async function autoLayout(doc: ModelDocument): Promise<Record<string, { x: number; y: number }>> {
  const graph = {
    id: 'root',
    layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'RIGHT', 'elk.spacing.nodeNode': '40', 'elk.layered.spacing.nodeNodeBetweenLayers': '70', 'elk.portConstraints': 'FIXED_ORDER' },
    children: doc.nodes.map((n) => {
      const spec = getLayer(n.op);
      const ins = spec?.inputs ?? [];
      const outs = spec ? outputPorts(spec, n.params) : [];
      return {
        id: n.id,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        layoutOptions: { 'elk.portConstraints': 'FIXED_ORDER' },
        ports: [
          ...ins.map((p, i) => ({ id: `${n.id}::in::${p.name}`, layoutOptions: { 'elk.port.side': 'WEST', 'elk.port.index': String(i) } })),
          ...outs.map((p, i) => ({ id: `${n.id}::out::${p.name}`, layoutOptions: { 'elk.port.side': 'EAST', 'elk.port.index': String(i) } })),
        ],
      };
    }),
    edges: doc.edges.flatMap((e, i) => {
      const from = parseEdgeEnd(e.from);
      const to = parseEdgeEnd(e.to);
      const source = doc.nodes.find((n) => n.id === from.node);
      const target = doc.nodes.find((n) => n.id === to.node);
      if (!source || !target) return [];
      const outs = outputPorts(getLayer(source.op)!, source.params);
      const ins = getLayer(target.op)!.inputs;
      const outName = typeof from.port === 'number' ? outs[from.port]?.name : (from.port ?? outs[0]?.name);
      const inName = ins[0]?.variadic ? ins[0].name : typeof to.port === 'number' ? ins[to.port]?.name : (to.port ?? ins[0]?.name);
      return [{ id: `e${i}`, sources: [`${source.id}::out::${outName}`], targets: [`${target.id}::in::${inName}`] }];
    }),
  };
  const result: ElkNode = await elk.layout(graph);
  return Object.fromEntries((result.children ?? []).map((c: ElkNode) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
}
