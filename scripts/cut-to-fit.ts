/**
 * Templates of billions of parameters (27–187 GB of float32 weights) cannot be held on a machine like this
 * one, so the check scripts run them cut: repeated blocks cut to the first (same sizes, every kind of
 * layer of the real model), a mixture of experts cut to top-k + 1 experts, and the vocabulary of the
 * embedding and head cut to 1,000. One place for the cut, so every check cuts the same way and says so.
 */
import { inferShapes, type ModelDocument } from '../core/index.ts';

/** The vocabulary of a cut model: token ids and the head's scores keep their meaning, the tables shrink. */
const VOCABULARY = 1000;

/**
 * A model of repeated blocks ("layer1_attn" … "layer32_ffn") cut to its first block: the nodes of the
 * others dropped, and what read the last block's outputs reading the first's. Null when the ids repeat no block.
 */
export function firstBlockOnly(doc: ModelDocument): { doc: ModelDocument; blocks: number } | null {
  const block = (id: string) => /^(.*?)(\d+)_(.+)$/.exec(id);
  const numbers = new Set(doc.nodes.map((n) => block(n.id)?.[2]).filter((k): k is string => k !== undefined));
  const blocks = Math.max(...[...numbers].map(Number));
  if (numbers.size < 2 || !numbers.has('1')) return null;
  const inBlock = (id: string) => block(id.split(':')[0]);
  const dropped = (id: string) => Number(inBlock(id)?.[2] ?? 1) > 1;
  const edges = doc.edges.flatMap((e) => {
    if (dropped(e.to)) return [];
    if (!dropped(e.from)) return [e];
    const [, prefix, k, rest] = inBlock(e.from)!;
    return Number(k) === blocks ? [{ ...e, from: `${prefix}1_${rest}` }] : [];
  });
  return { doc: { ...doc, nodes: doc.nodes.filter((n) => !dropped(n.id)), edges }, blocks };
}

/** `doc` itself when it has at most `limit` parameters (or repeats no block); otherwise the cut model and what was cut. */
export function cutToFit(doc: ModelDocument, limit: number): { doc: ModelDocument; cut?: string } {
  const params = inferShapes(doc).getTotals().totalParams;
  if (params <= limit) return { doc };
  const first = firstBlockOnly(doc);
  if (!first) return { doc };
  doc = first.doc;
  const cuts = [`blocks cut to 1 of ${first.blocks}`];
  doc.nodes = doc.nodes.map((n) => {
    if (n.op !== 'MixtureOfExperts') return n;
    const experts = Math.min(n.params.numExperts as number, (n.params.topK as number) + 1);
    cuts.push(`${n.id} experts cut to ${experts} of ${n.params.numExperts as number}`);
    return { ...n, params: { ...n.params, numExperts: experts } };
  });
  // The embedding and the head (2 × 32000 × 4096 in the 7B models) would be most of what is left.
  const vocabularies = new Set(doc.nodes.filter((n) => n.op === 'Embedding' && (n.params.numEmbeddings as number) > VOCABULARY).map((n) => n.params.numEmbeddings as number));
  for (const vocabulary of vocabularies) cuts.push(`vocabulary cut to ${VOCABULARY.toLocaleString('en-US')} of ${vocabulary.toLocaleString('en-US')}`);
  doc.nodes = doc.nodes.map((n) => {
    if (n.op === 'Embedding' && vocabularies.has(n.params.numEmbeddings as number)) return { ...n, params: { ...n.params, numEmbeddings: VOCABULARY } };
    if (n.op === 'Linear' && vocabularies.has(n.params.outFeatures as number)) return { ...n, params: { ...n.params, outFeatures: VOCABULARY } };
    return n;
  });
  return { doc, cut: `${params.toLocaleString('en-US')} parameters whole; ${cuts.join(', ')}` };
}
