import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Core, createCore } from '../../../server/src/core/core.js';
import type { Principal } from '../../../server/src/core/principal.js';
import type { RateLimitSettings } from '../../../server/src/core/rate-limit.js';
import { buildApp } from '../../../server/src/http/app.js';
import { FileBlobStore } from '../../../server/src/storage/blob/file-blob.store.js';
import { SqlStore } from '../../../server/src/storage/sql/sql-store.js';

export const ADMIN_KEY = 'AdminKeyForSdkTests00000000000000000000000';

/**
 * A real Cairn server in this process — the core and HTTP app built from the server's source, as
 * the server's own tests build them — listening on a free port of 127.0.0.1. `stop()` closes the
 * listening socket (and every connection) but keeps the store, `start()` listens again on the same
 * port: a server outage without losing what was stored.
 */
export interface TestServer {
  url: string;
  port: number;
  apiKey: string;
  core: Core;
  app: FastifyInstance;
  /** A scratch directory of this server (spools of the tests live here). */
  dir: string;
  principal(): Promise<Principal>;
  /** Every stored point of a metric, in offset order. */
  points(key: string, name: string): Promise<{ step: number | null; value: number; context: string | null }[]>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: {
    bodyLimitBytes?: number;
    maxAssetBytes?: number;
    /** Metric points per second the server lets each key log (none by default). */
    pointsRateLimit?: RateLimitSettings;
    /** Requests per second (and burst) the server lets each key make (none by default). */
    requestsRateLimit?: RateLimitSettings;
  } = {},
): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-sdk-test-'));
  const store = await SqlStore.open(`sqlite:${join(dir, 'cairn.db')}`, { synchronous: 'normal' });
  const core = createCore({
    store,
    blobs: new FileBlobStore(join(dir, 'blobs')),
    limits: { maxAssetBytes: options.maxAssetBytes ?? 64 * 1024 * 1024 },
    ...(options.pointsRateLimit ? { pointsRateLimit: options.pointsRateLimit } : {}),
  });
  await core.auth.bootstrap(ADMIN_KEY);
  const app = await buildApp({
    core,
    config: {
      bodyLimitBytes: options.bodyLimitBytes ?? 32 * 1024 * 1024,
      publicUrl: 'http://cairn.test',
      ...(options.requestsRateLimit
        ? {
            rateLimitRequestsPerSecond: options.requestsRateLimit.perSecond,
            rateLimitRequestsBurst: options.requestsRateLimit.burst,
          }
        : {}),
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const principal = () => core.auth.authenticate(ADMIN_KEY);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey: ADMIN_KEY,
    core,
    app,
    dir,
    principal,
    async points(key, name) {
      const points = await core.metrics.readMetric(await principal(), key, name);
      return points.map((p) => ({ step: p.step, value: p.value, context: p.context }));
    },
    async stop() {
      await new Promise<void>((resolve) => {
        app.server.close(() => resolve());
        app.server.closeAllConnections();
      });
    },
    async start() {
      await new Promise<void>((resolve, reject) => {
        app.server.once('error', reject);
        app.server.listen(port, '127.0.0.1', () => {
          app.server.off('error', reject);
          resolve();
        });
      });
    },
    async close() {
      if (app.server.listening) await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
