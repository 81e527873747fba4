/**
 * Tensor primitives for building attention by hand (decks 000 and 001): MatMul of two activations,
 * Transpose, Permute, Unsqueeze, Squeeze, Scale and Mask. The batch stays the first dimension throughout.
 */
import { broadcast, formatShape, normAxis, numel, type Dim } from '../graph/dim.ts';
import { positionMask } from '../onnx/lowering.ts';
import type { InferContext, LayerSpec, LowerContext, ParamSchema, TensorType } from './spec.ts';
import { ONE_INPUT, ONE_OUTPUT, expectFloat, mulOrNull, only, tensor } from './common.ts';

const STRUCTURE = 'Input & structure';

/** A dim param normalised against the rank; the batch (0) refused, since every layer keeps it first. */
function axisParam(ctx: InferContext, name: string, rank: number): number {
  const axis = normAxis(ctx.int(name), rank);
  if (axis < 0) ctx.fail(`${name} ${ctx.int(name)} is out of range for a ${rank}-D input`, { field: name });
  if (axis === 0) ctx.fail(`${name} ${ctx.int(name)} is the batch dimension, which stays first`, { field: name, suggestion: 'Count dimensions from 1 (the batch is 0), or from the end with −1.' });
  return axis;
}

const MatMul: LayerSpec = {
  op: 'MatMul',
  category: 'Attention & Transformer',
  summary: 'Matrix product of two activations, batched and broadcast like torch.matmul.',
  doc: 'a @ b over the last two dimensions (…×n×k times …×k×m gives …×n×m); the dimensions before them broadcast as in torch.matmul. With it, attention is QKᵀ (after a Transpose of K) and A·V. No parameters.',
  params: {},
  inputs: [
    { name: 'a', help: 'Left operand …×n×k.' },
    { name: 'b', help: 'Right operand …×k×m.' },
  ],
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const [a, b] = ctx.inputs as TensorType[];
    expectFloat(ctx, a);
    expectFloat(ctx, b);
    if (a.shape.length < 2 || b.shape.length < 2) ctx.fail(`needs operands of at least 2 dimensions, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
    const k = a.shape[a.shape.length - 1];
    const k2 = b.shape[b.shape.length - 2];
    if (k !== k2)
      ctx.fail(`inner sizes differ: a is ${formatShape(a.shape)}, b is ${formatShape(b.shape)} (${k} ≠ ${k2})`, {
        suggestion: 'Transpose one operand so that a’s last size equals b’s second-to-last.',
      });
    const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2));
    if (!batch) ctx.fail(`the leading dimensions ${formatShape(a.shape.slice(0, -2))} and ${formatShape(b.shape.slice(0, -2))} do not broadcast`);
    const shape: Dim[] = [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]];
    ctx.formula(() => `${formatShape(a.shape)} @ ${formatShape(b.shape)} = ${formatShape(shape)}`);
    const macs = mulOrNull(numel(shape.slice(1)), typeof k === 'number' ? k : null);
    return { outputs: [tensor(shape)], macs, macsFormula: `out·k = ${formatShape(shape.slice(1))}·${k}` };
  },
  lower: (ctx: LowerContext) => void ctx.b.op('MatMul', [ctx.inputs[0], ctx.inputs[1]], {}, ctx.outputs[0]),
};

const Transpose: LayerSpec = {
  op: 'Transpose',
  category: STRUCTURE,
  summary: 'Swaps two dimensions (torch.transpose).',
  doc: 'Swaps dimensions dim0 and dim1, as x.transpose(dim0, dim1). Kᵀ for attention scores is Transpose(−2, −1) of N×T×D keys. The batch stays first.',
  params: {
    dim0: { type: 'int', label: 'Dim 0', help: 'First dimension to swap (the batch is 0; −1 is the last).', default: -2, key: true },
    dim1: { type: 'int', label: 'Dim 1', help: 'Second dimension to swap.', default: -1, key: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    const [i, j] = [axisParam(ctx, 'dim0', x.shape.length), axisParam(ctx, 'dim1', x.shape.length)];
    const shape = x.shape.slice();
    [shape[i], shape[j]] = [shape[j], shape[i]];
    return { outputs: [tensor(shape, x.dtype)], macs: 0 };
  },
  lower(ctx: LowerContext) {
    const rank = ctx.inputTypes[0]!.shape.length;
    const perm = Array.from({ length: rank }, (_, k) => k);
    const [i, j] = [normAxis(ctx.int('dim0'), rank), normAxis(ctx.int('dim1'), rank)];
    [perm[i], perm[j]] = [perm[j], perm[i]];
    ctx.b.op('Transpose', [ctx.inputs[0]], { perm }, ctx.outputs[0]);
  },
};

const Permute: LayerSpec = {
  op: 'Permute',
  category: STRUCTURE,
  summary: 'Reorders the dimensions (torch.permute).',
  doc: 'Output dimension k is input dimension dims[k], as x.permute(*dims). `dims` lists every dimension, the batch (0) first: splitting heads is Reshape then Permute [0, 2, 1, 3].',
  params: {
    dims: { type: 'ints', label: 'Dims', help: 'A permutation of 0…rank−1, starting with 0 (the batch).', key: true },
  },
  starting: { dims: [0, 2, 1] },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    const dims = ctx.params.dims as number[];
    const rank = x.shape.length;
    const sorted = dims.map((d) => (d < 0 ? d + rank : d)).sort((p, q) => p - q);
    if (dims.length !== rank || sorted.some((d, k) => d !== k)) ctx.fail(`dims ${JSON.stringify(dims)} is not a permutation of the ${rank} dimensions of ${formatShape(x.shape)}`, { field: 'dims' });
    if (normAxis(dims[0], rank) !== 0) ctx.fail(`dims must start with 0: the batch stays first`, { field: 'dims' });
    return {
      outputs: [
        tensor(
          dims.map((d) => x.shape[normAxis(d, rank)]),
          x.dtype,
        ),
      ],
      macs: 0,
    };
  },
  lower(ctx: LowerContext) {
    const rank = ctx.inputTypes[0]!.shape.length;
    ctx.b.op('Transpose', [ctx.inputs[0]], { perm: (ctx.params.dims as number[]).map((d) => normAxis(d, rank)) }, ctx.outputs[0]);
  },
};

const DIM = (help: string): ParamSchema => ({ type: 'int', label: 'Dim', help, default: 1, key: true });

const Unsqueeze: LayerSpec = {
  op: 'Unsqueeze',
  category: STRUCTURE,
  summary: 'Inserts a dimension of size 1 (torch.unsqueeze).',
  doc: 'Inserts a size-1 dimension at position `dim` of the output, as x.unsqueeze(dim): N×D with dim 1 gives N×1×D.',
  params: { dim: DIM('Position of the new dimension in the output (1 = right after the batch; −1 = last).') },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    const axis = axisParam(ctx, 'dim', x.shape.length + 1);
    return { outputs: [tensor([...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)], x.dtype)], macs: 0 };
  },
  lower(ctx: LowerContext) {
    const axis = normAxis(ctx.int('dim'), ctx.inputTypes[0]!.shape.length + 1);
    ctx.b.op('Unsqueeze', [ctx.inputs[0], ctx.b.ints([axis])], {}, ctx.outputs[0]);
  },
};

const Squeeze: LayerSpec = {
  op: 'Squeeze',
  category: STRUCTURE,
  summary: 'Removes a dimension of size 1 (torch.squeeze).',
  doc: 'Removes dimension `dim`, which must have size 1, as x.squeeze(dim): N×1×D with dim 1 gives N×D.',
  params: { dim: DIM('The size-1 dimension to remove (the batch is 0; −1 is the last).') },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    const axis = axisParam(ctx, 'dim', x.shape.length);
    if (x.shape[axis] !== 1) ctx.fail(`dim ${ctx.int('dim')} has size ${x.shape[axis]}, not 1, in ${formatShape(x.shape)}`, { field: 'dim' });
    return {
      outputs: [
        tensor(
          x.shape.filter((_, k) => k !== axis),
          x.dtype,
        ),
      ],
      macs: 0,
    };
  },
  lower(ctx: LowerContext) {
    const axis = normAxis(ctx.int('dim'), ctx.inputTypes[0]!.shape.length);
    ctx.b.op('Squeeze', [ctx.inputs[0], ctx.b.ints([axis])], {}, ctx.outputs[0]);
  },
};

const Scale: LayerSpec = {
  op: 'Scale',
  category: 'Attention & Transformer',
  summary: 'Multiplies by a constant: y = c·x (e.g. 1/√d for attention scores).',
  doc: 'y = factor·x element by element. Scaled dot-product attention multiplies the scores QKᵀ by 1/√d; with `sqrtOf` set to d, the factor is 1/√d and `factor` is ignored. No parameters.',
  params: {
    factor: { type: 'float', label: 'Factor', help: 'The constant c.', default: 1, key: true },
    sqrtOf: { type: 'int', label: '1/√ of', help: 'When set to d, multiply by 1/√d instead of the factor.', default: null, nullable: true, min: 1, key: true },
  },
  inputs: ONE_INPUT,
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    const d = ctx.maybeInt('sqrtOf');
    ctx.formula(() => (d === null ? `y = ${ctx.float('factor')}·x` : `y = x/√${d} = ${(1 / Math.sqrt(d)).toPrecision(6)}·x`));
    return { outputs: [x], macs: 0 };
  },
  lower(ctx: LowerContext) {
    const d = ctx.maybeInt('sqrtOf');
    ctx.b.op('Mul', [ctx.inputs[0], ctx.b.floats([d === null ? ctx.float('factor') : 1 / Math.sqrt(d)])], {}, ctx.outputs[0]);
  },
};

/** The pattern param as a Tq×Tk matrix of 0/1 (1 = may attend), or an error naming what is wrong. */
function patternOf(ctx: InferContext | LowerContext, Tq: Dim, Tk: Dim): number[][] {
  const pattern = ctx.params.pattern;
  const rows = Array.isArray(pattern) && pattern.every((r) => Array.isArray(r) && r.every((v) => v === 0 || v === 1)) ? (pattern as number[][]) : null;
  if (!rows) throw new Error('pattern must be a matrix of 0s and 1s (1 = may attend), e.g. [[1, 0], [1, 1]]');
  if (rows.length !== Tq || rows.some((r) => r.length !== Tk)) throw new Error(`pattern is ${rows.length}×${rows[0]?.length ?? 0} but the scores are ${Tq}×${Tk}`);
  return rows;
}

const Mask: LayerSpec = {
  op: 'Mask',
  category: 'Attention & Transformer',
  summary: 'Sets masked attention scores to −∞ before the softmax (causal, sliding window or a pattern).',
  doc: "Adds 0 where query i may attend to key j and −∞ elsewhere, over the last two dimensions (…×Tq×Tk scores), so the softmax gives masked keys weight 0. 'causal': j ≤ i. 'window': j ≤ i and i − j < w, so each query sees w keys, itself included (Mistral's slidingWindow). 'pattern': a given Tq×Tk matrix of 0/1.",
  params: {
    kind: {
      type: 'enum',
      label: 'Kind',
      help: "'causal', 'window' (causal and at most w keys back) or 'pattern' (a given 0/1 matrix).",
      default: 'causal',
      values: ['causal', 'window', 'pattern'],
      key: true,
    },
    window: { type: 'int', label: 'Window w', help: 'For kind window: each query sees the last w keys, itself included.', default: null, nullable: true, min: 1 },
    pattern: { type: 'json', label: 'Pattern', help: 'For kind pattern: a Tq×Tk matrix, 1 where the query may attend, 0 where it may not.', default: null, nullable: true },
  },
  inputs: [{ name: 'input', help: 'Scores …×Tq×Tk.' }],
  outputs: ONE_OUTPUT,
  infer(ctx: InferContext) {
    const x = only(ctx);
    expectFloat(ctx, x);
    if (x.shape.length < 3) ctx.fail(`expects scores N×…×Tq×Tk, got ${formatShape(x.shape)}`);
    const [Tq, Tk] = x.shape.slice(-2);
    const kind = ctx.str('kind');
    if (kind === 'window' && ctx.maybeInt('window') === null) ctx.fail('kind window needs the window size w', { field: 'window' });
    if (kind === 'pattern') {
      try {
        patternOf(ctx, Tq, Tk);
      } catch (e) {
        ctx.fail((e as Error).message, { field: 'pattern' });
      }
    }
    ctx.formula(() => (kind === 'pattern' ? 'score = −∞ where the pattern is 0' : kind === 'window' ? `score(i, j) = −∞ unless 0 ≤ i − j < ${ctx.maybeInt('window')}` : 'score(i, j) = −∞ for j > i'));
    return { outputs: [x], macs: 0 };
  },
  lower(ctx: LowerContext) {
    const { b } = ctx;
    const x = ctx.inputs[0];
    const shape = ctx.inputTypes[0]!.shape;
    const rank = shape.length;
    let mask: string;
    if (ctx.str('kind') === 'pattern') {
      const rows = patternOf(ctx, shape[rank - 2], shape[rank - 1]);
      mask = b.floats(
        rows.flat().map((v) => (v === 1 ? 0 : -Infinity)),
        [rows.length, rows[0].length],
      );
    } else {
      const length = (axis: number) => b.squeeze(b.op('Shape', [x], { start: axis, end: axis + 1 }), [0]);
      mask = positionMask(b, length(rank - 2), length(rank - 1), true, ctx.str('kind') === 'window' ? ctx.int('window') : null);
    }
    b.op('Add', [x, mask], {}, ctx.outputs[0]);
  },
};

export const tensorLayers: LayerSpec[] = [MatMul, Transpose, Permute, Unsqueeze, Squeeze, Scale, Mask];
