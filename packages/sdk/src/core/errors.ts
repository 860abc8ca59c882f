/**
 * Error classes of the SDK. Every error thrown by a client call is a `CairnError`; answers of the
 * server with a non-2xx status are an `APIError` subclass chosen by status.
 *
 * Errors are branded: `instanceof` checks the brand, not the prototype chain, so an error created
 * by one copy of the SDK (a bundler's duplicate, a CJS/ESM pair) is still recognised by another
 * (the dual-package hazard of openai/openai-node #1512). `isCairnError(e)` and `isAPIError(e)`
 * check the same brand without classes.
 */

const BRAND = Symbol.for('@cairn/sdk/error');

/** RFC 9457 problem details, as every Cairn API error is answered. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

type Branded = { [BRAND]?: readonly string[] };

function brands(value: unknown): readonly string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const found = (value as Branded)[BRAND];
  return Array.isArray(found) ? found : undefined;
}

export class CairnError extends Error {
  static readonly brandName: string = 'CairnError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const chain: string[] = [];
    for (let c: unknown = new.target; c && c !== Error; c = Object.getPrototypeOf(c)) {
      const name = (c as { brandName?: string }).brandName;
      if (Object.hasOwn(c as object, 'brandName') && name) chain.unshift(name);
    }
    // The class names this error answers `instanceof` for, most general first.
    Object.defineProperty(this, BRAND, { value: chain, enumerable: false });
    this.name = new.target.brandName;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` asks about (a subclass too).
    return brands(value)?.includes(this.brandName) ?? false;
  }
}

export class APIError extends CairnError {
  static override readonly brandName: string = 'APIError';
  /** HTTP status; undefined for errors without an answer (connection, timeout, abort). */
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
  /** The server's X-Request-Id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** The problem+json body, when the server sent one. */
  readonly problem: Problem | undefined;
  /** The raw body text when it was not problem+json. */
  readonly body: string | undefined;

  constructor(
    status: number | undefined,
    message: string,
    init: { headers?: Headers; problem?: Problem; body?: string; cause?: unknown } = {},
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = status;
    this.headers = init.headers;
    this.problem = init.problem;
    this.body = init.body;
    this.requestId = init.headers?.get('x-request-id') ?? init.problem?.instance ?? undefined;
  }

  /** The error class for an answer with this status. */
  static fromResponse(status: number, headers: Headers, text: string): APIError {
    const problem = parseProblem(text);
    const what = problem?.detail || problem?.title || text.slice(0, 500) || `HTTP ${status}`;
    const requestId = headers.get('x-request-id');
    const message = `${status} ${what}${requestId ? ` (request ${requestId})` : ''}`;
    const init = { headers, ...(problem ? { problem } : { body: text }) };
    const Class = errorClassFor(status);
    return new Class(status, message, init);
  }
}

export class BadRequestError extends APIError {
  static override readonly brandName: string = 'BadRequestError';
}
export class AuthenticationError extends APIError {
  static override readonly brandName: string = 'AuthenticationError';
}
export class PermissionDeniedError extends APIError {
  static override readonly brandName: string = 'PermissionDeniedError';
}
export class NotFoundError extends APIError {
  static override readonly brandName: string = 'NotFoundError';
}
export class ConflictError extends APIError {
  static override readonly brandName: string = 'ConflictError';
}
export class PayloadTooLargeError extends APIError {
  static override readonly brandName: string = 'PayloadTooLargeError';
}
export class UnsupportedMediaTypeError extends APIError {
  static override readonly brandName: string = 'UnsupportedMediaTypeError';
}
export class UnprocessableEntityError extends APIError {
  static override readonly brandName: string = 'UnprocessableEntityError';
}
export class RateLimitError extends APIError {
  static override readonly brandName: string = 'RateLimitError';
}
export class InternalServerError extends APIError {
  static override readonly brandName: string = 'InternalServerError';
}

/** No answer: the connection failed or broke before a response arrived. */
export class APIConnectionError extends APIError {
  static override readonly brandName: string = 'APIConnectionError';
  constructor(message = 'connection error', options: { cause?: unknown } = {}) {
    super(undefined, message, options);
  }
}

/** An attempt (`timeout`) or the whole call with its retries (`totalTimeout`) ran out of time. */
export class APIConnectionTimeoutError extends APIConnectionError {
  static override readonly brandName: string = 'APIConnectionTimeoutError';
  constructor(message = 'request timed out', options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

/** The caller's AbortSignal fired. */
export class APIUserAbortError extends APIError {
  static override readonly brandName: string = 'APIUserAbortError';
  constructor(message = 'request was aborted', options: { cause?: unknown } = {}) {
    super(undefined, message, options);
  }
}

/** A batch part the server refused for good (a 4xx other than 408/409/413/429): kept under `failed/`. */
export class DeadLetterError extends CairnError {
  static override readonly brandName: string = 'DeadLetterError';
  constructor(
    message: string,
    readonly seq: number,
    readonly part: string,
    /** Where the refused part and the problem were written (Node with a spool), else undefined. */
    readonly file: string | undefined,
    readonly error: APIError,
  ) {
    super(message, { cause: error });
  }
}

/** `flush()` / `end()` did not finish within its deadline; what was not acknowledged stays spooled. */
export class FlushTimeoutError extends CairnError {
  static override readonly brandName: string = 'FlushTimeoutError';
}

/** Raised by a log call when the buffer is full and `overflow: 'throw'` was chosen. */
export class BufferOverflowError extends CairnError {
  static override readonly brandName: string = 'BufferOverflowError';
}

export function isCairnError(value: unknown): value is CairnError {
  return brands(value)?.includes('CairnError') ?? false;
}

export function isAPIError(value: unknown): value is APIError {
  return brands(value)?.includes('APIError') ?? false;
}

function errorClassFor(status: number): new (...args: ConstructorParameters<typeof APIError>) => APIError {
  switch (status) {
    case 400:
      return BadRequestError;
    case 401:
      return AuthenticationError;
    case 403:
      return PermissionDeniedError;
    case 404:
      return NotFoundError;
    case 409:
      return ConflictError;
    case 413:
      return PayloadTooLargeError;
    case 415:
      return UnsupportedMediaTypeError;
    case 422:
      return UnprocessableEntityError;
    case 429:
      return RateLimitError;
    default:
      return status >= 500 ? InternalServerError : APIError;
  }
}

function parseProblem(text: string): Problem | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (typeof parsed.status === 'number' && (typeof parsed.detail === 'string' || typeof parsed.title === 'string')) {
      return { type: 'about:blank', title: '', detail: '', ...parsed } as Problem;
    }
  } catch {
    // Not JSON: the raw text is kept as `body`.
  }
  return undefined;
}
