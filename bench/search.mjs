#!/usr/bin/env node
// Experiment search benchmark (issue #5): npm run bench -- search [--experiments 100000]
// One model (project) holding N experiments with typed parameters, tags and two series each;
// a three-level nested Foundry filter over parameters, tags and summary metrics, sent through
// POST /api/v2/models/{rid}/experiments/search by a real server process, one request in flight.
// Then Cairn's experiment table on the same project (GET /api/cairn/v1/…/experiments): the same
// nested filter in the query language, sorts by a parameter and by a metric maximum (first
// page, and a page 10,000 rows deep through cursors), with and without the total; and the key
// catalogue (GET …/keys), first page and a search.
//
// Seeding: see lib/seed-experiments.mjs.

import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startCairnServer } from './lib/cairn-server.mjs';
import { runToEnd } from './lib/proc.mjs';
import { seedExperiments } from './lib/seed-experiments.mjs';
import { measure } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'search'),
  options: {
    experiments: { type: 'string', default: '100000' },
    iterations: { type: 'string', default: '200' },
    'no-build': { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    /** Reuse a data dir kept by an earlier run (--keep-data) instead of seeding again. */
    data: { type: 'string' },
    out: { type: 'string' },
  },
});
const N = Number(values.experiments);
const log = (line) => process.stderr.write(`[search] ${line}\n`);

if (!values['no-build']) {
  log('building Cairn (npx tsc -b)');
  const built = await runToEnd('npx', ['tsc', '-b'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error('npx tsc -b failed');
}

const server = await import(pathToFileURL(join(REPO_ROOT, 'packages/server/dist/index.js')).href);
const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-search-bench-'));
const dataDir = values.data ? resolve(values.data) : join(workDir, 'data');
await mkdir(dataDir, { recursive: true });
// A reused data dir keeps the admin key of the run that seeded it.
const apiKey = values.data
  ? (await readFile(join(dataDir, 'bench-api-key'), 'utf8')).trim()
  : Array.from({ length: 40 }, () => ALNUM[randomInt(ALNUM.length)]).join('');

const seedStarted = performance.now();
let projectId;
if (values.data) {
  const core = await server.openCore(server.loadConfig({ CAIRN_DATA_DIR: dataDir }));
  const workspace = await core.store.tenancy.getWorkspaceByName('default');
  projectId = (await core.store.projects.getByName(workspace.id, 'search-bench')).id;
  await core.store.close();
} else {
  projectId = await seedExperiments({ server, dataDir, apiKey, n: N, projectName: 'search-bench', log });
  await writeFile(join(dataDir, 'bench-api-key'), `${apiKey}\n`);
}
const seedSeconds = (performance.now() - seedStarted) / 1000;
if (!values.data) log(`seeded ${N} experiments in ${seedSeconds.toFixed(0)} s`);

const { proc, url: baseUrl } = await startCairnServer({
  workDir,
  env: { CAIRN_DATA_DIR: dataDir, CAIRN_ADMIN_API_KEY: apiKey },
});

const modelRid = server.modelRid(projectId);
const url = `${baseUrl}/api/v2/models/${modelRid}/experiments/search?preview=true`;
const FILTERS = {
  // The issue's shape: three levels of nesting over parameters, tags and summary metrics.
  nested: {
    type: 'and',
    filters: [
      {
        type: 'or',
        filters: [
          {
            type: 'and',
            filters: [
              { type: 'parameterFilter', parameterName: 'lr', operator: 'LT', value: 0.001 },
              { type: 'eq', field: 'TAG', value: 'baseline' },
            ],
          },
          {
            type: 'and',
            filters: [
              { type: 'summaryMetricFilter', seriesName: 'loss', aggregation: 'MIN', operator: 'LT', value: 0.1 },
              { type: 'parameterFilter', parameterName: 'optimizer', operator: 'CONTAINS', value: 'adam' },
            ],
          },
        ],
      },
      { type: 'not', value: { type: 'eq', field: 'STATUS', value: 'FAILED' } },
      { type: 'seriesFilter', seriesName: 'acc', field: 'AGGREGATION_LAST', operator: 'GT', value: 0.5 },
    ],
  },
  // A selective single condition, and no filter at all (the first page of the whole model).
  selective: { type: 'parameterFilter', parameterName: 'lr', operator: 'LT', value: 0.0002 },
  none: undefined,
};

const results = {};
for (const [label, where] of Object.entries(FILTERS)) {
  let matched = 0;
  const body = JSON.stringify({
    ...(where ? { where } : {}),
    pageSize: 50,
    orderBy: { field: 'CREATED_TIME', direction: 'DESC' },
  });
  const stats = await measure(
    async () => {
      const t0 = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body,
      });
      const text = await response.text();
      const elapsed = performance.now() - t0;
      if (response.status !== 200) throw new Error(`search answered ${response.status}: ${text}`);
      matched = JSON.parse(text).data.length;
      return elapsed;
    },
    { iterations: Number(values.iterations), budgetMs: 120_000 },
  );
  results[label] = { ...stats, pageLength: matched };
  log(`${label}: p50 ${stats.p50Ms} ms, p95 ${stats.p95Ms} ms, p99 ${stats.p99Ms} ms (${matched} on the page)`);
}

// --- Cairn's experiment table and key catalogue, same project and server ---------------------
const tableUrl = `${baseUrl}/api/cairn/v1/workspaces/default/projects/search-bench`;
const COLUMNS =
  'name,status,startTime,duration,tags,params.lr,params.optimizer,params.batch_size,metrics.loss.min,metrics.acc';
const NESTED =
  "((params.lr < 0.001 and tags contains 'baseline') or (metrics.loss.min < 0.1 and params.optimizer contains 'adam'))" +
  " and not status = 'FAILED' and metrics.acc.last > 0.5";

async function getJson(url) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

/** The cursor `depth` rows into a sorted listing, walked in pages of 1000 (limit is not part of a cursor). */
async function cursorAt(query, depth) {
  let cursor = null;
  for (let walked = 0; walked < depth; walked += 1000) {
    const page = await getJson(
      `${tableUrl}/experiments?${query}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    cursor = page.nextCursor;
    if (!cursor) throw new Error(`${query} has fewer than ${depth} rows`);
  }
  return cursor;
}

const q = (params) => new URLSearchParams(params).toString();
const TABLE = {
  'nested filter, newest first, with total': q({ filter: NESTED, columns: COLUMNS }),
  'nested filter, newest first, count=false': q({ filter: NESTED, columns: COLUMNS, count: 'false' }),
  'nested filter, 1,000 rows deep, total carried by the cursor': {
    query: q({ filter: NESTED, columns: COLUMNS }),
    depth: 1000,
  },
  'no filter, newest first, with total': q({ columns: COLUMNS }),
  'sort params.lr, first page, count=false': q({ sort: 'params.lr', columns: COLUMNS, count: 'false' }),
  'sort params.lr, 10,000 rows deep': {
    query: q({ sort: 'params.lr', columns: COLUMNS, count: 'false' }),
    depth: 10_000,
  },
  'sort -metrics.acc.max, first page, count=false': q({ sort: '-metrics.acc.max', columns: COLUMNS, count: 'false' }),
  'sort -metrics.acc.max, 10,000 rows deep': {
    query: q({ sort: '-metrics.acc.max', columns: COLUMNS, count: 'false' }),
    depth: 10_000,
  },
  'nested filter, sort -params.lr, count=false': q({
    filter: NESTED,
    sort: '-params.lr',
    columns: COLUMNS,
    count: 'false',
  }),
  'nested filter, sort -metrics.acc.max, count=false': q({
    filter: NESTED,
    sort: '-metrics.acc.max',
    columns: COLUMNS,
    count: 'false',
  }),
  'nested filter, sort -metrics.acc.max, with total': q({ filter: NESTED, sort: '-metrics.acc.max', columns: COLUMNS }),
};
const tableResults = {};
for (const [label, spec] of Object.entries(TABLE)) {
  const { query, depth } = typeof spec === 'string' ? { query: spec, depth: 0 } : spec;
  const cursor = depth > 0 ? await cursorAt(query, depth) : null;
  const url = `${tableUrl}/experiments?${query}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  let rows = 0;
  let total;
  const stats = await measure(
    async () => {
      const t0 = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
      const text = await response.text();
      const elapsed = performance.now() - t0;
      if (response.status !== 200) throw new Error(`table answered ${response.status}: ${text}`);
      const page = JSON.parse(text);
      rows = page.items.length;
      total = page.total;
      return elapsed;
    },
    { iterations: Number(values.iterations), budgetMs: 60_000 },
  );
  tableResults[label] = { ...stats, pageLength: rows, ...(total === undefined ? {} : { total }) };
  log(
    `table ${label}: p50 ${stats.p50Ms} ms, p95 ${stats.p95Ms} ms (${rows} rows${total === undefined ? '' : `, total ${total}`})`,
  );
}

const CATALOGUE = {
  'first page': 'limit=50',
  'search "a"': 'search=a&limit=50',
  'params only': 'source=param&limit=50',
};
const catalogueResults = {};
for (const [label, query] of Object.entries(CATALOGUE)) {
  let keys = 0;
  const stats = await measure(
    async () => {
      const t0 = performance.now();
      const response = await fetch(`${tableUrl}/keys?${query}`, { headers: { authorization: `Bearer ${apiKey}` } });
      const text = await response.text();
      const elapsed = performance.now() - t0;
      if (response.status !== 200) throw new Error(`keys answered ${response.status}: ${text}`);
      keys = JSON.parse(text).items.length;
      return elapsed;
    },
    { iterations: Number(values.iterations), budgetMs: 30_000 },
  );
  catalogueResults[label] = { ...stats, keys };
  log(`keys ${label}: p50 ${stats.p50Ms} ms, p95 ${stats.p95Ms} ms (${keys} keys)`);
}

await proc.stop();
const summary = {
  benchmark: 'search',
  experiments: N,
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  },
  seedSeconds: Math.round(seedSeconds),
  pageSize: 50,
  results,
  table: tableResults,
  catalogue: catalogueResults,
};
const out =
  values.out ??
  join(HERE, 'results', `search-${new Date().toISOString().replaceAll(':', '-').replaceAll('.', '-')}.json`);
await writeFile(out, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
if (values['keep-data'] || values.data) log(`data kept in ${dataDir}`);
else await rm(workDir, { recursive: true, force: true });
