import type { FastifyRequest } from 'fastify';
import { invalidParameter, MlflowApiError, missingParameter } from './mlflow-errors.js';

/**
 * Reading MLflow request fields the way MLflow's server does (spec §1.2): GET requests carry the
 * message as query parameters (repeated keys for lists), other methods as a JSON body; numbers
 * may come as numeric strings, enums as names or numbers; unknown fields are ignored. Route
 * schemas stay loose so that everything the client may send reaches these readers, which answer
 * with MLflow's own messages (`Missing value for required parameter 'x'.`).
 */
export type MlflowInput = Record<string, unknown>;

/** The request message: the query for GET, else the JSON body (decoded twice when old clients double-encode it). */
export function inputOf(request: FastifyRequest): MlflowInput {
  if (request.method === 'GET') return (request.query ?? {}) as MlflowInput;
  let body: unknown = request.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Request body is not valid JSON.');
    }
  }
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Request body must be a JSON object.');
  }
  return body as MlflowInput;
}

function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A string field; numbers are accepted and written in decimal (old clients send ids as numbers). */
export function optionalString(input: MlflowInput, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw invalidParameter(name, value);
}

export function requiredString(input: MlflowInput, name: string): string {
  if (isMissing(input[name])) throw missingParameter(name);
  return optionalString(input, name) as string;
}

/** The first present of several names (`run_id` or its deprecated `run_uuid`), reported as the first. */
export function requiredStringOf(input: MlflowInput, names: readonly [string, ...string[]]): string {
  for (const name of names) if (!isMissing(input[name])) return optionalString(input, name) as string;
  throw missingParameter(names[0]);
}

/** An int64 field: a JSON number or a decimal string holding a safe integer. */
export function optionalInt(input: MlflowInput, name: string): number | undefined {
  const value = input[name];
  if (isMissing(value)) return undefined;
  const number = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw invalidParameter(name, value);
  return number;
}

export function requiredInt(input: MlflowInput, name: string): number {
  if (isMissing(input[name])) throw missingParameter(name);
  return optionalInt(input, name) as number;
}

/**
 * A double field: a number, or the strings protobuf's JSON uses for non-finite values
 * ("NaN", "Infinity", "-Infinity") and numeric strings.
 */
export function optionalDouble(input: MlflowInput, name: string): number | undefined {
  const value = input[name];
  if (isMissing(value)) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value === 'NaN') return Number.NaN;
    if (value === 'Infinity') return Number.POSITIVE_INFINITY;
    if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
    const number = Number(value);
    if (value.trim() !== '' && !Number.isNaN(number)) return number;
  }
  throw invalidParameter(name, value);
}

export function requiredDouble(input: MlflowInput, name: string): number {
  if (isMissing(input[name])) throw missingParameter(name);
  return optionalDouble(input, name) as number;
}

/** A bool field: JSON true/false, or "true"/"false" in a query. */
export function optionalBool(input: MlflowInput, name: string): boolean | undefined {
  const value = input[name];
  if (isMissing(value)) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw invalidParameter(name, value);
}

/** A repeated field: a JSON array, repeated query keys, or one value standing for a list of one. */
export function optionalList(input: MlflowInput, name: string): unknown[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** An enum field given by name (case-insensitive) or by its proto number. */
export function optionalEnum<T extends string>(
  input: MlflowInput,
  name: string,
  values: Readonly<Record<T, number>>,
): T | undefined {
  const value = input[name];
  if (isMissing(value)) return undefined;
  for (const [key, number] of Object.entries(values) as [T, number][]) {
    if (typeof value === 'string' && value.toUpperCase() === key.toUpperCase()) return key;
    if (value === number || value === String(number)) return key;
  }
  throw invalidParameter(name, value);
}

/** A repeated message field's entries, each an object (`tags: [{key, value}]`). */
export function messageList(input: MlflowInput, name: string): MlflowInput[] {
  return optionalList(input, name).map((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw invalidParameter(`${name}[${i}]`, entry);
    }
    return entry as MlflowInput;
  });
}

/** `tags: [{key, value}]` as pairs, in request order; a tag without a key is refused. */
export function keyValueList(input: MlflowInput, name: string): { key: string; value: string }[] {
  return messageList(input, name).map((entry, i) => {
    if (isMissing(entry.key)) throw missingParameter(`${name}[${i}].key`);
    return { key: optionalString(entry, 'key') as string, value: optionalString(entry, 'value') ?? '' };
  });
}

/** Non-finite doubles as protobuf's JSON writes them; finite ones unchanged. */
export function wireDouble(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}
