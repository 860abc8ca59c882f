// Aim: no HTTP server to drive (its remote tracker uses a custom protocol), so the whole
// ingest and the reads run inside bench/peers/aim_driver.py with the Aim SDK on a local repo.
// The memory measured is that driver's process tree, writers included (see README caveats).

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd, sampleRss, startGroup } from '../proc.mjs';
import { ensureVenv } from '../venv.mjs';

const SCRIPT = fileURLToPath(new URL('../../peers/aim_driver.py', import.meta.url));

/** @param {{ venvRoot: string, log: (s: string) => void }} opts */
export function aimDriver(opts) {
  let python = '';
  let repo = '';
  let workDir = '';
  const driver = {
    name: 'aim',
    kind: 'process',
    dataDir: '',
    version: '',
    calls: {
      full: 'Run.get_metric(name).data.numpy() (SDK, in-process)',
      page: 'n/a: numeric sequences are stored keyed by step hash; SequenceV2Data.range() raises',
      downsample: 'Run.get_metric(name).data.sample(1000).numpy() (SDK; keeps 1000 stored points, no bucketing)',
      chart: '50 x Run.get_metric(name).data.sample(1000).numpy() (10 runs x 5 metrics)',
    },

    /** @param {string} dir */
    async prepare(dir) {
      workDir = dir;
      const venv = await ensureVenv('aim', opts.venvRoot);
      python = join(venv, 'bin', 'python');
      repo = join(dir, 'data');
      await mkdir(repo, { recursive: true });
      driver.dataDir = repo;
      const v = await runToEnd(python, ['-c', 'from importlib.metadata import version; print(version("aim"))'], {
        timeoutMs: 120_000,
        capture: true,
      });
      if (v.code !== 0) throw new Error(`cannot import aim from ${venv}: ${v.stderr}`);
      driver.version = v.stdout.trim();
    },

    /**
     * @param {object} spec ingest spec (see aim_driver.py cmd_ingest)
     * @returns {Promise<{ result: any, rss: any }>}
     */
    async ingest(spec) {
      return invokeSampled('ingest', spec);
    },

    /** @param {object} spec read spec (see aim_driver.py cmd_read) */
    async read(spec) {
      return invokeSampled('read', spec);
    },
  };

  /** Runs the Python driver as its own process group and samples that tree's memory. */
  async function invokeSampled(command, spec) {
    const logFile = join(workDir, `aim-${command}.log`);
    const outFile = join(workDir, `aim-${command}.json`);
    const proc = startGroup(
      python,
      [SCRIPT, command, '--repo', repo, '--spec', JSON.stringify(spec), '--out', outFile],
      {
        cwd: workDir,
        env: process.env,
        logFile,
      },
    );
    const rss = sampleRss(proc.pid);
    const { code, signal } = await proc.exited;
    const mem = await rss.stop();
    await proc.stop();
    if (code !== 0) {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      throw new Error(`aim_driver.py ${command} failed (${code ?? signal}):\n${tail}`);
    }
    return { result: JSON.parse(await readFile(outFile, 'utf8')), rss: mem };
  }

  return driver;
}
