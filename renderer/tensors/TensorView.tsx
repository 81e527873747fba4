/**
 * One tensor, drawn as the slides draw it: a small one as a table of numbers, C×H×W as a grid of feature
 * maps (one tile per channel), a matrix or sequence (T×D) as a heatmap; always with its statistics and a
 * histogram. The batch's first sample is shown.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { tensorStats } from '../../core/data/stats.ts';
import type { Tensor } from '../../core/engine/engine.ts';

/** At most this many values are written out as numbers. */
const TABLE_LIMIT = 64;
/** At most this many channels get a tile. */
const TILE_LIMIT = 64;

const fmt = (v: number) => (Number.isNaN(v) ? 'NaN' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : Number(v.toFixed(4)).toString());

/** Blue (negative) through white to red (positive) for signed data; black to yellow for non-negative data. */
export function colourOf(v: number, lo: number, hi: number): [number, number, number] {
  if (!Number.isFinite(v)) return [255, 0, 255];
  if (lo < 0 && hi > 0) {
    const m = Math.max(-lo, hi);
    const t = Math.max(-1, Math.min(1, v / m));
    return t < 0 ? [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255] : [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))];
  }
  const t = hi > lo ? (v - lo) / (hi - lo) : 0;
  return [Math.round(255 * Math.min(1, t * 1.6)), Math.round(230 * t), Math.round(90 * (1 - t))];
}

function Heatmap({ values, rows, cols, lo, hi, label, scale }: { values: ArrayLike<number>; rows: number; cols: number; lo: number; hi: number; label: string; scale: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const context = canvas?.getContext('2d');
    if (!canvas || !context) return;
    const image = context.createImageData(cols, rows);
    for (let i = 0; i < rows * cols; i++) {
      const [r, g, b] = colourOf(values[i], lo, hi);
      image.data.set([r, g, b, 255], i * 4);
    }
    context.putImageData(image, 0, 0);
  }, [values, rows, cols, lo, hi]);
  return <canvas ref={ref} width={cols} height={rows} role="img" aria-label={label} title={label} className="heatmap" style={{ width: cols * scale }} />;
}

function Histogram({ counts }: { counts: number[] }) {
  const most = Math.max(1, ...counts);
  return (
    <svg className="histogram" viewBox={`0 0 ${counts.length} 20`} preserveAspectRatio="none" role="img" aria-label="Histogram of the values">
      {counts.map((c, i) => (
        <rect key={i} x={i + 0.1} width={0.8} y={20 - (20 * c) / most} height={(20 * c) / most} />
      ))}
    </svg>
  );
}

export function TensorView({ name, tensor }: { name: string; tensor: Tensor }) {
  const [perTile, setPerTile] = useState(false);
  // The first sample of the batch.
  const sampleDims = tensor.dims.slice(1);
  const size = sampleDims.reduce((a, b) => a * b, 1);
  const values = useMemo(() => Float32Array.from(tensor.data.subarray(0, size) as ArrayLike<number>, Number), [tensor, size]);
  const stats = useMemo(() => tensorStats(values), [values]);
  const shape = tensor.dims.join('×');

  let body;
  /** Each feature map coloured on its own scale: the shared legend would not read them. */
  let ownScales = false;
  if (size <= TABLE_LIMIT) {
    const cols = sampleDims.length >= 1 ? sampleDims[sampleDims.length - 1] : 1;
    const rows = Math.max(1, size / cols);
    body = (
      <table className="tensor-table" aria-label={`${name} values`}>
        <tbody>
          {Array.from({ length: rows }, (_, r) => (
            <tr key={r}>
              {Array.from({ length: cols }, (_, c) => (
                <td key={c}>{fmt(values[r * cols + c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    );
  } else if (sampleDims.length === 3) {
    const [channels, height, width] = sampleDims;
    const shown = Math.min(channels, TILE_LIMIT);
    const scale = Math.max(1, Math.floor(64 / Math.max(height, width)));
    ownScales = perTile;
    body = (
      <>
        <label className="tensor-option">
          <input type="checkbox" checked={perTile} onChange={(e) => setPerTile(e.target.checked)} /> Scale each map on its own
        </label>
        <div className="tiles" role="group" aria-label={`${name}: ${channels} feature maps of ${height}×${width}`}>
          {Array.from({ length: shown }, (_, c) => {
            const tile = values.subarray(c * height * width, (c + 1) * height * width);
            const range = perTile ? tensorStats(tile, 1) : stats;
            const label = perTile ? `channel ${c}: ${fmt(range.min)} to ${fmt(range.max)}` : `channel ${c}`;
            return <Heatmap key={c} values={tile} rows={height} cols={width} lo={range.min} hi={range.max} label={label} scale={scale} />;
          })}
        </div>
        {shown < channels && (
          <p className="muted">
            The first {shown} of {channels} channels.
          </p>
        )}
      </>
    );
  } else {
    const cols = sampleDims[sampleDims.length - 1] ?? 1;
    const rows = size / cols;
    const scale = Math.max(1, Math.min(8, Math.floor(480 / Math.max(rows, cols))));
    body = <Heatmap values={values} rows={rows} cols={cols} lo={stats.min} hi={stats.max} label={`${name} as a ${rows}×${cols} heatmap`} scale={scale} />;
  }

  return (
    <section className="tensor-view" aria-label={`Tensor ${name}`}>
      <h3>
        {name} <span className="muted">{shape}</span>
      </h3>
      {body}
      <p className="tensor-stats" aria-label={`Statistics of ${name}`}>
        min {fmt(stats.min)} · max {fmt(stats.max)} · mean {fmt(stats.mean)} · std {fmt(stats.std)} · NaN {stats.nan} · Inf {stats.inf}
      </p>
      {ownScales ? (
        <p className="legend muted" role="img" aria-label="Colour scale: each map from its own minimum to its own maximum">
          Each map is coloured from its own minimum to its own maximum (hover a map for its range).
        </p>
      ) : (
        <div className="legend" role="img" aria-label={`Colour scale${size > TABLE_LIMIT && sampleDims.length === 3 ? ' of every map' : ''}: ${fmt(stats.min)} to ${fmt(stats.max)}`}>
          <span>{fmt(stats.min)}</span>
          <span
            className="legend-bar"
            style={{
              background: `linear-gradient(to right, rgb(${colourOf(stats.min, stats.min, stats.max)}), rgb(${colourOf((stats.min + stats.max) / 2, stats.min, stats.max)}), rgb(${colourOf(stats.max, stats.min, stats.max)}))`,
            }}
          />
          <span>{fmt(stats.max)}</span>
        </div>
      )}
      {stats.histogram.length > 0 && <Histogram counts={stats.histogram} />}
    </section>
  );
}
