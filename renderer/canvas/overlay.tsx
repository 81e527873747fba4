/**
 * The canvas overlay: colours layers by a chosen per-layer statistic (core/debug/overlay.ts), mean |activation|
 * and weight norm from the last run (Run panel), gradient norm from the running training (Train panel) or the
 * debugger's trace (Debug panel), whichever came last, on a
 * log scale with a legend, so that vanishing or exploding gradients across depth show at a glance.
 */
import { useMemo, useSyncExternalStore } from 'react';
import type { ModelDocument } from '../../core/graph/types.ts';
import { meanActivations, OVERLAY_LABELS, overlayScale, weightNorms, type OverlayStatistic } from '../../core/debug/overlay.ts';
import { lastRun } from '../run/engine.ts';

/** A layer's overlay: its value and colour. */
export interface LayerOverlay {
  value: number;
  colour: string;
}

type OverlayState = { chosen: OverlayStatistic | 'none'; gradients: { doc: ModelDocument; norms: Map<string, number> } | null };
let chosen: OverlayState['chosen'] = 'none';
let gradients: OverlayState['gradients'] = null;
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
const subscribe = (listener: () => void) => {
  listeners.add(listener);
  const unsubscribe = lastRun.subscribe(listener);
  return () => {
    listeners.delete(listener);
    unsubscribe();
  };
};
let snapshot: OverlayState = { chosen, gradients };
const read = () => (snapshot.chosen === chosen && snapshot.gradients === gradients ? snapshot : (snapshot = { chosen, gradients }));

/** The Train panel hands over each chunk's gradient norms, the Debug panel each trace's (null when its trace is dropped). */
export function setOverlayGradients(doc: ModelDocument, norms: Map<string, number> | null): void {
  gradients = norms ? { doc, norms } : null;
  notify();
}

/** A statistic in few digits (exponent form far from 1). */
export const formatOverlay = (v: number) => (v !== 0 && (Math.abs(v) < 1e-2 || Math.abs(v) >= 1e4) ? v.toExponential(1) : Number(v.toPrecision(3)).toString());

/** The overlay for `doc`: each layer's value and colour, and what the legend needs; empty when off or stale. */
export function useOverlay(doc: ModelDocument) {
  const state = useSyncExternalStore(subscribe, read);
  const run = useSyncExternalStore(lastRun.subscribe, lastRun.get);
  return useMemo(() => {
    let values: Map<string, number> | null = null;
    let missing = '';
    if (state.chosen === 'gradient-norm') {
      values = state.gradients?.doc === doc ? state.gradients.norms : null;
      missing = 'Train the model (Train panel) or step it in the Debug panel (Restart) to see its gradient norms.';
    } else if (state.chosen !== 'none') {
      values = run?.doc === doc ? (state.chosen === 'activation' ? meanActivations(run.outputs) : weightNorms(run.weights)) : null;
      missing = 'Run the model (Run panel) to see this statistic.';
    }
    const scale = values ? overlayScale(values) : null;
    const layers = new Map<string, LayerOverlay>();
    if (values && scale) for (const [id, value] of values) layers.set(id, { value, colour: scale.colour(value) });
    return { chosen: state.chosen, layers, scale, missing: state.chosen !== 'none' && !scale ? missing : '' };
  }, [state, run, doc]);
}

/** The overlay's control and legend, in the canvas's corner. */
export function OverlayControl({ overlay }: { overlay: ReturnType<typeof useOverlay> }) {
  const { scale } = overlay;
  return (
    <div className="overlay-control">
      <label>
        Overlay{' '}
        <select
          aria-label="Overlay"
          value={overlay.chosen}
          onChange={(e) => {
            chosen = e.target.value as OverlayStatistic | 'none';
            notify();
          }}
        >
          <option value="none">None</option>
          {Object.entries(OVERLAY_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      {scale && (
        <div
          className="legend"
          role="img"
          aria-label={`Overlay legend: ${OVERLAY_LABELS[overlay.chosen as OverlayStatistic]} from ${formatOverlay(scale.min)} to ${formatOverlay(scale.max)}, log scale`}
        >
          <span>{formatOverlay(scale.min)}</span>
          <span className="legend-bar" style={{ background: `linear-gradient(to right, ${scale.colour(scale.min)}, ${scale.colour(Math.sqrt(scale.min * scale.max))}, ${scale.colour(scale.max)})` }} />
          <span>{formatOverlay(scale.max)}</span>
        </div>
      )}
      {overlay.missing && <p className="muted">{overlay.missing}</p>}
    </div>
  );
}
