import { type ChartExperiment, CometError, MultiMetricChartBody, MultiMetricChartResponse } from '@cairn/schemas/comet';
import type { Static } from '@sinclair/typebox';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** Charts across experiments (spec §3.3 #11), read from the series engine. */
export function registerChartRoutes({ app, core }: CometRouteContext): void {
  /** POST /experiments/multi-metric-chart */
  app.post(
    '/experiments/multi-metric-chart',
    { schema: { body: MultiMetricChartBody, response: { 200: MultiMetricChartResponse, ...errors } } },
    async (request) => {
      const body = request.body;
      const charts = await core.charts.chart(principalOf(request), {
        experimentKeys: body.targetedExperiments,
        metrics: body.metrics ?? null,
        params: body.params ?? null,
        // comet_ml's get_metrics_for_chart defaults: independent, sampled.
        independent: body.independentMetrics ?? true,
        full: body.fetchFull ?? false,
      });
      const experiments: Record<string, Static<typeof ChartExperiment>> = {};
      let empty = true;
      for (const chart of charts) {
        experiments[chart.experimentKey] = {
          experimentKey: chart.experimentKey,
          steps: chart.steps,
          epochs: null,
          params: chart.params,
          metrics: chart.metrics.map((metric) => {
            if (metric.points.length > 0) empty = false;
            return {
              metricName: metric.name,
              values: metric.points.map((p) => (Number.isFinite(p.value) ? p.value : String(p.value))),
              steps: metric.points.map((p) => p.step),
              timestamps: metric.points.map((p) => p.timestamp),
              durations: metric.points.map((p, i) =>
                i === 0 ? 0 : p.timestamp - (metric.points[i - 1]?.timestamp ?? 0),
              ),
              epochs: null,
            };
          }),
        };
      }
      // With no values at all Comet answers {"experiments":{},"empty":true} (RR fixture).
      return { experiments: empty ? {} : experiments, empty };
    },
  );
}
