/** Builders that keep the tests short and readable. */
import { inferShapes, type ModelDocument, type ModelNode, type ParamValue } from '../../core/index.ts';

export function doc(nodes: ModelNode[], edges: [string, string][], name = 'test'): ModelDocument {
  return { format: 'netloom.model', version: 1, name, nodes, edges: edges.map(([from, to]) => ({ from, to })) };
}

export const node = (id: string, op: string, params: Record<string, ParamValue> = {}): ModelNode => ({ id, op, params });

/** An Input feeding a chain of layers; returns the inference. */
export function chain(inputShape: (number | string)[], ...layers: [string, Record<string, ParamValue>?][]) {
  const nodes = [node('x', 'Input', { shape: inputShape })];
  const edges: [string, string][] = [];
  layers.forEach(([op, params], i) => {
    nodes.push(node(`l${i + 1}`, op, params ?? {}));
    edges.push([i === 0 ? 'x' : `l${i}`, `l${i + 1}`]);
  });
  return inferShapes(doc(nodes, edges));
}
