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

/** The CA2-style CNN for 28×28 digits (conv 20·5, pool, conv 50·5, pool, 500, 10), as the MNIST test and the training benchmark use it. */
export function ca2StyleCnn(): ModelDocument {
  const layers: [string, string, Record<string, number>][] = [
    ['conv1', 'Conv2d', { outChannels: 20, kernelSize: 5 }],
    ['relu1', 'ReLU', {}],
    ['pool1', 'MaxPool2d', { kernelSize: 2 }],
    ['conv2', 'Conv2d', { outChannels: 50, kernelSize: 5 }],
    ['relu2', 'ReLU', {}],
    ['pool2', 'MaxPool2d', { kernelSize: 2 }],
    ['flat', 'Flatten', {}],
    ['fc1', 'Linear', { outFeatures: 500 }],
    ['relu3', 'ReLU', {}],
    ['fc2', 'Linear', { outFeatures: 10 }],
  ];
  return doc(
    [node('image', 'Input', { shape: [1, 28, 28] }), ...layers.map(([id, op, p]) => node(id, op, p))],
    layers.map(([id], i) => [i === 0 ? 'image' : layers[i - 1][0], id]),
  );
}
