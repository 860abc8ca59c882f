#!/usr/bin/env node
// Export/import benchmark: npm run bench -- export [--points 1000000] [--asset-mib 256] [--repeats 3]
// Two `cairn server` processes from this checkout (fresh data dirs). One experiment on A gets one
// metric of --points points (with steps, epochs and timestamps) and one asset of --asset-mib MiB,
// through @cairn/sdk. Then, per repeat, `cairn export` from A and `cairn import` into B (a new
// project each time) run as subprocesses: wall time, and the peak memory of the CLI process —
// which must stay flat as the series and the asset grow, since both are streamed.
// Medians over --repeats; the machine is shared and noisy.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, sampleRss, startGroup, waitHttp } from './lib/proc.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const CLI = join(REPO_ROOT, 'packages/cli/bin/cairn.js');
const KEY = 'ExportBenchAdminKey000000000000000000000000';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'export'),
  options: {
    points: { type: 'string', default: '1000000' },
    'asset-mib': { type: 'string', default: '256' },
    repeats: { type: 'string', default: '3' },
  },
});
const POINTS = Number(values.points);
const ASSET_MIB = Number(values['asset-mib']);
const REPEATS = Number(values.repeats);

const { Cairn } = await import(pathToFileURL(join(REPO_ROOT, 'packages/sdk/dist/node.js')).href);
const work = await mkdtemp(join(os.tmpdir(), 'cairn-bench-export-'));
const servers = [];

async function startCairn(name) {
  const port = await freePort();
  const dataDir = join(work, name);
  await mkdir(dataDir, { recursive: true });
  const logFile = join(work, `${name}.log`);
  const server = startGroup(process.execPath, [CLI, 'server'], {
    env: {
      ...process.env,
      CAIRN_DATA_DIR: dataDir,
      CAIRN_PORT: String(port),
      CAIRN_ADMIN_API_KEY: KEY,
      CAIRN_LOG_LEVEL: 'warn',
    },
    logFile,
  });
  servers.push(server);
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/healthz`, server, 60_000, logFile);
  return url;
}

/** Runs the CLI to its end, sampling its memory; answers wall ms and peak RSS bytes. */
function timedCli(args, url) {
  return new Promise((done, fail) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, CAIRN_URL: url, CAIRN_API_KEY: KEY, CAIRN_CONFIG: join(work, 'none.json') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rss = sampleRss(child.pid, 50);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('exit', async (code) => {
      const ms = performance.now() - started;
      const memory = await rss.stop();
      if (code !== 0) fail(new Error(`cairn ${args.join(' ')} exited ${code}: ${stderr}`));
      else done({ ms, peakRss: Math.max(memory.peakTreeRssBytes, memory.maxProcessHwmBytes) });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (bytes) => (bytes / 1024 / 1024).toFixed(0);

try {
  const [a, b] = await Promise.all([startCairn('a'), startCairn('b')]);
  const client = new Cairn({ url: a, apiKey: KEY, logLevel: 'off' });
  const experiment = await client.experiments.create('default', 'bench');
  const T0 = Date.now() - POINTS;
  for (let start = 0; start < POINTS; start += 50_000) {
    const n = Math.min(50_000, POINTS - start);
    const steps = Array.from({ length: n }, (_, i) => start + i);
    await client.metrics.log(experiment.key, {
      series: [
        {
          name: 'loss',
          values: steps.map((s) => 1 / (s + 1)),
          steps,
          epochs: steps.map((s) => Math.floor(s / 10_000)),
          timestamps: steps.map((s) => T0 + s),
        },
      ],
    });
  }
  const assetPath = join(work, 'asset.bin');
  const file = await open(assetPath, 'w');
  for (let i = 0; i < ASSET_MIB; i++) await file.write(randomBytes(1024 * 1024));
  await file.close();
  await client.assets.upload(experiment.key, assetPath, { name: 'weights.bin' });

  const runs = [];
  for (let r = 0; r < REPEATS; r++) {
    const dir = join(work, `export-${r}`);
    const exported = await timedCli(['export', 'default/bench', dir], a);
    // New keys: each repeat imports the same export beside the earlier copies.
    const imported = await timedCli(['import', dir, '--project', `copy-${r}`, '--new-keys'], b);
    const size = (await stat(join(dir, 'experiments', experiment.key, 'metrics.parquet'))).size;
    runs.push({ exported, imported, parquetBytes: size });
    process.stderr.write(
      `repeat ${r + 1}: export ${exported.ms.toFixed(0)} ms (${mib(exported.peakRss)} MiB), ` +
        `import ${imported.ms.toFixed(0)} ms (${mib(imported.peakRss)} MiB)\n`,
    );
    await rm(dir, { recursive: true, force: true });
  }
  const copy = await new Cairn({ url: b, apiKey: KEY, logLevel: 'off' }).metrics.list(
    (await new Cairn({ url: b, apiKey: KEY, logLevel: 'off' }).experiments({ workspace: 'default', project: 'copy-0' }))
      .items[0].key,
  );
  if (copy[0]?.count !== POINTS) throw new Error(`the import stored ${copy[0]?.count} points, not ${POINTS}`);
  const row = (what, pick) =>
    `| ${what} | ${median(runs.map((x) => pick(x).ms)).toFixed(0)} ms | ${mib(Math.max(...runs.map((x) => pick(x).peakRss)))} MiB |`;
  process.stdout.write(
    [
      `Export/import of one experiment: ${POINTS.toLocaleString('en')} points in one series, one ${ASSET_MIB} MiB asset ` +
        `(metrics.parquet ${mib(runs[0].parquetBytes)} MiB); median of ${REPEATS}, peak RSS of the CLI process.`,
      '',
      '| command | wall time | peak RSS |',
      '|---|---|---|',
      row('`cairn export`', (x) => x.exported),
      row('`cairn import`', (x) => x.imported),
      '',
    ].join('\n'),
  );
} finally {
  for (const server of servers) await server.stop();
  await rm(work, { recursive: true, force: true });
}
