/** Small helpers shared by the layer specs. */
import { numel, formatShape, symbolic, type Dim, type DType, type TensorType } from '../graph/dim.ts';
import type { ParamValue } from '../graph/types.ts';
import type { NodeProto } from '../onnx/proto.ts';
import type { ImportPattern, InferContext, LowerContext, ParamInit, ParamSchema, ParamTensor, PortSpec } from './spec.ts';

export const tensor = (shape: Dim[], dtype: DType = 'float32'): TensorType => ({ shape, dtype });

/** 25050 → "25,050". (Not toLocaleString: Intl is slow on the inference hot path.) */
export const formatCount = (n: number): string => {
  const [whole, fraction] = String(n).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
};

export function param(name: string, shape: number[], formula: string, init: ParamInit): ParamTensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { name, shape, count, formula, init };
}

const byFanIn = new Map<number, ParamInit>();

/**
 * PyTorch's default for Linear, Conv and their biases: U(−1/√fanIn, 1/√fanIn) (kaiming_uniform with a = √5).
 * Shared per fan-in: inference builds these for every layer on every pass.
 */
export function fanInUniform(fanIn: number): ParamInit {
  let init = byFanIn.get(fanIn);
  if (!init) byFanIn.set(fanIn, (init = { kind: 'uniform', bound: 1 / Math.sqrt(fanIn) }));
  return init;
}
/** xavier_uniform: U(−√(6/(fanIn + fanOut)), ...), as nn.MultiheadAttention initialises its input projection. */
export const xavierUniform = (fanIn: number, fanOut: number): ParamInit => ({ kind: 'uniform', bound: Math.sqrt(6 / (fanIn + fanOut)) });
export const normalInit = (std: number): ParamInit => ({ kind: 'normal', std });
export const ONES: ParamInit = { kind: 'constant', value: 1 };
export const ZEROS: ParamInit = { kind: 'constant', value: 0 };

/** "K·(C/groups)·F·F = 10·3·5·5 = 750": the count is appended when shown, not on every inference pass. */
export function describeParam(p: ParamTensor): string {
  return p.tiedTo ? p.formula : `${p.formula} = ${formatCount(p.count)}`;
}

/** The MACs formula with its value, or why there is no value. */
export function describeMacs(formula: string | undefined, macs: number | null): string {
  const value = macs === null ? 'depends on a symbolic size' : formatCount(macs);
  return formula ? `${formula} = ${value}` : value;
}

export const ONE_INPUT: PortSpec[] = [{ name: 'input', help: 'The tensor to transform.' }];
export const ONE_OUTPUT: PortSpec[] = [{ name: 'output', help: 'The result.' }];

/** The import pattern of an ONNX op that is the layer `op` applied to one computed value, its params read from the node. */
export function importUnary(onnxOp: string, op: string, params: (n: NodeProto) => Record<string, ParamValue> = () => ({})): ImportPattern {
  return {
    onnx: [onnxOp],
    take(n, ctx) {
      if (!ctx.isValue(n.input[0])) return false;
      ctx.add(op, params(n), [n.input[0]], n.output, n);
      return true;
    },
  };
}

export const BIAS: ParamSchema = { type: 'bool', label: 'Bias', help: 'Learn an additive bias.', default: true };

/** The one input of a single-input layer, which the graph guarantees is connected. */
export function only(ctx: InferContext): TensorType {
  return ctx.inputs[0] as TensorType;
}

/** Checks rank (counting the batch) and that the input holds floats. */
export function expectRank(ctx: InferContext, t: TensorType, ranks: number[], layout: string): void {
  if (!ranks.includes(t.shape.length)) {
    ctx.fail(`expects a ${ranks.join(' or ')}-D input (${layout}), got ${t.shape.length}-D ${formatShape(t.shape)}`, {
      suggestion: t.shape.length > Math.max(...ranks) ? 'Insert a Flatten or Reshape before this layer.' : 'Check the layer before this one.',
    });
  }
}

export function expectFloat(ctx: InferContext, t: TensorType): void {
  if (t.dtype !== 'float32') ctx.fail(`expects a float tensor, got ${t.dtype} (token ids go into an Embedding first)`);
}

/** A known (numeric) dimension, or a clear error naming what it is. */
export function knownDim(ctx: InferContext, d: Dim, what: string): number {
  if (typeof d !== 'number') ctx.fail(`needs a known ${what}, but it is the symbol ${d}`);
  return d;
}

/** Per-sample element count (the batch dim dropped), or null if symbolic. */
export const perSample = (t: TensorType): number | null => numel(t.shape.slice(1));

export function mulOrNull(...xs: (number | null)[]): number | null {
  let r = 1;
  for (const x of xs) {
    if (x === null) return null;
    r *= x;
  }
  return r;
}

export function addOrNull(...xs: (number | null)[]): number | null {
  let r = 0;
  for (const x of xs) {
    if (x === null) return null;
    r += x;
  }
  return r;
}

const fmtNum = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

export interface WindowArgs {
  /** Axis label as the course writes it: W, H or L. */
  axis: string;
  size: Dim;
  kernel: number;
  stride: number;
  padding: number;
  dilation: number;
  ceil?: boolean;
}

/**
 * Output length of a sliding window (conv or pool), with the course's formula
 * "W2 = (W1 − F + 2P)/S + 1". A stride that does not fit is a warning; an empty output is an error.
 */
// The formula texts live in top-level functions, not closures made on every call, so an inference
// pass allocates nothing for texts it never shows.
function generalWindowFormula(axis: string, D: number): string {
  return D === 1 ? `(${axis}1 − F + 2P)/S + 1` : `(${axis}1 + 2P − D(F − 1) − 1)/S + 1`;
}

function signedTerm(k: number): string {
  return k === 0 ? '' : ` ${k < 0 ? '−' : '+'} ${Math.abs(k)}`;
}

function filledWindowFormula(W1: number, F: number, P: number, S: number, D: number): string {
  return D === 1 ? `(${W1} − ${F}${P ? ` + ${2 * P}` : ''})/${S} + 1` : `(${W1} + ${2 * P} − ${D}·(${F} − 1) − 1)/${S} + 1`;
}

function windowFormula(a: WindowArgs, W1: number, exact: number): string {
  return `${a.axis}2 = ${generalWindowFormula(a.axis, a.dilation)} = ${filledWindowFormula(W1, a.kernel, a.padding, a.stride, a.dilation)} = ${fmtNum(exact)}`;
}

/**
 * Output length of a sliding window (conv or pool), with the course's formula
 * "W2 = (W1 − F + 2P)/S + 1". A stride that does not fit is a warning; an empty output is an error.
 */
export function windowOut(ctx: InferContext, a: WindowArgs): Dim {
  const { axis, kernel: F, stride: S, padding: P, dilation: D } = a;
  if (typeof a.size !== 'number') {
    const delta = 2 * P - D * (F - 1) - 1; // numerator = size + delta
    const out = symbolic(S === 1 ? `${a.size}${signedTerm(delta + 1)}` : `⌊(${a.size}${signedTerm(delta)})/${S}⌋ + 1`);
    ctx.formula(() => `${axis}2 = ${generalWindowFormula(axis, D)} = ${out}`);
    return out;
  }
  const W1 = a.size;
  const numerator = D === 1 ? W1 - F + 2 * P : W1 + 2 * P - D * (F - 1) - 1;
  const exact = numerator / S + 1;
  let out = a.ceil ? Math.ceil(numerator / S) + 1 : Math.floor(numerator / S) + 1;
  // PyTorch's ceil mode never starts a window inside the right padding.
  if (a.ceil && (out - 1) * S >= W1 + P) out -= 1;
  ctx.formula(() => (Number.isInteger(exact) ? windowFormula(a, W1, exact) : `${windowFormula(a, W1, exact)} → ${out}`));
  if (out <= 0) {
    ctx.fail(`output ${axis} would be ${out}: the window (${F}) is larger than the padded input (${W1} + 2·${P})`, {
      formula: windowFormula(a, W1, exact),
      suggestion: 'Use a smaller kernel or stride, add padding, or remove a pooling layer before this one.',
    });
  }
  // Real input past the last window is silently ignored: that is what "the stride does not fit" costs.
  // A window narrower than the stride skips elements by design, so there the tail is no different.
  const reach = D * (F - 1) + 1;
  const unused = P + W1 - ((out - 1) * S + reach);
  if (!Number.isInteger(exact) && unused > 0 && reach >= S) {
    ctx.warn(
      `the stride does not fit: ${filledWindowFormula(W1, F, P, S, D)} = ${fmtNum(exact)}, so the output ${a.ceil ? 'rounds up' : 'floors'} to ${out} (as PyTorch and ONNX do) and ${unused} input position${unused > 1 ? 's' : ''} at the edge ${unused > 1 ? 'are' : 'is'} never used`,
      {
        field: 'stride',
        formula: windowFormula(a, W1, exact),
        suggestion: 'Change the padding or stride so the windows tile the input exactly.',
      },
    );
  }
  return out;
}

/** Dropout in a training graph: active, with its mask as a second output, which the backward pass reads. */
export function activeDropout(ctx: LowerContext, x: string, p: number, out = ctx.b.fresh(`${ctx.nodeId}/dropout`)): string {
  const { b } = ctx;
  return b.node('Dropout', [x, b.floats([p]), b.trueScalar()], {}, [out, b.fresh(`${ctx.nodeId}/mask`)])[0];
}
