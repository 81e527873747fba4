/**
 * Per-layer statistics for the canvas overlay: mean |activation| and weight norm from a run, gradient norm
 * from the debugger's trace; and a log-scale colour for each, since vanishing and exploding gradients
 * differ from layer to layer by orders of magnitude.
 */
import type { Tensor } from '../engine/engine.ts';
import type { Weights } from '../graph/weights.ts';
import type { Trace } from './trace.ts';

export type OverlayStatistic = 'activation' | 'weight-norm' | 'gradient-norm';

export const OVERLAY_LABELS: Record<OverlayStatistic, string> = { activation: 'Mean |activation|', 'weight-norm': 'Weight norm', 'gradient-norm': 'Gradient norm' };

const sumSquares = (data: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += Number(data[i]) ** 2;
  return s;
};

/** Mean |y| of each layer's first output, by layer id, from outputs keyed "<id>:<port>". */
export function meanActivations(outputs: Map<string, Tensor>): Map<string, number> {
  const means = new Map<string, number>();
  for (const [key, t] of outputs) {
    const id = key.slice(0, key.lastIndexOf(':'));
    if (means.has(id) || t.dtype !== 'float32' || t.data.length === 0) continue;
    let s = 0;
    for (let i = 0; i < t.data.length; i++) s += Math.abs(Number(t.data[i]));
    means.set(id, s / t.data.length);
  }
  return means;
}

/** ‖W‖ over all of a layer's parameters, by layer id, from weights keyed "<id>.<param>". */
export function weightNorms(weights: Weights): Map<string, number> {
  const squares = new Map<string, number>();
  for (const [key, w] of weights) {
    const id = key.slice(0, key.lastIndexOf('.'));
    squares.set(id, (squares.get(id) ?? 0) + sumSquares(w.data));
  }
  return new Map([...squares].map(([id, s]) => [id, Math.sqrt(s)]));
}

/**
 * ‖∂L/∂W‖ over a layer's parameters where it has any (what an optimiser sees), else ‖∂L/∂y‖ of its
 * output, by layer id.
 */
export function gradientNorms(trace: Trace): Map<string, number> {
  const norms = new Map<string, number>();
  for (const step of trace.backward) {
    const from = step.params.length > 0 ? step.params : step.upstream;
    if (from.length === 0) continue;
    norms.set(step.layer, Math.sqrt(from.reduce((s, t) => s + sumSquares(t.value.data as ArrayLike<number>), 0)));
  }
  return norms;
}

/** The colour scale: dark blue (smallest) through green to yellow (largest), on log₁₀ of the values. */
export function overlayScale(values: Map<string, number>): { colour: (v: number) => string; min: number; max: number } | null {
  const positive = [...values.values()].filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return null;
  const min = Math.min(...positive);
  const max = Math.max(...positive);
  const lo = Math.log10(min);
  const span = Math.log10(max) - lo;
  const colour = (v: number) => {
    if (!Number.isFinite(v)) return 'rgb(255, 0, 255)';
    const t = v <= 0 ? 0 : span > 0 ? (Math.log10(v) - lo) / span : 1;
    // viridis' ends and middle, interpolated: readable in both themes and by colour-blind people.
    const stops = [
      [68, 1, 84],
      [33, 145, 140],
      [253, 231, 37],
    ];
    const [a, b, u] = t < 0.5 ? [stops[0], stops[1], t * 2] : [stops[1], stops[2], (t - 0.5) * 2];
    return `rgb(${a.map((x, i) => Math.round(x + (b[i] - x) * u)).join(', ')})`;
  };
  return { colour, min, max };
}
