// Turns per-system results into the summary JSON and Markdown tables for docs/benchmarks.md.

/** Read measurements, in table order. */
export const READS = /** @type {const} */ ([
  ['full', '(a) full history, 10k pts'],
  ['page', '(b) one page, 1k pts'],
  ['downsample', '(c) 1M pts → 1k'],
  ['chart', '(d) multi-metric chart'],
]);

const fmtInt = (/** @type {number} */ n) => Math.round(n).toLocaleString('en-US');
const fmtMs = (/** @type {number|null|undefined} */ n) =>
  n == null ? 'n/a' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
const mib = (/** @type {number} */ b) => `${(b / 1024 / 1024).toFixed(0)} MiB`;

/** @param {any} r one system's result */
function rowValues(r) {
  const v = {
    pointsPerSecond: r.ingest?.pointsPerSecond ?? null,
    bytesPerPoint: r.disk?.bytesPerPoint ?? null,
    peakRss: r.memory?.peakTreeRssBytes ?? null,
  };
  for (const [k] of READS) {
    const m = r.reads?.[k];
    for (const p of ['p50Ms', 'p95Ms', 'p99Ms']) v[`${k}.${p}`] = m && m.n > 0 ? m[p] : null;
  }
  return v;
}

/**
 * @param {{ shape: any, systems: any[], startedAt: string, machine: any, options: any }} summary
 * @returns {string}
 */
export function markdown(summary) {
  const { shape, systems } = summary;
  const ok = systems.filter((s) => s.status === 'ok');
  const lines = [];
  const total = shape.runs * shape.metrics * shape.steps;
  lines.push(
    `### Shape ${shape.name}: ${fmtInt(shape.runs)} runs × ${fmtInt(shape.metrics)} metrics × ${fmtInt(shape.steps)} steps (${fmtInt(total)} points)`,
  );
  lines.push('');
  lines.push(
    `${summary.machine.cpus} CPUs, ${summary.machine.memGiB} GiB, Node ${summary.machine.node}; ${summary.options.writers} concurrent writers, ` +
      `${summary.options.batchPoints} points per write request${summary.options.cairnBatchPoints !== summary.options.batchPoints ? ` (Cairn's own API: ${summary.options.cairnBatchPoints})` : ''}; reads: up to ${summary.options.iterations} sequential iterations ` +
      `or ${summary.options.readBudgetSeconds} s each; ${summary.startedAt}.`,
  );
  if (shape.note) lines.push('', `Note: ${shape.note}.`);
  lines.push('');

  // Absolute numbers first: ratios alone hide whether a difference matters.
  lines.push(
    '| system | version | points/s | ' +
      READS.map(([, t]) => `${t} p50 / p95 / p99 ms`).join(' | ') +
      ' | bytes/point | peak RSS |',
  );
  lines.push(`|---|---|---:|${READS.map(() => '---:|').join('')}---:|---:|`);
  for (const s of systems) {
    if (s.status !== 'ok') {
      lines.push(
        `| ${s.system} | ${s.version ?? ''} | failed: ${String(s.error).split('\n')[0].slice(0, 120)} |${READS.map(() => ' |').join('')} | |`,
      );
      continue;
    }
    const ingest = `${fmtInt(s.ingest.pointsPerSecond)}${s.ingest.timedOut ? '†' : ''}`;
    const reads = READS.map(([k]) => {
      const m = s.reads[k];
      if (!m || m.n === 0) return 'n/a';
      return `${fmtMs(m.p50Ms)} / ${fmtMs(m.p95Ms)} / ${fmtMs(m.p99Ms)}`;
    });
    lines.push(
      `| ${s.system} | ${s.version} | ${ingest} | ${reads.join(' | ')} | ${s.disk.bytesPerPoint.toFixed(1)} | ${mib(s.memory.peakTreeRssBytes)} |`,
    );
  }
  const truncated = ok.filter((s) => s.ingest.timedOut);
  if (truncated.length) {
    lines.push('');
    for (const s of truncated) {
      lines.push(
        `† ${s.system}: ingest stopped at the ${summary.options.maxIngestSeconds} s limit after ${fmtInt(s.ingest.points)} of ${fmtInt(total)} points ` +
          `(${(100 * s.ingest.fractionDone).toFixed(1)} %); points/s is that prefix's rate; the full shape would take ~${fmtInt(s.ingest.extrapolatedFullSeconds)} s if that rate held (extrapolated, not measured).`,
      );
    }
  }

  // One ratio table per Cairn system (`cairn`, and `cairn-mlflow` for Cairn through MLflow's API).
  const peers = ok.filter((s) => !s.system.startsWith('cairn'));
  for (const cairn of ok.filter((s) => s.system.startsWith('cairn'))) {
    if (!peers.length) break;
    lines.push('');
    lines.push(
      `Ratios ${cairn.system} ÷ peer (points/s: above 1 means Cairn is faster; every other column: below 1 means Cairn is better).`,
    );
    lines.push('');
    lines.push(`| peer | points/s | ${READS.map(([, t]) => `${t} p50 / p99`).join(' | ')} | bytes/point | peak RSS |`);
    lines.push(`|---|---:|${READS.map(() => '---:|').join('')}---:|---:|`);
    const c = rowValues(cairn);
    const ratio = (/** @type {number|null} */ a, /** @type {number|null} */ b) =>
      a == null || b == null || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;
    for (const p of peers) {
      const v = rowValues(p);
      const reads = READS.map(([k]) => {
        const r50 = ratio(c[`${k}.p50Ms`], v[`${k}.p50Ms`]);
        const r99 = ratio(c[`${k}.p99Ms`], v[`${k}.p99Ms`]);
        return r50 === 'n/a' && r99 === 'n/a' ? 'n/a' : `${r50} / ${r99}`;
      });
      lines.push(
        `| ${p.system} | ${ratio(c.pointsPerSecond, v.pointsPerSecond)} | ${reads.join(' | ')} | ${ratio(c.bytesPerPoint, v.bytesPerPoint)} | ${ratio(c.peakRss, v.peakRss)} |`,
      );
    }
  }

  // The same server on both databases: what moving to PostgreSQL costs or gains.
  const sqlite = ok.find((s) => s.system === 'cairn');
  const postgres = ok.find((s) => s.system === 'cairn-pg');
  if (sqlite && postgres) {
    const p = rowValues(postgres);
    const q = rowValues(sqlite);
    const ratio = (/** @type {number|null} */ a, /** @type {number|null} */ b) =>
      a == null || b == null || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}×`;
    lines.push('');
    lines.push(
      'Ratios cairn-pg ÷ cairn, PostgreSQL ÷ SQLite (points/s: above 1 means PostgreSQL is faster; every other column: below 1 means PostgreSQL is better).',
    );
    lines.push('');
    lines.push(`| | points/s | ${READS.map(([, t]) => `${t} p50 / p99`).join(' | ')} | bytes/point | peak RSS |`);
    lines.push(`|---|---:|${READS.map(() => '---:|').join('')}---:|---:|`);
    const reads = READS.map(([k]) => {
      const r50 = ratio(p[`${k}.p50Ms`], q[`${k}.p50Ms`]);
      const r99 = ratio(p[`${k}.p99Ms`], q[`${k}.p99Ms`]);
      return r50 === 'n/a' && r99 === 'n/a' ? 'n/a' : `${r50} / ${r99}`;
    });
    lines.push(
      `| PG ÷ SQLite | ${ratio(p.pointsPerSecond, q.pointsPerSecond)} | ${reads.join(' | ')} | ${ratio(p.bytesPerPoint, q.bytesPerPoint)} | ${ratio(p.peakRss, q.peakRss)} |`,
    );
  }
  if (postgres?.database) {
    const d = postgres.database;
    lines.push('');
    lines.push(
      `cairn-pg: PostgreSQL ${d.server_version} on this machine (synchronous_commit=${d.synchronous_commit}, fsync=${d.fsync}, ` +
        `shared_buffers=${d.shared_buffers} × 8 kB), a fresh schema; bytes/point counts the schema's tables, indexes and TOAST ` +
        "(not WAL); peak RSS is Cairn's alone, PostgreSQL's own processes are not in it.",
    );
  }

  // What each number is, per system: the peers have no identical calls.
  lines.push('');
  lines.push('Calls measured:');
  lines.push('');
  for (const s of systems) {
    if (!s.calls) continue;
    lines.push(`- ${s.system}: ${READS.map(([k, t]) => `${t.split(' ')[0]} ${s.calls[k]}`).join('; ')}`);
  }
  const chartDims = ok.find((s) => s.reads?.chart?.dims)?.reads.chart.dims;
  if (chartDims) lines.push('', `(d) covers ${chartDims}, each series sampled to ≤1000 points.`);
  for (const comet of systems.filter((s) => s.system.startsWith('cairn') && s.cometSingleMetric)) {
    const m = comet.cometSingleMetric;
    lines.push('');
    lines.push(
      `${comet.system === 'cairn' ? 'Cairn' : comet.system}, Comet SDK write path (POST /api/rest/v2/write/experiment/metric, one point per request, ${summary.options.writers} writers): ` +
        `${fmtInt(m.requestsPerSecond)} requests/s (${fmtInt(m.requests)} requests in ${m.seconds.toFixed(1)} s), ` +
        `p50 ${fmtMs(m.latency.p50Ms)} ms, p99 ${fmtMs(m.latency.p99Ms)} ms.`,
    );
  }
  const failed = systems.filter((s) => s.status !== 'ok');
  if (failed.length) {
    lines.push('');
    for (const s of failed) lines.push(`- ${s.system} FAILED: ${String(s.error).split('\n').slice(0, 3).join(' ')}`);
  }
  return lines.join('\n');
}
