import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AllowlistError, WebhookAddressRules } from './outbound/webhook-address-rules.js';

/** The server's whole configuration, read once from the environment by the composition root. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<file>` (default, under dataDir) or `postgres://…`. */
  databaseUrl: string;
  /** `file:<folder>` (default, under dataDir) or `s3://bucket/prefix?endpoint=…` (see docs/operations.md). */
  blobUrl: string;
  /** Admin key to install on first start instead of a generated one. */
  adminApiKey: string | undefined;
  logLevel: string;
  /** Largest JSON request body, after gunzip. */
  bodyLimitBytes: number;
  /** Largest asset or git patch upload. */
  maxAssetBytes: number;
  /**
   * Most bytes of write request bodies the Cairn API holds at once (received, parsed or being
   * stored); beyond it writes are answered 429 with Retry-After until some finish.
   */
  ingestMaxInflightBytes: number;
  /**
   * Requests per second each API key (or browser session, or keyless client address) may make to
   * the APIs, with bursts of `rateLimitRequestsBurst`; 0 turns the limit off (the default).
   */
  rateLimitRequestsPerSecond: number;
  rateLimitRequestsBurst: number;
  /** Metric points per second each API key may log, with bursts; 0 turns the limit off (the default). */
  rateLimitPointsPerSecond: number;
  rateLimitPointsBurst: number;
  /** A client must have sent its request headers within this long (Node's headersTimeout). */
  headersTimeoutMillis: number;
  /** A whole request (headers and body) must have arrived within this long; 0 = no limit (the default). */
  requestTimeoutMillis: number;
  /** A request body that sends nothing for this long is cut off; 0 = no limit. */
  bodyIdleTimeoutMillis: number;
  /** Streamed uploads (assets, artifacts, models) in progress at once, per server and per API key; 0 = no limit. */
  maxConcurrentUploads: number;
  maxConcurrentUploadsPerKey: number;
  /** Most bytes of asset files (assets, artifact and model files) each workspace may hold; 0 = no quota. */
  workspaceQuotaBytes: number;
  /** Most bytes of decoded metric blocks kept in memory for chart reads (least recently used out). */
  seriesCacheBytes: number;
  /** A decoded block unread for this long leaves that cache (so a long-running server's memory levels off). */
  seriesCacheIdleMillis: number;
  /** `full` fsyncs every commit (survives power loss); `normal` survives process crashes only. */
  sqliteSynchronous: 'full' | 'normal';
  /** Public base URL used in links handed to clients; defaults to http://host:port. */
  publicUrl: string;
  /** Foundry endpoints demand `preview=true` as Foundry does; `false` lets clients omit it. */
  foundryRequirePreview: boolean;
  /** Webhook delivery: per-attempt timeout, first retry delay (doubling), attempts before giving up. */
  webhookTimeoutMillis: number;
  webhookBackoffBaseMillis: number;
  webhookMaxAttempts: number;
  /** Which internal receivers webhooks may reach beyond public addresses (CAIRN_WEBHOOK_ALLOW_HOSTS). */
  webhookAddressRules: WebhookAddressRules;
  /** Origins whose pages may call the APIs from a browser (CORS); none by default. */
  corsOrigins: string[];
  /** How long a web UI session lasts after sign-in. */
  sessionTtlHours: number;
  /**
   * PostgreSQL: how long a request may wait for a connection (opening one, or a free one of the
   * pool's) before it is answered 503, so a database that is down or black-holed fails
   * requests fast instead of holding them.
   */
  databaseConnectTimeoutMillis: number;
  /**
   * PostgreSQL: most connections this server holds open. Every node of a cluster holds up to this
   * many, so nodes × pool (plus room for the CLI and admin sessions) must stay below the server's
   * max_connections; past the pool, requests queue for a free connection.
   */
  databasePoolSize: number;
  /** Blob sweep: age before a blob without a row (or a dead upload's temp file) is deleted. */
  blobSweepGraceSeconds: number;
  /** Blob sweep: time between sweeps after the one at start; 0 sweeps at start only. */
  blobSweepIntervalSeconds: number;
  /** The built web UI (index.html and assets) served at `/`. */
  webDir: string;
}

/** Room for eight bodies at the default body limit: enough for many writers, far below a small server's memory. */
export const DEFAULT_INGEST_MAX_INFLIGHT_BYTES = 256 * 1024 * 1024;

/**
 * The web UI's build output, found from this file's own place (src/ or dist/ of the server
 * package alike), so the server serves it from whatever folder it is started in.
 */
export const DEFAULT_WEB_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const host = env.CAIRN_HOST ?? '127.0.0.1';
  const port = integer(env, 'CAIRN_PORT', 8080);
  const dataDir = resolve(env.CAIRN_DATA_DIR ?? './cairn-data');
  const synchronous = (env.CAIRN_SQLITE_SYNCHRONOUS ?? 'full').toLowerCase();
  if (synchronous !== 'full' && synchronous !== 'normal') {
    throw new ConfigError('CAIRN_SQLITE_SYNCHRONOUS must be "full" or "normal"');
  }
  const sessionTtlHours = integer(env, 'CAIRN_SESSION_TTL_HOURS', 168);
  const requestsPerSecond = integer(env, 'CAIRN_RATE_LIMIT_REQUESTS_PER_SECOND', 0);
  const pointsPerSecond = integer(env, 'CAIRN_RATE_LIMIT_POINTS_PER_SECOND', 0);
  const requestTimeoutMillis = integer(env, 'CAIRN_REQUEST_TIMEOUT_MS', 0);
  // Node refuses a headers timeout longer than a (set) request timeout.
  const headersTimeoutMillis = Math.max(1, integer(env, 'CAIRN_HEADERS_TIMEOUT_MS', 30_000));
  if (requestTimeoutMillis > 0 && headersTimeoutMillis > requestTimeoutMillis) {
    throw new ConfigError('CAIRN_HEADERS_TIMEOUT_MS must not be longer than CAIRN_REQUEST_TIMEOUT_MS');
  }
  if (sessionTtlHours === 0) throw new ConfigError('CAIRN_SESSION_TTL_HOURS must be at least 1');
  const databasePoolSize = integer(env, 'CAIRN_DATABASE_POOL_SIZE', 10);
  // A pool of none would make every request wait out the connect timeout.
  if (databasePoolSize === 0) throw new ConfigError('CAIRN_DATABASE_POOL_SIZE must be at least 1');
  return {
    host,
    port,
    dataDir,
    databaseUrl: env.CAIRN_DATABASE_URL || `sqlite:${resolve(dataDir, 'cairn.db')}`,
    blobUrl: env.CAIRN_BLOB_URL || `file:${resolve(dataDir, 'blobs')}`,
    adminApiKey: env.CAIRN_ADMIN_API_KEY || undefined,
    logLevel: env.CAIRN_LOG_LEVEL ?? 'info',
    bodyLimitBytes: integer(env, 'CAIRN_BODY_LIMIT_BYTES', 32 * 1024 * 1024),
    maxAssetBytes: integer(env, 'CAIRN_MAX_ASSET_BYTES', 5 * 1024 * 1024 * 1024),
    ingestMaxInflightBytes: integer(env, 'CAIRN_INGEST_MAX_INFLIGHT_BYTES', DEFAULT_INGEST_MAX_INFLIGHT_BYTES),
    seriesCacheBytes: integer(env, 'CAIRN_SERIES_CACHE_MIB', 256) * 1024 * 1024,
    seriesCacheIdleMillis: integer(env, 'CAIRN_SERIES_CACHE_IDLE_SECONDS', 300) * 1000,
    rateLimitRequestsPerSecond: requestsPerSecond,
    rateLimitRequestsBurst: burst(env, 'CAIRN_RATE_LIMIT_REQUESTS_BURST', requestsPerSecond),
    rateLimitPointsPerSecond: pointsPerSecond,
    rateLimitPointsBurst: burst(env, 'CAIRN_RATE_LIMIT_POINTS_BURST', pointsPerSecond),
    headersTimeoutMillis,
    requestTimeoutMillis,
    bodyIdleTimeoutMillis: integer(env, 'CAIRN_BODY_IDLE_TIMEOUT_MS', 60_000),
    maxConcurrentUploads: integer(env, 'CAIRN_MAX_CONCURRENT_UPLOADS', 0),
    maxConcurrentUploadsPerKey: integer(env, 'CAIRN_MAX_CONCURRENT_UPLOADS_PER_KEY', 0),
    workspaceQuotaBytes: integer(env, 'CAIRN_WORKSPACE_QUOTA_BYTES', 0),
    sqliteSynchronous: synchronous,
    publicUrl: (env.CAIRN_PUBLIC_URL ?? `http://${host}:${port}`).replace(/\/+$/, ''),
    foundryRequirePreview: (env.CAIRN_FOUNDRY_REQUIRE_PREVIEW ?? 'true').toLowerCase() !== 'false',
    webhookTimeoutMillis: integer(env, 'CAIRN_WEBHOOK_TIMEOUT_MS', 10_000),
    webhookBackoffBaseMillis: integer(env, 'CAIRN_WEBHOOK_BACKOFF_BASE_MS', 5_000),
    webhookMaxAttempts: Math.max(1, integer(env, 'CAIRN_WEBHOOK_MAX_ATTEMPTS', 10)),
    webhookAddressRules: webhookAddressRules(env.CAIRN_WEBHOOK_ALLOW_HOSTS),
    corsOrigins: corsOrigins(env.CAIRN_CORS_ORIGINS),
    sessionTtlHours,
    databaseConnectTimeoutMillis: integer(env, 'CAIRN_DATABASE_CONNECT_TIMEOUT_MS', 5_000),
    databasePoolSize,
    blobSweepGraceSeconds: integer(env, 'CAIRN_BLOB_SWEEP_GRACE_SECONDS', 3_600),
    blobSweepIntervalSeconds: integer(env, 'CAIRN_BLOB_SWEEP_INTERVAL_SECONDS', 3_600),
    webDir: env.CAIRN_WEB_DIR ? resolve(env.CAIRN_WEB_DIR) : DEFAULT_WEB_DIR,
  };
}

/** A bucket's size: as given, else two seconds' worth of the rate. */
function burst(env: NodeJS.ProcessEnv, name: string, perSecond: number): number {
  const given = integer(env, name, 0);
  if (given > 0) return given;
  return Math.max(1, 2 * perSecond);
}

/** `https://a.example, http://localhost:5173`: origins exactly as browsers send them in `Origin`. */
function corsOrigins(setting: string | undefined): string[] {
  const origins: string[] = [];
  for (const raw of (setting ?? '').split(',')) {
    const entry = raw.trim().replace(/\/+$/, '');
    if (entry === '') continue;
    const origin = URL.canParse(entry) ? new URL(entry).origin : undefined;
    if (origin !== entry.toLowerCase() || !/^https?:/.test(origin)) {
      throw new ConfigError(`CAIRN_CORS_ORIGINS: "${raw.trim()}" is not an origin (scheme://host[:port])`);
    }
    origins.push(origin);
  }
  return origins;
}

function webhookAddressRules(setting: string | undefined): WebhookAddressRules {
  try {
    return WebhookAddressRules.parse(setting);
  } catch (error) {
    if (error instanceof AllowlistError) throw new ConfigError(error.message);
    throw error;
  }
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer`);
  return value;
}
