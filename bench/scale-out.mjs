#!/usr/bin/env node
// Scale-out benchmark (issue #14): npm run bench -- scale-out [--nodes 2] [--writers 8]
// Starts one, then two (… up to --nodes) `cairn server` processes on ONE PostgreSQL schema and a
// shared blob folder, as a load balancer without sticky sessions would see them, and drives N
// writers, each on its own experiment, spread round-robin over the nodes through the bulk
// endpoint (POST /api/cairn/v1/experiments/{key}/metrics). Reports points/s per node count, and
// the CPU each process used, so that a table measured with every process on one small machine
// can be read honestly. Node built-ins only (node-postgres from the server's dependencies makes
// the schema). See docs/operations/scale-out.md.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { randomApiKey, startCairnServer } from './lib/cairn-server.mjs';
import { parseJson, request } from './lib/http.mjs';
import { DEFAULT_POSTGRES_URL, freshSchema } from './lib/pg-schema.mjs';
import { runToEnd } from './lib/proc.mjs';
import { summarize } from './lib/stats.mjs';
import { metricName, timestamp, value } from './lib/workload.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');

const USAGE = `usage: npm run bench -- scale-out [options]

  --nodes N               measure 1, 2, … N nodes (default 2)
  --writers N             concurrent writers, each on its own experiment (default 8)
  --metrics N             series per request (default 10)
  --steps N               steps per series per request (default 100: 1,000 points a request)
  --requests N            requests per writer (default 150)
  --max-seconds SEC       per node count, stop writing after this long (default 180)
  --pool N                CAIRN_DATABASE_POOL_SIZE of every node (default: the server's, 10)
  --postgres-url URL      PostgreSQL (default ${DEFAULT_POSTGRES_URL}); a fresh schema per node count
  --no-build              do not run \`npx tsc -b\` first
  --out FILE              summary JSON (default bench/results/scale-out-<timestamp>.json)`;

const { values } = parseArgs({
  args: process.argv.slice(3),
  options: {
    nodes: { type: 'string', default: '2' },
    writers: { type: 'string', default: '8' },
    metrics: { type: 'string', default: '10' },
    steps: { type: 'string', default: '100' },
    requests: { type: 'string', default: '150' },
    'max-seconds': { type: 'string', default: '180' },
    pool: { type: 'string' },
    'postgres-url': { type: 'string', default: DEFAULT_POSTGRES_URL },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.error(USAGE);
  process.exit(0);
}
const opts = {
  nodes: positiveInt('nodes', values.nodes),
  writers: positiveInt('writers', values.writers),
  metrics: positiveInt('metrics', values.metrics),
  steps: positiveInt('steps', values.steps),
  requests: positiveInt('requests', values.requests),
  maxSeconds: positiveInt('max-seconds', values['max-seconds']),
  pool: values.pool === undefined ? undefined : positiveInt('pool', values.pool),
  postgresUrl: values['postgres-url'],
};

const t0 = Date.now();
const log = (/** @type {string} */ s) =>
  process.stderr.write(`[scale-out ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);

const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. @param {number} pid */
async function cpuSeconds(pid) {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): utime is the 14th
    // field of the line, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** The PostgreSQL backends serving one node: its connections carry the node's application_name. */
/** @param {Awaited<ReturnType<typeof freshSchema>>} schema @param {string} applicationName */
async function backendPids(schema, applicationName) {
  const r = await schema.query('select pid from pg_stat_activity where application_name = $1', [applicationName]);
  return r.rows.map((row) => Number(row.pid));
}

/** The `i`th request of a writer: every series advances by `steps` steps. @param {number} writer @param {number} i */
function body(writer, i) {
  const series = [];
  for (let m = 0; m < opts.metrics; m++) {
    const steps = new Array(opts.steps);
    const vals = new Array(opts.steps);
    const times = new Array(opts.steps);
    for (let s = 0; s < opts.steps; s++) {
      const step = i * opts.steps + s;
      steps[s] = step;
      vals[s] = value(writer, m, step);
      times[s] = timestamp(writer, step);
    }
    series.push({ name: metricName(m), context: null, steps, values: vals, timestamps: times });
  }
  return { series };
}

/** One node count: fresh schema, `count` nodes, every writer on its own experiment. */
async function measureNodes(count, workDir) {
  const schema = await freshSchema(REPO_ROOT, opts.postgresUrl);
  const apiKey = randomApiKey();
  const blobDir = join(workDir, `blobs-${count}`);
  /** @type {{ proc: any, url: string, name: string, app: string }[]} */
  const nodes = [];
  try {
    for (let n = 0; n < count; n++) {
      const app = `${schema.schema}_n${n + 1}`;
      const nodeDir = join(workDir, `${count}-node-${n + 1}`);
      await mkdir(nodeDir, { recursive: true });
      const started = await startCairnServer({
        workDir: nodeDir,
        env: {
          CAIRN_DATA_DIR: join(nodeDir, 'data'),
          CAIRN_ADMIN_API_KEY: apiKey,
          CAIRN_DATABASE_URL: `${schema.url}&application_name=${app}`,
          CAIRN_BLOB_URL: `file:${blobDir}`,
          ...(opts.pool === undefined ? {} : { CAIRN_DATABASE_POOL_SIZE: String(opts.pool) }),
        },
      });
      nodes.push({ ...started, name: `node ${n + 1}`, app });
    }
    log(`${count} node(s) up: ${nodes.map((n) => n.url).join(', ')}`);

    // Experiments are created through node 1; writers reach them through any node.
    const keys = [];
    for (let w = 0; w < opts.writers; w++) {
      const r = await request('POST', `${nodes[0].url}/api/rest/v2/write/experiment/create`, {
        headers: { authorization: apiKey },
        json: { workspaceName: 'default', projectName: 'scale-out', experimentName: `writer-${w}` },
      });
      keys.push(parseJson(r.text).experimentKey);
    }
    // A warm-up request per writer (untimed) opens the pools' connections and the series.
    const nodeOf = (/** @type {number} */ w) => nodes[w % count];
    const write = (w, i) =>
      request('POST', `${nodeOf(w).url}/api/cairn/v1/experiments/${keys[w]}/metrics`, {
        headers: { authorization: `Bearer ${apiKey}` },
        json: body(w, i),
      });
    await Promise.all(keys.map((_, w) => write(w, 0)));

    const perRequest = opts.metrics * opts.steps;
    const pids = async () => ({
      nodes: nodes.map((n) => n.proc.pid),
      backends: (await Promise.all(nodes.map((n) => backendPids(schema, n.app)))).flat(),
    });
    const before = await pids();
    const cpuBefore = new Map();
    for (const pid of [...before.nodes, ...before.backends]) cpuBefore.set(pid, await cpuSeconds(pid));
    const selfBefore = process.cpuUsage();
    const loadBefore = os.loadavg();

    /** @type {number[]} */
    const latencies = [];
    let points = 0;
    const started = performance.now();
    const deadline = started + opts.maxSeconds * 1000;
    let timedOut = false;
    await Promise.all(
      keys.map(async (_, w) => {
        for (let i = 1; i <= opts.requests; i++) {
          if (performance.now() > deadline) {
            timedOut = true;
            return;
          }
          const r = await write(w, i);
          const stored = parseJson(r.text).points;
          if (stored !== perRequest)
            throw new Error(`${nodeOf(w).name} acknowledged ${stored} of ${perRequest} points`);
          latencies.push(r.ms);
          points += perRequest;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const self = process.cpuUsage(selfBefore);
    const loadAfter = os.loadavg();
    const after = await pids();
    const used = async (pid) => (await cpuSeconds(pid)) - (cpuBefore.get(pid) ?? 0);
    const nodeCpu = [];
    for (const pid of after.nodes) nodeCpu.push(await used(pid));
    let backendCpu = 0;
    // Backends that closed during the run took their CPU time with them: this is a lower bound.
    for (const pid of new Set([...before.backends, ...after.backends])) backendCpu += Math.max(0, await used(pid));

    // Every writer's series read back through a node other than the one that wrote it (the
    // warm-up request included); a run cut short by the time limit is checked for count only.
    const want = timedOut ? undefined : (opts.requests + 1) * opts.steps;
    for (let w = 0; w < opts.writers; w++) {
      const reader = nodes[(w + 1) % count];
      const r = await request(
        'GET',
        `${reader.url}/api/cairn/v1/experiments/${keys[w]}/metrics/${metricName(0)}?offset=0&limit=1`,
        { headers: { authorization: `Bearer ${apiKey}` } },
      );
      const total = parseJson(r.text).total;
      if (want !== undefined && total !== want) {
        throw new Error(`writer ${w}: ${reader.name} reads ${total} points of ${metricName(0)}, expected ${want}`);
      }
    }
    const result = {
      nodes: count,
      writers: opts.writers,
      points,
      seconds,
      pointsPerSecond: points / seconds,
      timedOut,
      latency: summarize(latencies),
      cpu: {
        nodesSeconds: nodeCpu,
        postgresBackendsSeconds: backendCpu,
        loadGeneratorSeconds: (self.user + self.system) / 1e6,
      },
      loadAverage: { before: loadBefore, after: loadAfter },
      database: await schema.settings(),
      databaseBytes: await schema.sizeBytes(),
    };
    log(
      `${count} node(s): ${Math.round(result.pointsPerSecond).toLocaleString()} points/s (${points.toLocaleString()} points in ${seconds.toFixed(1)} s), load ${loadAfter[0].toFixed(2)}`,
    );
    return result;
  } finally {
    await Promise.all(nodes.map((n) => n.proc.stop()));
    await schema.drop();
  }
}

const cores = (/** @type {number} */ cpu, /** @type {number} */ seconds) => (cpu / seconds).toFixed(2);

function markdown(summary) {
  const lines = [];
  const { options: o } = summary;
  lines.push(
    `### Scale-out on PostgreSQL: ${o.writers} writers on ${o.writers} experiments, ${o.metrics} series × ${o.steps} steps per request`,
  );
  lines.push('');
  lines.push(
    `${summary.machine.cpus} CPUs, ${summary.machine.memGiB} GiB, Node ${summary.machine.node}, PostgreSQL ${summary.runs[0]?.database.server_version ?? '?'} ` +
      `(synchronous_commit=${summary.runs[0]?.database.synchronous_commit ?? '?'}, max_connections=${summary.runs[0]?.database.max_connections ?? '?'}); ` +
      `every node, PostgreSQL and the load generator on this one machine; ${o.requests} requests per writer; ${summary.startedAt}.`,
  );
  lines.push('');
  lines.push(
    '| nodes | points/s | × 1 node | request p50 / p99 ms | CPU cores used: Cairn nodes | PostgreSQL backends | load generator | load avg (1 min) before → after |',
  );
  lines.push('|---:|---:|---:|---:|---|---:|---:|---|');
  const one = summary.runs.find((r) => r.nodes === 1);
  for (const r of summary.runs) {
    const c = r.cpu;
    lines.push(
      `| ${r.nodes} | ${Math.round(r.pointsPerSecond).toLocaleString('en-US')}${r.timedOut ? '†' : ''} | ${one ? (r.pointsPerSecond / one.pointsPerSecond).toFixed(2) : 'n/a'}× | ` +
        `${r.latency.p50Ms.toFixed(1)} / ${r.latency.p99Ms.toFixed(1)} | ${c.nodesSeconds.map((s) => cores(s, r.seconds)).join(' + ')} | ` +
        `${cores(c.postgresBackendsSeconds, r.seconds)} | ${cores(c.loadGeneratorSeconds, r.seconds)} | ` +
        `${r.loadAverage.before[0].toFixed(2)} → ${r.loadAverage.after[0].toFixed(2)} |`,
    );
  }
  lines.push('');
  lines.push(
    'CPU cores used = CPU seconds (user + system, from /proc/<pid>/stat) ÷ wall seconds of the timed span; the PostgreSQL column counts the ' +
      "nodes' own backends (by application_name), not the WAL writer or checkpointer. The load average counts every process on the machine, other users' too.",
  );
  if (summary.runs.some((r) => r.timedOut))
    lines.push('', `† stopped at the ${o.maxSeconds} s limit: a measured prefix.`);
  return lines.join('\n');
}

async function main() {
  if (!values['no-build']) {
    log('building Cairn (npx tsc -b)');
    const r = await runToEnd('npx', ['tsc', '-b'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error('npx tsc -b failed');
  }
  const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-scale-out-'));
  const summary = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    },
    options: { ...opts, postgresUrl: opts.postgresUrl.replace(/\/\/[^@]*@/, '//…@') },
    runs: /** @type {any[]} */ ([]),
  };
  try {
    for (let count = 1; count <= opts.nodes; count++) summary.runs.push(await measureNodes(count, workDir));
  } catch (error) {
    log(`FAILED; the nodes' logs are kept in ${workDir}`);
    throw error;
  }
  await rm(workDir, { recursive: true, force: true });
  const md = markdown(summary);
  const out = values.out ?? join(HERE, 'results', `scale-out-${summary.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ ...summary, markdown: md }, null, 2)}\n`);
  process.stdout.write(`\n${md}\n\nSummary JSON: ${out}\n`);
}

await main();
