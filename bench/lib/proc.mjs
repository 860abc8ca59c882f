// Child processes: start in their own process group, sample the tree's memory, always stop them.

import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Process groups we started and must end, whatever happens (error, Ctrl-C). */
const live = new Set();

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of live) killGroup(pid, 'SIGKILL');
  });
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping ${live.size} child process group(s)\n`);
      for (const pid of live) killGroup(pid, 'SIGTERM');
      setTimeout(() => process.exit(130), 1500).unref();
    });
  }
}

/**
 * Starts a long-running child (a server, a driver) as leader of a new process group, so that
 * it and every worker it forks can be stopped together by group id.
 * @param {string} cmd @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, logFile: string }} opts
 */
export function startGroup(cmd, args, { cwd, env, logFile }) {
  hookExit();
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  const pid = child.pid;
  live.add(pid);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  exited.then(() => live.delete(pid));
  return {
    pid,
    child,
    /** @type {Promise<{code: number|null, signal: string|null}>} */
    exited,
    /** SIGTERM to the group, SIGKILL after `graceMs`. */
    async stop(graceMs = 15_000) {
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // workers that outlived the leader
      killGroup(pid, 'SIGKILL');
      live.delete(pid);
      log.end();
    },
  };
}

/**
 * Runs a command to completion (bounded by timeoutMs), inheriting stdio unless captured.
 * @param {string} cmd @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs: number, capture?: boolean }} opts
 * @returns {Promise<{ code: number|null, stdout: string, stderr: string }>}
 */
export function runToEnd(cmd, args, { cwd, env, timeoutMs, capture = false }) {
  hookExit();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env,
      detached: true,
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
    });
    if (child.pid === undefined) return reject(new Error(`could not start ${cmd}`));
    const pid = child.pid;
    live.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[bench] killed after ${timeoutMs} ms`;
      killGroup(pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      live.delete(pid);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A free TCP port on 127.0.0.1 (the OS picks; tiny race accepted). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Polls `url` until it answers 2xx, the process dies, or the timeout passes.
 * @param {string} url @param {{ exited: Promise<unknown> }} proc @param {number} timeoutMs
 * @param {string} logFile
 */
export async function waitHttp(url, proc, timeoutMs, logFile) {
  let dead = false;
  proc.exited.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dead) throw new Error(`server exited during startup; see ${logFile}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms; see ${logFile}`);
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {number} pid */
async function readStatus(pid) {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const field = (name) => {
      const m = text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'));
      return m ? Number(m[1]) * 1024 : 0;
    };
    const ppid = Number(text.match(/^PPid:\s+(\d+)/m)?.[1] ?? 0);
    return { pid, ppid, rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return null;
  }
}

/** Every live descendant of rootPid, rootPid included. @param {number} rootPid */
async function processTree(rootPid) {
  const entries = await readdir('/proc');
  const all = (await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => readStatus(Number(e))))).filter(
    (s) => s !== null,
  );
  const byParent = new Map();
  for (const s of all) {
    if (!byParent.has(s.ppid)) byParent.set(s.ppid, []);
    byParent.get(s.ppid).push(s);
  }
  const root = all.find((s) => s.pid === rootPid);
  if (!root) return [];
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(byParent.get(out[i].pid) ?? []));
  return out;
}

/**
 * Samples the memory of a process tree every `intervalMs`. Peak of the summed VmRSS is what the
 * machine had to provide; the largest per-process VmHWM catches spikes between samples.
 * @param {number} rootPid @param {number} [intervalMs]
 */
export function sampleRss(rootPid, intervalMs = 200) {
  let peakTreeRss = 0;
  let maxProcessHwm = 0;
  let maxProcesses = 0;
  let stopped = false;
  const tick = async () => {
    const tree = await processTree(rootPid);
    let sum = 0;
    for (const p of tree) {
      sum += p.rss;
      maxProcessHwm = Math.max(maxProcessHwm, p.hwm);
    }
    peakTreeRss = Math.max(peakTreeRss, sum);
    maxProcesses = Math.max(maxProcesses, tree.length);
  };
  const loop = (async () => {
    while (!stopped) {
      await tick();
      await sleep(intervalMs);
    }
  })();
  return {
    /** Takes one last sample (VmHWM is still readable while the process lives) and stops. */
    async stop() {
      if (!stopped) await tick();
      stopped = true;
      await loop;
      return { peakTreeRssBytes: peakTreeRss, maxProcessHwmBytes: maxProcessHwm, maxProcesses };
    },
  };
}

/**
 * Allocated bytes (st_blocks) and apparent bytes under a directory, like `du` and `du -b`.
 * @param {string} dir
 */
export async function diskUsage(dir) {
  let allocated = 0;
  let apparent = 0;
  let files = 0;
  const walk = async (/** @type {string} */ d) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = await lstat(p);
      allocated += st.blocks * 512;
      apparent += st.size;
      if (e.isDirectory()) await walk(p);
      else files++;
    }
  };
  await walk(dir);
  return { allocatedBytes: allocated, apparentBytes: apparent, files };
}
