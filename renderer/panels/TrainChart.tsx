/**
 * A live line chart (uPlot) that compares training runs: each run adds its own series (same kinds, its
 * own colour), and the panel appends points as events arrive. The chart redraws at most once per
 * animation frame, so it keeps up with training without slowing the page; hovering shows the values in
 * the legend. A step where training went wrong (the loss became NaN) is marked by a line and a label,
 * and described in a caption beneath. Steps and epochs are whole numbers on the x-axis. The current run's
 * number of points and the x-axis ticks are on the element (data-points, data-x-ticks) for tests.
 */
import { forwardRef, useEffect, useId, useImperativeHandle, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** Drawn lighter (the raw loss under its smoothed curve). */
  faint?: boolean;
  /** Dashed, for validation. */
  dashed?: boolean;
  /** The right-hand axis (accuracy), not the left (loss). */
  right?: boolean;
}

export interface ChartHandle {
  /** Starts a run's series; earlier runs stay on the chart for comparison. */
  startRun(run: number): void;
  /** Adds the current run's values (null: no point) at x = 1, 2, 3… */
  push(x: number, values: (number | null)[]): void;
  /** Marks x with a line labelled `label`; `description` (a sentence) goes in the caption. */
  mark(x: number, label: string, description: string): void;
}

interface Marker {
  x: number;
  label: string;
}

interface Props {
  title: string;
  xLabel: string;
  series: ChartSeries[];
}

const RUN_HUES = [215, 145, 20, 280, 50, 330];
/** Steps and epochs are counted: the x-axis ticks go up in whole numbers only (1, 2, 5, 10, 20, 50…). */
const WHOLE_INCREMENTS = Array.from({ length: 27 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

/** The x-axis tick labels; the ticks are also on the element (data-x-ticks) for tests. */
function wholeTicks(element: HTMLElement, ticks: number[]): string[] {
  element.dataset.xTicks = ticks.join(' ');
  return ticks.map((t) => t.toLocaleString());
}

export const TrainChart = forwardRef<ChartHandle, Props>(function TrainChart({ title, xLabel, series }, ref) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  /** x = 1…n, then one array per series of every run so far. */
  const data = useRef<(number | null)[][]>([[]]);
  const current = useRef({ first: 1, points: 0 });
  const frame = useRef(0);
  const markers = useRef<Marker[]>([]);
  const [captions, setCaptions] = useState<string[]>([]);
  const captionId = useId();

  useEffect(() => {
    const element = host.current!;
    const right = series.some((s) => s.right);
    // uPlot draws its axes on the canvas in black unless told: the theme's colours, read once and again
    // when the theme changes (not on each draw, see the markers below), so they stay readable on dark.
    const ink = { text: '', grid: '' };
    const readInk = () => {
      const style = getComputedStyle(element);
      ink.text = style.getPropertyValue('--text').trim() || '#000';
      ink.grid = style.getPropertyValue('--border').trim() || '#ddd';
    };
    readInk();
    const axis = { stroke: () => ink.text, grid: { stroke: () => ink.grid }, ticks: { stroke: () => ink.grid } };
    const chart = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: 160,
        legend: { live: true },
        scales: { x: { time: false }, ...(right ? { acc: { range: [0, 1] as [number, number] } } : {}) },
        axes: [
          { ...axis, label: xLabel, size: 36, incrs: WHOLE_INCREMENTS, values: (_, ticks) => wholeTicks(element, ticks) },
          { ...axis, label: 'loss', size: 48 },
          ...(right ? [{ ...axis, scale: 'acc', side: 1 as const, label: 'accuracy', size: 48 }] : []),
        ],
        series: [{ label: xLabel }],
        // The theme's colour is read only when there is a marker to draw: reading styles on every draw
        // (each training step) made the page recompute them each time.
        hooks: { draw: [(u) => markers.current.length > 0 && drawMarkers(u, markers.current, getComputedStyle(element).getPropertyValue('--error').trim() || 'red')] },
      },
      data.current as uPlot.AlignedData,
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 160 }));
    resize.observe(element);
    const theme = new MutationObserver(() => {
      readInk();
      // An empty chart has drawn no axes yet (uPlot fails to redraw them); its first points will read the ink.
      if (data.current[0].length > 0) chart.redraw(false);
    });
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => {
      resize.disconnect();
      theme.disconnect();
      cancelAnimationFrame(frame.current);
      chart.destroy();
    };
    // The chart is made once; runs add series to it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useImperativeHandle(ref, () => {
    const redraw = () => {
      if (frame.current) return;
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        plot.current?.setData(data.current as uPlot.AlignedData);
        host.current?.setAttribute('data-points', String(current.current.points));
      });
    };
    return {
      startRun(run) {
        const hue = RUN_HUES[(run - 1) % RUN_HUES.length];
        current.current = { first: data.current.length, points: 0 };
        for (const s of series) {
          data.current.push(data.current[0].map(() => null));
          // Every option given a value or left out: uPlot takes an explicit undefined (scale, dash) as a value.
          plot.current?.addSeries(
            { label: `${s.label} (run ${run})`, stroke: `hsl(${hue} 65% ${s.faint ? 75 : 45}%)`, width: 1.5, spanGaps: true, ...(s.dashed ? { dash: [6, 4] } : {}), scale: s.right ? 'acc' : 'y' },
            data.current.length - 1,
          );
        }
        redraw();
      },
      push(x, values) {
        const d = data.current;
        while (d[0].length < x) for (let i = 0; i < d.length; i++) d[i].push(i === 0 ? d[0].length + 1 : null);
        values.forEach((v, i) => (d[current.current.first + i][x - 1] = v));
        current.current.points++;
        redraw();
      },
      mark(x, label, description) {
        // The marked x may lie past the last point (no loss is recorded for a NaN step): the axis reaches it.
        const d = data.current;
        while (d[0].length < x) for (let i = 0; i < d.length; i++) d[i].push(i === 0 ? d[0].length + 1 : null);
        markers.current.push({ x, label });
        setCaptions((c) => [...c, description]);
        redraw();
      },
    };
  });

  return (
    <>
      <div className="train-chart" role="figure" aria-label={title} aria-describedby={captions.length > 0 ? captionId : undefined} ref={host} data-points="0" />
      {captions.length > 0 && (
        <p id={captionId} className="train-chart-caption">
          {captions.join(' ')}
        </p>
      )}
    </>
  );
});

/** A dashed vertical line with its label at each marker, in the theme's error colour. */
function drawMarkers(u: uPlot, markers: Marker[], colour: string): void {
  const ctx = u.ctx;
  const { top, height } = u.bbox;
  const px = uPlot.pxRatio;
  ctx.save();
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = 2 * px;
  ctx.setLineDash([4 * px, 3 * px]);
  ctx.font = `${11 * px}px system-ui, sans-serif`;
  ctx.textAlign = 'right';
  for (const m of markers) {
    const x = Math.round(u.valToPos(m.x, 'x', true));
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
    ctx.fillText(m.label, x - 4 * px, top + 12 * px);
  }
  ctx.restore();
}
