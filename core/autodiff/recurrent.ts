/**
 * ONNX's RNN, GRU and LSTM ops unrolled over a known sequence length in plain ops (MatMul, Sigmoid,
 * Tanh, ...), with ONNX's tensor layouts and gate orders. Their gradient rules differentiate this form:
 * backpropagation through time is then the ordinary backward pass.
 */
import { attr, attrInt, attrString } from '../onnx/attributes.ts';
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { NodeProto } from '../onnx/proto.ts';
import type { TensorType } from '../graph/dim.ts';

export class UnrollError extends Error {}

/** The node's outputs recomputed (Y, Y_h and, for LSTM, Y_c); '' where the node has none. */
export function unrollRecurrent(b: OnnxBuilder, node: NodeProto, typeOf: (v: string) => TensorType | undefined): string[] {
  const op = node.op_type as 'RNN' | 'GRU' | 'LSTM';
  const [x, w, r, bias, sequenceLens, initialH, initialC, peepholes] = node.input;
  const name = `${op} ${node.name}`;
  const T = typeOf(x)?.shape[0];
  if (typeof T !== 'number') throw new UnrollError(`${name}: the gradient unrolls it over time, which needs a known sequence length (got ${T})`);
  if (sequenceLens || peepholes || attrInt(node, 'layout', 0) !== 0 || attr(node, 'clip') || attr(node, 'activations') || attrInt(node, 'input_forget', 0) !== 0) {
    throw new UnrollError(`${name}: gradients are written for the default activations, time-major layout, and no sequence lengths, peepholes, clipping or coupled gates`);
  }
  const H = attrInt(node, 'hidden_size', 0);
  const gates = { RNN: 1, GRU: 3, LSTM: 4 }[op];
  const direction = attrString(node, 'direction', 'forward');
  const dirs = direction === 'bidirectional' ? 2 : 1;
  const mul = (p: string, q: string) => b.op('Mul', [p, q]);
  const add = (p: string, q: string) => b.op('Add', [p, q]);
  const sigmoid = (v: string) => b.op('Sigmoid', [v]);
  const tanh = (v: string) => b.op('Tanh', [v]);
  const gate = (v: string, k: number) => b.slice(v, 1, k * H, (k + 1) * H);
  const pick = (v: string, d: number) => b.op('Gather', [v, b.ints([d], true)], { axis: 0 });
  const steps = Array.from({ length: T }, (_, t) => pick(x, t));
  const zeros = b.op('ConstantOfShape', [b.op('Concat', [b.op('Shape', [steps[0]], { start: 0, end: 1 }), b.ints([H])], { axis: 0 })]);
  const ys: string[][] = [];
  const finalH: string[] = [];
  const finalC: string[] = [];
  for (let d = 0; d < dirs; d++) {
    const reverse = direction === 'reverse' || d === 1;
    const wT = b.op('Transpose', [pick(w, d)], { perm: [1, 0] });
    const rT = b.op('Transpose', [pick(r, d)], { perm: [1, 0] });
    // B is [Wb, Rb]; GRU's linear_before_reset keeps Rb of the candidate inside the reset product.
    const biases = bias ? pick(bias, d) : null;
    const wb = biases ? b.slice(biases, 0, 0, gates * H) : null;
    const rb = biases ? b.slice(biases, 0, gates * H, 2 * gates * H) : null;
    let h = initialH ? pick(initialH, d) : zeros;
    let c = op === 'LSTM' ? (initialC ? pick(initialC, d) : zeros) : '';
    const out: string[] = new Array(T);
    for (let k = 0; k < T; k++) {
      const t = reverse ? T - 1 - k : k;
      const fromInput = wb ? add(b.op('MatMul', [steps[t], wT]), wb) : b.op('MatMul', [steps[t], wT]);
      const fromState = rb ? add(b.op('MatMul', [h, rT]), rb) : b.op('MatMul', [h, rT]);
      if (op === 'LSTM') {
        // ONNX's gate order: input, output, forget, cell.
        const pre = add(fromInput, fromState);
        c = add(mul(sigmoid(gate(pre, 2)), c), mul(sigmoid(gate(pre, 0)), tanh(gate(pre, 3))));
        h = mul(sigmoid(gate(pre, 1)), tanh(c));
      } else if (op === 'GRU') {
        // Update, reset, hidden.
        const z = sigmoid(add(gate(fromInput, 0), gate(fromState, 0)));
        const reset = sigmoid(add(gate(fromInput, 1), gate(fromState, 1)));
        let candidate: string;
        if (attrInt(node, 'linear_before_reset', 0) === 1) candidate = add(gate(fromInput, 2), mul(reset, gate(fromState, 2)));
        else {
          const hidden = b.op('MatMul', [mul(reset, h), b.slice(rT, 1, 2 * H, 3 * H)]);
          candidate = add(gate(fromInput, 2), rb ? add(hidden, b.slice(rb, 0, 2 * H, 3 * H)) : hidden);
        }
        h = add(mul(b.op('Sub', [b.floats([1]), z]), tanh(candidate)), mul(z, h));
      } else h = tanh(add(fromInput, fromState));
      out[t] = h;
    }
    ys.push(out);
    finalH.push(h);
    if (c) finalC.push(c);
  }
  const perStep = Array.from({ length: T }, (_, t) =>
    b.op(
      'Concat',
      ys.map((o) => b.unsqueeze(o[t], [0])),
      { axis: 0 },
    ),
  );
  const y = b.op(
    'Concat',
    perStep.map((s) => b.unsqueeze(s, [0])),
    { axis: 0 },
  );
  const stack = (states: string[]) =>
    b.op(
      'Concat',
      states.map((s) => b.unsqueeze(s, [0])),
      { axis: 0 },
    );
  return [node.output[0] ? y : '', node.output[1] ? stack(finalH) : '', op === 'LSTM' && node.output[2] ? stack(finalC) : ''];
}
