/**
 * ReLU then max pooling, as CNNs are usually written, computes the same as max pooling then ReLU: ReLU
 * is monotone, so the largest of a window's rectified values is the rectified largest value. Pooling
 * first leaves ReLU, and in a training step its gradient, a pooled tensor to work on (a quarter of the
 * values behind a 2×2 pool). The gradients agree too: where the two orders could pick different
 * positions of a window (its largest value is ≤ 0, so ReLU turns several into equal zeros), ReLU's
 * gradient is 0 at that value either way (∂ReLU/∂x = 0 for x ≤ 0, as in PyTorch).
 */
import type { NodeProto } from './proto.ts';

/**
 * Swaps, in place, each Relu whose only reader is a MaxPool (that writes no Indices yet) with that pool,
 * in `nodes` (topological order): the pool reads the Relu's input and the Relu writes the pool's output,
 * under the same node names. A Relu output named in `keep` (a value someone fetches) is left alone.
 * `fresh` names the new value between them. Returns how many pairs were swapped.
 */
export function poolBeforeRelu(nodes: NodeProto[], keep: ReadonlySet<string>, fresh: (base: string) => string): number {
  const readers = new Map<string, number>();
  const count = (list: NodeProto[]): void => {
    for (const node of list) {
      for (const input of node.input) readers.set(input, (readers.get(input) ?? 0) + 1);
      // A subgraph (a Loop's or an If's body) may read a value of the graph around it.
      for (const attribute of node.attribute ?? []) for (const g of [attribute.g, ...(attribute.graphs ?? [])]) if (g) count(g.node ?? []);
    }
  };
  count(nodes);
  const position = new Map(nodes.map((node, i) => [node, i]));
  let swapped = 0;
  for (const pool of nodes.filter((n) => n.op_type === 'MaxPool' && !n.domain && (n.output[1] ?? '') === '')) {
    const rectified = pool.input[0];
    const relu = nodes.find((n) => n.op_type === 'Relu' && !n.domain && n.output[0] === rectified);
    if (!relu || keep.has(rectified) || readers.get(rectified) !== 1) continue;
    const pooled = fresh(`${pool.output[0]}_before_relu`);
    const output = pool.output[0];
    pool.input = [relu.input[0]];
    pool.output = [pooled];
    relu.input = [pooled];
    relu.output = [output];
    // The pool now runs where the Relu ran, and the Relu where the pool did.
    const [at, later] = [position.get(relu)!, position.get(pool)!];
    [nodes[at], nodes[later]] = [pool, relu];
    position.set(pool, at).set(relu, later);
    swapped++;
  }
  return swapped;
}
