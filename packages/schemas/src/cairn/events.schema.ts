import { type Static, Type } from '@sinclair/typebox';
import { Experiment } from './experiments.schema.js';
import { Asset } from './logged.schema.js';

/**
 * Live events (`GET …/events`, Server-Sent Events). The stream itself is text; these schemas
 * describe the request and the JSON `data` of each event type, for clients that parse them.
 */

const MetricValue = Type.Unsafe<number | string>({ type: ['number', 'string'] });
const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });

export const ExperimentEventsParams = Type.Object({ experimentKey: Type.String({ minLength: 1 }) });
export const ProjectEventsParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  project: Type.String({ minLength: 1 }),
});

/** The id of the last event received: the stream resumes after it (browsers send it on reconnect). */
export const EventsHeaders = Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 200 })) });

/** `event: experiment`: created, or its name, status, archived flag, times or tags changed. */
export const ExperimentEventData = Type.Object({ experiment: Experiment });

const PointsSeries = Type.Object({
  name: Type.String(),
  context: NullableString,
  offsets: Type.Array(Type.Integer()),
  steps: Type.Array(NullableInteger),
  values: Type.Array(MetricValue),
  timestamps: Type.Array(Type.Integer()),
  epochs: Type.Array(NullableInteger),
});

/** A series' share of a batch too large to carry: read `GET …/metrics/{name}?offset={fromOffset}&limit={count}`. */
const PointsRange = Type.Object({ name: Type.String(), fromOffset: Type.Integer(), count: Type.Integer() });

/** `event: points`: a committed batch, per (metric, context), or as ranges when over 2,000 points. */
export const PointsEventData = Type.Union([
  Type.Object({ experiment: Type.String(), truncated: Type.Literal(false), series: Type.Array(PointsSeries) }),
  Type.Object({ experiment: Type.String(), truncated: Type.Literal(true), series: Type.Array(PointsRange) }),
]);
export type PointsEventData = Static<typeof PointsEventData>;

/** `event: values`: parameters or others logged under these names. */
export const ValuesEventData = Type.Object({
  experiment: Type.String(),
  kind: Type.Union([Type.Literal('param'), Type.Literal('other')]),
  names: Type.Array(Type.String()),
});

/** `event: heartbeat`: the run's client is alive. */
export const HeartbeatEventData = Type.Object({ experiment: Type.String(), lastHeartbeat: Type.Integer() });

/** `event: asset`: an asset was uploaded. */
export const AssetEventData = Type.Object({ experiment: Type.String(), asset: Asset });

/** `event: reset`: events were missed; re-read, then keep following. */
export const ResetEventData = Type.Object({});
