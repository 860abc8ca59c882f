import { join } from 'node:path';
import { ROOT, type VenvSpec } from './python-compat.js';

/**
 * The pinned comet_ml client the compatibility suites drive, in `<repo>/.venv/comet-ml-3.32.5`
 * (gitignored), created on first use and reused while it holds exactly that version. urllib3 is
 * held below 2: comet_ml 3.32.5 builds its retry policy with `Retry(method_whitelist=...)`, which
 * urllib3 2 removed, so `API()` fails to construct with the urllib3 a bare
 * `pip install comet_ml==3.32.5` picks today.
 */
export const COMET_ML_VERSION = '3.32.5';

export const COMET_ML_VENV: VenvSpec = {
  suite: 'comet_ml',
  dir: join(ROOT, `.venv/comet-ml-${COMET_ML_VERSION}`),
  requirements: [`comet_ml==${COMET_ML_VERSION}`, 'urllib3<2'],
  accepts: (versions) =>
    versions.comet_ml === COMET_ML_VERSION &&
    versions.urllib3 !== undefined &&
    Number.parseInt(versions.urllib3, 10) < 2,
};

/** What every comet_ml script is given: the server's clientlib URL, the key, the workspace. */
export function cometMlEnv(port: number, adminKey: string): Record<string, string> {
  return {
    COMET_URL_OVERRIDE: `http://127.0.0.1:${port}/clientlib/`,
    COMET_API_KEY: adminKey,
    CAIRN_WORKSPACE: 'default',
  };
}

/**
 * The newest comet_ml on PyPI when last checked (2026-12-04), run through the same scripts: Cairn
 * must keep working with what users install today, not only with the client it was built against.
 * Bump it when a new release appears; the scripts branch only where the client itself changed
 * (they say which version does what).
 */
export const COMET_ML_NEWEST_VERSION = '3.58.8';

export const COMET_ML_NEWEST_VENV: VenvSpec = {
  suite: 'comet_ml (newest)',
  dir: join(ROOT, `.venv/comet-ml-${COMET_ML_NEWEST_VERSION}`),
  requirements: [`comet_ml==${COMET_ML_NEWEST_VERSION}`],
};

/** Both clients the compatibility suites run: the pinned one and the newest. */
export const COMET_ML_CLIENTS = [
  { version: COMET_ML_VERSION, venv: COMET_ML_VENV },
  { version: COMET_ML_NEWEST_VERSION, venv: COMET_ML_NEWEST_VENV },
] as const;
