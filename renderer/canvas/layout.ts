/**
 * Auto-layout: top to bottom, like the course's diagrams and most model viewers. ELK's layered algorithm
 * runs in a Web Worker (layout.worker.ts) so that the page never blocks. Only what is visible is laid
 * out: a collapsed group is one box, an expanded group a compound box around its layers. Hidden layers
 * sit at their collapsed group's place, so that the group's box (drawn from its layers) lands there.
 */
import type { ElkExtendedEdge, ElkNode, ElkPort } from 'elkjs/lib/elk-api.js';
import type { ModelDocument } from '../../core/index.ts';
import { groupsOf, type Group } from '../../core/graph/modules.ts';
import { outputPorts } from '../../core/layers/index.ts';
import { wire } from '../../core/shape/wiring.ts';
import { visibility } from '../state/hierarchy.ts';

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 88;
export const COLLAPSED_HEIGHT = 84;
/** Room around a group's layers: its title bar on top. Canvas draws group boxes with the same padding. */
export const GROUP_PAD = { top: 44, left: 20, right: 20, bottom: 20 };
/** Vertical room between layers: enough for the shape label in the middle of each edge, clear of the ports. */
export const LAYER_GAP = 56;
export const SIBLING_GAP = 40;

export type Positions = Record<string, { x: number; y: number }>;

const portId = (node: string, side: 'in' | 'out', index: number) => `${node}::${side}::${index}`;

/** Port places along the top (inputs) and bottom (outputs) edge, where LayerNode draws its handles. */
function ports(node: string, count: number, side: 'in' | 'out', height: number): ElkPort[] {
  return Array.from({ length: count }, (_, i) => ({
    id: portId(node, side, i),
    x: ((i + 1) * NODE_WIDTH) / (count + 1),
    y: side === 'in' ? 0 : height,
    width: 0,
    height: 0,
    layoutOptions: { 'elk.port.side': side === 'in' ? 'NORTH' : 'SOUTH' },
  }));
}

/** The ELK graph of what is visible when `groups` are the document's groups. */
export function layoutGraph(doc: ModelDocument, groups: Group[] = groupsOf(doc)): ElkNode {
  const { shownAs, innermost, visibleGroups } = visibility(doc, groups);
  const wiring = wire(doc);
  const boxes = new Map<string, ElkNode>();
  // Blocks take the same spacing as the top level: ELK does not hand it down.
  const spacing = {
    'elk.spacing.nodeNode': String(SIBLING_GAP),
    'elk.layered.spacing.nodeNodeBetweenLayers': String(LAYER_GAP),
    'elk.layered.spacing.edgeNodeBetweenLayers': '24',
  };
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      ...spacing,
      'elk.layered.nodePlacement.bk.fixedAlignment': 'BALANCED',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.portConstraints': 'FIXED_POS',
    },
    children: [],
    edges: [],
  };
  const byId = new Map(visibleGroups.map((g) => [g.id, g]));
  // Items join their parent box in document order (ELK keeps that order where it can), a group where
  // its first layer comes.
  const box = (groupId: string | undefined): ElkNode => {
    if (!groupId) return root;
    let made = boxes.get(groupId);
    if (made) return made;
    const g = byId.get(groupId)!;
    const parent = box(g.parent);
    made = g.collapsed
      ? { id: g.id, width: NODE_WIDTH, height: COLLAPSED_HEIGHT }
      : { id: g.id, children: [], layoutOptions: { ...spacing, 'elk.padding': `[top=${GROUP_PAD.top},left=${GROUP_PAD.left},bottom=${GROUP_PAD.bottom},right=${GROUP_PAD.right}]` } };
    boxes.set(groupId, made);
    parent.children!.push(made);
    return made;
  };
  doc.nodes.forEach((n, i) => {
    const shown = shownAs.get(n.id)!;
    if (shown !== n.id) return void box(shown);
    const spec = wiring.specs[i];
    const ins = spec ? spec.inputs.length : 0;
    const outs = spec ? outputPorts(spec, n.params).length : 1;
    const node: ElkNode = {
      id: n.id,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      ports: [...ports(n.id, ins, 'in', NODE_HEIGHT), ...ports(n.id, outs, 'out', NODE_HEIGHT)],
      layoutOptions: { 'elk.portConstraints': 'FIXED_POS' },
    };
    box(innermost.get(n.id)).children!.push(node);
  });
  const seen = new Set<string>();
  doc.nodes.forEach((n, i) => {
    const variadic = wiring.specs[i]?.inputs[0]?.variadic;
    wiring.incoming[i].forEach((c, port) => {
      if (!c) return;
      const from = wiring.nodes[c.from].id;
      const source = shownAs.get(from)!;
      const target = shownAs.get(n.id)!;
      if (source === target) return;
      const sourcePort = source === from ? portId(from, 'out', c.fromPort) : source;
      const targetPort = target === n.id ? portId(n.id, 'in', variadic ? 0 : port) : target;
      const key = `${sourcePort}>${targetPort}`;
      if (seen.has(key)) return;
      seen.add(key);
      root.edges!.push({ id: `e${seen.size}`, sources: [sourcePort], targets: [targetPort] } satisfies ElkExtendedEdge);
    });
  });
  return root;
}

/** Every layer's position from a laid-out graph; the layers of a collapsed group go to its box. */
export function positionsOf(laidOut: ElkNode, groups: Group[]): Positions {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const positions: Positions = {};
  const walk = (node: ElkNode, dx: number, dy: number) => {
    const x = Math.round(dx + (node.x ?? 0));
    const y = Math.round(dy + (node.y ?? 0));
    const group = byId.get(node.id);
    if (group?.collapsed) for (const id of group.nodes) positions[id] = { x: x + GROUP_PAD.left, y: y + GROUP_PAD.top };
    else if (!group) positions[node.id] = { x, y };
    for (const child of node.children ?? []) walk(child, x, y);
  };
  for (const child of laidOut.children ?? []) walk(child, 0, 0);
  return positions;
}

let worker: Worker | null = null;
let requests = 0;
const pending = new Map<number, { resolve: (n: ElkNode) => void; reject: (e: Error) => void }>();

function layoutWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<{ id: number; graph?: ElkNode; error?: string }>) => {
    const request = pending.get(e.data.id);
    pending.delete(e.data.id);
    if (e.data.graph) request?.resolve(e.data.graph);
    else request?.reject(new Error(`layout failed: ${e.data.error}`));
  };
  return worker;
}

/** ELK's layout of `graph`, computed in the layout worker. */
export function layoutInWorker(graph: ElkNode): Promise<ElkNode> {
  const id = ++requests;
  return new Promise<ElkNode>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    layoutWorker().postMessage({ id, graph });
  });
}

/**
 * Starts the layout worker and runs one small layout in it, so that loading ELK (1.6 MB of script) and its
 * first, slow run happen while the editor waits for a person, not after a model is opened.
 */
export function warmLayout(): void {
  const layer = (id: string) => ({ id, width: NODE_WIDTH, height: NODE_HEIGHT });
  const block: ElkNode = { id: 'block', children: [layer('b'), layer('c')], edges: [{ id: 'bc', sources: ['b'], targets: ['c'] }] };
  void layoutInWorker({
    id: 'root',
    layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'DOWN', 'elk.hierarchyHandling': 'INCLUDE_CHILDREN' },
    children: [layer('a'), block],
    edges: [{ id: 'ab', sources: ['a'], targets: ['b'] }],
  }).catch(() => undefined);
}

/** Lays out the document as it shows with `groups` (its own groups unless given), in the layout worker. */
export async function autoLayout(doc: ModelDocument, groups: Group[] = groupsOf(doc)): Promise<Positions> {
  return positionsOf(await layoutInWorker(layoutGraph(doc, groups)), groups);
}
