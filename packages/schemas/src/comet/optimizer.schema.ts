import { Type } from '@sinclair/typebox';
import { Nullable } from './common.schema.js';

/** `get-best-experiment` (spec §3.7 #51); `goal` is MIN or MAX, in any letter case. */
export const BestExperimentQuery = Type.Object({
  optimizationId: Type.String({ minLength: 1 }),
  metricName: Type.String({ minLength: 1 }),
  goal: Type.String({ pattern: '^([Mm][Ii][Nn]|[Mm][Aa][Xx])$' }),
});

/** Key and value are null when no experiment of the optimization logged the metric. */
export const BestExperimentResponse = Type.Object({
  experimentKey: Nullable(Type.String()),
  metricValue: Nullable(Type.Number()),
  experimentCount: Type.Integer(),
});
