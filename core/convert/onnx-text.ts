/**
 * What the compiler makes, as ONNX text (core/onnx/text.ts): the whole forward graph with a comment
 * before each layer's nodes, or one layer's lowering as a graph of its own.
 */
import type { ModelDocument } from '../graph/types.ts';
import { annotate } from '../autodiff/types.ts';
import { valueInfo } from '../onnx/builder.ts';
import type { GraphProto, ModelProto, NodeProto } from '../onnx/proto.ts';
import { graphText, modelText, TextNames, type TextOptions } from '../onnx/text.ts';
import { compileModel, type CompiledModel, type CompileOptions } from './compile.ts';

/** Node index → "id (Op)" at the first node of each layer. */
export function layerComments(compiled: CompiledModel, nodes: NodeProto[]): Map<number, string> {
  const first = new Map<string, string>();
  for (const [id, record] of compiled.layers) if (record.nodes.length > 0) first.set(record.nodes[0], `${id} (${record.op})`);
  const comments = new Map<number, string>();
  nodes.forEach((n, i) => {
    const comment = n.name ? first.get(n.name) : undefined;
    if (comment) comments.set(i, comment);
  });
  return comments;
}

/** The compiled forward graph as ONNX text. */
export function forwardText(doc: ModelDocument, options: CompileOptions & TextOptions = {}): string {
  const compiled = compileModel(doc, options);
  return modelText(compiled.model, options, layerComments(compiled, compiled.model.graph.node));
}

/**
 * The given nodes of a compiled graph as a graph of their own: what they read from elsewhere becomes
 * inputs (the weights they read stay initializers), and `outputs` its outputs.
 */
export function subgraph(graph: GraphProto, opset: number, name: string, nodes: NodeProto[], outputs: string[]): GraphProto {
  const types = annotate(graph, opset);
  const made = new Set(nodes.flatMap((n) => n.output));
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const read = [...new Set(nodes.flatMap((n) => n.input).filter((v) => v && !made.has(v)))];
  const typed = (v: string) => {
    const t = types.get(v);
    return t ? valueInfo(v, t) : { name: v };
  };
  return {
    name,
    node: nodes,
    input: read.filter((v) => !initializers.has(v)).map(typed),
    initializer: read.filter((v) => initializers.has(v)).map((v) => initializers.get(v)!),
    output: outputs.map(typed),
  };
}

/** One layer's lowering: its ONNX nodes as a graph, fed by the values they read. */
export function layerText(compiled: CompiledModel, layerId: string, options: TextOptions = {}): string {
  const record = compiled.layers.get(layerId);
  if (!record) throw new Error(`"${layerId}" is not a layer of the compiled graph`);
  const graph = compiled.model.graph;
  const wanted = new Set(record.nodes);
  const nodes = graph.node.filter((n) => wanted.has(n.name!));
  const opset = opsetOf(compiled.model);
  return `# ${layerId} (${record.op}): ${nodes.length} ONNX node(s)\n${graphText(subgraph(graph, opset, layerId, nodes, record.outputs), new TextNames(), options)}\n`;
}

export const opsetOf = (m: ModelProto): number => m.opset_import.find((o) => !o.domain)?.version ?? 17;
