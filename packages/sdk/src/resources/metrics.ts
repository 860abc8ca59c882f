import { UnsupportedMediaTypeError } from '../core/errors.js';
import type { HttpClient, RequestOptions } from '../core/http.js';
import type {
  Downsampled,
  LogSeriesRequest,
  LogSeriesResult,
  SeriesPoints,
  SeriesQuery,
  SeriesQueryResult,
  SeriesSummary,
  WireMetricValue,
} from '../types.js';
import {
  encodeMetricsBinary,
  METRICS_BINARY_MEDIA_TYPE,
  metricsJsonBody,
  type SeriesColumns,
} from './metrics-binary.js';

const enc = encodeURIComponent;

export interface PointsParams {
  offset?: number;
  limit?: number;
  stepFrom?: number;
  stepTo?: number;
}

/** `…/experiments/{key}/metrics`: the bulk path and exact reads. */
export interface MetricsResource {
  /** Every series with its exact summary: count, and min, max and last as points (value, step, timestamp, context). */
  list(key: string, options?: RequestOptions): Promise<SeriesSummary[]>;
  /** One page of a series' points as the server sends them (non-finite values as strings). */
  points(key: string, name: string, params?: PointsParams, options?: RequestOptions): Promise<SeriesPoints>;
  downsample(key: string, name: string, params?: { buckets?: number }, options?: RequestOptions): Promise<Downsampled>;
  /**
   * The bulk path, one request. Pass an `idempotencyKey` that names the batch to make replays of
   * it exactly-once (one is minted per call otherwise, which covers this call's own retries).
   */
  log(key: string, body: LogSeriesRequest, options?: RequestOptions): Promise<LogSeriesResult>;
  /**
   * The bulk path from typed columns, sent as `application/vnd.cairn.metrics` (float64 columns: no
   * number is formatted or parsed as text). A server that does not take that body (415) is sent
   * the same points as JSON. NaN in steps, timestamps or epochs means "not given"; non-finite
   * values need `allowNonFinite`.
   */
  logColumns(
    key: string,
    series: readonly SeriesColumns[],
    options?: RequestOptions & { allowNonFinite?: boolean },
  ): Promise<LogSeriesResult>;
}

/** Every point of a series, columnar; values are numbers again (NaN and ±Infinity included). */
export interface Series {
  name: string;
  /** Points in the series (all of them, also when a step range was asked). */
  total: number;
  offsets: number[];
  steps: (number | null)[];
  values: number[];
  timestamps: number[];
  epochs: (number | null)[];
  contexts: (string | null)[];
}

export interface SeriesParams {
  stepFrom?: number;
  stepTo?: number;
  /** Points per request (default 50,000). */
  pageSize?: number;
}

/**
 * `cairn.series(key, name)` reads every point of a series (page by page); `cairn.series.query()`
 * reads chart series of many experiments, bucketed on the server.
 */
export interface SeriesResource {
  (key: string, name: string, params?: SeriesParams, options?: RequestOptions): Promise<Series>;
  /** Chart series as JSON (non-finite values as strings). */
  query(body: SeriesQuery, options?: RequestOptions): Promise<SeriesQueryResult>;
  /**
   * The same chart series as typed arrays, read in the API's binary format: nothing is formatted
   * as text on either side, so a dashboard's worth of series arrives several times faster than as
   * JSON. NaN and ±Infinity are plain numbers.
   */
  columns(body: SeriesQuery, options?: RequestOptions): Promise<ChartColumns>;
}

interface ColumnsBase {
  experiment: string;
  metric: string;
  /** Points in the whole series. */
  total: number;
  /** Points of the series within the requested x range. */
  inRange: number;
}

/** Every point in range. */
export interface ExactColumns extends ColumnsBase {
  exact: true;
  x: Float64Array;
  values: Float64Array;
}

/** One entry per non-empty bucket, in x order. */
export interface BucketedColumns extends ColumnsBase {
  exact: false;
  x0: Float64Array;
  x1: Float64Array;
  first: Float64Array;
  last: Float64Array;
  min: Float64Array;
  max: Float64Array;
  mean: Float64Array;
  count: Float64Array;
}

export interface ChartColumns {
  x: SeriesQueryResult['x'];
  series: (ExactColumns | BucketedColumns)[];
}

const EXACT_COLUMNS = ['x', 'values'] as const;
const BUCKET_COLUMNS = ['x0', 'x1', 'first', 'last', 'min', 'max', 'mean', 'count'] as const;

/**
 * Decodes `application/vnd.cairn.series` (docs/api/cairn.md): a little-endian uint32 header
 * length, the JSON header, zeros to a multiple of 8, then each series' columns as little-endian
 * float64. On little-endian machines (all of today's) the columns are views of the answer's bytes.
 */
export function decodeChartColumns(buffer: ArrayBuffer): ChartColumns {
  const view = new DataView(buffer);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, headerLength))) as {
    x: ChartColumns['x'];
    series: (ColumnsBase & { exact: boolean; length: number })[];
  };
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  let at = Math.ceil((4 + headerLength) / 8) * 8;
  const column = (length: number): Float64Array => {
    let values: Float64Array;
    if (littleEndian) values = new Float64Array(buffer, at, length);
    else {
      values = new Float64Array(length);
      for (let i = 0; i < length; i++) values[i] = view.getFloat64(at + 8 * i, true);
    }
    at += 8 * length;
    return values;
  };
  const series = header.series.map(({ length, exact, ...base }) => {
    const names = exact ? EXACT_COLUMNS : BUCKET_COLUMNS;
    const columns = Object.fromEntries(names.map((name) => [name, column(length)]));
    return { ...base, exact, ...columns } as ExactColumns | BucketedColumns;
  });
  return { x: header.x, series };
}

export function metricsResource(http: HttpClient): MetricsResource {
  const base = (key: string) => `/experiments/${enc(key)}/metrics`;
  return {
    async list(key, options) {
      return (await http.request<{ series: SeriesSummary[] }>({ method: 'GET', path: base(key) }, options)).series;
    },
    points(key, name, params = {}, options) {
      return http.request<SeriesPoints>(
        { method: 'GET', path: `${base(key)}/${enc(name)}`, query: { ...params } },
        options,
      );
    },
    downsample(key, name, params = {}, options) {
      return http.request<Downsampled>(
        { method: 'GET', path: `${base(key)}/${enc(name)}/downsample`, query: { buckets: params.buckets } },
        options,
      );
    },
    log(key, body, options) {
      return http.request<LogSeriesResult>({ method: 'POST', path: base(key), json: body }, options);
    },
    async logColumns(key, series, options = {}) {
      const { allowNonFinite, ...requestOptions } = options;
      const bytes = encodeMetricsBinary(series, allowNonFinite);
      try {
        return await http.request<LogSeriesResult>(
          {
            method: 'POST',
            path: base(key),
            body: () => bytes,
            headers: { 'content-type': METRICS_BINARY_MEDIA_TYPE },
          },
          requestOptions,
        );
      } catch (error) {
        // A server from before the binary body: nothing was stored, so the JSON body may follow.
        if (!(error instanceof UnsupportedMediaTypeError)) throw error;
        const json = metricsJsonBody(series, allowNonFinite);
        return http.request<LogSeriesResult>({ method: 'POST', path: base(key), json }, requestOptions);
      }
    },
  };
}

/** "NaN", "Infinity", "-Infinity" (and numbers) as numbers. */
export function metricNumber(value: WireMetricValue): number {
  return typeof value === 'number' ? value : Number(value);
}

export function seriesResource(http: HttpClient, metrics: MetricsResource): SeriesResource {
  const read = async (key: string, name: string, params: SeriesParams = {}, options?: RequestOptions) => {
    const limit = params.pageSize ?? 50_000;
    const out: Series = {
      name,
      total: 0,
      offsets: [],
      steps: [],
      values: [],
      timestamps: [],
      epochs: [],
      contexts: [],
    };
    for (let offset = 0; ; ) {
      const page = await metrics.points(
        key,
        name,
        { offset, limit, stepFrom: params.stepFrom, stepTo: params.stepTo },
        options,
      );
      out.total = page.total;
      const n = page.values.length;
      for (let i = 0; i < n; i++) {
        out.offsets.push(page.offsets[i] as number);
        out.steps.push(page.steps[i] ?? null);
        out.values.push(metricNumber(page.values[i] as WireMetricValue));
        out.timestamps.push(page.timestamps[i] as number);
        out.epochs.push(page.epochs[i] ?? null);
        out.contexts.push(page.contexts[i] ?? null);
      }
      offset += n;
      if (n < limit) return out;
    }
  };
  return Object.assign(read, {
    query(body: SeriesQuery, options?: RequestOptions) {
      return http.request<SeriesQueryResult>(
        { method: 'POST', path: '/series/query', json: body, idempotent: true },
        options,
      );
    },
    async columns(body: SeriesQuery, options?: RequestOptions) {
      const bytes = await http.bytes(
        { method: 'POST', path: '/series/query', query: { format: 'binary' }, json: body, idempotent: true },
        options,
      );
      return decodeChartColumns(bytes);
    },
  });
}
