/**
 * Optimisers as ONNX update subgraphs, with torch.optim's defaults and update formulas. The learning
 * rate and the step count are graph inputs, so schedules change them without rebuilding the graph.
 */
import type { OnnxBuilder } from '../onnx/builder.ts';
import type { NodeProto } from '../onnx/proto.ts';

export const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'adam', 'adamw', 'adagrad', 'rmsprop', 'adadelta', 'perceptron'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface OptimizerConfig {
  name: OptimizerName;
  lr: number;
  momentum: number;
  weightDecay: number;
  betas: [number, number];
  eps: number;
  /** RMSprop's smoothing constant. */
  alpha: number;
  /** Adadelta's decay. */
  rho: number;
}

/** torch.optim's defaults, per optimiser. */
export function optimizerConfig(name: OptimizerName, given: Partial<Omit<OptimizerConfig, 'name'>> = {}): OptimizerConfig {
  const base: Record<OptimizerName, Partial<OptimizerConfig>> = {
    sgd: { lr: 0.01, momentum: 0 },
    momentum: { lr: 0.01, momentum: 0.9 },
    nesterov: { lr: 0.01, momentum: 0.9 },
    adam: { lr: 1e-3, eps: 1e-8 },
    adamw: { lr: 1e-3, eps: 1e-8, weightDecay: 1e-2 },
    adagrad: { lr: 1e-2, eps: 1e-10 },
    rmsprop: { lr: 1e-2, eps: 1e-8 },
    adadelta: { lr: 1.0, eps: 1e-6 },
    perceptron: { lr: 1 },
  };
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { name, lr: 0.01, momentum: 0, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, alpha: 0.99, rho: 0.9, ...base[name], ...defined } as OptimizerConfig;
}

/** The state each parameter carries between steps (PyTorch's names), all starting at zero. */
export function stateSlots(name: OptimizerName): string[] {
  switch (name) {
    case 'sgd':
    case 'perceptron':
      return [];
    case 'momentum':
    case 'nesterov':
      return ['momentum_buffer'];
    case 'adam':
    case 'adamw':
      return ['exp_avg', 'exp_avg_sq'];
    case 'adagrad':
      return ['sum'];
    case 'rmsprop':
      return ['square_avg'];
    case 'adadelta':
      return ['square_avg', 'acc_delta'];
  }
}

export interface UpdateValues {
  param: string;
  grad: string;
  state: Record<string, string>;
  /** Scalar float graph inputs. */
  lr: string;
  step: string;
  /** The backward pass was seeded with this rather than 1, so `grad` is that multiple of ∂L/∂p (see gradientSeed). */
  seededWith?: 'lr' | number;
}

/**
 * What a step's backward pass may be seeded with instead of 1, so that every gradient comes out already
 * scaled as the update wants it: lr for plain SGD (p − lr·g is then one Sub per parameter, one Gemm for a
 * Linear weight), 1 − β₁ for Adam (m′ = β₁·m + (1 − β₁)·g is then two passes, not three). Only where
 * nothing else reads the gradients as such: a norm clip, the debugger's trace. Null: seed with 1.
 */
export function gradientSeed(cfg: OptimizerConfig, { clipped, traced }: { clipped: boolean; traced: boolean }): 'lr' | number | null {
  if (clipped || traced) return null;
  if (cfg.name === 'sgd' || cfg.name === 'perceptron') return 'lr';
  if ((cfg.name === 'adam' || cfg.name === 'adamw') && cfg.betas[0] < 1) return 1 - cfg.betas[0];
  return null;
}

/**
 * Emits one parameter's update; returns the new parameter and state values. `scalars` keeps the scalar
 * values every parameter's update shares (bias corrections, step size, decay factors), made once per graph.
 */
export function emitUpdate(b: OnnxBuilder, cfg: OptimizerConfig, v: UpdateValues, scalars = new Map<string, string>()): { param: string; state: Record<string, string> } {
  const c = (x: number) => b.floats([x]);
  const shared = (key: string, make: () => string) => scalars.get(key) ?? scalars.set(key, make()).get(key)!;
  const mul = (x: string, y: string) => b.op('Mul', [x, y]);
  const add = (x: string, y: string) => b.op('Add', [x, y]);
  const lerp = (old: string, fresh: string, keep: number) => add(mul(old, c(keep)), mul(fresh, c(1 - keep)));
  const step = (direction: string) => b.op('Sub', [v.param, v.seededWith === 'lr' ? direction : mul(v.lr, direction)]);
  // A constant in the gradient's units: times the seed.
  const seeded = (x: number) => (v.seededWith === 'lr' ? shared(`lr·${x}`, () => mul(v.lr, c(x))) : c(x * (v.seededWith ?? 1)));
  let param = v.param;
  let g = v.grad;
  // AdamW's decoupled decay, as PyTorch writes it: p·(1 − lr·λ), one pass over p (the factor is a scalar).
  if (cfg.weightDecay > 0 && cfg.name === 'adamw')
    param = mul(
      param,
      shared('decay', () => b.op('Sub', [c(1), mul(v.lr, c(cfg.weightDecay))])),
    );
  else if (cfg.weightDecay > 0) g = add(g, mul(seeded(cfg.weightDecay), param));
  switch (cfg.name) {
    case 'sgd':
      return { param: (g === v.grad && gemmStep(b, v)) || step(g), state: {} };
    // Rosenblatt's rule (deck 003): a plain step of rate η on the perceptron criterion, whose gradient is
    // −y·x on a mistake and 0 otherwise, so w ← w + η·y·x exactly when the sample is misclassified.
    case 'perceptron':
      return { param: step(g), state: {} };
    case 'momentum':
    case 'nesterov': {
      // PyTorch: buf = momentum·buf + g (the first step sets buf = g, which a zero buffer gives too).
      const buf = add(mul(v.state.momentum_buffer, c(cfg.momentum)), g);
      const direction = cfg.name === 'nesterov' ? add(g, mul(buf, c(cfg.momentum))) : buf;
      return { param: step(direction), state: { momentum_buffer: buf } };
    }
    case 'adam':
    case 'adamw': {
      const [b1, b2] = cfg.betas;
      // Where the backward pass was seeded with 1 − β₁, g is (1 − β₁)·∂L/∂p and m′ = β₁·m + g: one pass
      // fewer over every parameter; g² takes the factor back on a scalar.
      const scaled = v.seededWith === 1 - b1;
      const m = scaled ? add(mul(v.state.exp_avg, c(b1)), g) : lerp(v.state.exp_avg, g, b1);
      const s = scaled ? add(mul(v.state.exp_avg_sq, c(b2)), mul(mul(g, g), c((1 - b2) / (1 - b1) ** 2))) : lerp(v.state.exp_avg_sq, mul(g, g), b2);
      // PyTorch: p − lr/c₁ · m / (√s/√c₂ + ε). Written as p − (lr·√c₂/c₁) · m / (√s + ε·√c₂), the bias
      // corrections c = 1 − βᵗ stay on scalars: two fewer passes over every parameter.
      const correction = (beta: number) => b.op('Sub', [c(1), b.op('Pow', [c(beta), v.step])]);
      const root2 = shared('√c₂', () => b.op('Sqrt', [correction(b2)]));
      const denom = add(
        b.op('Sqrt', [s]),
        shared('ε·√c₂', () => mul(c(cfg.eps), root2)),
      );
      const stepSize = shared('lr·√c₂/c₁', () => b.op('Div', [mul(v.lr, root2), correction(b1)]));
      return { param: b.op('Sub', [param, mul(b.op('Div', [m, denom]), stepSize)]), state: { exp_avg: m, exp_avg_sq: s } };
    }
    case 'adagrad': {
      const sum = add(v.state.sum, mul(g, g));
      return { param: step(b.op('Div', [g, add(b.op('Sqrt', [sum]), c(cfg.eps))])), state: { sum } };
    }
    case 'rmsprop': {
      const sq = lerp(v.state.square_avg, mul(g, g), cfg.alpha);
      return { param: step(b.op('Div', [g, add(b.op('Sqrt', [sq]), c(cfg.eps))])), state: { square_avg: sq } };
    }
    case 'adadelta': {
      const sq = lerp(v.state.square_avg, mul(g, g), cfg.rho);
      const delta = mul(b.op('Div', [b.op('Sqrt', [add(v.state.acc_delta, c(cfg.eps))]), b.op('Sqrt', [add(sq, c(cfg.eps))])]), g);
      const acc = lerp(v.state.acc_delta, mul(delta, delta), cfg.rho);
      return { param: step(delta), state: { square_avg: sq, acc_delta: acc } };
    }
  }
}

/** The Gemm that makes `grad`, where nothing reads `grad` yet and the Gemm has no alpha or beta of its own. */
function soleGemm(b: OnnxBuilder, grad: string): { index: number; gemm: NodeProto } | null {
  const index = b.nodes.findIndex((n) => n.output?.[0] === grad);
  const gemm = b.nodes[index];
  if (gemm?.op_type !== 'Gemm' || gemm.input!.length !== 2) return null;
  if (gemm.attribute?.some((a) => a.name === 'alpha' || a.name === 'beta')) return null;
  if (b.nodes.some((n) => n.input?.includes(grad))) return null;
  return { index, gemm };
}

/**
 * Plain SGD on a weight whose gradient is a single Gemm (a Linear layer's Aᵀ·B): W − lr·Aᵀ·B becomes that
 * Gemm, with W as C, alpha −1 and lr folded into A, a batch-sized operand far smaller than W (or already in
 * it, where the backward pass was seeded with lr). It saves two passes over the weight on every step, and a
 * Linear layer's weights are most of an MLP's memory traffic.
 */
function gemmStep(b: OnnxBuilder, v: UpdateValues): string | null {
  const found = soleGemm(b, v.grad);
  if (!found) return null;
  const { index, gemm } = found;
  b.nodes.splice(index, 1);
  const [a, other] = gemm.input!;
  const transposes = Object.fromEntries((gemm.attribute ?? []).map((t) => [t.name!, Number(t.i)]));
  return b.op('Gemm', [v.seededWith === 'lr' ? a : b.op('Mul', [a, v.lr]), other, v.param], { ...transposes, alpha: { float: -1 }, beta: { float: 1 } });
}

/** Scales all gradients so that their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_). */
export function clipByGlobalNorm(b: OnnxBuilder, grads: string[], maxNorm: number): string[] {
  const squares = grads.map((g) => b.op('ReduceSum', [b.op('Mul', [g, g])], { keepdims: 0 }));
  const norm = b.op('Sqrt', [squares.length === 1 ? squares[0] : b.op('Sum', squares)]);
  const scale = b.op('Min', [b.floats([1]), b.op('Div', [b.floats([maxNorm]), b.op('Add', [norm, b.floats([1e-6])])])]);
  return grads.map((g) => b.op('Mul', [g, scale]));
}
