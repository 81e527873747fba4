/**
 * OnnxOp: any ONNX node the importer does not recognise as a catalogue layer. It keeps the op type,
 * domain, attributes and constant inputs, so every ONNX model opens and re-exports to the same function.
 */
import { formatShape, type Dim, type DType } from '../graph/dim.ts';
import { inferOnnxOp } from '../onnx/opshapes.ts';
import { DataType, type Int64 } from '../onnx/proto.ts';
import { attributeFromJson, jsonAttributes, type JsonAttribute } from '../onnx/attributes.ts';
import { floatTensor, int64Tensor } from '../onnx/builder.ts';
import type { InferContext, LayerSpec, LowerContext, ParamTensor, PortSpec, TensorType } from './spec.ts';
import { ZEROS, tensor } from './common.ts';
import type { ParamValue } from '../graph/types.ts';

/**
 * How each ONNX input is fed: an edge, a weight tensor of the node (fixed: a Constant node's literal,
 * such as a zero initial state, which is kept but not trained), a constant, or nothing. Constant int64
 * values beyond 2^53 are kept as decimal strings (exact).
 */
export type OnnxInput =
  'edge' | { weight: string; shape: number[]; fixed?: boolean; tiedTo?: string } | { constant: Int64[]; shape: number[]; dtype: 'int64' | 'int32' | 'bool' | 'uint8' | 'int8' | 'float32' } | null;

/** Inputs that hold settings rather than learned weights (not counted as parameters). */
const SETTING_SLOTS: Record<string, number[]> = { Clip: [1, 2], BatchNormalization: [3, 4], Dropout: [1], Pad: [1, 2], Resize: [1, 2, 3], Pow: [1], InstanceNormalization: [], Range: [0, 1, 2] };

/** Ops whose inputs or meaning changed by opset 13 (attributes became inputs, Softmax stopped flattening). */
const CHANGED_BY_13 = new Set([
  'Squeeze',
  'Unsqueeze',
  'ReduceSum',
  'Split',
  'Softmax',
  'LogSoftmax',
  'Hardmax',
  'Clip',
  'Pad',
  'Dropout',
  'Slice',
  'TopK',
  'Upsample',
  'Resize',
  'BatchNormalization',
]);

const ELEM: Record<string, number> = { float32: DataType.FLOAT, int64: DataType.INT64, int32: DataType.INT32, bool: DataType.BOOL, uint8: DataType.UINT8, int8: DataType.INT8 };

export const OnnxOp: LayerSpec = {
  op: 'OnnxOp',
  starting: { opType: 'Identity' },
  category: 'Input & structure',
  summary: 'An ONNX operator kept as it is (made by import).',
  doc: 'Any ONNX node that is not one of the catalogue layers: the op type, domain, attributes, constant inputs and weights are kept, so the model re-exports to the same function. Float weights (other than scalars and settings such as Clip bounds) count as parameters.',
  internal: true,
  params: {
    opType: { type: 'string', label: 'ONNX op', help: 'The ONNX operator type, e.g. "Transpose".', key: true },
    domain: { type: 'string', label: 'Domain', help: 'The operator set domain; empty for the standard ops.', default: '' },
    attributes: { type: 'json', label: 'Attributes', help: 'ONNX attributes by name: { "perm": { "type": "ints", "value": [0, 2, 1] } }.', default: {} },
    onnxInputs: { type: 'json', label: 'Inputs', help: 'Per ONNX input: "edge", a weight of this node, a constant, or null.', default: null, nullable: true },
    outputCount: { type: 'int', label: 'Outputs', help: 'Number of ONNX outputs.', default: 1, min: 1 },
    opset: { type: 'int', label: 'Opset', help: 'The ONNX opset whose version of the op this is.', default: 17, min: 1 },
    outputTypes: { type: 'json', label: 'Output types', help: 'Output shapes and dtypes as the file recorded them.', default: null, nullable: true },
  },
  inputs: [{ name: 'inputs', help: 'The ONNX inputs fed by edges, in order.', variadic: true, minCount: 0 }],
  outputs: [{ name: 'output', help: 'The first output.' }],
  outputPorts: (params: Record<string, ParamValue>): PortSpec[] =>
    Array.from({ length: (params.outputCount as number | undefined) ?? 1 }, (_, i) => ({ name: i === 0 ? 'output' : `output${i}`, help: `ONNX output ${i}.` })),
  infer(ctx: InferContext) {
    const opType = ctx.str('opType');
    const inputs = (ctx.params.onnxInputs as unknown as OnnxInput[] | null) ?? ctx.inputs.map(() => 'edge' as const);
    const params: ParamTensor[] = [];
    const buffers: ParamTensor[] = [];
    const types: (TensorType | undefined)[] = [];
    let edge = 0;
    inputs.forEach((input, slot) => {
      if (input === 'edge') types.push(ctx.inputs[edge++]);
      else if (input === null) types.push(undefined);
      else if ('weight' in input) {
        const count = input.shape.reduce((a, b) => a * b, 1);
        const t: ParamTensor = { name: input.weight, shape: input.shape, count, formula: input.shape.join('·') || '1', init: ZEROS };
        if (input.tiedTo) {
          // One ONNX initializer read by several nodes: counted, stored and trained at its first reader.
          t.tiedTo = input.tiedTo;
          t.formula = `shared with ${input.tiedTo}.${input.weight} (counted there)`;
        }
        (count > 1 && !input.fixed && !(SETTING_SLOTS[opType] ?? []).includes(slot) ? params : buffers).push(t);
        types.push(tensor(input.shape));
      } else types.push({ ...tensor(input.shape, input.dtype === 'float32' ? 'float32' : 'int64'), ...(input.constant.length <= 64 ? { value: input.constant.map(Number) } : {}) });
    });
    if (edge !== ctx.inputs.length) ctx.fail(`has ${ctx.inputs.length} edges but its ONNX inputs take ${edge}`);
    const attributes = jsonAttributes((ctx.params.attributes ?? {}) as unknown as Record<string, JsonAttribute>);
    const computed = ctx.str('domain') ? null : inferOnnxOp(opType, attributes, types, ctx.int('opset'), ctx.int('outputCount'));
    const recorded = ctx.params.outputTypes as unknown as { shape: Dim[]; dtype: DType }[] | null;
    const count = ctx.int('outputCount');
    const outputs = Array.from({ length: count }, (_, i) => computed?.[i] ?? (recorded?.[i] ? tensor(recorded[i].shape, recorded[i].dtype) : undefined));
    const unknown = outputs.findIndex((o) => !o);
    if (unknown >= 0) {
      const why =
        computed === null
          ? `Netloom has no shape rule for ${opType} and the file records none`
          : `its inputs are not known well enough (${types.map((t) => (t ? formatShape(t.shape) : '?')).join(', ')})`;
      ctx.fail(`cannot infer the shape of output ${unknown} of ${opType}: ${why}`, { suggestion: 'Run ONNX shape inference on the file (onnx.shape_inference.infer_shapes) before importing it.' });
    }
    return { outputs: outputs as TensorType[], params, buffers, macs: null };
  },
  lower(ctx: LowerContext) {
    const { b } = ctx;
    const opType = ctx.str('opType');
    if (ctx.int('opset') < 13 && CHANGED_BY_13.has(opType) && b.opset >= 13) {
      throw new Error(`${opType} comes from opset ${ctx.int('opset')}, whose form opset ${b.opset} no longer accepts; convert the source model to opset 13 or later first`);
    }
    const specs = (ctx.params.onnxInputs as unknown as OnnxInput[] | null) ?? ctx.inputs.map(() => 'edge' as const);
    let edge = 0;
    const inputs = specs.map((input) => {
      if (input === 'edge') return ctx.inputs[edge++];
      if (input === null) return '';
      if ('weight' in input) return ctx.weight(input.weight);
      const base = `${ctx.nodeId}/const`;
      if (input.dtype === 'int64') return b.addConstant(base, int64Tensor('', input.shape, input.constant));
      const values = input.constant.map(Number);
      if (input.dtype === 'float32') return b.addConstant(base, floatTensor('', input.shape, Float32Array.from(values)));
      const bytes = input.dtype === 'int32' ? new Uint8Array(new Int32Array(values).buffer) : Uint8Array.from(values.map((v) => v & 0xff));
      return b.addConstant(base, { dims: input.shape, data_type: ELEM[input.dtype], raw_data: bytes });
    });
    const attributes = Object.entries((ctx.params.attributes ?? {}) as unknown as Record<string, JsonAttribute>).map(([name, a]) => attributeFromJson(name, a));
    b.node(ctx.str('opType'), inputs, {}, ctx.outputs);
    const node = b.nodes[b.nodes.length - 1];
    node.attribute = attributes;
    if (ctx.str('domain')) node.domain = ctx.str('domain');
  },
};
