/**
 * Resolves a document's edges into port-to-port connections and a topological order,
 * reporting dangling edges, unknown ports, wrong arity, unknown ops and cycles as diagnostics on nodes.
 * Nodes are addressed by their index in the document: arrays, not maps, on this hot path.
 */
import { parseEdgeEnd, type ModelDocument, type ModelNode } from '../graph/types.ts';
import { getLayer, LAYERS, outputPorts } from '../layers/index.ts';
import { closest } from '../layers/params.ts';
import type { LayerSpec, PortSpec } from '../layers/spec.ts';
import type { Diagnostic } from '../graph/diagnostics.ts';

export interface Connection {
  /** Index of the source node. */
  from: number;
  fromPort: number;
}

export interface Wiring {
  /** Node index by id. */
  index: Map<string, number>;
  nodes: readonly ModelNode[];
  /** Spec per node; undefined for an unknown op. */
  specs: (LayerSpec | undefined)[];
  /** Incoming connections per node, by input port (for a variadic op, in file order). */
  incoming: (Connection | undefined)[][];
  /** Nodes that read each node, through edges or a nodeRef param such as Linear.tiedTo; may repeat. */
  dependents: number[][];
  /** Topological order of node indices; nodes on or behind a cycle are left out. */
  order: number[];
  /** Per document edge, the ports it joins; undefined where the edge was refused (and reported). */
  edges: (EdgeWire | undefined)[];
  diagnostics: Diagnostic[];
}

export interface EdgeWire {
  from: number;
  fromPort: number;
  to: number;
  toPort: number;
}

function portIndex(ports: PortSpec[], port: string | number): number {
  return typeof port === 'number' ? (port < ports.length ? port : -1) : ports.findIndex((p) => p.name === port);
}

const refParamsCache = new WeakMap<LayerSpec, string[]>();

/** Ids named by a node's nodeRef params: the node must come after them. */
export function referencedNodes(node: ModelNode, spec: LayerSpec): string[] {
  let names = refParamsCache.get(spec);
  if (!names) refParamsCache.set(spec, (names = Object.keys(spec.params).filter((name) => spec.params[name].type === 'nodeRef')));
  const ids: string[] = [];
  for (const name of names) if (typeof node.params[name] === 'string') ids.push(node.params[name] as string);
  return ids;
}

export function wire(doc: ModelDocument): Wiring {
  const diagnostics: Diagnostic[] = [];
  const nodes = doc.nodes;
  const count = nodes.length;
  const index = new Map<string, number>();
  const specs: (LayerSpec | undefined)[] = new Array(count);
  const incoming: (Connection | undefined)[][] = new Array(count);
  const dependents: number[][] = new Array(count);
  const edges: (EdgeWire | undefined)[] = new Array(doc.edges.length);
  for (let i = 0; i < count; i++) {
    const node = nodes[i];
    index.set(node.id, i);
    incoming[i] = [];
    dependents[i] = [];
    specs[i] = getLayer(node.op);
    if (!specs[i]) {
      const guess = closest(
        node.op,
        LAYERS.map((l) => l.op),
      );
      diagnostics.push({ nodeId: node.id, severity: 'error', message: `unknown op "${node.op}"`, field: 'op', suggestion: guess ? `Did you mean "${guess}"?` : undefined });
    }
  }

  for (let e = 0; e < doc.edges.length; e++) {
    const edge = doc.edges[e];
    const from = parseEdgeEnd(edge.from);
    const to = parseEdgeEnd(edge.to);
    const source = index.get(from.node);
    const target = index.get(to.node);
    if (source === undefined || target === undefined) {
      const missing = source === undefined ? from.node : to.node;
      const known = source === undefined ? to.node : from.node;
      const guess = closest(missing, index.keys());
      diagnostics.push({
        nodeId: index.has(known) ? known : null,
        severity: 'error',
        message: `$.edges[${e}] (${edge.from} → ${edge.to}) is dangling: there is no node "${missing}"`,
        suggestion: guess ? `Did you mean "${guess}"?` : 'Remove the edge or add the node.',
      });
      continue;
    }
    const fromSpec = specs[source];
    const toSpec = specs[target];
    if (!fromSpec || !toSpec) continue; // unknown op, already reported
    const fromPorts = outputPorts(fromSpec, nodes[source].params);
    const fromPort = from.port === undefined ? 0 : portIndex(fromPorts, from.port);
    if (fromPort < 0) {
      diagnostics.push({ nodeId: from.node, severity: 'error', message: `$.edges[${e}]: ${fromSpec.op} has no output "${from.port}" (outputs: ${fromPorts.map((p) => p.name).join(', ')})` });
      continue;
    }
    const slots = incoming[target];
    const ports = toSpec.inputs;
    if (ports.length === 0) {
      diagnostics.push({ nodeId: to.node, severity: 'error', message: `$.edges[${e}]: ${toSpec.op} takes no inputs, but ${edge.from} is connected to it` });
      continue;
    }
    let toPort: number;
    if (ports[0].variadic) {
      toPort = slots.length;
    } else if (to.port === undefined) {
      toPort = 0;
      while (toPort < slots.length && slots[toPort] !== undefined) toPort++;
      if (toPort >= ports.length) {
        const names = ports.map((p) => p.name).join(', ');
        diagnostics.push({
          nodeId: to.node,
          severity: 'error',
          message: `${toSpec.op} takes ${ports.length === 1 ? 'one input' : `the inputs ${names}`}, but ${edge.from} is one edge too many (wrong arity)`,
          suggestion: 'Remove the extra edge, or join the branches with Add or Concat first.',
        });
        continue;
      }
    } else {
      toPort = portIndex(ports, to.port);
      if (toPort < 0) {
        diagnostics.push({ nodeId: to.node, severity: 'error', message: `$.edges[${e}]: ${toSpec.op} has no input "${to.port}" (inputs: ${ports.map((p) => p.name).join(', ')})` });
        continue;
      }
      const taken = slots[toPort];
      if (taken) {
        diagnostics.push({ nodeId: to.node, severity: 'error', message: `input "${ports[toPort].name}" has two edges (from ${nodes[taken.from].id} and ${from.node}) (wrong arity)` });
        continue;
      }
    }
    slots[toPort] = { from: source, fromPort };
    edges[e] = { from: source, fromPort, to: target, toPort };
    dependents[source].push(target);
  }

  for (let i = 0; i < count; i++) {
    const spec = specs[i];
    if (!spec) continue;
    const id = nodes[i].id;
    const slots = incoming[i];
    if (spec.inputs[0]?.variadic) {
      const least = spec.inputs[0].minCount ?? 2;
      if (slots.length < least) diagnostics.push({ nodeId: id, severity: 'error', message: `${spec.op} needs at least ${least === 2 ? 'two' : least} inputs, got ${slots.length} (wrong arity)` });
    } else {
      for (let p = 0; p < spec.inputs.length; p++) {
        const port = spec.inputs[p];
        if (!port.optional && !slots[p]) {
          diagnostics.push({
            nodeId: id,
            severity: 'error',
            message: spec.inputs.length === 1 ? 'input is not connected' : `input "${port.name}" is not connected`,
            suggestion: `Connect a tensor to ${port.name}: ${port.help}`,
          });
        }
      }
    }
    for (const ref of referencedNodes(nodes[i], spec)) {
      const source = index.get(ref);
      if (source !== undefined) dependents[source].push(i);
    }
  }

  return { index, nodes, specs, incoming, dependents, order: topologicalOrder(nodes, dependents, diagnostics), edges, diagnostics };
}

/** The port names an accepted edge joins (a variadic input has one name for all its edges). */
export function edgePortNames(w: Wiring, edge: number): { output: string; input: string } | undefined {
  const wire = w.edges[edge];
  if (!wire) return undefined;
  const fromSpec = w.specs[wire.from]!;
  const toSpec = w.specs[wire.to]!;
  const output = outputPorts(fromSpec, w.nodes[wire.from].params)[wire.fromPort].name;
  const input = toSpec.inputs[0].variadic ? toSpec.inputs[0].name : toSpec.inputs[wire.toPort].name;
  return { output, input };
}

/** The edge end for a port: just the node where its layer has one port on that side (or a variadic one). */
export function edgeEnd(node: ModelNode, port: string | null | undefined, side: 'output' | 'input'): string {
  const spec = getLayer(node.op);
  if (!spec || !port) return node.id;
  const ports = side === 'output' ? outputPorts(spec, node.params) : spec.inputs;
  return ports.length <= 1 || ports[0].variadic ? node.id : `${node.id}:${port}`;
}

/** Why an edge from `from` to `to` may not be added to the wired document, or null. */
export function connectionProblem(w: Wiring, from: string, to: string): string | null {
  const source = parseEdgeEnd(from);
  const target = parseEdgeEnd(to);
  if (source.node === target.node) return 'a layer cannot feed itself';
  const t = w.index.get(target.node);
  const s = w.index.get(source.node);
  const spec = t === undefined ? undefined : w.specs[t];
  if (t === undefined || !spec) return `no layer "${target.node}"`;
  if (s === undefined) return `no layer "${source.node}"`;
  if (spec.inputs.length === 0) return `${target.node} is an Input: it takes no edges`;
  if (!spec.inputs[0].variadic) {
    const port = portIndex(spec.inputs, target.port ?? 0);
    const taken = port < 0 ? undefined : w.incoming[t][port];
    if (taken) return `${target.node}'s input "${spec.inputs[port].name}" is already connected to ${w.nodes[taken.from].id}; delete that edge first`;
  }
  // A path from the target back to the source would close a cycle.
  const path = pathBetween(w.dependents, t, s);
  if (path) return `this edge would make a cycle: ${[s, ...path].map((i) => w.nodes[i].id).join(' → ')}`;
  return null;
}

/** Breadth-first: the nodes from `from` to `to` along dependents, or null. */
function pathBetween(dependents: number[][], from: number, to: number): number[] | null {
  const previous = new Map<number, number>([[from, -1]]);
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const at = queue[q];
    if (at === to) {
      const path: number[] = [];
      for (let i = at; i !== -1; i = previous.get(i)!) path.unshift(i);
      return path;
    }
    for (const next of dependents[at]) {
      if (!previous.has(next)) {
        previous.set(next, at);
        queue.push(next);
      }
    }
  }
  return null;
}

/** Kahn's algorithm, stable in file order; nodes left over sit on or behind a cycle. */
function topologicalOrder(nodes: readonly ModelNode[], dependents: number[][], diagnostics: Diagnostic[]): number[] {
  const indegree = new Int32Array(nodes.length);
  for (const targets of dependents) for (const t of targets) indegree[t]++;
  const ready: number[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) if (indegree[i] === 0) ready.push(i);
  const order: number[] = [];
  while (ready.length > 0) {
    const i = ready.pop()!;
    order.push(i);
    for (const t of dependents[i]) if (--indegree[t] === 0) ready.push(t);
  }
  if (order.length < nodes.length) {
    const placed = new Set(order);
    const stuck = nodes.map((_, i) => i).filter((i) => !placed.has(i));
    const cycle = findCycle(stuck, dependents);
    const path = [...cycle, cycle[0]].map((i) => nodes[i].id).join(' → ');
    for (const i of stuck) {
      diagnostics.push(
        cycle.includes(i)
          ? { nodeId: nodes[i].id, severity: 'error', message: `is part of a cycle: ${path}`, suggestion: 'Remove one edge of the loop; recurrence belongs inside RNN, LSTM or GRU.' }
          : { nodeId: nodes[i].id, severity: 'error', message: `depends on a cycle (${path}) and cannot be inferred` },
      );
    }
  }
  return order;
}

/** One cycle among the stuck nodes, for the message. */
function findCycle(stuck: number[], dependents: number[][]): number[] {
  const inStuck = new Set(stuck);
  const path: number[] = [];
  const onPath = new Set<number>();
  const done = new Set<number>();
  const visit = (i: number): number[] | null => {
    path.push(i);
    onPath.add(i);
    for (const next of dependents[i]) {
      if (!inStuck.has(next) || done.has(next)) continue;
      if (onPath.has(next)) return path.slice(path.indexOf(next));
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    onPath.delete(i);
    done.add(i);
    return null;
  };
  for (const i of stuck) {
    const cycle = visit(i);
    if (cycle) return cycle;
  }
  return stuck;
}
