/** Recurrent layers: RNN, LSTM, GRU (batch-first, numLayers, bidirectional), with PyTorch's parameter layout. */
import { formatShape } from '../shape/dim.ts';
import type { InferContext, LayerSpec, ParamSchema, ParamTensor, PortSpec, TensorType } from './spec.ts';
import { BIAS, expectFloat, knownDim, mulOrNull, param, tensor } from './common.ts';

function recurrent(op: 'RNN' | 'LSTM' | 'GRU', gates: number, equation: string): LayerSpec {
  const extra: Record<string, ParamSchema> =
    op === 'RNN' ? { nonlinearity: { type: 'enum', label: 'Non-linearity', help: 'Activation of the hidden state.', default: 'tanh', values: ['tanh', 'relu'] } } : {};
  const states: PortSpec[] = [{ name: 'h0', help: 'Initial hidden state (layers·directions)×N×H; zeros if unconnected.', optional: true }];
  if (op === 'LSTM') states.push({ name: 'c0', help: 'Initial cell state; zeros if unconnected.', optional: true });
  const outputs: PortSpec[] = [
    { name: 'output', help: 'Top layer hidden state at every step: N×T×(directions·H).' },
    { name: 'h', help: 'Final hidden state of every layer: (layers·directions)×N×H.' },
  ];
  if (op === 'LSTM') outputs.push({ name: 'c', help: 'Final cell state of every layer.' });
  return {
    op,
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
        if (s && s.shape.join() !== stateShape.join()) ctx.fail(`${port.name} must be ${formatShape(stateShape)}, got ${formatShape(s.shape)}`);
      }
      const params: ParamTensor[] = [];
      let perStep = 0;
      for (let l = 0; l < L; l++) {
        const inL = l === 0 ? inF : H * dirs;
        for (let d = 0; d < dirs; d++) {
          const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
          params.push(param(`weight_ih${sfx}`, [gates * H, inL], `${gates}H·in = ${gates * H}·${inL}`));
          params.push(param(`weight_hh${sfx}`, [gates * H, H], `${gates}H·H = ${gates * H}·${H}`));
          if (ctx.bool('bias')) {
            params.push(param(`bias_ih${sfx}`, [gates * H], `${gates}H`));
            params.push(param(`bias_hh${sfx}`, [gates * H], `${gates}H`));
          }
          perStep += gates * H * (inL + H);
        }
      }
      ctx.formula(`output = N×T×(directions·H) = N×${x.shape[1]}×${dirs * H}`);
      const out = [tensor(['N', x.shape[1], dirs * H]), tensor(stateShape)];
      if (op === 'LSTM') out.push(tensor(stateShape));
      return { outputs: out, params, macs: mulOrNull(typeof x.shape[1] === 'number' ? x.shape[1] : null, perStep) };
    },
  };
}

export const recurrentLayers: LayerSpec[] = [
  recurrent('RNN', 1, 'hₜ = tanh(W_ih xₜ + b_ih + W_hh hₜ₋₁ + b_hh).'),
  recurrent('LSTM', 4, 'Input, forget, cell and output gates: cₜ = f⊙cₜ₋₁ + i⊙g, hₜ = o⊙tanh(cₜ).'),
  recurrent('GRU', 3, 'Reset and update gates: hₜ = (1 − z)⊙n + z⊙hₜ₋₁.'),
];
