/**
 * The canvas's edges, built from the document and its inference. Edges are reused while unchanged: React
 * Flow measures every label it re-renders. An edge whose inputs (its wire, end layers, shape, value,
 * status) are the same objects as last time is not built again, and when no edge changed (an edit that
 * leaves every shape as it was, such as a LeakyReLU's slope) the list itself is the same one, so React
 * Flow does not index every edge again (on a 10,000-layer chain that was most of an edit's time).
 */
import { edgePortNames, formatShape, type Diagnostic, type ModelDocument, type ModelEdge } from '../../core/index.ts';
import type { ShapeInference } from '../../core/shape/infer.ts';
import type { Edge } from '@xyflow/react';

/** The document edge a canvas edge draws. */
export interface ShapeEdgeData extends Record<string, unknown> {
  from: string;
  to: string;
}
export type FlowEdge = Edge<ShapeEdgeData, 'shape'>;

export interface EdgeView {
  /** Layers inside a collapsed group, mapped to the group that stands for them. */
  hidden: Map<string, string>;
  /** Each layer's worst diagnostic. */
  worst: Map<string, Diagnostic>;
  /** Values shown after the shape on the edges out of a layer (a run's outputs). */
  values: Map<string, string>;
}

export class FlowEdges {
  private cache = new Map<ModelEdge, { key: unknown[]; edge: FlowEdge }>();
  private last: FlowEdge[] = [];

  /** The edges to draw; the same array as last time when none changed. */
  build(doc: ModelDocument, inference: ShapeInference, { hidden, worst, values }: EdgeView): FlowEdge[] {
    // Which ports an edge joins comes from the core's wiring, the same resolution shape inference used.
    const wires = inference.wires;
    const next = new Map<ModelEdge, { key: unknown[]; edge: FlowEdge }>();
    const built = doc.edges.flatMap((e, i) => {
      const wire = wires.edges[i];
      if (!wire) return [];
      const from = wires.nodes[wire.from];
      const to = wires.nodes[wire.to];
      const type = inference.node(from.id)?.outputs?.[wire.fromPort];
      const sourceGroup = hidden.get(from.id);
      const targetGroup = hidden.get(to.id);
      if (sourceGroup && sourceGroup === targetGroup) return [];
      const key = [i, wire, from, to, type, values.get(from.id), worst.get(to.id)?.severity, sourceGroup, targetGroup];
      const cached = this.cache.get(e);
      if (cached && cached.key.every((k, j) => k === key[j])) {
        next.set(e, cached);
        return [cached.edge];
      }
      const ports = edgePortNames(wires, i);
      if (!ports) return [];
      const edge: FlowEdge = {
        id: `${e.from}>${e.to}#${i}`,
        type: 'shape',
        source: sourceGroup ?? from.id,
        target: targetGroup ?? to.id,
        sourceHandle: sourceGroup ? 'out' : ports.output,
        targetHandle: targetGroup ? 'in' : ports.input,
        label: type ? formatShape(type.shape) + (values.has(from.id) ? ` = ${values.get(from.id)}` : '') : undefined,
        data: { from: e.from, to: e.to },
        className: worst.get(to.id)?.severity === 'error' ? 'edge-error' : undefined,
      };
      const old = cached?.edge;
      const same =
        old &&
        old.id === edge.id &&
        old.source === edge.source &&
        old.target === edge.target &&
        old.sourceHandle === edge.sourceHandle &&
        old.targetHandle === edge.targetHandle &&
        old.label === edge.label &&
        old.className === edge.className;
      next.set(e, { key, edge: same ? old : edge });
      return [same ? old : edge];
    });
    this.cache = next;
    if (built.length === this.last.length && built.every((edge, k) => edge === this.last[k])) return this.last;
    return (this.last = built);
  }
}
