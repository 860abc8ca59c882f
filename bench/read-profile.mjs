// Where the time of reads (a) and (b) goes (issue #14): one Cairn server from this checkout
// (built beforehand) under --cpu-prof, one 10,000-point series written as bench/run.mjs writes its
// read fixture, then JSON and binary full-history and 1,000-point page reads interleaved one at a
// time (so both forms see the same machine load), p50/p95 per form, and the server's CPU profile
// summarised by self time and by layer.
//
//   node bench/read-profile.mjs [--iterations 300]

import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomApiKey, startCairnServer } from './lib/cairn-server.mjs';
import { parseJson, request } from './lib/http.mjs';
import { FIXTURE, T0_MS, value } from './lib/workload.mjs';

const { values: args } = parseArgs({ options: { iterations: { type: 'string', default: '300' } } });
const iterations = Number(args.iterations);
const BINARY = 'application/vnd.cairn.series';

const workDir = await mkdtemp(join(tmpdir(), 'cairn-read-profile-'));
const profDir = join(workDir, 'prof');
const apiKey = randomApiKey();
const { proc, url } = await startCairnServer({
  workDir,
  env: { CAIRN_DATA_DIR: join(workDir, 'data'), CAIRN_ADMIN_API_KEY: apiKey },
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
});
const results = {};
try {
  const created = await request('POST', `${url}/api/rest/v2/write/experiment/create`, {
    headers: { authorization: apiKey },
    json: { workspaceName: 'default', projectName: 'bench', experimentName: 'profile' },
  });
  const key = parseJson(created.text).experimentKey;
  const steps = Array.from({ length: FIXTURE.steps }, (_, i) => i);
  const series = [
    {
      name: FIXTURE.name,
      context: null,
      steps,
      values: steps.map((s) => value(FIXTURE.runIndex, FIXTURE.metric, s)),
      timestamps: steps.map((s) => T0_MS + s * 10),
    },
  ];
  const metrics = `${url}/api/cairn/v1/experiments/${key}/metrics`;
  const bearer = { authorization: `Bearer ${apiKey}` };
  await request('POST', metrics, { headers: bearer, json: { series } });

  const forms = {
    'full JSON': () => request('GET', `${metrics}/${FIXTURE.name}`, { headers: bearer }),
    'full binary': () =>
      request('GET', `${metrics}/${FIXTURE.name}`, { headers: { ...bearer, accept: BINARY }, binary: true }),
    'page JSON': (i) =>
      request('GET', `${metrics}/${FIXTURE.name}?offset=${(i % 10) * 1000}&limit=1000`, { headers: bearer }),
    'page binary': (i) =>
      request('GET', `${metrics}/${FIXTURE.name}?offset=${(i % 10) * 1000}&limit=1000`, {
        headers: { ...bearer, accept: BINARY },
        binary: true,
      }),
  };
  const times = Object.fromEntries(Object.keys(forms).map((name) => [name, []]));
  for (let i = -3; i < iterations; i++) {
    for (const [name, read] of Object.entries(forms)) {
      const r = await read(i + 3);
      if (i >= 0) times[name].push(r.ms);
    }
  }
  for (const [name, list] of Object.entries(times)) {
    list.sort((a, b) => a - b);
    const at = (q) => list[Math.min(list.length - 1, Math.ceil(q * list.length) - 1)];
    results[name] = { p50: +at(0.5).toFixed(2), p95: +at(0.95).toFixed(2), n: list.length };
  }
} finally {
  await proc.stop();
}

console.log('client-side latency, ms (interleaved, same load):');
console.table(results);
const [profile] = (await readdir(profDir)).filter((f) => f.endsWith('.cpuprofile'));
if (profile) summarise(JSON.parse(await readFile(join(profDir, profile), 'utf8')));
await rm(workDir, { recursive: true, force: true });

/** Self time by function (top 25) and by where the code lives. */
function summarise({ nodes, samples, timeDeltas }) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const self = new Map();
  samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (timeDeltas[i] ?? 0));
  });
  const byFunction = new Map();
  const byPlace = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === '(idle)') continue;
    total += us;
    const file = callFrame.url.replace(/^.*\/(node_modules|packages)\//, '$1/');
    const fn = `${callFrame.functionName || '(anonymous)'} ${file}:${callFrame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    const place = placeOf(callFrame);
    byPlace.set(place, (byPlace.get(place) ?? 0) + us);
  }
  const rows = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ where: k, ms: +(us / 1000).toFixed(1), share: `${((100 * us) / total).toFixed(1)}%` }));
  console.log(`server CPU, busy ${(total / 1000).toFixed(0)} ms over the run; self time by layer:`);
  console.table(rows(byPlace, 20));
  console.log('self time by function:');
  console.table(rows(byFunction, 25));
}

function placeOf({ url: file, functionName }) {
  if (!file) return functionName === '(garbage collector)' ? 'GC' : `native ${functionName || '(program)'}`;
  const m = file.match(/packages\/server\/dist\/(.*)\/[^/]+\.js$/);
  if (m) return `cairn ${m[1]}`;
  const dep = file.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (dep) return `dep ${dep[1]}`;
  if (file.startsWith('node:')) return `node ${file.slice(5).split('/')[0]}`;
  return file;
}
