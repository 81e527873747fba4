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

/** A product of symbols times an integer: the form of sizes such as N·64 that reshapes multiply and divide. */
interface Monomial {
  coef: number;
  symbols: string[];
}

/** Reads a dimension written by arith (numbers, names, "(a·b)", "(a/b)") as a monomial, or null. */
function monomial(d: Dim): Monomial | null {
  if (typeof d === 'number') return Number.isInteger(d) ? { coef: d, symbols: [] } : null;
  if (/^[A-Za-z_]\w*$/.test(d)) return { coef: 1, symbols: [d] };
  if (!d.startsWith('(') || !d.endsWith(')')) return null;
  // Split the inside at its top-level · and / signs.
  const inside = d.slice(1, -1);
  const parts: string[] = [];
  const ops: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inside.length; i++) {
    const c = inside[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && (c === '·' || c === '/')) {
      parts.push(inside.slice(start, i));
      ops.push(c);
      start = i + 1;
    }
  }
  parts.push(inside.slice(start));
  if (ops.length === 0) return null;
  let acc = monomial(/^-?\d+$/.test(parts[0]) ? Number(parts[0]) : parts[0]);
  for (const [i, op] of ops.entries()) {
    const next = monomial(/^-?\d+$/.test(parts[i + 1]) ? Number(parts[i + 1]) : parts[i + 1]);
    acc = acc && next ? (op === '·' ? times(acc, next) : divide(acc, next)) : null;
  }
  return acc;
}

const times = (a: Monomial, b: Monomial): Monomial => ({ coef: a.coef * b.coef, symbols: [...a.symbols, ...b.symbols].sort() });

/** a / b when it divides exactly, else null. */
function divide(a: Monomial, b: Monomial): Monomial | null {
  if (b.coef === 0 || a.coef % b.coef !== 0) return null;
  const symbols = [...a.symbols];
  for (const s of b.symbols) {
    const at = symbols.indexOf(s);
    if (at < 0) return null;
    symbols.splice(at, 1);
  }
  return { coef: a.coef / b.coef, symbols };
}

function formatMonomial(m: Monomial): Dim {
  if (m.symbols.length === 0) return m.coef;
  const factors = [...m.symbols, ...(m.coef !== 1 ? [String(m.coef)] : [])];
  return factors.length === 1 ? factors[0] : `(${factors.join('·')})`;
}

function arith(op: string, a: Dim, b: Dim): Dim {
  if ((op === 'Mul' || op === 'Div') && (typeof a !== 'number' || typeof b !== 'number')) {
    // Symbolic sizes cancel: ((N·64)/64) is N, so shapes that meet again compare equal.
    const [p, q] = [monomial(a), monomial(b)];
    const r = p && q ? (op === 'Mul' ? times(p, q) : divide(p, q)) : null;
    if (r) return formatMonomial(r);
  }
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
  out[wild] = typeof rest === 'number' ? rest / known : arith('Div', rest, known);
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
export function inferOnnxOp(op: string, a: Attributes, inputs: OnnxValue[], opset: number, outputCount = 1): OnnxValue[] | null {
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
      return [
        x
          ? t(
              X!,
              x.dtype,
              x.value?.map((d) => (typeof d === 'number' ? -d : `(−${d})`)),
            )
          : undefined,
      ];
    case 'Floor':
    case 'Ceil':
    case 'Round':
    case 'Abs': {
      // Round is half to even in ONNX.
      const f = { Floor: Math.floor, Ceil: Math.ceil, Abs: Math.abs, Round: (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v)) }[op]!;
      return [
        x
          ? t(
              X!,
              x.dtype,
              x.value?.map((d) => (typeof d === 'number' ? f(d) : op === 'Abs' ? d : `${op.toLowerCase()}(${d})`)),
            )
          : undefined,
      ];
    }
    case 'Not':
      return [
        x
          ? t(
              X!,
              'int64',
              x.value?.map((d) => (d === 0 ? 1 : 0)),
            )
          : undefined,
      ];
    case 'Dropout':
      return [x, x ? t(X!, 'int64') : undefined];
    case 'LayerNormalization': {
      // The optional Mean and InvStdDev keep the dimensions before the axis, with 1 for the rest.
      const axis = X ? norm(a.int('axis', -1), X.length) : 0;
      const stat = x
        ? t(
            X!.map((d, i) => (i < axis ? d : 1)),
            x.dtype,
          )
        : undefined;
      return [x, stat, stat];
    }
    case 'BatchNormalization': {
      // Training mode also gives the running mean and variance, one per channel.
      const channels = inputs[1] ? t(inputs[1].shape, inputs[1].dtype) : undefined;
      return [x, channels, channels];
    }
    case 'Cast': {
      const to = a.int('to', DataType.FLOAT);
      const float = to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16;
      return [x ? t(X!, float ? 'float32' : 'int64', float ? x.value : x.value?.map((d) => (typeof d === 'number' ? Math.trunc(d) : d))) : undefined];
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
      if (inputs.length === 2 && ['Add', 'Sub', 'Mul', 'Div', 'Equal', 'Max', 'Min', 'Mod'].includes(op)) {
        // Float values (sizes times a Resize scale) divide exactly; integers truncate, as ONNX's Div does.
        const float = x!.dtype === 'float32';
        value = elementwise(inputs, (p, q) => (float && op === 'Div' && typeof p === 'number' && typeof q === 'number' ? p / q : arith(op, p, q)));
      } else if (['Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Pow'].includes(op)) {
        const compare: Record<string, (p: number, q: number) => number> = {
          Less: (p, q) => +(p < q),
          Greater: (p, q) => +(p > q),
          LessOrEqual: (p, q) => +(p <= q),
          GreaterOrEqual: (p, q) => +(p >= q),
          Pow: (p, q) => p ** q,
        };
        value = elementwise(inputs, asNumber(compare[op]));
        if (value?.some((v) => typeof v !== 'number')) value = undefined;
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
      const from = dense(x);
      const taken =
        from && idx && shape.every((d) => typeof d === 'number')
          ? remap(from, shape as number[], (o) => {
              const k = idx[o.slice(axis, axis + y.shape.length).reduce((s, v, i) => s * (y.shape[i] as number) + v, 0)];
              return [...o.slice(0, axis), k < 0 ? k + from.shape[axis] : k, ...o.slice(axis + y.shape.length)];
            })
          : null;
      return [t(shape, x.dtype, taken?.data)];
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
      return [
        t(
          X!.filter((_, i) => !axes.includes(i)),
          x.dtype,
          x.value,
        ),
      ];
    }
    case 'Concat': {
      if (inputs.some((v) => !v)) return null;
      const axis = norm(a.int('axis', 0), X!.length);
      const shape = [...X!];
      shape[axis] = inputs.slice(1).reduce<Dim>((acc, v) => arith('Add', acc, v!.shape[axis]), X![axis]);
      const parts = inputs.map(dense);
      let value: Dim[] | undefined;
      if (parts.every(Boolean)) {
        // Row-major: the blocks of each input along the axis, one outer index at a time.
        const outer = X!.slice(0, axis).reduce<number>((p, d) => p * (d as number), 1);
        const block = (d: Dense) => d.data.length / outer;
        value = Array.from({ length: outer }, (_, o) => parts.flatMap((d) => d!.data.slice(o * block(d!), (o + 1) * block(d!)))).flat();
      }
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
      return [t([product(X!.slice(0, axis)), product(X!.slice(axis))], x.dtype, x.value)];
    }
    case 'Transpose': {
      if (!x) return null;
      const perm = a.ints('perm') ?? X!.map((_, i) => X!.length - 1 - i);
      const from = dense(x);
      const moved = from
        ? remap(
            from,
            perm.map((p) => from.shape[p]),
            (o) => perm.map((_, i) => o[perm.indexOf(i)]),
          )
        : null;
      return [
        t(
          perm.map((p) => X![p]),
          x.dtype,
          moved?.data,
        ),
      ];
    }
    case 'Expand': {
      const shape = y?.value;
      if (!x || !shape) return null;
      const out = broadcast(X!, shape);
      const from = dense(x);
      const spread =
        out && from && out.every((d) => typeof d === 'number') ? remap(from, out as number[], (o) => o.slice(out.length - from.shape.length).map((k, i) => (from.shape[i] === 1 ? 0 : k))) : null;
      return out ? [t(out, x.dtype, spread?.data)] : null;
    }
    case 'Tile': {
      const reps = numbers(y);
      if (!x || !reps) return null;
      const shape = X!.map((d, i) => arith('Mul', d, reps[i]));
      const from = dense(x);
      const tiled = from && shape.every((d) => typeof d === 'number') ? remap(from, shape as number[], (o) => o.map((k, i) => k % from.shape[i])) : null;
      return [t(shape, x.dtype, tiled?.data)];
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
      const first = X!.map(() => 0);
      const stride = X!.map(() => 1);
      axes.forEach((axis, i) => {
        const k = norm(axis, X!.length);
        shape[k] = sliceDim(X![k], starts[i], ends[i], steps[i]);
        const size = num(X![k]);
        if (size !== null) {
          const from = starts[i] < 0 ? starts[i] + size : starts[i];
          first[k] = steps[i] > 0 ? Math.min(Math.max(from, 0), size) : Math.min(Math.max(from, -1), size - 1);
          stride[k] = steps[i];
        }
      });
      const from = dense(x);
      const sliced = from && shape.every((d) => typeof d === 'number') ? remap(from, shape as number[], (o) => o.map((k, i) => first[i] + k * stride[i])) : null;
      return [t(shape, x.dtype, sliced?.data)];
    }
    case 'Split': {
      if (!x) return null;
      const axis = norm(a.int('axis', 0), X!.length);
      const count = a.int('num_outputs', outputCount);
      const sizes = (opset >= 13 ? numbers(y) : a.ints('split')) ?? null;
      const size = X![axis];
      // Without sizes: equal parts, the last one smaller when they do not divide evenly (opset 18).
      const part = typeof size === 'number' ? Math.ceil(size / count) : `(${size}/${count})`;
      return Array.from({ length: sizes?.length ?? count }, (_, i) => {
        const shape = [...X!];
        shape[axis] = sizes ? sizes[i] : typeof size === 'number' && typeof part === 'number' && i === count - 1 ? size - part * (count - 1) : part;
        return t(shape, x.dtype);
      });
    }
    case 'Range': {
      const [start, limit, delta] = inputs.map((v) => v?.value?.[0]);
      if (start === undefined || limit === undefined || delta === undefined) return null;
      const n = typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number' ? Math.max(0, Math.ceil((limit - start) / delta)) : arith('Sub', limit, start);
      const value = typeof n === 'number' && n <= MAX_TRACKED && typeof start === 'number' && typeof delta === 'number' ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined;
      return [t([n], x!.dtype, value)];
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
      // layout 1: batch first in X, Y and the states.
      if (a.int('layout', 0) === 1) {
        const state = t([X![0], dirs, H], x.dtype);
        return [t([X![0], X![1], dirs, H], x.dtype), state, state];
      }
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
      // An explicit output_shape, or auto_pad SAME (input × stride), decides the size; else the window arithmetic.
      const outputShape = a.ints('output_shape');
      const same = a.string('auto_pad', 'NOTSET').startsWith('SAME');
      const spatial = X!.slice(2).map((d, i) => {
        const n = num(d);
        if (outputShape) return outputShape[outputShape.length - rank + i];
        if (n === null) return `convT(${d})`;
        return same ? n * strides[i] : (n - 1) * strides[i] - pads[i] - pads[i + rank] + dilations[i] * (kernel[i] - 1) + extra[i] + 1;
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
    case 'ReduceLogSumExp':
    case 'ReduceLogSum': {
      if (!x) return null;
      const fromInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
      const given = fromInput ? (y ? numbers(y) : undefined) : a.ints('axes');
      if (fromInput && y && !given) return null;
      // No axes (or an empty list) reduces everything, unless noop_with_empty_axes says to do nothing.
      if (given?.length === 0 && a.int('noop_with_empty_axes', 0) === 1) return same();
      const axes = (given?.length ? given : X!.map((_, i) => i)).map((v) => norm(v, X!.length));
      const keep = a.int('keepdims', 1) === 1;
      return [t(keep ? X!.map((d, i) => (axes.includes(i) ? 1 : d)) : X!.filter((_, i) => !axes.includes(i)), x.dtype)];
    }
    case 'NegativeLogLikelihoodLoss':
    case 'SoftmaxCrossEntropyLoss': {
      if (!x) return null;
      const reduction = a.string('reduction', 'mean');
      return [t(reduction === 'none' ? [X![0], ...X!.slice(2)] : [], x.dtype), t(X!, x.dtype)];
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
      // Opset 18 may pad only some axes (input 3).
      const axes = (inputs[3] ? numbers(inputs[3]) : undefined)?.map((v) => norm(v, X!.length)) ?? X!.map((_, i) => i);
      const n = axes.length;
      if (pads.length !== 2 * n) return null;
      const shape = [...X!];
      axes.forEach((axis, i) => (shape[axis] = arith('Add', X![axis], pads[i] + pads[i + n])));
      return [t(shape, x.dtype)];
    }
    default:
      return inferMoreOps(op, a, inputs, opset);
  }
}

// ---- Small tensors with known values, in any rank (the shape arithmetic of PyTorch's exports: pads
// reversed with Slice step −1 and Transpose, sizes from Shape · scale, masks from Range). ----

interface Dense {
  shape: number[];
  data: Dim[];
}

function dense(v: OnnxValue): Dense | null {
  if (!v?.value || v.shape.some((d) => typeof d !== 'number')) return null;
  const shape = v.shape as number[];
  return v.value.length === shape.reduce((p, d) => p * d, 1) ? { shape, data: v.value } : null;
}

const stridesOf = (shape: number[]): number[] => shape.map((_, i) => shape.slice(i + 1).reduce((p, d) => p * d, 1));

/** Every index of a shape, in row-major order. */
function* indices(shape: number[]): Generator<number[]> {
  const total = shape.reduce((p, d) => p * d, 1);
  const strides = stridesOf(shape);
  for (let flat = 0; flat < total; flat++) yield shape.map((d, i) => Math.floor(flat / strides[i]) % d);
}

/** out[i] = data[at(i)], over the output shape: the one loop behind Transpose, Slice, Gather, Expand, Tile. */
function remap(from: Dense, outShape: number[], at: (index: number[]) => number[]): Dense | null {
  if (outShape.reduce((p, d) => p * d, 1) > MAX_TRACKED) return null;
  const strides = stridesOf(from.shape);
  const data: Dim[] = [];
  for (const index of indices(outShape)) data.push(from.data[at(index).reduce((s, k, i) => s + k * strides[i], 0)]);
  return { shape: outShape, data };
}

/** Known values of an element-wise op over broadcast inputs (all values known, numeric output shape). */
function elementwise(inputs: OnnxValue[], f: (...xs: Dim[]) => Dim): Dim[] | undefined {
  const all = inputs.map(dense);
  if (all.some((d) => !d)) return undefined;
  const shape = all.reduce<Dim[] | null>((acc, d) => (acc ? broadcast(acc, d!.shape) : null), []) as number[] | null;
  if (!shape || shape.reduce((p, d) => p * d, 1) > MAX_TRACKED) return undefined;
  const views = all.map((d) => remap(d!, shape, (index) => index.slice(shape.length - d!.shape.length).map((k, i) => (d!.shape[i] === 1 ? 0 : k)))!);
  return Array.from({ length: views[0]?.data.length ?? 0 }, (_, i) => f(...views.map((v) => v.data[i])));
}

const asNumber =
  (fn: (...xs: number[]) => number) =>
  (...xs: Dim[]): Dim =>
    xs.every((x) => typeof x === 'number') ? fn(...(xs as number[])) : `${fn.name || 'f'}(${xs.join(',')})`;

/** Output shape of ONNX's Einsum from its equation (explicit or implicit output, with "..."). */
function einsum(equation: string, inputs: Dim[][]): Dim[] | null {
  const [lhs, rhs] = equation.replace(/\s/g, '').split('->');
  const terms = lhs.split(',');
  if (terms.length !== inputs.length) return null;
  const sizes = new Map<string, Dim>();
  let ellipsis: Dim[] = [];
  for (const [k, term] of terms.entries()) {
    const shape = inputs[k];
    const [before, after = ''] = term.split('...');
    const dotted = term.includes('...');
    const extra = shape.length - before.length - after.length;
    if (dotted) {
      const own = shape.slice(before.length, before.length + extra);
      ellipsis = broadcast(ellipsis, own) ?? ellipsis;
    } else if (extra !== 0) return null;
    [...before].forEach((c, i) => sizes.set(c, sizes.get(c) === undefined || sizes.get(c) === 1 ? shape[i] : sizes.get(c)!));
    [...after].forEach((c, i) => sizes.set(c, sizes.get(c) === undefined || sizes.get(c) === 1 ? shape[before.length + extra + i] : sizes.get(c)!));
  }
  let output = rhs;
  if (output === undefined) {
    // Implicit output: the letters used once, in alphabetical order, after the ellipsis.
    const letters = lhs.replace(/[^A-Za-z]/g, '');
    output =
      (lhs.includes('...') ? '...' : '') +
      [...new Set(letters)]
        .filter((c) => letters.split(c).length === 2)
        .sort()
        .join('');
  }
  const [before, after = ''] = output.split('...');
  const pick = (s: string) => [...s].map((c) => sizes.get(c) ?? null);
  const out = [...pick(before), ...(output.includes('...') ? ellipsis : []), ...pick(after)];
  return out.some((d) => d === null) ? null : (out as Dim[]);
}

/** A dimension times a Resize scale, rounded down as ONNX does. */
const scaled = (d: Dim, scale: Dim): Dim => (scale === 1 ? d : typeof d === 'number' && typeof scale === 'number' ? Math.floor(d * scale) : `(${d}·${scale})`);

/** Rules for the rest of the standard ops (opset ≤ 21) met in PyTorch's exports and ONNX's backend tests. */
function inferMoreOps(op: string, a: Attributes, inputs: OnnxValue[], opset: number): OnnxValue[] | null {
  const [x, y] = inputs;
  const X = x?.shape;
  const same = (dtype?: DType) => [x ? t(X!, dtype ?? x.dtype) : undefined];
  switch (op) {
    case 'Acos':
    case 'Acosh':
    case 'Asin':
    case 'Asinh':
    case 'Atan':
    case 'Atanh':
    case 'Cosh':
    case 'Sinh':
    case 'Tan':
    case 'Softsign':
    case 'ThresholdedRelu':
    case 'Shrink':
    case 'Hardmax':
    case 'CumSum':
    case 'Bernoulli':
    case 'RandomUniformLike':
    case 'RandomNormalLike':
    case 'EyeLike':
    case 'MeanVarianceNormalization':
    case 'Trilu':
    case 'ReverseSequence':
    case 'Scatter':
    case 'LpNormalization':
    case 'GroupNormalization':
    case 'BitwiseNot':
      return same();
    case 'IsInf':
    case 'IsNaN':
      return same('int64');
    case 'DequantizeLinear':
      return same('float32');
    case 'QuantizeLinear':
      return same('int64');
    case 'CastLike':
      return x && y ? [t(X!, y.dtype, x.value)] : null;
    case 'DynamicQuantizeLinear':
      return x ? [t(X!, 'int64'), t([], 'float32'), t([], 'int64')] : null;
    case 'BitShift':
    case 'Xor':
    case 'BitwiseAnd':
    case 'BitwiseOr':
    case 'BitwiseXor': {
      if (!x || !y) return null;
      const shape = broadcast(X!, y.shape);
      return shape ? [t(shape, op === 'Xor' ? 'int64' : x.dtype)] : null;
    }
    case 'Einsum': {
      if (inputs.some((v) => !v)) return null;
      const shape = einsum(
        a.string('equation', ''),
        inputs.map((v) => v!.shape),
      );
      return shape ? [t(shape, x!.dtype)] : null;
    }
    case 'Resize':
    case 'Upsample': {
      if (!x) return null;
      // Resize: (x, roi, scales, sizes); Upsample and Resize-10: (x, scales).
      const scalesInput = op === 'Upsample' || opset < 11 ? y : inputs[2];
      const sizes = op === 'Resize' && opset >= 11 ? inputs[3]?.value : undefined;
      const rank = X!.length;
      const axes = a.ints('axes')?.map((v) => norm(v, rank)) ?? X!.map((_, i) => i);
      const shape = [...X!];
      if (sizes && sizes.length === axes.length) {
        if (a.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') return null;
        axes.forEach((axis, i) => (shape[axis] = sizes[i]));
      } else {
        const scales = scalesInput?.value ?? (op === 'Upsample' && opset < 9 ? a.get('scales')?.floats : undefined);
        if (!scales || scales.length !== axes.length) return null;
        axes.forEach((axis, i) => (shape[axis] = scaled(X![axis], scales[i])));
      }
      return [t(shape, x.dtype)];
    }
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      if (!x) return null;
      const s = a.int('blocksize', 1);
      const [n, c, h, w] = X!;
      return op === 'DepthToSpace'
        ? [t([n, arith('Div', c, s * s), arith('Mul', h, s), arith('Mul', w, s)], x.dtype)]
        : [t([n, arith('Mul', c, s * s), arith('Div', h, s), arith('Div', w, s)], x.dtype)];
    }
    case 'GatherND': {
      if (!x || !y) return null;
      const batch = a.int('batch_dims', 0);
      const last = num(y.shape[y.shape.length - 1]);
      if (last === null) return null;
      return [t([...y.shape.slice(0, -1), ...X!.slice(batch + last)], x.dtype)];
    }
    case 'TopK': {
      if (!x) return null;
      const k = opset >= 10 ? y?.value?.[0] : a.int('k', 1);
      if (k === undefined) return null;
      const axis = norm(a.int('axis', -1), X!.length);
      const shape = X!.map((d, i) => (i === axis ? k : d));
      return [t(shape, x.dtype), t(shape, 'int64')];
    }
    case 'Compress': {
      if (!x) return null;
      const axis = a.get('axis') ? norm(a.int('axis', 0), X!.length) : undefined;
      const kept = y?.value ? y.value.filter((v) => v !== 0).length : `compress(${y?.shape[0] ?? '?'})`;
      return [t(axis === undefined ? [kept] : X!.map((d, i) => (i === axis ? kept : d)), x.dtype)];
    }
    case 'Unique': {
      if (!x) return null;
      const axis = a.get('axis') ? norm(a.int('axis', 0), X!.length) : undefined;
      const shape = axis === undefined ? ['unique'] : X!.map((d, i) => (i === axis ? 'unique' : d));
      return [t(shape, x.dtype), t(['unique'], 'int64'), t([axis === undefined ? product(X!) : X![axis]], 'int64'), t(['unique'], 'int64')];
    }
    case 'MaxUnpool': {
      if (!x) return null;
      const given = inputs[2]?.value;
      if (given) return [t(given, x.dtype)];
      const kernel = a.ints('kernel_shape')!;
      const rank = kernel.length;
      const strides = a.ints('strides') ?? new Array(rank).fill(1);
      const pads = a.ints('pads') ?? new Array(2 * rank).fill(0);
      const spatial = X!.slice(2).map((d, i) => (typeof d === 'number' ? (d - 1) * strides[i] - pads[i] - pads[i + rank] + kernel[i] : `unpool(${d})`));
      return [t([X![0], X![1], ...spatial], x.dtype)];
    }
    case 'Det':
      return x ? [t(X!.slice(0, -2), x.dtype)] : null;
    case 'GridSample':
      return x && y ? [t([X![0], X![1], ...y.shape.slice(1, -1)], x.dtype)] : null;
    case 'RoiAlign': {
      if (!x || !y) return null;
      return [t([y.shape[0], X![1], a.int('output_height', 1), a.int('output_width', 1)], x.dtype)];
    }
    case 'NonMaxSuppression':
      return [t(['selected', 3], 'int64')];
    case 'ConvInteger':
    case 'QLinearConv': {
      const w = op === 'ConvInteger' ? y : inputs[3];
      if (!x || !w) return null;
      return [t(windows(X!, a, a.ints('kernel_shape') ?? (w.shape.slice(2) as number[]), w.shape[0]), 'int64')];
    }
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const w = op === 'MatMulInteger' ? y : inputs[3];
      if (!x || !w) return null;
      const shape = matmul(X!, w.shape);
      return shape ? [t(shape, 'int64')] : null;
    }
    case 'HannWindow':
    case 'HammingWindow':
    case 'BlackmanWindow': {
      const size = x?.value?.[0];
      return size === undefined ? null : [t([size], 'float32')];
    }
    case 'MelWeightMatrix': {
      const [bins, length] = [x?.value?.[0], y?.value?.[0]];
      if (bins === undefined || length === undefined) return null;
      return [t([arith('Add', arith('Div', length, 2), 1), bins], 'float32')];
    }
    case 'DFT': {
      if (!x) return null;
      const axis = norm(opset >= 20 ? ((inputs[2]?.value?.[0] as number | undefined) ?? -2) : a.int('axis', 1), X!.length);
      const length = y?.value?.[0] ?? X![axis];
      const onesided = a.int('onesided', 0) === 1 && a.int('inverse', 0) === 0;
      const shape = X!.map((d, i) => (i === axis ? (onesided ? arith('Add', arith('Div', length, 2), 1) : length) : d));
      shape[shape.length - 1] = 2;
      return [t(shape, x.dtype)];
    }
    case 'CenterCropPad': {
      const size = y?.value;
      if (!x || !size) return null;
      const axes = (a.ints('axes') ?? size.map((_, i) => i)).map((v) => norm(v, X!.length));
      return [
        t(
          X!.map((d, i) => (axes.includes(i) ? size[axes.indexOf(i)] : d)),
          x.dtype,
        ),
      ];
    }
    case 'Col2Im': {
      const [image, block] = [y?.value, inputs[2] ? numbers(inputs[2]) : undefined];
      if (!x || !image || !block) return null;
      return [
        t(
          [
            X![0],
            arith(
              'Div',
              X![1],
              block.reduce((p, k) => p * k, 1),
            ),
            ...image,
          ],
          x.dtype,
        ),
      ];
    }
    case 'AffineGrid': {
      const size = y?.value;
      if (!x || !size) return null;
      return [t([size[0], ...size.slice(2), size.length - 2], x.dtype)];
    }
    case 'DeformConv':
      return x && y ? [t(windows(X!, a, a.ints('kernel_shape') ?? (y.shape.slice(2) as number[]), y.shape[0]), x.dtype)] : null;
    case 'STFT': {
      const [signal, step, window, frameLength] = inputs;
      const hop = step?.value?.[0];
      const size = frameLength?.value?.[0] ?? window?.shape[0];
      if (!signal || typeof hop !== 'number' || typeof size !== 'number' || typeof signal.shape[1] !== 'number') return null;
      const frames = Math.floor((signal.shape[1] - size) / hop) + 1;
      const bins = a.int('onesided', 1) === 1 ? Math.floor(size / 2) + 1 : size;
      return [t([signal.shape[0], frames, bins, 2], signal.dtype)];
    }
    default:
      return null;
  }
}
