// Cairn: started from this checkout (packages/cli/bin/cairn.js) against a fresh data dir, on
// SQLite, or (`cairn-pg`, with `postgresUrl`) on a fresh PostgreSQL schema dropped at the end.
// Writes go through the bulk endpoint /api/cairn/v1/experiments/{key}/metrics; experiments are
// created and charts read through the Comet REST v2 facade, as Comet SDK users would.

import { randomApiKey, startCairnCheckout } from '../cairn-server.mjs';
import { parseJson, request } from '../http.mjs';
import { freshSchema } from '../pg-schema.mjs';
import { summarize } from '../stats.mjs';
import { metricName, timestamp, value } from '../workload.mjs';

const BINARY_TYPE = 'application/vnd.cairn.series';
/** @param {{ binaryReads?: boolean }} opts */
const BINARY_NOTE = (opts) => (opts.binaryReads ? ` (Accept: ${BINARY_TYPE}, binary columns)` : ' (JSON)');

/**
 * @param {{ repoRoot: string, build: boolean, gzip: boolean, binaryReads?: boolean, body?: 'json' | 'binary', nodeArgs?: string[], batchPoints: number, log: (s: string) => void, postgresUrl?: string }} opts
 */
export function cairnDriver(opts) {
  /** @type {ReturnType<typeof startGroup>|undefined} */
  let proc;
  /** @type {Awaited<ReturnType<typeof freshSchema>>|undefined} */
  let schema;
  let base = '';
  const apiKey = randomApiKey();
  const comet = (path) => `${base}/api/rest/v2/${path}`;
  const v1 = (key, rest = '') => `${base}/api/cairn/v1/experiments/${encodeURIComponent(key)}/metrics${rest}`;
  const bearer = { authorization: `Bearer ${apiKey}` };
  const plain = { authorization: apiKey };

  /** Reads (a) and (b): JSON, or binary columns whose header says how many points follow. */
  const readPoints = async (url) => {
    if (!opts.binaryReads) {
      const r = await request('GET', url, { headers: bearer });
      return { ms: r.ms, points: parseJson(r.text).steps.length };
    }
    const r = await request('GET', url, { headers: { ...bearer, accept: BINARY_TYPE }, binary: true });
    if (r.contentType !== BINARY_TYPE || !r.bytes) throw new Error(`asked for ${BINARY_TYPE}, got ${r.contentType}`);
    const headerLength = r.bytes.readUInt32LE(0);
    const { length } = JSON.parse(r.bytes.subarray(4, 4 + headerLength).toString());
    if (r.bytes.length !== Math.ceil((4 + headerLength) / 8) * 8 + length * 44) throw new Error('short binary answer');
    return { ms: r.ms, points: length };
  };

  const driver = {
    name: opts.postgresUrl ? 'cairn-pg' : 'cairn',
    kind: 'http',
    pid: 0,
    dataDir: '',
    version: '',
    /** PostgreSQL: the schema's bytes, measured before it is dropped (the data dir holds blobs only). */
    databaseBytes: /** @type {number|undefined} */ (undefined),
    /** PostgreSQL: the server settings the run had (max_connections, synchronous_commit, …). */
    database: /** @type {Record<string, string>|undefined} */ (undefined),
    /** @type {string|undefined} why the main benchmark cannot run on this checkout */
    unavailable: undefined,
    calls: {
      full: `GET /api/cairn/v1/experiments/{key}/metrics/{name}${BINARY_NOTE(opts)}`,
      page: `GET /api/cairn/v1/experiments/{key}/metrics/{name}?offset=…&limit=1000${BINARY_NOTE(opts)}`,
      downsample: 'GET /api/cairn/v1/experiments/{key}/metrics/{name}/downsample?buckets=1000',
      chart: 'POST /api/rest/v2/experiments/multi-metric-chart (fetchFull:false), one request',
    },

    /** @param {string} workDir */
    async start(workDir) {
      let env = {};
      if (opts.postgresUrl) {
        schema = await freshSchema(opts.repoRoot, opts.postgresUrl);
        driver.database = { ...(await schema.settings()), schema: schema.schema };
        env = { CAIRN_DATABASE_URL: schema.url };
      }
      const started = await startCairnCheckout({ ...opts, workDir, apiKey, env });
      proc = started.proc;
      base = started.url;
      driver.pid = proc.pid;
      driver.dataDir = started.dataDir;
      driver.version = started.version;
      // Fail early, with a clear message, if the bulk endpoint is not in this checkout yet.
      const probe = await fetch(v1('no-such-experiment'), {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json' },
        body: '{"series":[]}',
      });
      const probeText = await probe.text();
      // Fastify's own not-found answer names the route; Cairn's (unknown experiment) does not.
      if (probe.status === 404 && probeText.includes('Route POST:')) {
        // Still worth starting: the Comet single-metric rate can be measured without it.
        driver.unavailable = 'this Cairn checkout has no POST /api/cairn/v1/experiments/{key}/metrics route yet';
      }
    },

    async stop() {
      await proc?.stop();
      proc = undefined;
      if (schema) {
        const dropping = schema;
        schema = undefined;
        driver.databaseBytes = await dropping.sizeBytes();
        await dropping.drop();
      }
    },

    /** @param {string[]} names */
    async createRuns(names) {
      const keys = [];
      for (const experimentName of names) {
        const body = { workspaceName: 'default', projectName: 'bench', experimentName };
        const r = await request('POST', comet('write/experiment/create'), { headers: plain, json: body });
        keys.push(parseJson(r.text).experimentKey);
      }
      return keys;
    },

    /** @param {string} key @param {import('../workload.mjs').Batch} b */
    async writeBatch(key, b) {
      const binary = opts.body === 'binary';
      const column = () => (binary ? new Float64Array(b.stepCount) : new Array(b.stepCount));
      const series = b.metrics.map((m) => {
        const steps = column();
        const values = column();
        const timestamps = column();
        for (let i = 0; i < b.stepCount; i++) {
          const s = b.stepStart + i;
          steps[i] = s;
          values[i] = value(b.run, m, s);
          timestamps[i] = timestamp(b.run, s);
        }
        return { name: metricName(m), context: null, steps, values, timestamps };
      });
      const body = binary
        ? { bytes: { body: encodeMetricsBinary(series), type: 'application/vnd.cairn.metrics' } }
        : { json: { series } };
      const r = await request('POST', v1(key), { headers: bearer, ...body, gzip: opts.gzip });
      const stored = parseJson(r.text).points;
      const sent = b.metrics.length * b.stepCount;
      if (stored !== sent) throw new Error(`Cairn acknowledged ${stored} of ${sent} points`);
      return r.ms;
    },

    /** @param {string} key @param {string} metric */
    async count(key, metric) {
      const r = await request('GET', v1(key, `/${encodeURIComponent(metric)}?offset=0&limit=1`), { headers: bearer });
      return parseJson(r.text).total;
    },

    /** @param {string} key @param {string} metric */
    async readFull(key, metric) {
      return readPoints(v1(key, `/${encodeURIComponent(metric)}`));
    },

    /** @param {string} key @param {string} metric @param {number} i @param {number} total */
    async readPage(key, metric, i, total) {
      const pages = Math.max(1, Math.ceil(total / 1000));
      const offset = (Math.abs(i) % pages) * 1000;
      return readPoints(v1(key, `/${encodeURIComponent(metric)}?offset=${offset}&limit=1000`));
    },

    /** @param {string} key @param {string} metric @param {number} buckets */
    async readDownsampled(key, metric, buckets) {
      const r = await request('GET', v1(key, `/${encodeURIComponent(metric)}/downsample?buckets=${buckets}`), {
        headers: bearer,
      });
      const json = parseJson(r.text);
      const points = Array.isArray(json.buckets) ? json.buckets.length : countNumbers(json, 'values');
      if (points > 4 * buckets) throw new Error(`downsample returned ${points} points for ${buckets} buckets`);
      return { ms: r.ms, points };
    },

    /** @param {string[]} keys @param {string[]} metrics */
    async readChart(keys, metrics) {
      const body = { targetedExperiments: keys, metrics, params: null, independentMetrics: true, fetchFull: false };
      const r = await request('POST', comet('experiments/multi-metric-chart'), { headers: plain, json: body });
      for (const k of keys) if (!r.text.includes(k)) throw new Error(`multi-metric-chart lacks experiment ${k}`);
      return { ms: r.ms, points: countNumbers(parseJson(r.text), 'values') };
    },

    /**
     * The Comet SDK's real write path: one point per request. Separate experiments per writer,
     * as 20 concurrently training clients would have.
     * @param {{ writers: number, maxRequests: number, budgetMs: number }} o
     */
    async cometSingleMetricRate(o) {
      const keys = await driver.createRuns(Array.from({ length: o.writers }, (_, i) => `comet-single-${i}`));
      /** @type {number[]} */
      const lat = [];
      let sent = 0;
      const t0 = performance.now();
      const deadline = t0 + o.budgetMs;
      await Promise.all(
        keys.map(async (experimentKey) => {
          for (let step = 0; sent < o.maxRequests && performance.now() < deadline; step++) {
            sent++;
            const body = {
              experimentKey,
              metricName: 'loss',
              metricValue: value(0, 0, step),
              step,
              timestamp: timestamp(0, step),
            };
            lat.push((await request('POST', comet('write/experiment/metric'), { headers: plain, json: body })).ms);
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      return { requests: lat.length, seconds, requestsPerSecond: lat.length / seconds, latency: summarize(lat) };
    },
  };
  return driver;
}

/**
 * Number of numeric entries in arrays under `field` anywhere in a JSON document: the point
 * count of a chart response whose exact layout we treat as opaque.
 * @param {unknown} node @param {string} field
 */
function countNumbers(node, field) {
  let n = 0;
  const walk = (/** @type {unknown} */ x) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) {
        if (k === field && Array.isArray(v)) n += v.length;
        else walk(v);
      }
    }
  };
  walk(node);
  return n;
}

/**
 * The binary bulk body (docs/api/cairn.md): uint32 LE header length, the JSON header, zero bytes
 * to a multiple of 8, then each series' float64 columns (values, steps, timestamps).
 * @param {{ name: string, context: string|null, steps: Float64Array, values: Float64Array, timestamps: Float64Array }[]} series
 */
function encodeMetricsBinary(series) {
  const header = Buffer.from(
    JSON.stringify({
      series: series.map((s) => ({
        name: s.name,
        context: s.context,
        length: s.values.length,
        steps: true,
        timestamps: true,
      })),
    }),
  );
  const start = Math.ceil((4 + header.length) / 8) * 8;
  const size = start + series.reduce((n, s) => n + 3 * s.values.byteLength, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let at = start;
  for (const s of series) {
    for (const column of [s.values, s.steps, s.timestamps]) {
      // Buffer.alloc is never pooled: offset 0 is 8-byte aligned (this bench runs on x86-64, LE).
      new Float64Array(out.buffer, out.byteOffset + at, column.length).set(column);
      at += column.byteLength;
    }
  }
  return out;
}
