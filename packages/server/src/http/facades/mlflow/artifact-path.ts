import { MlflowApiError } from './mlflow-errors.js';

/**
 * What a path of the proxied artifact service names (docs/api/mlflow.md, "Ids"): paths are
 * relative to the `mlflow-artifacts:/` root, where a run's files live under
 * `<experiment_id>/<run_id>/artifacts/` and a logged model's under
 * `<experiment_id>/models/<model_id>/artifacts/`.
 */
export type ArtifactTarget =
  | { kind: 'run'; experimentId: string; runId: string; path: string }
  | { kind: 'model'; experimentId: string; loggedModelId: string; path: string };

/**
 * MLflow's `validate_path_is_safe`, applied to the path as received and once more
 * percent-decoded (so `%2e%2e` cannot pass for a name): no `..` segment, no absolute POSIX or
 * Windows path, no `#`, no NUL or other control character. Answers 400 `Invalid path`.
 */
export function assertSafePath(path: string): void {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A lone `%` (a file named `50%.txt`) is no encoding: the path is checked as it is.
  }
  for (const candidate of [path, decoded]) {
    if (/[\u0000-\u001f\u007f#]/.test(candidate)) throw invalidPath();
    if (candidate.startsWith('/') || candidate.startsWith('\\') || /^[A-Za-z]:/.test(candidate)) throw invalidPath();
    if (candidate.split(/[\\/]/).some((segment) => segment === '..')) throw invalidPath();
  }
}

/**
 * The target of a path below the artifact root, or undefined when it names nothing Cairn
 * stores (a folder above a run's `artifacts`, another layout). `path` is "" for the root of the
 * run's or model's files. The caller has checked the path with `assertSafePath`.
 */
export function parseArtifactPath(raw: string): ArtifactTarget | undefined {
  const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
  const [experimentId, second, third, fourth, ...rest] = segments;
  if (!experimentId || !second || !third) return undefined;
  if (second === 'models' && third && fourth === 'artifacts') {
    return { kind: 'model', experimentId, loggedModelId: third, path: rest.join('/') };
  }
  if (third === 'artifacts') {
    return { kind: 'run', experimentId, runId: second, path: [fourth, ...rest].filter(Boolean).join('/') };
  }
  return undefined;
}

function invalidPath(): MlflowApiError {
  return new MlflowApiError('INVALID_PARAMETER_VALUE', 'Invalid path');
}
