#!/usr/bin/env node
// Where the bulk ingest's time goes: shape M ingested into a Cairn server run with
// `node --cpu-prof`, nothing else (no reads), then the server's profile summarised by self time.
//   node bench/ingest-profile.mjs [--body json|binary] [--batch 25000] [--writers 20] [--dir DIR]
//   node bench/ingest-profile.mjs --summarise FILE.cpuprofile   (an earlier profile again)
// Build first (npx tsc -b). The .cpuprofile is kept in DIR (open it in Chrome DevTools).

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { cairnDriver } from './lib/drivers/cairn.mjs';
import { ingest } from './lib/ingest.mjs';
import { resolveShape, totalPoints } from './lib/shapes.mjs';
import { planStreams, range } from './lib/workload.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    body: { type: 'string', default: 'binary' },
    batch: { type: 'string', default: '25000' },
    writers: { type: 'string', default: '20' },
    dir: { type: 'string' },
    summarise: { type: 'string' },
  },
});
if (values.summarise) {
  summarise(JSON.parse(await readFile(values.summarise, 'utf8')), values.summarise);
  process.exit(0);
}
if (!['json', 'binary'].includes(values.body)) throw new Error('--body must be json or binary');
const writers = positiveInt('writers', values.writers);
const batchPoints = positiveInt('batch', values.batch);
const profileDir = resolve(values.dir ?? (await mkdtemp(join(os.tmpdir(), 'cairn-ingest-profile-'))));
const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-ingest-work-'));
const log = (/** @type {string} */ s) => process.stderr.write(`[ingest-profile] ${s}\n`);

const shape = resolveShape('M', {});
const driver = cairnDriver({
  repoRoot: resolve(HERE, '..'),
  build: false,
  gzip: false,
  body: /** @type {'json'|'binary'} */ (values.body),
  batchPoints,
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  log,
});
await driver.start(workDir);
try {
  const keys = await driver.createRuns(range(0, shape.runs).map((r) => `run-${r}`));
  const streams = planStreams(shape, { writers, batchPoints });
  const cpuBefore = await cpuSeconds(driver.pid);
  const result = await ingest(driver, streams, new Map(keys.map((k, i) => [i, k])), {
    writers,
    deadlineMs: 900_000,
    onProgress: () => {},
  });
  const cpu = (await cpuSeconds(driver.pid)) - cpuBefore;
  const perPoint = (cpu * 1e6) / totalPoints(shape);
  // CPU time does not depend on how busy the shared machine is, as points/s does: it bounds the
  // rate one server process can reach (the event loop is one core; GC threads add a little).
  log(
    `${values.body}: ${totalPoints(shape).toLocaleString()} points at ${Math.round(result.pointsPerSecond).toLocaleString()} points/s; server CPU ${cpu.toFixed(2)} s = ${perPoint.toFixed(2)} µs/point (≈ ${Math.round(1e6 / perPoint).toLocaleString()} points per CPU-second)`,
  );
} finally {
  await driver.stop();
  await rm(workDir, { recursive: true, force: true });
}

const [file] = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile in ${profileDir}`);
summarise(JSON.parse(await readFile(join(profileDir, file), 'utf8')), join(profileDir, file));

/**
 * Self time per function (name and file), and per kind of work, as shares of the profile.
 * @param {{ nodes: { id: number, callFrame: { functionName: string, url: string, lineNumber: number } }[], samples: number[], timeDeltas: number[] }} profile
 * @param {string} path
 */
function summarise(profile, path) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  // The server's start-up (module loading, schema compilation) is not ingest: samples count from
  // the first one in the bulk route's handler on.
  const ingestPath = new Set(['logSeries', 'decodeMetricsBinary', 'appendInTransaction']);
  const first = profile.samples.findIndex((id) => ingestPath.has(byId.get(id)?.callFrame.functionName ?? ''));
  /** @type {Map<string, number>} */
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    if (i < first) return;
    const dt = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    const where = frame?.url ? where_(frame.url) : '';
    const key = `${frame?.functionName || '(anonymous)'}${where ? ` ${where}:${(frame?.lineNumber ?? 0) + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, 30);
  console.log(
    `\nServer profile ${path}: ${(total / 1e6).toFixed(1)} s sampled from the first ingest sample; top self time:`,
  );
  for (const [key, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
}

/** A frame's file, with its package when it is a dependency's. @param {string} url */
function where_(url) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  return pkg ? `${pkg}/${basename(url)}` : basename(url);
}

/** User + system CPU seconds of a process so far (Linux /proc). @param {number} pid */
async function cpuSeconds(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
