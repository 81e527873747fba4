/**
 * Resolves a document's edges into port-to-port connections and a topological order,
 * reporting dangling edges, unknown ports, wrong arity, unknown ops and cycles as diagnostics on nodes.
 */
import { parseEdgeEnd, type ModelDocument, type ModelNode } from '../graph/types.ts';
import { getLayer, LAYERS } from '../layers/index.ts';
import { closest } from '../layers/params.ts';
import type { LayerSpec, PortSpec } from '../layers/spec.ts';
import type { Diagnostic } from './diagnostics.ts';

export interface Connection {
  from: string;
  fromPort: number;
  /** Input port index; for a variadic op, the position among its edges. */
  toPort: number;
}

export interface Wiring {
  nodes: Map<string, ModelNode>;
  specs: Map<string, LayerSpec>;
  /** Incoming connections per node, by input port. */
  incoming: Map<string, (Connection | undefined)[]>;
  /** Nodes that read each node (through edges or a nodeRef param such as Linear.tiedTo). */
  dependents: Map<string, Set<string>>;
  /** Topological order; nodes on a cycle are left out. */
  order: string[];
  diagnostics: Diagnostic[];
}

function portIndex(ports: PortSpec[], port: string | number | undefined): number {
  if (port === undefined) return -1;
  return typeof port === 'number' ? (port < ports.length ? port : -2) : ports.findIndex((p) => p.name === port);
}

/** Ids named by a node's nodeRef params: the node must come after them. */
export function referencedNodes(node: ModelNode, spec: LayerSpec | undefined): string[] {
  if (!spec) return [];
  return Object.entries(spec.params)
    .filter(([name, s]) => s.type === 'nodeRef' && typeof node.params[name] === 'string')
    .map(([name]) => node.params[name] as string);
}

export function wire(doc: ModelDocument): Wiring {
  const diagnostics: Diagnostic[] = [];
  const nodes = new Map<string, ModelNode>();
  const specs = new Map<string, LayerSpec>();
  for (const node of doc.nodes) {
    nodes.set(node.id, node);
    const spec = getLayer(node.op);
    if (spec) specs.set(node.id, spec);
    else {
      const guess = closest(node.op, LAYERS.map((l) => l.op));
      diagnostics.push({ nodeId: node.id, severity: 'error', message: `unknown op "${node.op}"`, field: 'op', suggestion: guess ? `Did you mean "${guess}"?` : undefined });
    }
  }

  const incoming = new Map<string, (Connection | undefined)[]>();
  const dependents = new Map<string, Set<string>>();
  for (const id of nodes.keys()) {
    incoming.set(id, []);
    dependents.set(id, new Set());
  }

  doc.edges.forEach((edge, i) => {
    const from = parseEdgeEnd(edge.from);
    const to = parseEdgeEnd(edge.to);
    const where = `edges[${i}]`;
    const fromNode = nodes.get(from.node);
    const toNode = nodes.get(to.node);
    if (!fromNode || !toNode) {
      const missing = !fromNode ? from.node : to.node;
      const known = !fromNode ? to.node : from.node;
      const guess = closest(missing, nodes.keys());
      diagnostics.push({
        nodeId: nodes.has(known) ? known : null,
        severity: 'error',
        message: `${where} (${edge.from} → ${edge.to}) is dangling: there is no node "${missing}"`,
        suggestion: guess ? `Did you mean "${guess}"?` : 'Remove the edge or add the node.',
      });
      return;
    }
    const fromSpec = specs.get(from.node);
    const toSpec = specs.get(to.node);
    if (!fromSpec || !toSpec) return; // unknown op, already reported
    const fromPort = from.port === undefined ? 0 : portIndex(fromSpec.outputs, from.port);
    if (fromPort < 0) {
      diagnostics.push({ nodeId: from.node, severity: 'error', message: `${where}: ${fromSpec.op} has no output "${from.port}" (outputs: ${fromSpec.outputs.map((p) => p.name).join(', ')})` });
      return;
    }
    const slots = incoming.get(to.node)!;
    if (toSpec.inputs.length === 0) {
      diagnostics.push({ nodeId: to.node, severity: 'error', message: `${where}: ${toSpec.op} takes no inputs, but ${edge.from} is connected to it` });
      return;
    }
    let toPort: number;
    if (toSpec.inputs[0].variadic) {
      toPort = slots.length;
    } else if (to.port === undefined) {
      toPort = slots.findIndex((s) => s === undefined);
      if (toPort < 0) toPort = slots.length;
      if (toPort >= toSpec.inputs.length) {
        const names = toSpec.inputs.map((p) => p.name).join(', ');
        diagnostics.push({ nodeId: to.node, severity: 'error', message: `${toSpec.op} takes ${toSpec.inputs.length === 1 ? 'one input' : `the inputs ${names}`}, but ${edge.from} is one edge too many (wrong arity)`, suggestion: 'Remove the extra edge, or join the branches with Add or Concat first.' });
        return;
      }
    } else {
      toPort = portIndex(toSpec.inputs, to.port);
      if (toPort < 0) {
        diagnostics.push({ nodeId: to.node, severity: 'error', message: `${where}: ${toSpec.op} has no input "${to.port}" (inputs: ${toSpec.inputs.map((p) => p.name).join(', ')})` });
        return;
      }
      if (slots[toPort]) {
        diagnostics.push({ nodeId: to.node, severity: 'error', message: `input "${toSpec.inputs[toPort].name}" has two edges (from ${slots[toPort]!.from} and ${from.node}) (wrong arity)` });
        return;
      }
    }
    slots[toPort] = { from: from.node, fromPort, toPort };
    dependents.get(from.node)!.add(to.node);
  });

  for (const [id, node] of nodes) {
    const spec = specs.get(id);
    if (!spec) continue;
    const slots = incoming.get(id)!;
    if (spec.inputs[0]?.variadic) {
      if (slots.length < 2) diagnostics.push({ nodeId: id, severity: 'error', message: `${spec.op} needs at least two inputs, got ${slots.length} (wrong arity)` });
    } else {
      spec.inputs.forEach((port, i) => {
        if (!port.optional && !slots[i]) {
          diagnostics.push({ nodeId: id, severity: 'error', message: spec.inputs.length === 1 ? 'input is not connected' : `input "${port.name}" is not connected`, suggestion: `Connect a tensor to ${port.name}: ${port.help}` });
        }
      });
    }
    for (const ref of referencedNodes(node, spec)) dependents.get(ref)?.add(id);
  }

  return { nodes, specs, incoming, dependents, order: topologicalOrder(doc, dependents, diagnostics), diagnostics };
}

/** Kahn's algorithm, stable in file order; nodes left over sit on or behind a cycle. */
function topologicalOrder(doc: ModelDocument, dependents: Map<string, Set<string>>, diagnostics: Diagnostic[]): string[] {
  const indegree = new Map<string, number>();
  for (const id of dependents.keys()) indegree.set(id, 0);
  for (const targets of dependents.values()) for (const t of targets) indegree.set(t, indegree.get(t)! + 1);
  const ready = doc.nodes.map((n) => n.id).filter((id) => indegree.get(id) === 0).reverse();
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.pop()!;
    order.push(id);
    for (const t of dependents.get(id)!) {
      const left = indegree.get(t)! - 1;
      indegree.set(t, left);
      if (left === 0) ready.push(t);
    }
  }
  if (order.length < dependents.size) {
    const placed = new Set(order);
    const stuck = [...dependents.keys()].filter((id) => !placed.has(id));
    const onCycle = findCycle(stuck, dependents);
    for (const id of stuck) {
      diagnostics.push(
        onCycle.includes(id)
          ? { nodeId: id, severity: 'error', message: `is part of a cycle: ${[...onCycle, onCycle[0]].join(' → ')}`, suggestion: 'Remove one edge of the loop; recurrence belongs inside RNN, LSTM or GRU.' }
          : { nodeId: id, severity: 'error', message: `depends on a cycle (${onCycle.join(' → ')}) and cannot be inferred` },
      );
    }
  }
  return order;
}

/** One cycle among the stuck nodes, for the message. */
function findCycle(stuck: string[], dependents: Map<string, Set<string>>): string[] {
  const inStuck = new Set(stuck);
  const path: string[] = [];
  const onPath = new Set<string>();
  const done = new Set<string>();
  const visit = (id: string): string[] | null => {
    path.push(id);
    onPath.add(id);
    for (const next of dependents.get(id)!) {
      if (!inStuck.has(next) || done.has(next)) continue;
      if (onPath.has(next)) return path.slice(path.indexOf(next));
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    onPath.delete(id);
    done.add(id);
    return null;
  };
  for (const id of stuck) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return stuck;
}
