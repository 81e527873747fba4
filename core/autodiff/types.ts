/** Static types (shape and dtype, symbols allowed) of every value in an ONNX graph, from Netloom's ONNX shape rules. */
import { attributesOf } from '../onnx/attributes.ts';
import { inferOnnxOp } from '../onnx/opshapes.ts';
import { DataType, isFloatTensor, tensorValues, type GraphProto, type NodeProto, type TensorProto, type ValueInfoProto } from '../onnx/proto.ts';
import type { Dim, TensorType } from '../graph/dim.ts';

function fromValueInfo(v: ValueInfoProto): TensorType | undefined {
  const tt = v.type?.tensor_type;
  if (!tt?.shape) return undefined;
  const shape: Dim[] = tt.shape.dim.map((d) => d.dim_value ?? d.dim_param ?? '?');
  return { shape, dtype: tt.elem_type === DataType.FLOAT || tt.elem_type === DataType.DOUBLE ? 'float32' : 'int64' };
}

export function annotate(graph: GraphProto, opset: number): Map<string, TensorType> {
  const types = new Map<string, TensorType>();
  for (const v of graph.input) {
    const t = fromValueInfo(v);
    if (t) types.set(v.name, t);
  }
  addInitializers(types, graph.initializer ?? []);
  addNodes(types, graph.node, opset);
  return types;
}

export function addInitializers(types: Map<string, TensorType>, initializers: TensorProto[]): void {
  for (const t of initializers) {
    const dims = t.dims ?? [];
    // Small constants carry their values: shape arithmetic, and float settings such as Resize's scales.
    const small = dims.reduce((a, b) => a * b, 1) <= 64;
    types.set(t.name!, { shape: dims, dtype: isFloatTensor(t) ? 'float32' : 'int64', ...(small ? { value: [...tensorValues(t)] } : {}) });
  }
}

export function addNodes(types: Map<string, TensorType>, nodes: NodeProto[], opset: number): void {
  for (const n of nodes) {
    const outs = inferOnnxOp(
      n.op_type,
      attributesOf(n),
      n.input.map((i) => (i ? types.get(i) : undefined)),
      opset,
      n.output.length,
    );
    outs?.forEach((t, i) => t && n.output[i] && types.set(n.output[i], t));
  }
}
