/** Recurrent layers: RNN, LSTM, GRU (batch-first, numLayers, bidirectional), with PyTorch's parameter layout. */
import { formatShape } from '../graph/dim.ts';
import type { AttrValue } from '../onnx/builder.ts';
import type { InferContext, LayerSpec, LowerContext, ParamSchema, ParamTensor, PortSpec, TensorType } from './spec.ts';
import { BIAS, activeDropout, fanInUniform, expectFloat, knownDim, mulOrNull, param, tensor } from './common.ts';

function recurrent(op: 'RNN' | 'LSTM' | 'GRU', gates: number, equation: string): LayerSpec {
  const extra: Record<string, ParamSchema> =
    op === 'RNN' ? { nonlinearity: { type: 'enum', label: 'Non-linearity', help: 'Activation of the hidden state.', default: 'tanh', values: ['tanh', 'relu'] } } : {};
  const states: PortSpec[] = [
    { name: 'h0', help: 'Initial hidden state (layers·directions)×N×H as PyTorch, or batch first N×(layers·directions)×H, or N×H for one layer; zeros if unconnected.', optional: true },
  ];
  if (op === 'LSTM') states.push({ name: 'c0', help: 'Initial cell state; zeros if unconnected.', optional: true });
  const outputs: PortSpec[] = [
    { name: 'output', help: 'Top layer hidden state at every step: N×T×(directions·H).' },
    { name: 'h', help: 'Final hidden state of every layer: (layers·directions)×N×H.' },
  ];
  if (op === 'LSTM') outputs.push({ name: 'c', help: 'Final cell state of every layer.' });
  return {
    op,
    starting: { hiddenSize: 64 },
    category: 'Recurrent',
    summary: `${op} over a sequence (batch first).`,
    doc: `${equation} Parameters per layer and direction: ${gates}H·(in + H) weights and 2·${gates}H biases (PyTorch keeps two bias vectors). Outputs: output, h${op === 'LSTM' ? ', c' : ''}.`,
    params: {
      hiddenSize: { type: 'int', label: 'Hidden size', help: 'Size H of the hidden state.', min: 1, key: true },
      numLayers: { type: 'int', label: 'Layers', help: 'Number of stacked recurrent layers.', default: 1, min: 1, key: true },
      bias: BIAS,
      bidirectional: { type: 'bool', label: 'Bidirectional', help: 'Also run the sequence backwards and concatenate.', default: false },
      dropout: { type: 'float', label: 'Dropout', help: 'Dropout between stacked layers.', default: 0, min: 0, max: 0.999 },
      ...extra,
    },
    inputs: [{ name: 'input', help: 'Sequence N×T×features.' }, ...states],
    outputs,
    infer(ctx: InferContext) {
      const x = ctx.inputs[0] as TensorType;
      expectFloat(ctx, x);
      if (x.shape.length !== 3) ctx.fail(`expects a sequence N×T×features, got ${formatShape(x.shape)}`, { suggestion: 'Token ids go through an Embedding first.' });
      const inF = knownDim(ctx, x.shape[2], 'number of input features');
      const H = ctx.int('hiddenSize');
      const L = ctx.int('numLayers');
      const dirs = ctx.bool('bidirectional') ? 2 : 1;
      const stateShape = [L * dirs, 'N', H];
      for (const [i, port] of states.entries()) {
        const s = ctx.inputs[i + 1];
        if (s && !stateLayouts(L * dirs, H).some((shape) => shape.join() === s.shape.join())) {
          ctx.fail(
            `${port.name} must be ${stateLayouts(L * dirs, H)
              .map(formatShape)
              .join(' or ')}, got ${formatShape(s.shape)}`,
            { suggestion: "An image feature N×H (deck 001's captioning) can feed h0 of a one-layer RNN directly." },
          );
        }
      }
      const params: ParamTensor[] = [];
      const init = fanInUniform(H); // PyTorch: every weight and bias U(−1/√H, 1/√H)
      let perStep = 0;
      for (let l = 0; l < L; l++) {
        const inL = l === 0 ? inF : H * dirs;
        for (let d = 0; d < dirs; d++) {
          const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
          params.push(param(`weight_ih${sfx}`, [gates * H, inL], `${gates}H·in = ${gates * H}·${inL}`, init));
          params.push(param(`weight_hh${sfx}`, [gates * H, H], `${gates}H·H = ${gates * H}·${H}`, init));
          if (ctx.bool('bias')) {
            params.push(param(`bias_ih${sfx}`, [gates * H], `${gates}H`, init));
            params.push(param(`bias_hh${sfx}`, [gates * H], `${gates}H`, init));
          }
          perStep += gates * H * (inL + H);
        }
      }
      ctx.formula(() => `output = N×T×(directions·H) = N×${x.shape[1]}×${dirs * H}`);
      const out = [tensor(['N', x.shape[1], dirs * H]), tensor(stateShape)];
      if (op === 'LSTM') out.push(tensor(stateShape));
      return { outputs: out, params, macs: mulOrNull(typeof x.shape[1] === 'number' ? x.shape[1] : null, perStep) };
    },
    lower(ctx: LowerContext) {
      if (ctx.training) lowerUnrolled(ctx, op);
      else lowerRecurrent(ctx, op, gates);
    },
  };
}

/**
 * The initial-state layouts a recurrent layer accepts: PyTorch's (layers·directions)×N×H, batch first
 * N×(layers·directions)×H (what every other layer makes, e.g. CNN features for captioning), and N×H for one layer.
 */
function stateLayouts(layers: number, H: number): (number | string)[][] {
  return [[layers, 'N', H], ['N', layers, H], ...(layers === 1 ? [['N', H]] : [])];
}

/** Initial state `port` in PyTorch's (layers·directions)×N×H layout, or '' when unconnected. */
function layerMajorState(ctx: LowerContext, port: number): string {
  const value = ctx.inputs[port];
  if (!value) return '';
  const shape = ctx.inputTypes[port]!.shape;
  if (shape.length === 2) return ctx.b.unsqueeze(value, [0]);
  return shape[0] === 'N' ? ctx.b.op('Transpose', [value], { perm: [1, 0, 2] }) : value;
}

/** ONNX's gate order as indices into PyTorch's: LSTM iofc from ifgo, GRU zrh from rzn. */
const GATE_ORDER: Record<string, number[]> = { RNN: [0], LSTM: [0, 3, 1, 2], GRU: [1, 0, 2] };

/**
 * One ONNX RNN/LSTM/GRU node per layer (ONNX's ops are single-layer), time-major inside, batch-first
 * outside. The weights stay in PyTorch's layout and are regrouped in-graph (ONNX Runtime folds it).
 */
function lowerRecurrent(ctx: LowerContext, op: 'RNN' | 'LSTM' | 'GRU', gates: number): void {
  const { b } = ctx;
  const H = ctx.int('hiddenSize');
  const L = ctx.int('numLayers');
  const dirs = ctx.bool('bidirectional') ? 2 : 1;
  const reorder = (w: string, cols: number) => {
    const grouped = b.op('Gather', [b.reshape(w, cols ? [gates, H, cols] : [gates, H]), b.ints(GATE_ORDER[op])], { axis: 0 });
    return b.reshape(grouped, cols ? [gates * H, cols] : [gates * H]);
  };
  const stack = (parts: string[]) => (parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: 0 }));
  let x = b.op('Transpose', [ctx.inputs[0]], { perm: [1, 0, 2] });
  const startStates = [1, 2].map((port) => layerMajorState(ctx, port));
  const hs: string[] = [];
  const cs: string[] = [];
  for (let l = 0; l < L; l++) {
    const inL = l === 0 ? (ctx.inputTypes[0]!.shape[2] as number) : H * dirs;
    const suffixes = Array.from({ length: dirs }, (_, d) => `_l${l}${d === 1 ? '_reverse' : ''}`);
    const W = stack(suffixes.map((s) => b.unsqueeze(reorder(ctx.weight(`weight_ih${s}`), inL), [0])));
    const R = stack(suffixes.map((s) => b.unsqueeze(reorder(ctx.weight(`weight_hh${s}`), H), [0])));
    const B = ctx.bool('bias') ? stack(suffixes.map((s) => b.unsqueeze(b.op('Concat', [reorder(ctx.weight(`bias_ih${s}`), 0), reorder(ctx.weight(`bias_hh${s}`), 0)], { axis: 0 }), [0]))) : '';
    const initial = (port: number) => (startStates[port - 1] ? b.slice(startStates[port - 1], 0, l * dirs, (l + 1) * dirs) : '');
    const inputs = [x, W, R, B, '', initial(1)];
    if (op === 'LSTM') inputs.push(initial(2));
    const attrs: Record<string, AttrValue> = { hidden_size: H, direction: dirs === 2 ? 'bidirectional' : 'forward' };
    if (op === 'GRU') attrs.linear_before_reset = 1;
    if (op === 'RNN') attrs.activations = new Array(dirs).fill(ctx.str('nonlinearity') === 'relu' ? 'Relu' : 'Tanh');
    const [y, h, c] = b.node(op, inputs, attrs, op === 'LSTM' ? 3 : 2);
    // Y is T×dirs×N×H: bring the directions next to H and merge them.
    x = b.reshape(b.op('Transpose', [y], { perm: [0, 2, 1, 3] }), [0, 0, dirs * H]);
    hs.push(h);
    if (c) cs.push(c);
  }
  b.op('Transpose', [x], { perm: [1, 0, 2] }, ctx.outputs[0]);
  const join = (parts: string[], out: string) => (parts.length === 1 ? b.op('Identity', parts, {}, out) : b.op('Concat', parts, { axis: 0 }, out));
  join(hs, ctx.outputs[1]);
  if (op === 'LSTM') join(cs, ctx.outputs[2]);
}

export const recurrentLayers: LayerSpec[] = [
  recurrent('RNN', 1, 'hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh).'),
  recurrent('LSTM', 4, 'Input, forget, cell and output gates: cₜ = f⊙cₜ₋₁ + i⊙g, hₜ = o⊙tanh(cₜ).'),
  recurrent('GRU', 3, 'Reset and update gates: hₜ = (1 − z)⊙n + z⊙hₜ₋₁.'),
];

/**
 * Training graphs: the recurrence unrolled over the (known) sequence length in PyTorch's own gate order,
 * so that backpropagation through time is the ordinary backward pass over these ops.
 */
function lowerUnrolled(ctx: LowerContext, op: 'RNN' | 'LSTM' | 'GRU'): void {
  const { b } = ctx;
  const H = ctx.int('hiddenSize');
  const L = ctx.int('numLayers');
  const dirs = ctx.bool('bidirectional') ? 2 : 1;
  const T = ctx.inputTypes[0]!.shape[1];
  if (typeof T !== 'number') throw new Error(`training ${op} unrolls it over time, which needs a known sequence length (got ${T})`);
  const bias = ctx.bool('bias');
  const dropout = ctx.float('dropout');
  const truncation = ctx.truncateBptt;
  if (truncation > 0 && dirs === 2) throw new Error(`truncated backpropagation through time needs a one-directional ${op}: a bidirectional one reads the whole sequence`);
  const gate = (v: string, k: number) => b.slice(v, 1, k * H, (k + 1) * H);
  const sigmoid = (v: string) => b.op('Sigmoid', [v]);
  const tanh = (v: string) => b.op('Tanh', [v]);
  const add = (x: string, y: string) => b.op('Add', [x, y]);
  const mul = (x: string, y: string) => b.op('Mul', [x, y]);
  let steps = Array.from({ length: T }, (_, t) => b.op('Gather', [ctx.inputs[0], b.ints([t], true)], { axis: 1 }));
  const zeros = b.op('ConstantOfShape', [b.op('Concat', [b.op('Shape', [steps[0]], { start: 0, end: 1 }), b.ints([H])], { axis: 0 })], {
    value: { name: 'zero', dims: [1], data_type: 1, raw_data: new Uint8Array(4) },
  });
  const startStates = [1, 2].map((port) => layerMajorState(ctx, port));
  const initial = (port: number, index: number) => (startStates[port - 1] ? b.op('Gather', [startStates[port - 1], b.ints([index], true)], { axis: 0 }) : zeros);
  const finalH: string[] = [];
  const finalC: string[] = [];
  for (let l = 0; l < L; l++) {
    const perDirection: string[][] = [];
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      const affine = (x: string, w: string, bv: string) => b.op('Gemm', bias ? [x, ctx.weight(w), ctx.weight(bv)] : [x, ctx.weight(w)], { transB: 1 });
      let h = initial(1, l * dirs + d);
      let c = op === 'LSTM' ? initial(2, l * dirs + d) : '';
      const outputs: string[] = new Array(T);
      for (let k = 0; k < T; k++) {
        const t = d === 0 ? k : T - 1 - k;
        // Truncated BPTT, as PyTorch users write it: the state entering each window of steps is detached.
        if (truncation > 0 && k > 0 && k % truncation === 0) {
          h = b.detach(h);
          if (c) c = b.detach(c);
        }
        const fromInput = affine(steps[t], `weight_ih${sfx}`, `bias_ih${sfx}`);
        const fromState = affine(h, `weight_hh${sfx}`, `bias_hh${sfx}`);
        if (op === 'LSTM') {
          const pre = add(fromInput, fromState);
          c = add(mul(sigmoid(gate(pre, 1)), c), mul(sigmoid(gate(pre, 0)), tanh(gate(pre, 2))));
          h = mul(sigmoid(gate(pre, 3)), tanh(c));
        } else if (op === 'GRU') {
          const r = sigmoid(add(gate(fromInput, 0), gate(fromState, 0)));
          const z = sigmoid(add(gate(fromInput, 1), gate(fromState, 1)));
          const n = tanh(add(gate(fromInput, 2), mul(r, gate(fromState, 2))));
          h = add(mul(b.op('Sub', [b.floats([1]), z]), n), mul(z, h));
        } else {
          const pre = add(fromInput, fromState);
          h = ctx.str('nonlinearity') === 'relu' ? b.op('Relu', [pre]) : tanh(pre);
        }
        outputs[t] = h;
      }
      perDirection.push(outputs);
      finalH.push(h);
      if (op === 'LSTM') finalC.push(c);
    }
    steps = steps.map((_, t) => (dirs === 2 ? b.op('Concat', [perDirection[0][t], perDirection[1][t]], { axis: 1 }) : perDirection[0][t]));
    // PyTorch drops out each layer's output but the last's, every element independently.
    if (dropout > 0 && l < L - 1) steps = steps.map((s) => activeDropout(ctx, s, dropout));
  }
  b.op(
    'Concat',
    steps.map((s) => b.unsqueeze(s, [1])),
    { axis: 1 },
    ctx.outputs[0],
  );
  b.op(
    'Concat',
    finalH.map((s) => b.unsqueeze(s, [0])),
    { axis: 0 },
    ctx.outputs[1],
  );
  if (op === 'LSTM')
    b.op(
      'Concat',
      finalC.map((s) => b.unsqueeze(s, [0])),
      { axis: 0 },
      ctx.outputs[2],
    );
}
