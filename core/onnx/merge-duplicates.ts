/**
 * Common-subexpression elimination over a graph's nodes: a node that repeats an earlier one (same op,
 * same inputs, same attributes) is dropped and its readers read the earlier one's outputs. A training
 * step's backward pass recomputes values its forward pass already has (a BatchNorm's centred input and
 * element count, a shape, a transposed kernel); this computes each once.
 */
import type { AttributeProto, NodeProto } from './proto.ts';

/** Ops whose outputs are not a function of their inputs: two of them are two draws. */
const RANDOM = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Dropout']);

/** The attributes as a canonical string, or null where they hold tensors or subgraphs (those nodes are kept as they are). */
function attributesKey(attributes: AttributeProto[] = []): string | null {
  if (attributes.some((a) => a.t || a.g || a.tensors?.length || a.graphs?.length)) return null;
  const plain = [...attributes]
    .sort((p, q) => (p.name < q.name ? -1 : 1))
    .map((a) => [a.name, a.f, a.i, a.s && Array.from(a.s), a.floats, a.ints, a.strings?.map((s) => Array.from(s)), a.ref_attr_name]);
  return JSON.stringify(plain);
}

/**
 * Drops, in place, every node of `nodes` (in topological order) that repeats an earlier one, and renames
 * its outputs in the nodes after it. Nodes that write a value in `keep` (the graph's outputs) stay.
 * Returns how many nodes were dropped.
 */
export function mergeDuplicateNodes(nodes: NodeProto[], keep: ReadonlySet<string>): number {
  const seen = new Map<string, string[]>();
  const renamed = new Map<string, string>();
  const kept: NodeProto[] = [];
  for (const node of nodes) {
    if (node.input.some((i) => renamed.has(i))) node.input = node.input.map((i) => renamed.get(i) ?? i);
    const attributes = RANDOM.has(node.op_type) ? null : attributesKey(node.attribute);
    if (attributes === null || node.output.some((o) => keep.has(o))) {
      kept.push(node);
      continue;
    }
    // Outputs left out ('') count: a node with more outputs than an earlier one cannot read its values.
    const key = JSON.stringify([node.domain ?? '', node.op_type, node.input, attributes, node.output.map((o) => o !== '')]);
    const earlier = seen.get(key);
    if (!earlier) {
      seen.set(key, node.output);
      kept.push(node);
      continue;
    }
    node.output.forEach((o, i) => o && renamed.set(o, earlier[i]));
  }
  const dropped = nodes.length - kept.length;
  nodes.length = 0;
  for (const node of kept) nodes.push(node);
  return dropped;
}
