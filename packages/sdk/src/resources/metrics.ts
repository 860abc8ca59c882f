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

const enc = encodeURIComponent;

export interface PointsParams {
  offset?: number;
  limit?: number;
  stepFrom?: number;
  stepTo?: number;
}

/** `…/experiments/{key}/metrics`: the bulk path and exact reads. */
export interface MetricsResource {
  /** Every series of the experiment with its exact summary (count, min, max, last). */
  list(key: string, options?: RequestOptions): Promise<SeriesSummary[]>;
  /** One page of a series' points as the server sends them (non-finite values as strings). */
  points(key: string, name: string, params?: PointsParams, options?: RequestOptions): Promise<SeriesPoints>;
  downsample(key: string, name: string, params?: { buckets?: number }, options?: RequestOptions): Promise<Downsampled>;
  /**
   * The bulk path, one request. Pass an `idempotencyKey` that names the batch to make replays of
   * it exactly-once (one is minted per call otherwise, which covers this call's own retries).
   */
  log(key: string, body: LogSeriesRequest, options?: RequestOptions): Promise<LogSeriesResult>;
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
  query(body: SeriesQuery, options?: RequestOptions): Promise<SeriesQueryResult>;
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
  });
}
