import { InvalidArgumentError, SdkErrorCode } from './errors.js';

/** Validation rules shared by every facade. Each throws InvalidArgumentError with a clear message. */

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const WORKSPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const EXPERIMENT_KEY = /^[A-Za-z0-9]{32,50}$/;

export const MAX_NAME_LENGTH = 1000;
export const MAX_PROJECT_NAME_LENGTH = 100;

export function workspaceName(value: string): string {
  if (!WORKSPACE_NAME.test(value)) {
    throw new InvalidArgumentError(
      `invalid workspace name "${value}": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return value;
}

export function userName(value: string): string {
  if (!USER_NAME.test(value)) {
    throw new InvalidArgumentError(
      `invalid user name "${value}": use 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit`,
    );
  }
  return value;
}

export function projectName(value: string): string {
  if (value.trim() === '') {
    throw new InvalidArgumentError('project name must not be empty', SdkErrorCode.noProjectNameSpecified);
  }
  if (value.length >= MAX_PROJECT_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `project name must be shorter than ${MAX_PROJECT_NAME_LENGTH} characters`,
      SdkErrorCode.projectNameTooLong,
    );
  }
  if (CONTROL_CHARS.test(value) || value.includes('/')) {
    throw new InvalidArgumentError(`invalid project name "${value}": no '/' or control characters`);
  }
  return value;
}

/** MLflow experiment names are longer than Comet project names may be (MLflow's own limit). */
export const MAX_TRACKED_PROJECT_NAME_LENGTH = 500;

/**
 * A project name given through MLflow: 1–500 characters, none a control character or '/'
 * (docs/api/mlflow.md, "One data model").
 */
export function trackedProjectName(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('Invalid experiment name: the name must not be empty.');
  if (value.length > MAX_TRACKED_PROJECT_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `Experiment name must be at most ${MAX_TRACKED_PROJECT_NAME_LENGTH} characters, got ${value.length}.`,
    );
  }
  if (CONTROL_CHARS.test(value) || value.includes('/')) {
    throw new InvalidArgumentError(
      `Invalid experiment name: '${value}'. It must not contain '/' or control characters.`,
    );
  }
  return value;
}

export function experimentKey(value: string): string {
  if (!EXPERIMENT_KEY.test(value)) {
    throw new InvalidArgumentError(`invalid experiment key "${value}": 32-50 letters and digits expected`);
  }
  return value;
}

/** Names of metrics, parameters, others, tags and models. */
export function entryName(kind: string, value: string): string {
  if (value.length === 0) throw new InvalidArgumentError(`${kind} name must not be empty`);
  if (value.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(`${kind} name must be at most ${MAX_NAME_LENGTH} characters`);
  }
  if (CONTROL_CHARS.test(value)) throw new InvalidArgumentError(`${kind} name must not contain control characters`);
  return value;
}

/** Steps and epochs are integers; null means "not given". */
/** An absent, null or empty context all mean "no context", so reads never tell them apart. */
export function context(value: string | null | undefined): string | null {
  return value ? value : null;
}

export function optionalInteger(kind: string, value: number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(`${kind} must be an integer, got ${value}`);
  return value;
}

/** 9999-12-31T23:59:59.999Z: beyond it dates stop being printable and bigint columns stop being safe. */
const MAX_TIMESTAMP = 253_402_300_799_999;

export function timestamp(value: number | null | undefined, now: number): number {
  if (value === null || value === undefined) return now;
  if (!Number.isFinite(value) || value < 0 || value > MAX_TIMESTAMP) {
    throw new InvalidArgumentError(`invalid timestamp ${value}: epoch milliseconds up to year 9999 expected`);
  }
  return Math.round(value);
}

/**
 * Metric values are finite doubles. Numeric strings are accepted (the Java SDK sends strings);
 * NaN and infinities are refused unless `allowNonFinite` (the bulk path's explicit opt-in).
 */
export function metricValue(name: string, value: number | string, allowNonFinite = false): number {
  const parsed = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  if (typeof value === 'string' && Number.isNaN(parsed) && !/^\s*nan\s*$/i.test(value)) {
    throw new InvalidArgumentError(`metric "${name}" has a non-numeric value "${value}"`);
  }
  if (!Number.isFinite(parsed) && !allowNonFinite) {
    throw new InvalidArgumentError(`metric "${name}" has a non-finite value ${String(value)}`);
  }
  return parsed;
}
