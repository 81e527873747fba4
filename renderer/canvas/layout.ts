/** Auto-layout with elkjs: layered, left to right, ports in their declared order. */
import ElkBundle from 'elkjs/lib/elk.bundled.js';
import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';
import { edgePortNames, getLayer, type ModelDocument } from '../../core/index.ts';
import { outputPorts } from '../../core/layers/index.ts';
import { wire } from '../../core/shape/wiring.ts';

// elkjs is CommonJS: its default export arrives wrapped or not, depending on the bundler.
const ElkConstructor = ((ElkBundle as unknown as { default?: unknown }).default ?? ElkBundle) as new () => ELK;
const elk = new ElkConstructor();
export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 96;

export async function autoLayout(doc: ModelDocument): Promise<Record<string, { x: number; y: number }>> {
  const wiring = wire(doc);
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
    edges: doc.edges.flatMap((_, i) => {
      const ports = edgePortNames(wiring, i);
      const joined = wiring.edges[i];
      if (!ports || !joined) return [];
      const source = wiring.nodes[joined.from].id;
      const target = wiring.nodes[joined.to].id;
      return [{ id: `e${i}`, sources: [`${source}::out::${ports.output}`], targets: [`${target}::in::${ports.input}`] }];
    }),
  };
  const result: ElkNode = await elk.layout(graph);
  return Object.fromEntries((result.children ?? []).map((c: ElkNode) => [c.id, { x: Math.round(c.x ?? 0), y: Math.round(c.y ?? 0) }]));
}
