import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, isCairnError } from './errors.js';
import { type BackoffOptions, isRetryableError, type RetryQuota, retryDelayMs, sleep, startTimer } from './retry.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'off';

/** Where the SDK reports what it does; `console` fits. */
export interface Logger {
  debug(message: string, ...rest: unknown[]): void;
  info(message: string, ...rest: unknown[]): void;
  warn(message: string, ...rest: unknown[]): void;
  error(message: string, ...rest: unknown[]): void;
}

/** Per-call options of every request method. */
export interface RequestOptions {
  /** Aborts the call (and its retries): it rejects with APIUserAbortError. */
  signal?: AbortSignal;
  /** Per-attempt limit in ms (the client's `timeout` unless given). */
  timeout?: number;
  /** Limit in ms for the whole call, retries and waits included. */
  totalTimeout?: number;
  /** Retries after the first attempt (the client's `maxRetries` unless given). */
  maxRetries?: number;
  /** For POSTs: the key that makes retries of this call safe; minted once per call unless given. */
  idempotencyKey?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** What fetch accepts as a request body. */
export type BodyInit = NonNullable<RequestInit['body']>;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | null | undefined;

export interface HttpRequest {
  method: Method;
  /** Path under the API base, each segment already percent-encoded. */
  path: string;
  query?: Record<string, QueryValue>;
  /** A JSON body; serialised once, resent as is on retries. */
  json?: unknown;
  /** Any other body, made anew for each attempt (a stream can only be read once). */
  body?: () => BodyInit;
  headers?: Record<string, string>;
  /** A POST that may be repeated without harm (a query): no Idempotency-Key. */
  idempotent?: boolean;
  /** False when a failed attempt must not be repeated (a body that cannot be made again). */
  retryable?: boolean;
}

export interface HttpSettings {
  baseUrl: string;
  apiKey: string | undefined;
  fetch: typeof fetch;
  /** The fetch for requests whose body is a stream (see Platform.streamFetch). */
  streamFetch: typeof fetch;
  timeout: number;
  totalTimeout: number | undefined;
  maxRetries: number;
  backoff: BackoffOptions;
  quota: RetryQuota;
  headers: Record<string, string>;
  log: LevelLogger;
  newId: () => string;
}

/** A logger filtered by level. */
export class LevelLogger {
  private static readonly ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, off: 4 };
  constructor(
    private readonly sink: Logger,
    private readonly level: LogLevel,
  ) {}
  private on(level: Exclude<LogLevel, 'off'>): boolean {
    return LevelLogger.ORDER[level] >= LevelLogger.ORDER[this.level];
  }
  debug(message: string, ...rest: unknown[]): void {
    if (this.on('debug')) this.sink.debug(`[cairn] ${message}`, ...rest);
  }
  info(message: string, ...rest: unknown[]): void {
    if (this.on('info')) this.sink.info(`[cairn] ${message}`, ...rest);
  }
  warn(message: string, ...rest: unknown[]): void {
    if (this.on('warn')) this.sink.warn(`[cairn] ${message}`, ...rest);
  }
  error(message: string, ...rest: unknown[]): void {
    if (this.on('error')) this.sink.error(`[cairn] ${message}`, ...rest);
  }
}

const TIMED_OUT = Symbol('attempt timed out');
const TOTAL_TIMED_OUT = Symbol('call timed out');

/**
 * The transport of every call: headers, retries with backoff and Retry-After, the retry quota,
 * per-attempt and total timeouts, AbortSignal, an Idempotency-Key reused across a call's retries.
 */
export class HttpClient {
  constructor(readonly settings: HttpSettings) {}

  /** The answer's JSON (undefined for 204 or an empty body). */
  async request<T>(req: HttpRequest, options: RequestOptions = {}): Promise<T> {
    return this.perform(req, options, async (response) => {
      const text = await response.text();
      if (text === '') return undefined as T;
      const type = response.headers.get('content-type');
      // Some answers come without a Content-Type (a route with its own serializer): JSON all the same.
      const json = type === null ? /^\s*[[{]/.test(text) : type.includes('json');
      return (json ? JSON.parse(text) : text) as T;
    });
  }

  /** The answer's bytes, read within the attempt (binary formats). */
  async bytes(req: HttpRequest, options: RequestOptions = {}): Promise<ArrayBuffer> {
    return this.perform(req, options, (response) => response.arrayBuffer());
  }

  /** The answer itself once its headers arrived (a 2xx); its body is the caller's to read. */
  async response(req: HttpRequest, options: RequestOptions = {}): Promise<Response> {
    return this.perform(req, options, async (response) => response, true);
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    let url = `${this.settings.baseUrl}${path}`;
    if (query) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query)) {
        if (value !== undefined && value !== null) params.set(name, String(value));
      }
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    return url;
  }

  /**
   * Runs the attempts. `consume` reads the answer within the attempt's timeout. A `streaming`
   * answer is returned at its headers: its body is read later, still under the caller's signal.
   */
  private async perform<T>(
    req: HttpRequest,
    options: RequestOptions,
    consume: (response: Response) => Promise<T>,
    streaming = false,
  ): Promise<T> {
    const s = this.settings;
    const maxRetries = req.retryable === false ? 0 : (options.maxRetries ?? s.maxRetries);
    const timeout = options.timeout ?? s.timeout;
    const totalTimeout = options.totalTimeout ?? s.totalTimeout;
    const deadline = totalTimeout === undefined ? undefined : Date.now() + totalTimeout;
    const url = this.url(req.path, req.query);
    const headers: Record<string, string> = { accept: 'application/json', ...s.headers };
    if (s.apiKey) headers.authorization = `Bearer ${s.apiKey}`;
    let body: (() => BodyInit) | undefined = req.body;
    if (req.json !== undefined) {
      const text = JSON.stringify(req.json);
      headers['content-type'] = 'application/json';
      body = () => text;
    }
    Object.assign(headers, req.headers, options.headers);
    if (req.method === 'POST' && !req.idempotent) {
      headers['idempotency-key'] ??= options.idempotencyKey ?? `cairn-sdk-${s.newId()}`;
    }
    const signal = options.signal;
    let spent = 0;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new APIUserAbortError(undefined, { cause: signal.reason });
      const remaining = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
      if (remaining <= 0) throw new APIConnectionTimeoutError(`request timed out after ${totalTimeout} ms in total`);
      if (attempt > 0) headers['x-cairn-retry-count'] = String(attempt);
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      const attemptMs = Math.min(timeout, remaining);
      const timer = startTimer(
        () => controller.abort(attemptMs < timeout ? TOTAL_TIMED_OUT : TIMED_OUT),
        attemptMs,
        // The caller awaits this answer: the timeout must be able to fire.
        true,
      );
      let error: APIError;
      let linked = false;
      try {
        const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers, signal: controller.signal };
        let streamed = false;
        if (body) {
          init.body = body();
          streamed = typeof ReadableStream !== 'undefined' && init.body instanceof ReadableStream;
          if (streamed) init.duplex = 'half';
        }
        s.log.debug(`${req.method} ${url}${attempt > 0 ? ` (retry ${attempt})` : ''}`);
        const response = await (streamed ? s.streamFetch : s.fetch)(url, init);
        if (response.ok) {
          const result = await consume(response);
          s.quota.release(spent);
          linked = streaming;
          return result;
        }
        const text = await response.text();
        error = APIError.fromResponse(response.status, response.headers, text);
      } catch (caught) {
        if (isCairnError(caught)) throw caught;
        const reason = controller.signal.aborted ? controller.signal.reason : undefined;
        if (signal?.aborted) throw new APIUserAbortError(undefined, { cause: signal.reason });
        if (reason === TOTAL_TIMED_OUT) {
          throw new APIConnectionTimeoutError(`request timed out after ${totalTimeout} ms in total`);
        }
        if (reason === TIMED_OUT) error = new APIConnectionTimeoutError(`request timed out after ${timeout} ms`);
        else if (caught instanceof SyntaxError) throw caught;
        else error = new APIConnectionError(`connection error: ${describeCause(caught)}`, { cause: caught });
      } finally {
        clearTimeout(timer);
        if (!linked) signal?.removeEventListener('abort', onAbort);
      }
      if (attempt >= maxRetries || !isRetryableError(error)) throw error;
      const cost = s.quota.acquire(error);
      if (cost === 0) {
        s.log.debug(`retry quota spent: not retrying ${req.method} ${req.path}`);
        throw error;
      }
      spent += cost;
      let delay = retryDelayMs(attempt, error, s.backoff);
      if (deadline !== undefined) delay = Math.min(delay, Math.max(0, deadline - Date.now()));
      s.log.debug(`${error.message}: retrying ${req.method} ${req.path} in ${Math.round(delay)} ms`);
      try {
        await sleep(delay, signal, true);
      } catch {
        throw new APIUserAbortError(undefined, { cause: signal?.reason });
      }
    }
  }
}

/** "ECONNREFUSED", "socket hang up", …: what Node's fetch hides behind "fetch failed". */
export function describeCause(error: unknown): string {
  let e: unknown = error;
  const parts: string[] = [];
  for (let depth = 0; e && depth < 4; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof message === 'string' && message !== 'fetch failed') parts.push(message);
    e = (e as { cause?: unknown }).cause;
  }
  return parts[0] ?? String(error);
}
