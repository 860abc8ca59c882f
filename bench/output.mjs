#!/usr/bin/env node
// Output paging benchmark: npm run bench -- output [--lines 1000000] [--database-url postgres://…]
// One experiment holding N output lines (1 in 10 on stderr, 1 in 10,000 containing "needle");
// GET /api/cairn/v1/experiments/{key}/output pages sent to a real server process, one request in
// flight: the first page, a page deep in the output (by cursor), stream and search filters (the
// search's first page counts the whole output, its next pages only what is new), and a walk
// through every line 10,000 at a time.
//
// Seeding writes through the store's repository (the code the HTTP write ends in) in batches of
// 10,000 lines; a million lines through HTTP would measure ingest, not paging.

import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startCairnServer } from './lib/cairn-server.mjs';
import { runToEnd } from './lib/proc.mjs';
import { measure } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'output'),
  options: {
    lines: { type: 'string', default: '1000000' },
    iterations: { type: 'string', default: '50' },
    'database-url': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const N = Number(values.lines);
const log = (line) => process.stderr.write(`[output] ${line}\n`);

if (!values['no-build']) {
  log('building Cairn (npx tsc -b)');
  const built = await runToEnd('npx', ['tsc', '-b'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error('npx tsc -b failed');
}

const server = await import(pathToFileURL(join(REPO_ROOT, 'packages/server/dist/index.js')).href);
const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-output-bench-'));
const dataDir = join(workDir, 'data');
await mkdir(dataDir, { recursive: true });
const apiKey = Array.from({ length: 40 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
const env = {
  CAIRN_DATA_DIR: dataDir,
  CAIRN_ADMIN_API_KEY: apiKey,
  CAIRN_SQLITE_SYNCHRONOUS: 'normal',
  ...(values['database-url'] ? { CAIRN_DATABASE_URL: values['database-url'] } : {}),
};
const backend = values['database-url'] ? 'postgres' : 'sqlite';

const seedStarted = performance.now();
const core = await server.openCore(server.loadConfig(env));
await core.auth.bootstrap(apiKey);
const admin = await core.auth.authenticate(apiKey);
const key = (await core.experiments.create(admin, { workspaceName: 'default', projectName: 'output-bench' })).experiment
  .id;
const BATCH = 10_000;
const base = Date.UTC(2026, 0, 1);
for (let start = 0; start < N; start += BATCH) {
  const lines = [];
  for (let i = start; i < Math.min(N, start + BATCH); i++) {
    lines.push({
      text:
        i % 10_000 === 5_000
          ? `step ${i}: found the Needle in the output`
          : `step ${i}: loss=${(1 / (1 + i)).toFixed(6)} lr=0.001 throughput=${1000 + (i % 97)} samples/s`,
      stderr: i % 10 === 3,
      context: null,
      timestamp: base + i,
      clientOffset: null,
    });
  }
  await core.store.transaction((tx) => tx.experiments.appendOutput(key, lines));
  if ((start / BATCH) % 20 === 0) log(`seeded ${Math.min(N, start + BATCH)} / ${N}`);
}
await core.store.close();
const seedSeconds = (performance.now() - seedStarted) / 1000;
log(`seeded ${N} lines in ${seedSeconds.toFixed(0)} s (${backend})`);

const { proc, url: baseUrl } = await startCairnServer({ workDir, env });

/** GET a page; returns the parsed body and the wall time of the request (parse excluded). */
async function page(query) {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/cairn/v1/experiments/${key}/output?${query}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  const text = await response.text();
  const ms = performance.now() - started;
  if (response.status !== 200) throw new Error(`${response.status} ${text.slice(0, 200)}`);
  return { body: JSON.parse(text), ms };
}

const results = {};
try {
  const iterations = Number(values.iterations);
  const timed = async (name, query, check) => {
    results[name] = await measure(
      async () => {
        const { body, ms } = await page(typeof query === 'function' ? query() : query);
        check?.(body);
        return ms;
      },
      { iterations, budgetMs: 120_000, warmup: 2 },
    );
    log(`${name}: p50 ${results[name].p50Ms} ms, p95 ${results[name].p95Ms} ms`);
  };

  await timed('first page (1000 lines)', 'limit=1000', (b) => {
    if (b.total !== N || b.items[0].seq !== 1) throw new Error('wrong first page');
  });
  // A cursor near the end, taken from a walk's last pages: deep pages cost the same as the first.
  let deep = null;
  {
    let cursor = null;
    let seen = 0;
    const walkStarted = performance.now();
    let pages = 0;
    do {
      const { body } = await page(`limit=10000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      seen += body.items.length;
      pages += 1;
      if (seen === N - 10_000) deep = body.nextCursor;
      cursor = body.nextCursor;
    } while (cursor);
    const walkSeconds = (performance.now() - walkStarted) / 1000;
    if (seen !== N) throw new Error(`walk saw ${seen} lines`);
    results['walk every line, 10000 per page'] = { pages, seconds: Math.round(walkSeconds * 100) / 100 };
    log(`walked ${seen} lines in ${pages} pages, ${walkSeconds.toFixed(2)} s`);
  }
  await timed('deep page (1000 lines, cursor at line 990000)', `limit=1000&cursor=${encodeURIComponent(deep)}`);
  await timed('stderr, first page', 'limit=1000&stream=stderr', (b) => {
    if (b.total !== N / 10) throw new Error(`stderr total ${b.total}`);
  });
  await timed('search, first page (counts every line)', 'limit=20&search=needle', (b) => {
    if (b.total !== N / 10_000) throw new Error(`search total ${b.total}`);
  });
  const first = (await page('limit=20&search=needle')).body;
  // Small outputs (--lines under 200,000) hold a single page of matches: there is no next page.
  if (first.nextCursor) {
    await timed(
      'search, next page (counts new lines only)',
      `limit=20&search=needle&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
  }
} finally {
  await proc.stop();
  if (backend === 'sqlite') await rm(workDir, { recursive: true, force: true });
}

const summary = {
  benchmark: 'output',
  backend,
  lines: N,
  seedSeconds: Math.round(seedSeconds),
  startedAt: new Date().toISOString(),
  results,
};
const out = values.out ?? join(HERE, 'results', `output-${backend}-${summary.startedAt.replace(/[:.]/g, '-')}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(summary, null, 2)}\nSummary JSON: ${out}\n`);
