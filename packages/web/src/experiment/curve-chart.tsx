import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { cssVar, onThemeChange } from '../app/theme';

/** A curve as comet_ml's `log_curve` uploads it (type `curve`): `{ x: number[], y: number[], name }`. */
export interface Curve {
  name: string | null;
  x: number[];
  y: number[];
}

export function parseCurve(text: string): Curve | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const { x, y, name } = json as Record<string, unknown>;
  if (!Array.isArray(x) || !Array.isArray(y)) return null;
  const length = Math.min(x.length, y.length);
  // uPlot wants x ascending: sort the pairs (a ROC or PR curve can come in either direction).
  const pairs = Array.from({ length }, (_, i) => [Number(x[i]), Number(y[i])] as const).sort((a, b) => a[0] - b[0]);
  return { name: typeof name === 'string' ? name : null, x: pairs.map((p) => p[0]), y: pairs.map((p) => p[1]) };
}

const HEIGHT = 220;

/** One curve drawn with uPlot in the theme's colors, redrawn when the theme or the width changes. */
export function CurveChart({ curve, title }: { curve: Curve; title: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    let plot: uPlot | null = null;
    const draw = () => {
      plot?.destroy();
      const axis = { stroke: cssVar('--chart-axis'), grid: { stroke: cssVar('--chart-grid') }, ticks: { show: false } };
      plot = new uPlot(
        {
          width: Math.max(200, element.clientWidth),
          height: HEIGHT,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: false } },
          axes: [axis, axis],
          series: [{}, { label: title, stroke: cssVar('--accent'), width: 2, points: { show: curve.x.length <= 50 } }],
        },
        [curve.x, curve.y],
        element,
      );
    };
    draw();
    const stopTheme = onThemeChange(draw);
    const resize = new ResizeObserver(() =>
      plot?.setSize({ width: Math.max(200, element.clientWidth), height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      stopTheme();
      resize.disconnect();
      plot?.destroy();
    };
  }, [curve, title]);
  return (
    <div className="curve">
      <div className="curve-title">{title}</div>
      <div ref={box} className="curve-plot" role="img" aria-label={`Curve ${title}: ${curve.x.length} points`} />
    </div>
  );
}
