import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { cssVar, onThemeChange } from '../app/theme';
import type { Curve } from './asset-formats';

const HEIGHT = 220;

/** One curve drawn with uPlot in the theme's colors, redrawn when the theme or the width changes. */
export function CurveChart({ curve, title, showTitle }: { curve: Curve; title: string; showTitle: boolean }) {
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
      {showTitle && <div className="curve-title">{title}</div>}
      <div ref={box} className="curve-plot" role="img" aria-label={`Curve ${title}: ${curve.x.length} points`} />
    </div>
  );
}
