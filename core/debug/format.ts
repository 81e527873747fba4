/**
 * The debugger's words and numbers: tensors written out when small, and each layer's formula filled in
 * with its numbers ("q = x + y = −2 + 5 = 3"), as the lecture slides write them.
 */
import type { Tensor } from '../engine/engine.ts';
import type { BackwardStep, ForwardStep, NodeStep } from './trace.ts';

/** Tensors up to this many elements are written out in formulas; larger ones by shape. */
export const SMALL = 16;

/** A number as a person writes it: up to 4 significant digits, a real minus sign. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  const rounded = Object.is(v, -0) || Math.abs(v) < 5e-13 ? 0 : v;
  const text = Number.isInteger(rounded) && Math.abs(rounded) < 1e9 ? String(rounded) : Number(rounded.toPrecision(4)).toString();
  return text.replace('-', '−');
}

/** Without the batch dimension when it is 1: a scalar per sample reads "3", not "[3]". */
function shown(t: Tensor): { dims: number[]; data: ArrayLike<number | bigint> } {
  return { dims: t.dims.length > 0 && t.dims[0] === 1 ? t.dims.slice(1) : t.dims, data: t.data };
}

/** A tensor written out ("[1, 0, 3, 0]", nested for matrices), or its shape when large. */
export function formatTensor(t: Tensor, limit = SMALL): string {
  const { dims, data } = shown(t);
  if (data.length > limit) return `‹${t.dims.join('×')}›`;
  const write = (axis: number, offset: number): string => {
    if (axis === dims.length) return formatNumber(Number(data[offset]));
    const stride = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    return `[${Array.from({ length: dims[axis] }, (_, i) => write(axis + 1, offset + i * stride)).join(', ')}]`;
  };
  return write(0, 0);
}

/** Each layer's formula with its inputs as symbols; W and b are the layer's own parameters. */
const FORMULAS: Record<string, (x: string[]) => string> = {
  Add: (x) => x.join(' + '),
  Mul: (x) => x.join(' · '),
  ReLU: ([x]) => `max(0, ${x})`,
  LeakyReLU: ([x]) => `max(αx, ${x})`,
  Sigmoid: ([x]) => `σ(${x})`,
  Tanh: ([x]) => `tanh(${x})`,
  GELU: ([x]) => `GELU(${x})`,
  Softmax: ([x]) => `softmax(${x})`,
  LogSoftmax: ([x]) => `log softmax(${x})`,
  Linear: ([x]) => `${x}·Wᵀ + b`,
  Conv2d: ([x]) => `W ⋆ ${x} + b`,
  Conv1d: ([x]) => `W ⋆ ${x} + b`,
  MaxPool2d: ([x]) => `maxpool(${x})`,
  AvgPool2d: ([x]) => `avgpool(${x})`,
  Flatten: ([x]) => `flatten(${x})`,
  CrossEntropyLoss: ([x, t]) => `−log softmax(${x})[${t}]`,
  MSELoss: ([x, t]) => `mean((${x} − ${t})²)`,
};

/** "q = x + y = −2 + 5 = 3": symbols, then numbers where every tensor is small. */
export function layerFormula(layer: string, op: string, inputs: { name: string; value?: Tensor }[], output?: Tensor): string {
  const write = FORMULAS[op] ?? ((x: string[]) => `${op}(${x.join(', ')})`);
  const symbols = `${layer} = ${write(inputs.map((i) => i.name))}`;
  const values = inputs.map((i) => i.value);
  const small = output && output.data.length <= SMALL && values.every((v) => v && v.data.length <= SMALL);
  if (!small) return output ? `${symbols} = ${formatTensor(output)}` : symbols;
  return `${symbols} = ${write(values.map((v) => formatTensor(v!)))} = ${formatTensor(output)}`;
}

/** A tensor for a person: written out when small, its shape and range when not. */
export function summarize(t: Tensor): string {
  if (t.data.length <= SMALL) return formatTensor(t);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < t.data.length; i++) {
    const v = Number(t.data[i]);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return `${formatTensor(t)} min ${formatNumber(min)} max ${formatNumber(max)} mean ${formatNumber(sum / t.data.length)}`;
}

/** A forward step as lines of text: the formula, then (expanded) each ONNX node's value. */
export function forwardLines(s: ForwardStep, nodes?: NodeStep[]): string[] {
  return [
    `${s.layer} (${s.op}): ${s.formula}`,
    ...(nodes ?? []).map((n) => `    ${n.name} ${n.op}(${n.inputs.map((i) => i.name).join(', ')}) = ${n.outputs.map((o) => summarize(o.value)).join(', ')}`),
  ];
}

/** A backward step as lines of text: upstream, the rule in words, downstream (with fan-out sums), parameter gradients. */
export function backwardLines(s: BackwardStep, nodes?: NodeStep[]): string[] {
  return [
    `${s.layer} (${s.op})`,
    ...s.upstream.map((u) => `  upstream   ∂L/∂${u.name} = ${summarize(u.value)}`),
    ...s.rule.map((r) => `  local      ${r}`),
    ...s.downstream.flatMap((d) => [
      `  downstream ∂L/∂${d.input} = ${summarize(d.value)}`,
      ...(d.fanOut ? [`             ${d.input} fans out to ${d.fanOut.readers.join(', ')}: the gradients add, ∂L/∂${d.input} = ${summarize(d.fanOut.total)}`] : []),
    ]),
    ...s.params.map((p) => `  parameter  ∂L/∂${p.name} = ${summarize(p.value)}`),
    ...(nodes ?? []).flatMap((n) => n.gradients.map((g) => `    ${n.name} ${n.op}: ∂L/∂${g.name} = ${summarize(g.value)}`)),
  ];
}
