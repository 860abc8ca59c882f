#!/usr/bin/env node
// Cairn benchmark harness (issue #3): npm run bench -- <S|M|Long|L> [--peers cairn,mlflow,fasttrackml,aim]
// the experiment search and table benchmark (issue #5): npm run bench -- search [--experiments N],
// the output paging benchmark: npm run bench -- output [--lines N] [--database-url URL],
// the chart read benchmark: npm run bench -- charts [--runs N --metrics N --steps N]
// the SDK benchmark: npm run bench -- sdk [--points N] [--repeats N]
// the export/import benchmark: npm run bench -- export [--points N] [--asset-mib N] [--repeats N]
// the web UI benchmark in headless Chromium: npm run bench -- ui [--runs N --experiments N]
// the soak run of mixed traffic: npm run bench -- soak [--minutes 30]
// and one, then two Cairn nodes on one PostgreSQL: npm run bench -- scale-out [--nodes 2]
// and single writes against /healthz in one run: npm run bench -- single-writes [--writers 20]
// Systems run one at a time (server + load generator together, 2 cores): same shape, same data.
// See bench/README.md for what is measured and the caveats.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { aimDriver } from './lib/drivers/aim.mjs';
import { cairnDriver } from './lib/drivers/cairn.mjs';
import { cairnMlflowDriver } from './lib/drivers/cairn-mlflow.mjs';
import { MLFLOW_MAX_BATCH, mlflowDriver } from './lib/drivers/mlflow.mjs';
import { completeSeries, expectedCounts, ingest } from './lib/ingest.mjs';
import { DEFAULT_POSTGRES_URL } from './lib/pg-schema.mjs';
import { diskUsage, sampleRss } from './lib/proc.mjs';
import { markdown } from './lib/report.mjs';
import { resolveShape, totalPoints } from './lib/shapes.mjs';
import { measure, summarize } from './lib/stats.mjs';
import { FIXTURE, metricName, planBatches, planStreams, range, sampleSeries } from './lib/workload.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const ALL_PEERS = ['cairn', 'mlflow', 'fasttrackml', 'aim'];
/**
 * Run only when named: Cairn again, driven through MLflow's REST API instead of its own
 * (`cairn-mlflow`), and Cairn on PostgreSQL instead of SQLite (`cairn-pg`).
 */
const KNOWN_PEERS = [...ALL_PEERS, 'cairn-mlflow', 'cairn-pg'];
/** Cairn driven through its own bulk endpoint, on either database: `--cairn-batch` applies. */
const CAIRN_API_PEERS = ['cairn', 'cairn-pg'];
/** Systems written through MLflow's runs/log-batch, which caps a request at 1000 metrics. */
const MLFLOW_API_PEERS = ['mlflow', 'fasttrackml', 'cairn-mlflow'];

const USAGE = `usage: npm run bench -- <S|M|Long|L> [options]

  --peers LIST            systems to run, in order (default ${ALL_PEERS.join(',')});
                          cairn-mlflow is Cairn written and read through MLflow's REST API;
                          cairn-pg is Cairn on PostgreSQL (a fresh schema, dropped after)
  --postgres-url URL      PostgreSQL for cairn-pg (default ${DEFAULT_POSTGRES_URL})
  --writers N             concurrent writers (default 20)
  --batch N               points per write request, all systems (default 1000 = MLflow's cap)
  --cairn-batch N         points per request for Cairn only (default: --batch)
  --cairn-gzip            gzip Cairn's write bodies
  --cairn-binary-reads    reads (a) and (b) ask Cairn for binary columns (Accept: application/vnd.cairn.series)
  --node-args "FLAGS"     extra Node flags for the Cairn server, e.g. "--cpu-prof --cpu-prof-dir=DIR"
  --cairn-body json|binary  Cairn's write body: JSON columns or application/vnd.cairn.metrics (default json)
  --max-ingest SEC        per-system ingest time limit; past it the run is a measured prefix (default 900)
  --iterations N          iterations per read measurement (default 200)
  --read-budget SEC       time limit per read measurement (default 60)
  --runs/--metrics/--steps N   override the shape's dimensions (printed in the report)
  --full                  L at its nominal 1,500 runs (default: scaled down, see report)
  --mlflow-workers N      MLflow server worker processes (default 1)
  --venv DIR              where the peers' virtualenvs live (default bench/.venv)
  --no-build              do not run \`npx tsc -b\` before starting Cairn
  --keep-data             keep each system's data directory (printed) instead of deleting it
  --out FILE              summary JSON (default bench/results/<shape>-<timestamp>.json)`;

function parseCli(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      peers: { type: 'string', default: ALL_PEERS.join(',') },
      writers: { type: 'string', default: '20' },
      batch: { type: 'string', default: String(MLFLOW_MAX_BATCH) },
      'cairn-batch': { type: 'string' },
      'cairn-gzip': { type: 'boolean', default: false },
      'postgres-url': { type: 'string', default: DEFAULT_POSTGRES_URL },
      'cairn-binary-reads': { type: 'boolean', default: false },
      'cairn-body': { type: 'string', default: 'json' },
      'node-args': { type: 'string', default: '' },
      'max-ingest': { type: 'string', default: '900' },
      iterations: { type: 'string', default: '200' },
      'read-budget': { type: 'string', default: '60' },
      runs: { type: 'string' },
      metrics: { type: 'string' },
      steps: { type: 'string' },
      full: { type: 'boolean', default: false },
      'mlflow-workers': { type: 'string', default: '1' },
      venv: { type: 'string', default: join(HERE, '.venv') },
      'no-build': { type: 'boolean', default: false },
      'keep-data': { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.error(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const peers = values.peers
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  for (const p of peers)
    if (!KNOWN_PEERS.includes(p)) throw new Error(`unknown peer "${p}" (known: ${KNOWN_PEERS.join(', ')})`);
  const batchPoints = positiveInt('batch', values.batch);
  if (batchPoints > MLFLOW_MAX_BATCH && peers.some((p) => MLFLOW_API_PEERS.includes(p))) {
    throw new Error(`--batch above ${MLFLOW_MAX_BATCH} is refused by the MLflow API`);
  }
  const opt = (name) => (values[name] === undefined ? undefined : positiveInt(name, values[name]));
  return {
    shape: resolveShape(positionals[0], {
      full: values.full,
      runs: opt('runs'),
      metrics: opt('metrics'),
      steps: opt('steps'),
    }),
    peers,
    writers: positiveInt('writers', values.writers),
    batchPoints,
    cairnBatchPoints: values['cairn-batch'] ? positiveInt('cairn-batch', values['cairn-batch']) : batchPoints,
    cairnGzip: values['cairn-gzip'],
    postgresUrl: values['postgres-url'],
    cairnBinaryReads: values['cairn-binary-reads'],
    nodeArgs: values['node-args'].split(' ').filter(Boolean),
    cairnBody: oneOf('cairn-body', values['cairn-body'], ['json', 'binary']),
    maxIngestSeconds: positiveInt('max-ingest', values['max-ingest']),
    iterations: positiveInt('iterations', values.iterations),
    readBudgetSeconds: positiveInt('read-budget', values['read-budget']),
    mlflowWorkers: positiveInt('mlflow-workers', values['mlflow-workers']),
    venvRoot: resolve(values.venv),
    build: !values['no-build'],
    keepData: values['keep-data'],
    out: values.out,
  };
}

/** @param {string} name @param {string} value @param {string[]} allowed */
function oneOf(name, value, allowed) {
  if (!allowed.includes(value)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value;
}

const t0 = Date.now();
const log = (/** @type {string} */ s) =>
  process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)}s] ${s}\n`);

/** Series whose full 1M points the Long downsampling read needs. */
const longTarget = (shape) => (shape.name === 'Long' ? { run: 0, metric: 0, steps: shape.steps } : null);

/** The chart read: the first 10 runs × first 5 metrics (fewer when the shape is smaller). */
const chartDims = (shape) => ({
  runs: range(0, Math.min(10, shape.runs)),
  metrics: range(0, Math.min(5, shape.metrics)),
});

/** @param {any} opts */
function makeDriver(name, opts) {
  if (CAIRN_API_PEERS.includes(name)) {
    return cairnDriver({
      repoRoot: REPO_ROOT,
      build: opts.build,
      gzip: opts.cairnGzip,
      binaryReads: opts.cairnBinaryReads,
      body: opts.cairnBody,
      nodeArgs: opts.nodeArgs,
      batchPoints: opts.cairnBatchPoints,
      log,
      ...(name === 'cairn-pg' ? { postgresUrl: opts.postgresUrl } : {}),
    });
  }
  if (name === 'cairn-mlflow') return cairnMlflowDriver({ repoRoot: REPO_ROOT, build: opts.build, log });
  if (name === 'mlflow' || name === 'fasttrackml') {
    return mlflowDriver(name, { venvRoot: opts.venvRoot, mlflowWorkers: opts.mlflowWorkers, log });
  }
  return aimDriver({ venvRoot: opts.venvRoot, log });
}

/**
 * One HTTP system end to end: start, ingest (timed), complete read fixtures (untimed), verify,
 * read, stop, measure the data dir.
 */
async function benchHttp(driver, opts, workDir) {
  const { shape } = opts;
  const batchPoints = CAIRN_API_PEERS.includes(driver.name) ? opts.cairnBatchPoints : opts.batchPoints;
  const result = { ingest: {}, reads: {}, calls: driver.calls };
  log(`${driver.name}: starting server`);
  await driver.start(workDir);
  result.version = driver.version;
  const rss = sampleRss(driver.pid);
  try {
    if (driver.unavailable) {
      if (driver.cometSingleMetricRate) {
        log(`${driver.name}: ${driver.unavailable}; measuring the Comet single-metric write rate only`);
        result.cometSingleMetric = await driver.cometSingleMetricRate({
          writers: opts.writers,
          maxRequests: 50_000,
          budgetMs: 20_000,
        });
      }
      throw Object.assign(new Error(driver.unavailable), { partial: result });
    }
    const keys = await driver.createRuns(range(0, shape.runs).map((r) => `run-${r}`));
    const [fixtureKey] = await driver.createRuns(['fixture']);
    const handles = new Map(keys.map((k, i) => [i, k]));
    handles.set(FIXTURE.runIndex, fixtureKey);

    const streams = planStreams(shape, { writers: opts.writers, batchPoints });
    log(
      `${driver.name}: ingesting ${totalPoints(shape).toLocaleString()} points, ${streams.length} streams, ${opts.writers} writers, ≤${batchPoints} points/request`,
    );
    let lastLog = Date.now();
    const ing = await ingest(driver, streams, handles, {
      writers: opts.writers,
      deadlineMs: opts.maxIngestSeconds * 1000,
      onProgress: (p) => {
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          log(`${driver.name}: ${p.toLocaleString()} points`);
        }
      },
    });
    const { doneBatches, ...ingestSummary } = ing;
    result.ingest = finishIngest(ingestSummary, shape, { writers: opts.writers, batchPoints });
    log(
      `${driver.name}: ingest ${Math.round(ing.pointsPerSecond).toLocaleString()} points/s${ing.timedOut ? ' (time limit hit: prefix)' : ''}`,
    );

    let extraPoints = 0;
    const target = longTarget(shape);
    if (target) {
      const fill = await completeSeries(driver, streams, doneBatches, handles, target, {
        writers: opts.writers,
        batchPoints,
        deadlineMs: 1800_000,
      });
      result.fill = fill;
      extraPoints += fill.written;
      if (fill.written)
        log(`${driver.name}: completed the 1M-point series (${fill.written.toLocaleString()} points, untimed)`);
    }
    const fixtureStream = {
      id: 0,
      run: FIXTURE.runIndex,
      metrics: [FIXTURE.metric],
      batches: planBatches(FIXTURE.runIndex, [FIXTURE.metric], FIXTURE.steps, batchPoints),
    };
    const fx = await ingest(driver, [fixtureStream], handles, { writers: 1, deadlineMs: 600_000 });
    if (fx.timedOut) throw new Error('could not write the 10k-point read fixture in 10 minutes');
    extraPoints += fx.points;

    // Verification: a sample of workload series, the fixture and the Long target.
    const checks = expectedCounts(streams, doneBatches, sampleSeries(shape)).map((c) => ({
      ...c,
      handle: keys[c.run],
    }));
    if (target) {
      checks.push({ run: target.run, metric: target.metric, expected: target.steps, handle: keys[target.run] });
    }
    checks.push({ run: FIXTURE.runIndex, metric: FIXTURE.metric, expected: FIXTURE.steps, handle: fixtureKey });
    result.verify = [];
    for (const c of checks) {
      const actual = await driver.count(c.handle, metricName(c.metric));
      result.verify.push({ run: c.run, metric: metricName(c.metric), expected: c.expected, actual });
      if (actual !== c.expected) {
        throw new Error(
          `verification failed: run ${c.run} ${metricName(c.metric)} holds ${actual} points, expected ${c.expected}`,
        );
      }
    }
    log(`${driver.name}: verified ${checks.length} series`);

    // Each read is measured on its own: one the server cannot answer is reported as an error
    // (never timed) without hiding the others.
    const m = { iterations: opts.iterations, budgetMs: opts.readBudgetSeconds * 1000 };
    /**
     * @param {string} what @param {(points: number|null) => boolean} ok
     * @param {(i: number) => Promise<{ms: number, points: number|null}>} op
     */
    const read = async (what, ok, op) => {
      log(`${driver.name}: read ${what}`);
      let points = /** @type {number|null} */ (null);
      try {
        const stats = await measure(async (i) => {
          const r = await op(i);
          if (!ok(r.points)) throw new Error(`unexpected point count ${r.points}`);
          points = r.points;
          return r.ms;
        }, m);
        return { ...stats, points };
      } catch (e) {
        log(`${driver.name}: read ${what} FAILED: ${e instanceof Error ? e.message : e}`);
        return { n: 0, error: e instanceof Error ? e.message : String(e) };
      }
    };
    result.reads.full = await read(
      '(a) full history',
      (n) => n === FIXTURE.steps,
      () => driver.readFull(fixtureKey, FIXTURE.name),
    );
    result.reads.page = await read(
      '(b) page',
      (n) => n === 1000,
      (i) => driver.readPage(fixtureKey, FIXTURE.name, i, FIXTURE.steps),
    );
    result.reads.downsample = target
      ? await read(
          '(c) downsampled 1M series',
          (n) => n === null || (n > 0 && n <= 4000),
          () => driver.readDownsampled(keys[0], metricName(0), 1000),
        )
      : { n: 0, skipped: 'the shape has no 1M-point series (run the Long shape)' };
    const dims = chartDims(shape);
    result.reads.chart = {
      ...(await read(
        `(d) chart ${dims.runs.length} × ${dims.metrics.length}`,
        (n) => n === null || n > 0,
        () =>
          driver.readChart(
            dims.runs.map((r) => keys[r]),
            dims.metrics.map(metricName),
            1000,
          ),
      )),
      dims: `${dims.runs.length} runs × ${dims.metrics.length} metrics`,
    };

    if (driver.cometSingleMetricRate) {
      log(`${driver.name}: Comet single-metric write rate`);
      result.cometSingleMetric = await driver.cometSingleMetricRate({
        writers: opts.writers,
        maxRequests: 50_000,
        budgetMs: 20_000,
      });
      extraPoints += result.cometSingleMetric.requests;
    }
    result.storedPoints = ing.points + extraPoints;
  } finally {
    result.memory = await rss.stop();
    log(`${driver.name}: stopping server`);
    await driver.stop();
  }
  result.disk = await measureDisk(driver.dataDir, result.storedPoints, driver.databaseBytes);
  if (driver.database) result.database = driver.database;
  return result;
}

/** Aim: the Python driver ingests and reads in-process; same plan, same verification. */
async function benchAim(driver, opts, workDir) {
  const { shape } = opts;
  await driver.prepare(workDir);
  const result = { version: driver.version, calls: driver.calls, reads: {} };
  const target = longTarget(shape);
  log(`aim: ingesting ${totalPoints(shape).toLocaleString()} points with min(${opts.writers}, runs) writer processes`);
  const { result: ing, rss: rssIngest } = await driver.ingest({
    runs: shape.runs,
    metrics: shape.metrics,
    steps: shape.steps,
    writers: opts.writers,
    deadlineSeconds: opts.maxIngestSeconds,
    fixture: { name: FIXTURE.name, metric: FIXTURE.metric, steps: FIXTURE.steps, valueRun: FIXTURE.runIndex },
    completeSeries: target,
  });
  result.ingest = finishIngest(
    {
      points: ing.points,
      seconds: ing.seconds,
      pointsPerSecond: ing.pointsPerSecond,
      timedOut: ing.timedOut,
      writeSeconds: ing.writeSeconds,
      indexSeconds: ing.indexSeconds,
    },
    shape,
    { writers: ing.writers, batchPoints: 1 },
  );
  result.fill = ing.fill;
  log(
    `aim: ingest ${Math.round(ing.pointsPerSecond).toLocaleString()} points/s${ing.timedOut ? ' (time limit hit: prefix)' : ''}`,
  );

  const hashOf = new Map(ing.runs.map((r) => [r.run, r]));
  const verify = [];
  for (const { run, metric } of sampleSeries(shape)) {
    const r = hashOf.get(run);
    if (r?.hash && r.stepsDone > 0)
      verify.push({ hash: r.hash, metric: metricName(metric), expected: r.stepsDone, run });
  }
  if (target)
    verify.push({
      hash: hashOf.get(target.run).hash,
      metric: metricName(target.metric),
      expected: target.steps,
      run: target.run,
    });
  verify.push({ hash: ing.fixtureHash, metric: FIXTURE.name, expected: FIXTURE.steps, run: FIXTURE.runIndex });

  const dims = chartDims(shape);
  log('aim: verify and read');
  const { result: reads, rss: rssRead } = await driver.read({
    verify,
    iterations: opts.iterations,
    budgetSeconds: opts.readBudgetSeconds,
    warmup: 3,
    full: { hash: ing.fixtureHash, metric: FIXTURE.name },
    downsample: target ? { hash: hashOf.get(0).hash, metric: metricName(0), buckets: 1000 } : null,
    chart: {
      hashes: dims.runs.map((r) => hashOf.get(r)?.hash).filter(Boolean),
      metrics: dims.metrics.map(metricName),
      buckets: 1000,
    },
  });
  result.verify = reads.verified.map((v) => ({ run: v.run, metric: v.metric, expected: v.expected, actual: v.actual }));
  const fromSamples = (x) => ({
    ...summarize(x.samplesMs),
    timeBounded: x.samplesMs.length < opts.iterations,
    points: x.points,
  });
  result.reads.full = fromSamples(reads.full);
  if (reads.full.points !== FIXTURE.steps) throw new Error(`aim full read returned ${reads.full.points} points`);
  result.reads.page = { n: 0, skipped: driver.calls.page };
  result.reads.downsample = reads.downsample
    ? fromSamples(reads.downsample)
    : { n: 0, skipped: 'the shape has no 1M-point series (run the Long shape)' };
  result.reads.chart = {
    ...fromSamples(reads.chart),
    dims: `${dims.runs.length} runs × ${dims.metrics.length} metrics`,
  };
  result.memory = {
    peakTreeRssBytes: Math.max(rssIngest.peakTreeRssBytes, rssRead.peakTreeRssBytes),
    maxProcessHwmBytes: Math.max(rssIngest.maxProcessHwmBytes, rssRead.maxProcessHwmBytes),
    maxProcesses: Math.max(rssIngest.maxProcesses, rssRead.maxProcesses),
    note: 'Python driver tree (the writers are the storage engine: no server process)',
  };
  result.storedPoints = ing.points + (ing.fill?.written ?? 0) + FIXTURE.steps;
  result.disk = await measureDisk(driver.dataDir, result.storedPoints);
  return result;
}

/** @param {any} s @param {import('./lib/shapes.mjs').Shape} shape @param {{writers: number, batchPoints: number}} how */
function finishIngest(s, shape, how) {
  const total = totalPoints(shape);
  const fractionDone = s.points / total;
  return {
    ...s,
    ...how,
    fractionDone,
    ...(s.timedOut ? { extrapolatedFullSeconds: s.seconds / fractionDone, extrapolated: true } : {}),
  };
}

/**
 * The data dir's allocated bytes per stored point; on PostgreSQL plus the schema's relations
 * (`databaseBytes`: tables, indexes, TOAST; WAL and the cluster's fixed files are not counted).
 * @param {string} dir @param {number} points @param {number} [databaseBytes]
 */
async function measureDisk(dir, points, databaseBytes) {
  const du = await diskUsage(dir);
  const allocatedBytes = du.allocatedBytes + (databaseBytes ?? 0);
  return {
    ...du,
    ...(databaseBytes === undefined ? {} : { dataDirBytes: du.allocatedBytes, databaseBytes }),
    allocatedBytes,
    storedPoints: points,
    bytesPerPoint: allocatedBytes / points,
  };
}

async function main() {
  const opts = parseCli(process.argv.slice(2));
  const { shape } = opts;
  if (shape.note) log(shape.note);
  const summary = {
    shape,
    startedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    options: {
      writers: opts.writers,
      batchPoints: opts.batchPoints,
      cairnBatchPoints: opts.cairnBatchPoints,
      cairnGzip: opts.cairnGzip,
      ...(opts.peers.includes('cairn-pg') ? { postgresUrl: opts.postgresUrl } : {}),
      cairnBinaryReads: opts.cairnBinaryReads,
      cairnBody: opts.cairnBody,
      maxIngestSeconds: opts.maxIngestSeconds,
      iterations: opts.iterations,
      readBudgetSeconds: opts.readBudgetSeconds,
      mlflowWorkers: opts.mlflowWorkers,
    },
    systems: /** @type {any[]} */ ([]),
  };
  for (const name of opts.peers) {
    const workDir = await mkdtemp(join(os.tmpdir(), `cairn-bench-${name}-`));
    const driver = makeDriver(name, opts);
    const started = Date.now();
    try {
      const r =
        driver.kind === 'process' ? await benchAim(driver, opts, workDir) : await benchHttp(driver, opts, workDir);
      summary.systems.push({ system: name, status: 'ok', wallSeconds: (Date.now() - started) / 1000, ...r });
      log(`${name}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    } catch (e) {
      log(`${name}: FAILED: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
      const partial = /** @type {any} */ (e)?.partial ?? {};
      summary.systems.push({
        system: name,
        status: 'failed',
        version: driver.version || undefined,
        ...partial,
        error: e instanceof Error ? e.message : String(e),
        logDir: workDir,
      });
      await driver.stop?.().catch(() => {});
      continue; // keep the work dir (logs) of a failed system
    }
    if (opts.keepData) log(`${name}: data kept in ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
  }
  const out = opts.out ?? join(HERE, 'results', `${shape.name}-${summary.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(out), { recursive: true });
  const md = markdown(summary);
  await writeFile(out, `${JSON.stringify({ ...summary, markdown: md }, null, 2)}\n`);
  process.stdout.write(`\n${md}\n\nSummary JSON: ${out}\n`);
  if (summary.systems.some((s) => s.status !== 'ok')) process.exitCode = 1;
}

// `npm run bench -- search`, `-- output`, `-- charts`, `-- sdk`, `-- export`, `-- ui`, `-- soak`, `-- scale-out` and `-- single-writes`: those benchmarks have scripts of their own.
const own = {
  search: './search.mjs',
  output: './output.mjs',
  charts: './charts.mjs',
  sdk: './sdk.mjs',
  export: './export.mjs',
  ui: './ui.mjs',
  soak: './soak.mjs',
  'scale-out': './scale-out.mjs',
  'single-writes': './single-writes.mjs',
}[process.argv[2] ?? ''];
(own ? import(own) : main()).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
