#!/usr/bin/env node
// Single-write benchmark (issue #14): npm run bench -- single-writes [--writers 20] [--seconds 10]
// One `cairn server` on the embedded default (SQLite, synchronous=FULL), measured in one run:
//   1. GET /healthz, `writers` clients each with one request in flight: the server's request rate;
//   2. POST /api/rest/v2/write/experiment/metric, one point per request (the Comet SDK's write),
//      `writers` clients each writing to its own experiment, as concurrently training runs do;
//   3. the same with every writer on one shared experiment.
// and the ratio of each write rate to the /healthz rate. During (2) one more client probes /healthz
// one request at a time: its latency shows whether reads wait behind the writes.
// Load generator and server share the machine's cores; compare ratios, not absolute rates.

import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { startCairnServer } from './lib/cairn-server.mjs';
import { runToEnd } from './lib/proc.mjs';
import { summarize } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const { values: opts } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'single-writes'),
  options: {
    writers: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '10' },
    'no-build': { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    /** Extra Node flags for the server, e.g. --node-args="--cpu-prof --cpu-prof-dir=/tmp/prof". */
    'node-args': { type: 'string', default: '' },
    /** Extra server environment, e.g. --env CAIRN_SQLITE_SYNCHRONOUS=normal. */
    env: { type: 'string', multiple: true, default: [] },
    /** One measurement alone (healthz, own or shared), e.g. to profile the server under it. */
    only: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.error(`usage: npm run bench -- single-writes [--writers N] [--seconds N] [--env NAME=VALUE]
       [--only healthz|own|shared] [--node-args="--cpu-prof --cpu-prof-dir=DIR"] [--no-build] [--keep-data] [--out FILE]`);
  process.exit(0);
}
const WRITERS = positiveInt('writers', opts.writers);
const BUDGET_MS = positiveInt('seconds', opts.seconds) * 1000;
const PHASES = ['healthz', 'own', 'shared'];
if (opts.only !== undefined && !PHASES.includes(opts.only))
  throw new Error(`--only must be one of ${PHASES.join(', ')}`);
const runs = (phase) => opts.only === undefined || opts.only === phase;
const log = (line) => process.stderr.write(`[single-writes] ${line}\n`);

if (!opts['no-build']) {
  log('building Cairn (npx tsc -b)');
  const built = await runToEnd('npx', ['tsc', '-b'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error('npx tsc -b failed');
}

// node:http with keep-alive rather than fetch: the client shares the cores with the server, and
// fetch costs several times more CPU per request.
const agent = new http.Agent({ keepAlive: true, maxSockets: WRITERS + 2 });

/** One request; resolves with its latency in ms, rejects on a non-2xx answer. */
function send(url, method, headers, body) {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        if (res.statusCode && res.statusCode < 300) resolvePromise({ ms, text: Buffer.concat(chunks).toString() });
        else
          reject(new Error(`${method} ${url} -> ${res.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 300)}`));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `clients` loops, each with one request in flight, for the budget; requests/s and latency. */
async function rate(clients, op) {
  const latencies = [];
  const t0 = performance.now();
  const deadline = t0 + BUDGET_MS;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < deadline; i++) latencies.push((await op(client, i)).ms);
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    requests: latencies.length,
    seconds,
    requestsPerSecond: latencies.length / seconds,
    latency: summarize(latencies),
  };
}

const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-single-writes-bench-'));
const dataDir = join(workDir, 'data');
await mkdir(dataDir, { recursive: true });
const apiKey = Array.from({ length: 40 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
const extraEnv = Object.fromEntries(
  opts.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const { proc, url: base } = await startCairnServer({
  workDir,
  env: { CAIRN_DATA_DIR: dataDir, CAIRN_ADMIN_API_KEY: apiKey, ...extraEnv },
  nodeArgs: opts['node-args'].split(' ').filter(Boolean),
});

let result;
try {
  const json = { authorization: apiKey, 'content-type': 'application/json' };
  const keys = [];
  for (let i = 0; i <= WRITERS; i++) {
    const created = await send(
      `${base}/api/rest/v2/write/experiment/create`,
      'POST',
      json,
      JSON.stringify({ workspaceName: 'default', projectName: 'single-writes', experimentName: `writer-${i}` }),
    );
    keys.push(JSON.parse(created.text).experimentKey);
  }
  const shared = keys[WRITERS];
  const metric = (key, step) =>
    send(
      `${base}/api/rest/v2/write/experiment/metric`,
      'POST',
      json,
      JSON.stringify({
        experimentKey: key,
        metricName: 'loss',
        metricValue: 1 / (step + 1),
        step,
        timestamp: Date.now(),
      }),
    );
  const healthz = () => send(`${base}/healthz`, 'GET', {});

  log('warming up');
  await Promise.all(keys.map((key) => metric(key, 0)));
  for (let i = 0; i < 200; i++) await healthz();

  let health;
  if (runs('healthz')) {
    log(`GET /healthz, ${WRITERS} clients, ${BUDGET_MS / 1000} s`);
    health = await rate(WRITERS, () => healthz());
    log(`  ${health.requestsPerSecond.toFixed(0)} requests/s`);
  }

  let own;
  const probe = [];
  if (runs('own')) {
    log(`POST write/experiment/metric, ${WRITERS} writers on their own experiments, ${BUDGET_MS / 1000} s`);
    let writing = true;
    const probing = (async () => {
      while (writing) probe.push((await healthz()).ms);
    })();
    own = await rate(WRITERS, (client, i) => metric(keys[client], i + 1));
    writing = false;
    await probing;
    log(`  ${own.requestsPerSecond.toFixed(0)} requests/s`);
  }

  let one;
  if (runs('shared')) {
    log(`POST write/experiment/metric, ${WRITERS} writers on one shared experiment, ${BUDGET_MS / 1000} s`);
    one = await rate(WRITERS, (client, i) => metric(shared, 1_000_000 * (client + 1) + i));
    log(`  ${one.requestsPerSecond.toFixed(0)} requests/s`);
  }

  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  result = {
    date: new Date().toISOString(),
    writers: WRITERS,
    seconds: BUDGET_MS / 1000,
    env: extraEnv,
    loadAverage: load,
    healthz: health,
    ownExperiments: own && { ...own, ratioToHealthz: health && own.requestsPerSecond / health.requestsPerSecond },
    healthzDuringWrites: own && summarize(probe),
    sharedExperiment: one && { ...one, ratioToHealthz: health && one.requestsPerSecond / health.requestsPerSecond },
  };
  const row = (label, r) =>
    r &&
    `| ${label} | ${r.requestsPerSecond.toFixed(0)} | ${r.latency.p50Ms.toFixed(2)} | ${r.latency.p99Ms.toFixed(2)} | ${
      r === health ? '1' : r.ratioToHealthz === undefined ? '–' : `${r.ratioToHealthz.toFixed(2)}×`
    } |`;
  process.stdout.write(
    [
      '',
      `Single writes, ${WRITERS} concurrent clients, ${BUDGET_MS / 1000} s each, load average ${load}`,
      '',
      '| measurement | requests/s | p50 ms | p99 ms | ratio to /healthz |',
      '|---|---|---|---|---|',
      row('GET /healthz', health),
      row('Comet write/experiment/metric, own experiments', result.ownExperiments),
      row('Comet write/experiment/metric, one shared experiment', result.sharedExperiment),
      '',
      own &&
        `/healthz alone during the own-experiment writes: p50 ${result.healthzDuringWrites.p50Ms.toFixed(2)} ms, p99 ${result.healthzDuringWrites.p99Ms.toFixed(2)} ms, max ${result.healthzDuringWrites.maxMs.toFixed(2)} ms`,
      '',
    ]
      .filter((line) => line !== undefined)
      .join('\n'),
  );
} finally {
  agent.destroy();
  await proc.stop();
  if (opts['keep-data']) log(`data kept in ${workDir}`);
  else await rm(workDir, { recursive: true, force: true });
}

const out = opts.out ?? join(HERE, 'results', `single-writes-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
log(`summary JSON: ${out}`);
