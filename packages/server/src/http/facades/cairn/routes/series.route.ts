import { Problem, SeriesQueryBody, SeriesQueryQuery, SeriesQueryReply } from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import type { SeriesWindow } from '../../../../core/entities.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';
import { encodeSeriesBinary, SERIES_BINARY_MEDIA_TYPE } from './series-binary.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

/**
 * A typed column as a plain array, which JSON.stringify can write. Copied by a loop: Array.from
 * goes through the iterator protocol and costs several times as much on a dashboard's 10^5 values.
 */
function plain(column: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < column.length; i++) out.push(column[i] as number);
  return out;
}

/**
 * Non-finite values travel as strings: JSON has no NaN or Infinity. A column of finite values
 * (the usual case) becomes an array of unboxed doubles, one allocation instead of one per value.
 */
function wireValues(column: Float64Array): (number | string)[] {
  for (let i = 0; i < column.length; i++) {
    const v = column[i] as number;
    // v − v is NaN exactly when v is NaN or ±Infinity.
    if (v - v !== 0) return Array.from(column, (w) => (Number.isFinite(w) ? w : String(w)));
  }
  return plain(column);
}

function wireWindow(window: SeriesWindow) {
  const base = {
    experiment: window.experimentId,
    metric: window.metric,
    total: window.total,
    inRange: window.inRange,
  };
  if (window.exact) return { ...base, exact: true as const, x: plain(window.x), values: wireValues(window.values) };
  return {
    ...base,
    exact: false as const,
    x0: plain(window.x0),
    x1: plain(window.x1),
    first: wireValues(window.first),
    last: wireValues(window.last),
    min: wireValues(window.min),
    max: wireValues(window.max),
    mean: wireValues(window.mean),
    count: plain(window.count),
  };
}

export function registerSeriesRoutes(app: CairnApp, core: Core): void {
  /**
   * POST /api/cairn/v1/series/query?format= — many metrics of many experiments over one x range:
   * exact points when the range holds no more than `buckets`, else first/last/min/max/mean/count
   * per bucket; as JSON, or (`format=binary`) as float64 columns, which need no number formatting.
   */
  app.post(
    '/series/query',
    {
      schema: {
        querystring: SeriesQueryQuery,
        body: SeriesQueryBody,
        response: { 200: SeriesQueryReply, ...errors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const windows = await core.metrics.querySeries(principalOf(request), body);
      if (request.query.format === 'binary') {
        return reply.type(SERIES_BINARY_MEDIA_TYPE).send(encodeSeriesBinary(body.x ?? 'step', windows));
      }
      // A dashboard's answer holds 10^5–10^6 numbers: native JSON.stringify of plain arrays beats
      // the schema serializer (as for metrics.route's history reads). Each series is encoded on
      // its own, so its arrays and text die young instead of the whole answer being held twice,
      // and the answer goes out as one Buffer, which Node writes to the socket ~10 ms faster
      // than a multi-megabyte string.
      const parts: Buffer[] = [Buffer.from(`{"x":${JSON.stringify(body.x ?? 'step')},"series":[`)];
      windows.forEach((window, i) => {
        parts.push(Buffer.from(`${i > 0 ? ',' : ''}${JSON.stringify(wireWindow(window))}`));
      });
      parts.push(Buffer.from(']}'));
      return reply.type('application/json; charset=utf-8').send(Buffer.concat(parts));
    },
  );
}
