/** Shape inference on a generated 10,000-node model: a full pass, and re-inference after one edit. */
import { ShapeInference, type ModelDocument, type ModelNode } from '../core/index.ts';
import { median, report } from './measure.ts';

/** A deep residual CNN: Input, then blocks of Conv, BatchNorm, ReLU, Conv, BatchNorm, Add, ReLU. */
export function residualModel(nodeCount: number): ModelDocument {
  const nodes: ModelNode[] = [{ id: 'x', op: 'Input', params: { shape: [32, 16, 16] } }];
  const edges: { from: string; to: string }[] = [];
  let prev = 'x';
  const add = (id: string, op: string, params: ModelNode['params'], ...from: string[]): string => {
    nodes.push({ id, op, params });
    for (const f of from) edges.push({ from: f, to: id });
    return id;
  };
  for (let b = 0; nodes.length + 7 <= nodeCount; b++) {
    const c1 = add(`b${b}_conv1`, 'Conv2d', { outChannels: 32, kernelSize: 3, padding: 1, bias: false }, prev);
    const r1 = add(`b${b}_relu1`, 'ReLU', {}, add(`b${b}_bn1`, 'BatchNorm2d', {}, c1));
    const n2 = add(`b${b}_bn2`, 'BatchNorm2d', {}, add(`b${b}_conv2`, 'Conv2d', { outChannels: 32, kernelSize: 3, padding: 1, bias: false }, r1));
    prev = add(`b${b}_relu2`, 'ReLU', {}, add(`b${b}_add`, 'Add', {}, n2, prev));
  }
  while (nodes.length < nodeCount) prev = add(`tail${nodes.length}`, 'Identity', {}, prev);
  return { format: 'netloom.model', version: 1, name: `residual ${nodeCount}`, nodes, edges };
}

export function benchInference(): void {
  const model = residualModel(10_000);
  for (let i = 0; i < 3; i++) new ShapeInference(model); // warm up the JIT
  // Inference never changes the document, so every pass reads the same one, as the editor's does.
  const full = median(15, () => {
    const t = performance.now();
    new ShapeInference(model);
    return performance.now() - t;
  });
  report('shape inference, full pass, 10,000 nodes', full, 'ms', 50);

  const live = new ShapeInference(model);
  const middle = 'b700_conv1';
  let wide = false;
  let visited = 0;
  const edit = median(200, () => {
    wide = !wide;
    const t = performance.now();
    visited = live.setParams(middle, { outChannels: 32, kernelSize: wide ? 5 : 3, padding: wide ? 2 : 1, bias: false }).length;
    return performance.now() - t;
  });
  report(`re-infer after a kernel-size edit mid-graph (${visited} nodes re-inferred)`, edit, 'ms', 2);

  let size = 16;
  const cascade = median(15, () => {
    size = size === 16 ? 20 : 16;
    const t = performance.now();
    visited = live.setParams('x', { shape: [32, size, size] }).length;
    return performance.now() - t;
  });
  report(`re-infer after an input-size edit, worst case: every shape changes (${visited} nodes re-inferred)`, cascade, 'ms');
}
