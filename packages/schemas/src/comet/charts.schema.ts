import { Type } from '@sinclair/typebox';
import { Nullable, OptionalNullable } from './common.schema.js';

/** POST /experiments/multi-metric-chart (spec §3.3 #11). */
export const MultiMetricChartBody = Type.Object({
  targetedExperiments: Type.Array(Type.String({ minLength: 1 })),
  metrics: OptionalNullable(Type.Array(Type.String({ minLength: 1 }))),
  params: OptionalNullable(Type.Array(Type.String({ minLength: 1 }))),
  independentMetrics: OptionalNullable(Type.Boolean()),
  fetchFull: OptionalNullable(Type.Boolean()),
});

/** Non-finite values travel as strings: JSON has no NaN or Infinity. */
const ChartValue = Type.Unsafe<number | string>({ type: ['number', 'string'] });

export const ChartMetric = Type.Object({
  metricName: Type.String(),
  values: Type.Array(ChartValue),
  steps: Type.Array(Nullable(Type.Integer())),
  timestamps: Type.Array(Type.Integer()),
  /** durations[0] = 0, then the gap since the previous point's timestamp. */
  durations: Type.Array(Type.Integer()),
  epochs: Type.Null(),
});

export const ChartExperiment = Type.Object({
  experimentKey: Type.String(),
  steps: Type.Array(Type.Integer()),
  epochs: Type.Null(),
  metrics: Type.Array(ChartMetric),
  params: Nullable(Type.Record(Type.String(), Type.String())),
});

export const MultiMetricChartResponse = Type.Object({
  experiments: Type.Record(Type.String(), ChartExperiment),
  empty: Type.Boolean(),
});
