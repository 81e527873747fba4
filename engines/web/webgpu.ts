/**
 * What ONNX Runtime Web's WebGPU provider (1.30) cannot run of Netloom's graphs, found by the browser
 * engine's tests: say so before a run starts, instead of its internal error halfway through.
 */
import type { ModelProto } from '../../core/onnx/proto.ts';

/**
 * Its MaxPool kernel never writes the second output, Indices, which the training step's MaxPool
 * gradient reads (the session then fails with "Trying to get a Tensor, but got: (null)").
 */
export function webgpuProblem(model: ModelProto): string | null {
  const pool = model.graph.node.find((n) => n.op_type === 'MaxPool' && (n.output ?? []).filter(Boolean).length > 1);
  if (pool)
    return `ONNX Runtime Web's WebGPU provider cannot train through MaxPool (its kernel does not give the Indices output that MaxPool's gradient needs; node ${pool.name || pool.output![0]}): train on wasm, or use average pooling`;
  return null;
}
