import { MlflowApiError } from '../mlflow-errors.js';

/** MLflow's opaque page token: base64 of `{"offset": n}`, as its SQL store writes it. */
export function encodePageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

/** The offset a token names (0 without one); a token Cairn cannot have issued is refused. */
export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }).offset;
  } catch {
    offset = undefined;
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Invalid page token, could not base64-decode');
  }
  return offset;
}
