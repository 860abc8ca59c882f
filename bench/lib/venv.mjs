// Python peers live in virtualenvs under bench/.venv/<peer> (gitignored), created on first use.
// One venv per peer because their pins conflict: fasttrackml's wheel requires mlflow<3 while we
// benchmark current MLflow, and aim + mlflow in one venv resolves SQLAlchemy 2.1, which breaks
// MLflow 2.x's store imports.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runToEnd } from './proc.mjs';

/** Versions the published numbers were taken with; bump deliberately. */
export const PEER_PACKAGES = {
  mlflow: { pip: ['mlflow==3.17.2'], exe: 'mlflow' },
  // The wheel ships the Go server binary `fml`; its Python deps are only the MLflow client.
  fasttrackml: { pip: ['--no-deps', 'fasttrackml==0.6.0'], exe: 'fml' },
  aim: { pip: ['aim==3.29.1'], exe: 'aim' },
};

/**
 * Path of the peer's venv, created and populated if its executable is missing.
 * @param {keyof typeof PEER_PACKAGES} peer @param {string} venvRoot
 */
export async function ensureVenv(peer, venvRoot) {
  const dir = join(venvRoot, peer);
  const spec = PEER_PACKAGES[peer];
  const exe = join(dir, 'bin', spec.exe);
  if (existsSync(exe)) return dir;
  await mkdir(dirname(dir), { recursive: true });
  process.stderr.write(`[bench] creating ${dir} (pip install ${spec.pip.join(' ')}); this takes a few minutes\n`);
  const py = process.env.PYTHON ?? 'python3';
  let r = await runToEnd(py, ['-m', 'venv', dir], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`${py} -m venv ${dir} failed`);
  r = await runToEnd(join(dir, 'bin', 'pip'), ['install', '--disable-pip-version-check', '-q', ...spec.pip], {
    timeoutMs: 20 * 60_000,
  });
  if (r.code !== 0 || !existsSync(exe)) throw new Error(`pip install ${spec.pip.join(' ')} into ${dir} failed`);
  return dir;
}
