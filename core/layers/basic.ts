/** Inputs and structural layers: Input, Linear, Flatten, Reshape, Add, Mul, Concat, Identity, Select, Dropout. */
import { broadcast, formatShape, normAxis, numel, symbolic, type Dim } from '../graph/dim.ts';
import { attrFloat, attrInt } from '../onnx/attributes.ts';
import { floatArray, transpose2d } from '../onnx/import-forms.ts';
import { linear } from '../onnx/lowering.ts';
import { isFloatTensor, tensorValues, type NodeProto, type TensorProto } from '../onnx/proto.ts';
import type { ImportContext, ImportPattern, InferContext, LayerSpec, LowerContext, PortSpec } from './spec.ts';
import { BIAS, fanInUniform, ONE_INPUT, ONE_OUTPUT, expectFloat, formatCount, importUnary, knownDim, mulOrNull, activeDropout, only, param, tensor } from './common.ts';

const Input: LayerSpec = {
  op: 'Input',
  starting: { shape: [1, 28, 28] },
  category: 'Input & structure',
  summary: 'A model input. The batch dimension N is implied.',
  doc: 'Declares a tensor fed to the model. `shape` leaves out the batch dimension, which is the symbol N. Use a symbol such as "T" for a variable sequence length, and dtype int64 for token ids or class labels.',
  params: {
    shape: { type: 'dims', label: 'Shape', help: 'Shape without the batch dimension, e.g. [1, 32, 32]. Symbols such as "T" are allowed.', key: true },
    dtype: { type: 'enum', label: 'Data type', help: 'float32 for features, int64 for token ids and class labels.', default: 'float32', values: ['float32', 'int64'] },
    batch: { type: 'bool', label: 'Batched', help: 'The tensor has the batch dimension N first (not written in shape). Off for imported inputs that have none.', default: true },
  },
  inputs: [],
  outputs: [{ name: 'output', help: 'The input tensor, with the batch dimension N first.' }],
  infer(ctx: InferContext) {
    const dtype = ctx.str('dtype') as 'float32' | 'int64';
    return { outputs: [tensor(ctx.bool('batch') ? ['N', ...ctx.dims('shape')] : ctx.dims('shape'), dtype)] };
  },
  lower() {
    // The compiler declares Input nodes as graph inputs named after them; nothing to emit.
  },
};

/** Adds a Linear whose weight is in PyTorch's [out, in] layout, tied to an embedding when it equals one. */
function addLinear(ctx: ImportContext, n: NodeProto, x: string, weight: Float32Array, out: number, inF: number, bias: TensorProto | undefined, outputs: string[]): void {
  const owner = tiedEmbedding(ctx, weight, [out, inF]);
  const id = ctx.add('Linear', owner ? { outFeatures: out, bias: !!bias, tiedTo: owner } : { outFeatures: out, bias: !!bias }, [x], outputs, n);
  if (!owner) ctx.setWeight(id, 'weight', [out, inF], weight);
  if (bias) ctx.setWeight(id, 'bias', [out], floatArray(bias));
}

/**
 * An earlier Embedding whose table this Linear's weight equals exactly: PyTorch's output head tied to
 * the token embedding, which constant folding wrote as a transposed copy. Only embeddings: equal
 * Linear weights are parameters PyTorch keeps apart (deep-copied layers), and constant tensors (such as
 * zero-initialised heads) are never taken for ties.
 */
function tiedEmbedding(ctx: ImportContext, weight: Float32Array, shape: number[]): string | undefined {
  if (weight.every((v) => v === weight[0])) return undefined;
  return ctx.nodes.find((node) => {
    if (node.op !== 'Embedding') return false;
    const other = ctx.weight(node.id, 'weight');
    return !!other && other.shape.join() === shape.join() && other.data.every((v, i) => v === weight[i]);
  })?.id;
}

/** Gemm with a constant weight (either layout) and an optional bias vector: x·Wᵀ + b. */
const linearFromGemm: ImportPattern = {
  onnx: ['Gemm'],
  take(n, ctx) {
    const [x, bName, cName] = n.input;
    const w = ctx.constant(bName);
    const c = cName ? ctx.constant(cName) : undefined;
    if (!w || w.dims!.length !== 2 || ctx.constant(x) || (cName && !c) || attrInt(n, 'transA', 0) !== 0 || attrFloat(n, 'alpha', 1) !== 1 || (c && attrFloat(n, 'beta', 1) !== 1)) return false;
    const transB = attrInt(n, 'transB', 0) === 1;
    const [out, inF] = transB ? w.dims! : [w.dims![1], w.dims![0]];
    if (c && (tensorValues(c).length !== out || c.dims!.some((d, i) => d !== 1 && i !== c.dims!.length - 1))) return false;
    addLinear(ctx, n, x, transB ? floatArray(w) : transpose2d(floatArray(w), inF, out), out, inF, c, n.output);
    return true;
  },
};

/** MatMul by a constant [in, out] matrix, with the Add of a bias vector that follows it fused in. */
const linearFromMatMul: ImportPattern = {
  onnx: ['MatMul'],
  take(n, ctx) {
    const [x, wName] = n.input;
    const w = ctx.constant(wName);
    if (!w || !isFloatTensor(w) || w.dims!.length !== 2 || ctx.constant(x)) return false;
    const [inF, out] = w.dims!;
    // MatMul followed by Add of a bias vector, with nothing else reading the product, is one Linear.
    const readers = ctx.readers(n.output[0]);
    const add = readers.length === 1 && readers[0].op_type === 'Add' && !ctx.isGraphOutput(n.output[0]) ? readers[0] : undefined;
    const biasName = add?.input.find((i) => i !== n.output[0]);
    const bias = biasName ? ctx.constant(biasName) : undefined;
    const fuse = !!bias && bias.dims!.length === 1 && bias.dims![0] === out;
    if (fuse) ctx.skip(add!);
    addLinear(ctx, n, x, transpose2d(floatArray(w), inF, out), out, inF, fuse ? bias : undefined, fuse ? add!.output : n.output);
    return true;
  },
};

const Linear: LayerSpec = {
  op: 'Linear',
  imports: [linearFromGemm, linearFromMatMul],
  starting: { outFeatures: 10 },
  category: 'Linear & convolution',
  summary: 'Fully connected layer: y = xWᵀ + b.',
  doc: 'Applies y = xWᵀ + b to the last dimension. The number of input features is inferred. With `tiedTo`, the weight is shared with an Embedding (a language-model head tied to the token embedding) and is counted once, as PyTorch does.',
  params: {
    outFeatures: { type: 'int', label: 'Out features', help: 'Size of each output sample.', min: 1, key: true },
    bias: BIAS,
    tiedTo: { type: 'nodeRef', label: 'Tied to', help: 'Share the weight of this Embedding or Linear node (weight tying).', default: null, nullable: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    if (x.shape.length < 2) ctx.fail(`expects at least a 2-D input (N×features), got ${formatShape(x.shape)}`);
    const inF = knownDim(ctx, x.shape[x.shape.length - 1], 'number of input features');
    const outF = ctx.int('outFeatures');
    const weight = param('weight', [outF, inF], `out·in = ${outF}·${inF}`, fanInUniform(inF));
    const tiedTo = ctx.params.tiedTo as string | null;
    if (tiedTo !== null) {
      const other = ctx.paramsOf(tiedTo)?.find((p) => p.name === 'weight');
      if (!other) ctx.fail(`tiedTo names "${tiedTo}", which has no weight to share`, { field: 'tiedTo' });
      if (other.shape.join() !== weight.shape.join()) {
        ctx.fail(`cannot tie to "${tiedTo}": its weight is ${other.shape.join('×')} but this layer needs ${outF}×${inF}`, { field: 'tiedTo' });
      }
      weight.tiedTo = tiedTo;
      weight.formula = `shared with ${tiedTo}.weight (counted there)`;
    }
    const params = [weight];
    if (ctx.bool('bias')) params.push(param('bias', [outF], 'out', fanInUniform(inF)));
    ctx.formula(() => `out shape = [${x.shape.slice(0, -1).join(', ')}, outFeatures] = ${formatShape([...x.shape.slice(0, -1), outF])}`);
    const rows = numel(x.shape.slice(1, -1));
    const macs = mulOrNull(rows, inF, outF);
    return { outputs: [tensor([...x.shape.slice(0, -1), outF])], params, macs, macsFormula: `rows·in·out = ${rows ?? '?'}·${inF}·${outF}` };
  },
  lower(ctx: LowerContext) {
    const rank = ctx.inputTypes[0]!.shape.length;
    linear(ctx.b, ctx.inputs[0], rank, ctx.weight('weight'), ctx.bool('bias') ? ctx.weight('bias') : null, ctx.outputs[0]);
  },
};

const Flatten: LayerSpec = {
  op: 'Flatten',
  imports: [
    {
      onnx: ['Flatten'],
      take(n, ctx) {
        if (!ctx.isValue(n.input[0]) || attrInt(n, 'axis', 1) !== 1) return false;
        ctx.add('Flatten', {}, [n.input[0]], n.output, n);
        return true;
      },
    },
  ],
  category: 'Input & structure',
  summary: 'Flattens a range of dimensions into one.',
  doc: 'Merges dimensions startDim..endDim into one, as torch.nn.Flatten (by default everything but the batch).',
  params: {
    startDim: { type: 'int', label: 'Start dim', help: 'First dimension to flatten (the batch is 0).', default: 1 },
    endDim: { type: 'int', label: 'End dim', help: 'Last dimension to flatten; -1 is the last.', default: -1 },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    const rank = x.shape.length;
    const start = normAxis(ctx.int('startDim'), rank);
    const end = normAxis(ctx.int('endDim'), rank);
    if (start < 0) ctx.fail(`startDim ${ctx.int('startDim')} is out of range for a ${rank}-D input`, { field: 'startDim' });
    if (end < 0 || end < start) ctx.fail(`endDim ${ctx.int('endDim')} is out of range for a ${rank}-D input starting at ${start}`, { field: 'endDim' });
    const merged = x.shape.slice(start, end + 1);
    const n = numel(merged);
    const dim: Dim = n ?? symbolic(merged.join('·'));
    ctx.formula(() => `flattened = ${merged.join('·')} = ${dim}`);
    return { outputs: [tensor([...x.shape.slice(0, start), dim, ...x.shape.slice(end + 1)], x.dtype)] };
  },
  lower(ctx: LowerContext) {
    const shape = ctx.outputTypes[0].shape;
    if (ctx.int('startDim') === 1 && shape.length === 2) return void ctx.b.op('Flatten', [ctx.inputs[0]], { axis: 1 }, ctx.outputs[0]);
    ctx.b.reshape(ctx.inputs[0], reshapeTarget(shape), ctx.outputs[0]);
  },
};

/** A Reshape target for `shape`: the batch copied (0), symbolic sizes inferred (-1, at most one). */
function reshapeTarget(shape: Dim[]): number[] {
  const target = shape.map((d, i) => (i === 0 ? 0 : typeof d === 'number' ? d : -1));
  if (target.filter((d) => d === -1).length > 1) throw new Error(`cannot export a reshape to ${formatShape(shape)} with two symbolic sizes`);
  return target;
}

const Reshape: LayerSpec = {
  op: 'Reshape',
  imports: [
    {
      onnx: ['Reshape'],
      take(n, ctx) {
        const x = n.input[0];
        const shape = ctx.constant(n.input[1]);
        if (!ctx.isValue(x) || !shape || !ctx.hasBatch(x) || attrInt(n, 'allowzero', 0) !== 0) return false;
        const target = tensorValues(shape) as number[];
        const rest = target.slice(1);
        // The catalogue's Reshape keeps the batch: fine for a leading 0, and for a leading -1 when the
        // rest holds exactly one sample.
        const sample = ctx.type(x)?.shape.slice(1);
        const oneSample = sample?.every((d) => typeof d === 'number') && (sample as number[]).reduce((p, d) => p * d, 1) === rest.reduce((p, d) => p * d, 1);
        if (target.length < 2 || !(target[0] === 0 || (target[0] === -1 && oneSample)) || rest.some((d) => d === 0) || rest.filter((d) => d === -1).length > (target[0] === -1 ? 0 : 1)) return false;
        ctx.add('Reshape', { shape: rest }, [x], n.output, n);
        return true;
      },
    },
  ],
  starting: { shape: [-1] },
  category: 'Input & structure',
  summary: 'Reshapes each sample; the batch dimension is kept.',
  doc: 'Gives each sample a new shape with the same number of elements. One entry may be -1, inferred from the rest. The batch dimension is not written.',
  params: {
    shape: { type: 'ints', label: 'Shape', help: 'New shape without the batch dimension; one entry may be -1.', key: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    const target = ctx.dims('shape') as number[];
    const total = numel(x.shape.slice(1));
    if (total === null) ctx.fail(`needs a known sample size, but the input is ${formatShape(x.shape)}`);
    const wild = target.filter((d) => d === -1).length;
    if (wild > 1) ctx.fail('at most one entry of shape may be -1', { field: 'shape' });
    if (target.some((d) => d === 0 || d < -1)) ctx.fail('shape entries must be positive, or -1 once', { field: 'shape' });
    const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const out = target.map((d) => (d === -1 ? total / known : d));
    if (wild === 1 ? total % known !== 0 : known !== total) {
      ctx.fail(`cannot reshape ${formatCount(total)} elements (${formatShape(x.shape.slice(1))}) into [${target.join(', ')}]`, {
        field: 'shape',
        formula: `${x.shape.slice(1).join('·')} = ${total} ≠ ${target.join('·')}`,
      });
    }
    ctx.formula(() => `${x.shape.slice(1).join('·')} = ${total} = ${out.join('·')}`);
    return { outputs: [tensor(['N', ...out], x.dtype)] };
  },
  lower(ctx: LowerContext) {
    ctx.b.reshape(ctx.inputs[0], reshapeTarget(ctx.outputTypes[0].shape), ctx.outputs[0]);
  },
};

const VARIADIC: PortSpec[] = [{ name: 'inputs', help: 'Two or more tensors, in file order.', variadic: true }];

function elementwise(op: 'Add' | 'Mul', word: string): LayerSpec {
  return {
    op,
    imports: [
      {
        onnx: [op],
        take(n, ctx) {
          if (n.input.length < 2 || !n.input.every((i) => ctx.isValue(i))) return false;
          ctx.add(op, {}, n.input, n.output, n);
          return true;
        },
      },
    ],
    category: 'Input & structure',
    summary: `${word} of its inputs, with broadcasting.`,
    doc: `Element-wise ${word.toLowerCase()} of two or more tensors, with NumPy broadcasting. ${op === 'Add' ? 'Residual (skip) connections use it.' : 'Gating uses it.'}`,
    params: {},
    inputs: VARIADIC,
    outputs: ONE_OUTPUT,
    infer(ctx: InferContext) {
      const xs = ctx.inputs as NonNullable<(typeof ctx.inputs)[number]>[];
      let shape: Dim[] | null = xs[0].shape;
      for (const x of xs.slice(1)) {
        const next: Dim[] | null = broadcast(shape, x.shape);
        if (!next) {
          ctx.fail(`input shapes do not match: ${xs.map((t) => formatShape(t.shape)).join(' vs ')}`, {
            suggestion: 'Make the branches produce the same shape (e.g. a 1×1 conv or Linear on the skip path).',
          });
        }
        shape = next;
      }
      ctx.formula(() => `${xs.map((t) => formatShape(t.shape)).join(' ⊕ ')} → ${formatShape(shape)}`);
      const macs = op === 'Mul' ? mulOrNull(numel(shape.slice(1)), xs.length - 1) : 0;
      return { outputs: [tensor(shape, xs[0].dtype)], macs };
    },
    lower(ctx: LowerContext) {
      const [first, ...rest] = ctx.inputs;
      rest.reduce((acc, x, i) => ctx.b.op(op, [acc, x], {}, i === rest.length - 1 ? ctx.outputs[0] : undefined), first);
    },
  };
}

const Concat: LayerSpec = {
  op: 'Concat',
  imports: [
    {
      onnx: ['Concat'],
      take(n, ctx) {
        // The catalogue's Concat never joins along the batch (dim 0).
        const axis = attrInt(n, 'axis', 1);
        const rank = ctx.type(n.input[0])?.shape.length;
        const along = axis < 0 && rank !== undefined ? axis + rank : axis;
        if (n.input.length < 2 || !n.input.every((i) => ctx.isValue(i)) || along < 1 || (axis < 0 && rank === undefined)) return false;
        ctx.add('Concat', { dim: axis }, n.input, n.output, n);
        return true;
      },
    },
  ],
  category: 'Input & structure',
  summary: 'Joins its inputs along a dimension.',
  doc: 'Concatenates two or more tensors along `dim` (1 is channels for images, features for vectors). Every other dimension must agree.',
  params: {
    dim: { type: 'int', label: 'Dim', help: 'Dimension to join along; the batch is 0, -1 is the last.', default: 1, key: true },
  },
  inputs: VARIADIC,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const xs = ctx.inputs as NonNullable<(typeof ctx.inputs)[number]>[];
    const rank = xs[0].shape.length;
    const axis = normAxis(ctx.int('dim'), rank);
    if (axis <= 0) ctx.fail(`dim ${ctx.int('dim')} is out of range for ${rank}-D inputs (and the batch dimension 0 cannot be joined)`, { field: 'dim' });
    for (const x of xs) {
      const agrees = x.shape.length === rank && x.shape.every((d, i) => i === axis || d === xs[0].shape[i]);
      if (!agrees) {
        ctx.fail(`input shapes do not match outside dim ${axis}: ${xs.map((t) => formatShape(t.shape)).join(' vs ')}`);
      }
    }
    const parts = xs.map((t) => t.shape[axis]);
    const sum = parts.every((d) => typeof d === 'number') ? (parts as number[]).reduce((a, b) => a + b, 0) : symbolic(parts.join(' + '));
    ctx.formula(() => `size along dim ${axis} = ${parts.join(' + ')} = ${sum}`);
    const shape = xs[0].shape.slice();
    shape[axis] = sum;
    return { outputs: [tensor(shape, xs[0].dtype)] };
  },
  lower(ctx: LowerContext) {
    ctx.b.op('Concat', ctx.inputs, { axis: ctx.int('dim') }, ctx.outputs[0]);
  },
};

const Identity: LayerSpec = {
  op: 'Identity',
  imports: [importUnary('Identity', 'Identity')],
  category: 'Input & structure',
  summary: 'Passes its input through unchanged.',
  doc: 'Returns its input. Useful as a named junction or placeholder.',
  params: {},
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer: (ctx: InferContext) => ({ outputs: [only(ctx)] }),
  lower: (ctx: LowerContext) => void ctx.b.op('Identity', [ctx.inputs[0]], {}, ctx.outputs[0]),
};

const Select: LayerSpec = {
  op: 'Select',
  category: 'Input & structure',
  summary: 'Picks one index along a dimension, removing it (torch.select).',
  doc: "Takes index `index` along `dim` and drops that dimension, as torch.select. BERT's pooler uses it to take the first ([CLS]) token.",
  params: {
    dim: { type: 'int', label: 'Dim', help: 'Dimension to index; the batch is 0.', default: 1 },
    index: { type: 'int', label: 'Index', help: 'Position to take; negative counts from the end.', default: 0, key: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    const axis = normAxis(ctx.int('dim'), x.shape.length);
    if (axis <= 0) ctx.fail(`dim ${ctx.int('dim')} is out of range for a ${x.shape.length}-D input (the batch cannot be selected)`, { field: 'dim' });
    const size = x.shape[axis];
    const index = ctx.int('index');
    if (typeof size === 'number' && (index >= size || index < -size)) ctx.fail(`index ${index} is out of range for size ${size}`, { field: 'index' });
    return {
      outputs: [
        tensor(
          x.shape.filter((_, i) => i !== axis),
          x.dtype,
        ),
      ],
    };
  },
  lower(ctx: LowerContext) {
    ctx.b.op('Gather', [ctx.inputs[0], ctx.b.ints([ctx.int('index')], true)], { axis: ctx.int('dim') }, ctx.outputs[0]);
  },
};

const Dropout: LayerSpec = {
  op: 'Dropout',
  imports: [
    {
      onnx: ['Dropout'],
      take(n, ctx) {
        // Only when nothing reads the mask, which the catalogue's Dropout does not give.
        if (!ctx.isValue(n.input[0]) || n.output.slice(1).some((o) => o && ctx.readers(o).length > 0)) return false;
        const ratio = n.input[1] ? ctx.constant(n.input[1]) : undefined;
        if (n.input[1] && !ratio) return false;
        const p = ratio ? (tensorValues(ratio) as Float32Array)[0] : attrFloat(n, 'ratio', 0.5);
        ctx.add('Dropout', { p: Math.round(p * 1e6) / 1e6 }, [n.input[0]], n.output.slice(0, 1), n);
        return true;
      },
    },
  ],
  category: 'Normalisation & regularisation',
  summary: 'Zeroes activations at random while training.',
  doc: 'During training each element is zeroed with probability p and the rest are scaled by 1/(1 − p); at evaluation it is the identity.',
  params: {
    p: { type: 'float', label: 'Drop probability', help: 'Probability of zeroing an element.', default: 0.5, min: 0, max: 0.999, key: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer: (ctx: InferContext) => ({ outputs: [only(ctx)] }),
  lower(ctx: LowerContext) {
    // Inference graphs: training_mode off, the identity (and the node still shows in Netron).
    if (!ctx.training) return void ctx.b.op('Dropout', [ctx.inputs[0], ctx.b.floats([ctx.float('p')])], {}, ctx.outputs[0]);
    activeDropout(ctx, ctx.inputs[0], ctx.float('p'), ctx.outputs[0]);
  },
};

export const basicLayers: LayerSpec[] = [Input, Linear, Flatten, Reshape, elementwise('Add', 'Sum'), elementwise('Mul', 'Product'), Concat, Identity, Select, Dropout];
