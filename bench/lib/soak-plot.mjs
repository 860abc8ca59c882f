// The soak's plot: server memory (RSS, V8 heap) and p99 latencies per sampling window over time.
// Separate from soak.mjs so a plot can be redrawn from a result's JSON:
//   node -e "import('./bench/lib/soak-plot.mjs').then(async (m) => { … m.soakSvg(summaryFields) … })"

import { lineChartSvg } from './svg-chart.mjs';

const LOGGING_OPS = ['comet-log', 'mlflow-log', 'cairn-log'];

/**
 * @param {{ minutes: number, date: string, warmupSeconds: number, sampleSeconds: number, samples: any[] }} run
 * @returns {string} an SVG document
 */
export function soakSvg({ minutes, date, warmupSeconds, sampleSeconds, samples }) {
  const at = (/** @type {any} */ s) => s.t / 60;
  const line = (/** @type {(s: any) => number|null|undefined} */ get) =>
    samples.map((s) => /** @type {[number, number]} */ ([at(s), get(s) ?? Number.NaN]));
  return lineChartSvg({
    title: `Cairn soak, ${minutes} min of mixed traffic (${date})`,
    xLabel: 'minutes',
    marks: warmupSeconds > 0 ? [{ x: warmupSeconds / 60, label: 'end of warm-up' }] : [],
    panels: [
      {
        yLabel: 'MiB',
        yMin: 0,
        series: [
          { label: 'server RSS', color: '#1f77b4', points: line((s) => s.rssMiB) },
          { label: 'V8 heap used', color: '#2ca02c', points: line((s) => s.heapUsedMiB) },
          // Recorded from the fourth run on; older results leave the line out.
          ...(samples.some((s) => s.heapTotalMiB != null)
            ? [{ label: 'V8 heap committed', color: '#98df8a', points: line((s) => s.heapTotalMiB) }]
            : []),
          { label: 'C heap ([heap] resident)', color: '#8c564b', points: line((s) => s.mallocHeapMiB) },
        ],
      },
      {
        yLabel: `ms (p99 per ${sampleSeconds} s window)`,
        yMin: 0,
        series: [
          { label: 'all requests p99', color: '#d62728', points: line((s) => s.allRequests.p99) },
          { label: 'series query p99', color: '#9467bd', points: line((s) => s.ops['series-query']?.p99) },
          {
            label: 'metric logging p99 (worst API)',
            color: '#ff7f0e',
            points: line((s) => {
              const p99s = LOGGING_OPS.map((o) => s.ops[o]?.p99).filter((x) => typeof x === 'number');
              return p99s.length ? Math.max(...p99s) : null;
            }),
          },
          { label: 'event-loop delay p99', color: '#17becf', points: line((s) => s.eventLoopDelayMs?.p99) },
        ],
      },
    ],
  });
}
