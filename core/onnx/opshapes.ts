/**
 * Shape inference for ONNX operators kept as OnnxOp, after ONNX's own rules (opset 13+ forms, with the
 * older attribute forms where they differ). Small integer tensors carry their values, symbols included,
 * so that the Shape → Gather → Concat → Reshape chains PyTorch emits resolve to real shapes.
 */
import { broadcast, type Dim, type DType, type TensorType } from '../graph/dim.ts';
import type { Attributes } from './attributes.ts';
import { DataType, tensorValues } from './proto.ts';

export type OnnxValue = TensorType | undefined;

/** Values are tracked for integer tensors up to this many elements (shape vectors and indices). */
const MAX_TRACKED = 64;
const BIG = 2 ** 62;

const num = (d: Dim | undefined): number | null => (typeof d === 'number' ? d : null);

function arith(op: string, a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case 'Add':
        return a + b;
      case 'Sub':
        return a - b;
      case 'Mul':
        return a * b;
      case 'Div':
        return Math.trunc(a / b);
      case 'Equal':
        return a === b ? 1 : 0;
      case 'Max':
        return Math.max(a, b);
      case 'Min':
        return Math.min(a, b);
      case 'Mod':
        return a % b;
    }
  }
  if (op === 'Mul' && (a === 1 || b === 1)) return a === 1 ? b : a;
  if (op === 'Div' && b === 1) return a;
  if ((op === 'Add' || op === 'Sub') && b === 0) return a;
  if (op === 'Equal') return a === b ? 1 : `(${a}==${b})`;
  const sym: Record<string, string> = { Add: '+', Sub: '−', Mul: '·', Div: '/', Max: ' max ', Min: ' min ', Mod: ' mod ' };
  return `(${a}${sym[op] ?? op}${b})`;
}

function product(dims: Dim[]): Dim {
  return dims.reduce<Dim>((acc, d) => arith('Mul', acc, d), 1);
}

const t = (shape: Dim[], dtype: DType, value?: Dim[]): TensorType => (value && value.length <= MAX_TRACKED ? { shape, dtype, value } : { shape, dtype });


/** Known integer values of an input (or undefined), as numbers. */
function numbers(v: OnnxValue): number[] | undefined {
  if (!v?.value || v.value.some((d) => typeof d !== 'number')) return undefined;
  return v.value as number[];
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** NumPy matmul shapes. */
function matmul(a: Dim[], b: Dim[]): Dim[] | null {
  const A = a.length === 1 ? [1, a[0]] : a;
  const B = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcast(A.slice(0, -2), B.slice(0, -2));
  if (!batch) return null;
  const out = [...batch, A[A.length - 2], B[B.length - 1]];
  if (a.length === 1) out.splice(out.length - 2, 1);
  if (b.length === 1) out.splice(out.length - 1, 1);
  return out;
}

function reshape(input: Dim[], target: number[] | Dim[], allowzero: boolean): Dim[] | null {
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowzero ? input[i] : d));
  const wild = out.findIndex((d) => d === -1);
  if (wild < 0) return out;
  // -1 = (product of the input) / (product of the other entries), cancelling symbols.
  const numerator: Dim[] = [...input];
  let known = 1;
  for (const [i, d] of out.entries()) {
    if (i === wild) continue;
    if (typeof d === 'number') known *= d;
    else {
      const at = numerator.indexOf(d);
      if (at < 0) return null;
      numerator.splice(at, 1);
    }
  }
  const rest = product(numerator);
  out[wild] = typeof rest === 'number' ? rest / known : known === 1 ? rest : `(${rest}/${known})`;
  return out;
}

function sliceDim(size: Dim, start: number, end: number, step: number): Dim {
  if (typeof size === 'number') {
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
    const s = step > 0 ? clamp(start < 0 ? start + size : start, 0, size) : clamp(start < 0 ? start + size : start, -1, size - 1);
    const e = step > 0 ? clamp(end < 0 ? end + size : end, 0, size) : clamp(end < 0 ? end + size : end, -1, size - 1);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  if (step === 1 && start === 0 && end >= BIG) return size;
  if (step === 1 && start >= 0 && end >= 0 && end < BIG) return end - start;
  if (step === 1 && start < 0 && end >= BIG) return -start;
  return `slice(${size})`;
}

/** The window arithmetic of Conv and the pools, ONNX's way (explicit pads or auto_pad). */
function windows(x: Dim[], a: Attributes, kernel: number[], channels: Dim): Dim[] {
  const rank = kernel.length;
  const strides = a.ints('strides') ?? new Array(rank).fill(1);
  const dilations = a.ints('dilations') ?? new Array(rank).fill(1);
  const pads = a.ints('pads') ?? new Array(2 * rank).fill(0);
  const autoPad = a.string('auto_pad', 'NOTSET');
  const ceil = a.int('ceil_mode', 0) === 1;
  const spatial = x.slice(2).map((size, i) => {
    const n = num(size);
    if (n === null) return `conv(${size})`;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(n / strides[i]);
    const reach = dilations[i] * (kernel[i] - 1) + 1;
    const padded = autoPad === 'VALID' ? n : n + pads[i] + pads[i + rank];
    const out = (ceil ? Math.ceil : Math.floor)((padded - reach) / strides[i]) + 1;
    return ceil && (out - 1) * strides[i] >= n + pads[i] ? out - 1 : out;
  });
  return [x[0], channels, ...spatial];
}

/** Output types of an ONNX node, or null when this op is not covered. */
export function inferOnnxOp(op: string, a: Attributes, inputs: OnnxValue[], opset: number): OnnxValue[] | null {
  const [x, y] = inputs;
  const X = x?.shape;
  const same = () => [x ? t(X!, x.dtype, x.value) : undefined];
  switch (op) {
    case 'Identity':
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
    case 'Erf':
    case 'Exp':
    case 'Log':
    case 'Abs':
    case 'Sqrt':
    case 'Reciprocal':
    case 'Softmax':
    case 'LogSoftmax':
    case 'Clip':
    case 'HardSigmoid':
    case 'HardSwish':
    case 'LeakyRelu':
    case 'Elu':
    case 'Selu':
    case 'Gelu':
    case 'Softplus':
    case 'Floor':
    case 'Ceil':
    case 'Round':
    case 'Sin':
    case 'Cos':
    case 'LRN':
    case 'InstanceNormalization':
    case 'PRelu':
    case 'Mish':
    case 'Celu':
    case 'Sign':
      return same();
    case 'Neg':
      return [x ? t(X!, x.dtype, x.value?.map((d) => (typeof d === 'number' ? -d : `(−${d})`))) : undefined];
    case 'Not':
      return [x ? t(X!, 'int64', x.value?.map((d) => (d === 0 ? 1 : 0))) : undefined];
    case 'Dropout':
      return [x, x ? t(X!, 'int64') : undefined];
    case 'LayerNormalization':
    case 'BatchNormalization':
      return [x, undefined, undefined, undefined, undefined];
    case 'Cast': {
      const to = a.int('to', DataType.FLOAT);
      return [x ? t(X!, to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16 ? 'float32' : 'int64', x.value) : undefined];
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Pow':
    case 'Max':
    case 'Min':
    case 'Mod':
    case 'Equal':
    case 'Less':
    case 'Greater':
    case 'LessOrEqual':
    case 'GreaterOrEqual':
    case 'And':
    case 'Or':
    case 'Sum':
    case 'Mean': {
      if (inputs.some((v) => !v)) return null;
      const shape = inputs.slice(1).reduce<Dim[] | null>((acc, v) => (acc ? broadcast(acc, v!.shape) : null), X!);
      if (!shape) return null;
      const boolean = ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or'].includes(op);
      let value: Dim[] | undefined;
      if (x!.value && y?.value && inputs.length === 2 && ['Add', 'Sub', 'Mul', 'Div', 'Equal', 'Max', 'Min', 'Mod'].includes(op)) {
        const n = Math.max(x!.value.length, y.value.length);
        value = Array.from({ length: n }, (_, i) => arith(op, x!.value![x!.value!.length === 1 ? 0 : i], y.value![y.value!.length === 1 ? 0 : i]));
      }
      return [t(shape, boolean ? 'int64' : x!.dtype, value)];
    }
    case 'Where': {
      const [c, p, q] = inputs;
      if (!c || !p || !q) return null;
      const shape = broadcast(broadcast(c.shape, p.shape) ?? [], q.shape);
      if (!shape) return null;
      let value: Dim[] | undefined;
      if (c.value && p.value && q.value) {
        const n = Math.max(c.value.length, p.value.length, q.value.length);
        const at = (v: Dim[], i: number) => v[v.length === 1 ? 0 : i];
        value = Array.from({ length: n }, (_, i) => (at(c.value!, i) === 1 ? at(p.value!, i) : at(q.value!, i)));
      }
      return [t(shape, p.dtype, value)];
    }
    case 'Shape': {
      if (!X) return null;
      const start = norm(a.int('start', 0), X.length);
      const endAttr = norm(a.int('end', X.length), X.length);
      const dims = X.slice(Math.max(0, start), Math.min(X.length, endAttr));
      return [t([dims.length], 'int64', dims)];
    }
    case 'Size':
      return X ? [t([], 'int64', [product(X)])] : null;
    case 'Size': {
      if (!x) return null;
      const count = product(X!);
      return [t([], 'int64', [count])];
    }
    case 'OneHot': {
      const depth = y?.value?.[0];
      if (!x || depth === undefined) return null;
      const axis = norm(a.int('axis', -1), X!.length + 1);
      return [t([...X!.slice(0, axis), depth, ...X!.slice(axis)], inputs[2]?.dtype ?? 'float32')];
    }
    case 'ConstantOfShape': {
      const shape = x?.value;
      if (!shape) return null;
      const valueTensor = a.tensor('value');
      const dtype: DType = !valueTensor || valueTensor.data_type === DataType.FLOAT ? 'float32' : 'int64';
      const fill = valueTensor && dtype === 'int64' ? (tensorValues(valueTensor) as number[])[0] : undefined;
      const count = num(product(shape));
      return [t(shape, dtype, fill !== undefined && count !== null ? new Array(count).fill(fill) : undefined)];
    }
    case 'Constant': {
      const tensor = a.tensor('value');
      if (!tensor) return null;
      const dims = tensor.dims ?? [];
      const float = tensor.data_type === DataType.FLOAT || tensor.data_type === DataType.DOUBLE;
      return [t(dims, float ? 'float32' : 'int64', float ? undefined : (tensorValues(tensor) as number[]))];
    }
    case 'Gather': {
      if (!x || !y) return null;
      const axis = norm(a.int('axis', 0), X!.length);
      const shape = [...X!.slice(0, axis), ...y.shape, ...X!.slice(axis + 1)];
      const idx = numbers(y);
      const value = x.value && axis === 0 && idx ? idx.map((i) => x.value![i < 0 ? i + x.value!.length : i]) : undefined;
      return [t(shape, x.dtype, value)];
    }
    case 'Unsqueeze': {
      if (!x) return null;
      const axes = opset >= 13 ? numbers(y) : a.ints('axes');
      if (!axes) return null;
      const out = [...X!];
      const rank = X!.length + axes.length;
      for (const ax of axes.map((v) => norm(v, rank)).sort((p, q) => p - q)) out.splice(ax, 0, 1);
      return [t(out, x.dtype, x.value)];
    }
    case 'Squeeze': {
      if (!x) return null;
      const given = opset >= 13 ? (y ? numbers(y) : undefined) : a.ints('axes');
      if (opset >= 13 && y && !given) return null;
      const axes = (given ?? X!.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)).map((v) => norm(v, X!.length));
      return [t(X!.filter((_, i) => !axes.includes(i)), x.dtype, x.value)];
    }
    case 'Concat': {
      if (inputs.some((v) => !v)) return null;
      const axis = norm(a.int('axis', 0), X!.length);
      const shape = [...X!];
      shape[axis] = inputs.slice(1).reduce<Dim>((acc, v) => arith('Add', acc, v!.shape[axis]), X![axis]);
      const value = inputs.every((v) => v!.value) && X!.length === 1 ? inputs.flatMap((v) => v!.value!) : undefined;
      return [t(shape, x!.dtype, value)];
    }
    case 'Reshape': {
      const target = y?.value;
      if (!x || !target) return null;
      const shape = reshape(X!, target, a.int('allowzero', 0) === 1);
      return shape ? [t(shape, x.dtype, x.value)] : null;
    }
    case 'Flatten': {
      if (!x) return null;
      const axis = norm(a.int('axis', 1), X!.length);
      return [t([product(X!.slice(0, axis)), product(X!.slice(axis))], x.dtype)];
    }
    case 'Transpose': {
      if (!x) return null;
      const perm = a.ints('perm') ?? X!.map((_, i) => X!.length - 1 - i);
      return [t(perm.map((p) => X![p]), x.dtype)];
    }
    case 'Expand': {
      const shape = y?.value;
      if (!x || !shape) return null;
      const out = broadcast(X!, shape);
      return out ? [t(out, x.dtype)] : null;
    }
    case 'Tile': {
      const reps = numbers(y);
      if (!x || !reps) return null;
      return [t(X!.map((d, i) => arith('Mul', d, reps[i])), x.dtype)];
    }
    case 'Slice': {
      if (!x) return null;
      const [, s, e, ax, st] = inputs;
      const starts = opset >= 10 ? numbers(s) : a.ints('starts');
      const ends = opset >= 10 ? numbers(e) : a.ints('ends');
      if (!starts || !ends) return null;
      const axes = (opset >= 10 ? (ax ? numbers(ax) : undefined) : a.ints('axes')) ?? starts.map((_, i) => i);
      const steps = (st ? numbers(st) : undefined) ?? starts.map(() => 1);
      const shape = [...X!];
      let value = x.value;
      axes.forEach((axis, i) => {
        const k = norm(axis, X!.length);
        shape[k] = sliceDim(X![k], starts[i], ends[i], steps[i]);
        if (value && X!.length === 1 && typeof shape[k] === 'number') {
          const n = value.length;
          const from = Math.min(Math.max(starts[i] < 0 ? starts[i] + n : starts[i], 0), n);
          value = steps[i] === 1 ? value.slice(from, from + (shape[k] as number)) : undefined;
        }
      });
      return [t(shape, x.dtype, value)];
    }
    case 'Split': {
      if (!x) return null;
      const axis = norm(a.int('axis', 0), X!.length);
      const count = a.int('num_outputs', inputs.length);
      const sizes = (opset >= 13 ? numbers(y) : a.ints('split')) ?? null;
      const size = X![axis];
      return Array.from({ length: sizes?.length ?? count }, (_, i) => {
        const shape = [...X!];
        shape[axis] = sizes ? sizes[i] : typeof size === 'number' ? Math.ceil(size / count) : `(${size}/${count})`;
        return t(shape, x.dtype);
      });
    }
    case 'Range': {
      const [start, limit, delta] = inputs.map((v) => v?.value?.[0]);
      if (start === undefined || limit === undefined || delta === undefined) return null;
      const n = typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number' ? Math.max(0, Math.ceil((limit - start) / delta)) : arith('Sub', limit, start);
      return [t([n], x!.dtype)];
    }
    case 'MatMul': {
      if (!x || !y) return null;
      const shape = matmul(X!, y.shape);
      return shape ? [t(shape, x.dtype)] : null;
    }
    case 'Gemm': {
      if (!x || !y) return null;
      const m = a.int('transA', 0) ? X![1] : X![0];
      const n = a.int('transB', 0) ? y.shape[0] : y.shape[1];
      return [t([m, n], x.dtype)];
    }
    case 'Conv': {
      if (!x || !y) return null;
      return [t(windows(X!, a, a.ints('kernel_shape') ?? (y.shape.slice(2) as number[]), y.shape[0]), x.dtype)];
    }
    case 'RNN':
    case 'GRU':
    case 'LSTM': {
      if (!x) return null;
      const H = a.int('hidden_size', 0);
      const dirs = a.string('direction', 'forward') === 'bidirectional' ? 2 : 1;
      const state = t([dirs, X![1], H], x.dtype);
      return [t([X![0], dirs, X![1], H], x.dtype), state, state];
    }
    case 'ScatterElements':
    case 'ScatterND':
      return same();
    case 'GatherElements':
      return x && y ? [t(y.shape, x.dtype)] : null;
    case 'NonZero':
      return x ? [t([X!.length, 'nonzero'], 'int64')] : null;
    case 'ConvTranspose': {
      if (!x || !y) return null;
      const kernel = a.ints('kernel_shape') ?? (y.shape.slice(2) as number[]);
      const rank = kernel.length;
      const strides = a.ints('strides') ?? new Array(rank).fill(1);
      const dilations = a.ints('dilations') ?? new Array(rank).fill(1);
      const pads = a.ints('pads') ?? new Array(2 * rank).fill(0);
      const extra = a.ints('output_padding') ?? new Array(rank).fill(0);
      const spatial = X!.slice(2).map((d, i) => {
        const n = num(d);
        return n === null ? `convT(${d})` : (n - 1) * strides[i] - pads[i] - pads[i + rank] + dilations[i] * (kernel[i] - 1) + extra[i] + 1;
      });
      return [t([X![0], arith('Mul', y.shape[1], a.int('group', 1)), ...spatial], x.dtype)];
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      if (!x) return null;
      const out = t(windows(X!, a, a.ints('kernel_shape')!, X![1]), x.dtype);
      return op === 'MaxPool' ? [out, t(out.shape, 'int64')] : [out];
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return x ? [t([X![0], X![1], ...X!.slice(2).map(() => 1)], x.dtype)] : null;
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL1':
    case 'ReduceL2':
    case 'ReduceSumSquare':
    case 'ReduceLogSumExp': {
      if (!x) return null;
      const fromInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
      const given = fromInput ? (y ? numbers(y) : undefined) : a.ints('axes');
      if (fromInput && y && !given) return null;
      const axes = (given ?? X!.map((_, i) => i)).map((v) => norm(v, X!.length));
      const keep = a.int('keepdims', 1) === 1;
      return [t(keep ? X!.map((d, i) => (axes.includes(i) ? 1 : d)) : X!.filter((_, i) => !axes.includes(i)), x.dtype)];
    }
    case 'NegativeLogLikelihoodLoss':
    case 'SoftmaxCrossEntropyLoss': {
      if (!x) return null;
      const reduction = a.string('reduction', 'mean');
      return [t(reduction === 'none' ? [X![0], ...X!.slice(2)] : [], x.dtype)];
    }
    case 'ArgMax':
    case 'ArgMin': {
      if (!x) return null;
      const axis = norm(a.int('axis', 0), X!.length);
      return [t(a.int('keepdims', 1) ? X!.map((d, i) => (i === axis ? 1 : d)) : X!.filter((_, i) => i !== axis), 'int64')];
    }
    case 'Pad': {
      const pads = opset >= 11 ? numbers(y) : a.ints('pads');
      if (!x || !pads) return null;
      const rank = X!.length;
      return [t(X!.map((d, i) => arith('Add', d, pads[i] + pads[i + rank])), x.dtype)];
    }
    default:
      return null;
  }
}
