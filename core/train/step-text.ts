/**
 * One layer's part of the training-step graph as ONNX text: its forward nodes (training form), the
 * backward nodes its gradient rules made, and its parameters' optimiser updates, each a graph of its own.
 */
import type { ModelDocument } from '../graph/types.ts';
import type { GraphProto, NodeProto } from '../onnx/proto.ts';
import { graphText, TextNames, type TextOptions } from '../onnx/text.ts';
import { opsetOf, subgraph } from '../convert/onnx-text.ts';
import { CompileError } from '../convert/compile.ts';
import { buildTrainingGraph, type LayerNodes, type TrainingGraphOptions } from './step.ts';

/** Values the nodes make that other nodes of the graph (or its outputs) read. */
function leaving(graph: GraphProto, nodes: NodeProto[]): string[] {
  const inside = new Set(nodes);
  const readOutside = new Set([...graph.node.filter((n) => !inside.has(n)).flatMap((n) => n.input), ...graph.output.map((v) => v.name)]);
  return nodes.flatMap((n) => n.output).filter((v) => v && readOutside.has(v));
}

export function trainingStepText(doc: ModelDocument, layerId: string, options: TrainingGraphOptions & TextOptions): string {
  const training = buildTrainingGraph(doc, options);
  const sections = training.layerNodes.get(layerId);
  if (!sections) throw new CompileError(`"${layerId}" is not a layer of the training graph`);
  const graph = training.step.graph;
  const opset = opsetOf(training.step);
  const byName = new Map(graph.node.map((n) => [n.name!, n]));
  const names = new TextNames();
  const parts = (Object.keys(sections) as (keyof LayerNodes)[]).map((part) => {
    const nodes = sections[part].map((n) => byName.get(n)!).filter(Boolean);
    if (nodes.length === 0) return `# ${part}: no nodes`;
    return `# ${part}: ${nodes.length} node(s)\n${graphText(subgraph(graph, opset, `${layerId}_${part}`, nodes, leaving(graph, nodes)), names, options)}`;
  });
  return `# ${layerId} in the training step (${options.optimizer.name})\n${parts.join('\n\n')}\n`;
}
