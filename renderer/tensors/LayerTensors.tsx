/** In the inspector: the selected layer's output tensor from the last run, and its weights (conv kernels as tiles). */
import { useSyncExternalStore } from 'react';
import type { Tensor } from '../../core/engine/engine.ts';
import type { ModelDocument } from '../../core/graph/types.ts';
import { getLayer } from '../../core/index.ts';
import { lastRun } from '../run/engine.ts';
import { TensorView } from './TensorView.tsx';

/** A weight as a "batch" of one whose sample is what reads well: O·I kernels as tiles, a matrix as a heatmap. */
export function weightTensor(shape: number[], data: Float32Array): Tensor {
  const dims = shape.length === 4 ? [1, shape[0] * shape[1], shape[2], shape[3]] : [1, ...shape];
  return { dtype: 'float32', dims, data };
}

export function LayerTensors({ doc, nodeId }: { doc: ModelDocument; nodeId: string }) {
  const run = useSyncExternalStore(lastRun.subscribe, lastRun.get);
  if (!run) return <p className="muted">Run the model (Run panel) to see this layer's output and weights.</p>;
  if (run.doc !== doc) return <p className="muted">The model changed since the last run: run it again to see this layer's tensors.</p>;
  const outputs = [...run.outputs].filter(([key]) => key.startsWith(`${nodeId}:`));
  // Several outputs are named by their ports (an LSTM's output, h and c), which say more than their numbers.
  const node = doc.nodes.find((n) => n.id === nodeId);
  const layer = node && getLayer(node.op);
  const ports = node && layer ? (layer.outputPorts?.(node.params) ?? layer.outputs) : [];
  const outputName = (key: string) => {
    if (outputs.length === 1) return `${nodeId} output`;
    const port = ports[Number(key.slice(nodeId.length + 1))];
    return port ? `${nodeId} ${port.name}` : key;
  };
  const weights = [...run.weights].filter(([key]) => key.startsWith(`${nodeId}.`));
  return (
    <section aria-label="Tensors of this layer">
      {outputs.map(([key, tensor]) => (
        <TensorView key={key} name={outputName(key)} tensor={tensor} />
      ))}
      {weights.map(([key, w]) => (
        <TensorView key={key} name={key} tensor={weightTensor(w.shape, w.data)} />
      ))}
    </section>
  );
}
