/**
 * A live line chart (uPlot): the panel appends points as events arrive, and the chart redraws at most
 * once per animation frame, so it keeps up with training without slowing the page. Hovering shows the
 * values in the legend. The number of points drawn is on the element (data-points) for tests.
 */
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  /** Dashed, for validation. */
  dashed?: boolean;
  /** The right-hand axis (accuracy), not the left (loss). */
  right?: boolean;
}

export interface ChartHandle {
  /** Adds one x value and a value per series (null: no point). */
  push(x: number, values: (number | null)[]): void;
  clear(): void;
}

interface Props {
  title: string;
  xLabel: string;
  series: ChartSeries[];
}

export const TrainChart = forwardRef<ChartHandle, Props>(function TrainChart({ title, xLabel, series }, ref) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = useRef<(number | null)[][]>([[], ...series.map(() => [])]);
  const frame = useRef(0);

  useEffect(() => {
    const element = host.current!;
    const right = series.some((s) => s.right);
    const chart = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: 160,
        legend: { live: true },
        scales: { x: { time: false }, ...(right ? { acc: { range: [0, 1] as [number, number] } } : {}) },
        axes: [{ label: xLabel, size: 36 }, { label: 'loss', size: 48 }, ...(right ? [{ scale: 'acc', side: 1 as const, label: 'accuracy', size: 48 }] : [])],
        series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, dash: s.dashed ? [6, 4] : undefined, scale: s.right ? 'acc' : undefined, spanGaps: true }))],
      },
      data.current as uPlot.AlignedData,
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, element.clientWidth), height: 160 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      cancelAnimationFrame(frame.current);
      chart.destroy();
    };
    // The chart is made once; its series are fixed for the panel's life.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useImperativeHandle(ref, () => {
    const redraw = () => {
      if (frame.current) return;
      frame.current = requestAnimationFrame(() => {
        frame.current = 0;
        plot.current?.setData(data.current as uPlot.AlignedData);
        host.current?.setAttribute('data-points', String(data.current[0].length));
      });
    };
    return {
      push(x, values) {
        data.current[0].push(x);
        values.forEach((v, i) => data.current[i + 1].push(v));
        redraw();
      },
      clear() {
        data.current = [[], ...series.map(() => [])];
        redraw();
      },
    };
  });

  return <div className="train-chart" role="figure" aria-label={title} ref={host} data-points="0" />;
});
