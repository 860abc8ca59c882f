import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { ADMIN_USER } from './core/auth.service.js';
import { type Core, createCore } from './core/core.js';
import { signInLink } from './core/sessions.service.js';
import { buildApp } from './http/app.js';
import { HttpWebhookSender } from './outbound/http-webhook.sender.js';
import { openBlobStore } from './storage/blob/blob-store.factory.js';
import { PostgresLiveEvents } from './storage/sql/postgres-live-events.js';
import { SqlStore } from './storage/sql/sql-store.js';

/**
 * Builds the ports and the core from configuration: the one place that picks implementations.
 * `shareLiveEvents` (the server) follows live events through PostgreSQL, so every node sharing the
 * database sees every node's writes; one-shot commands keep them in process and hold no listener.
 */
export async function openCore(config: Config, { shareLiveEvents = false } = {}): Promise<Core> {
  await mkdir(config.dataDir, { recursive: true });
  const store = await SqlStore.open(
    config.databaseUrl,
    { synchronous: config.sqliteSynchronous },
    {
      seriesCacheBytes: config.seriesCacheBytes,
      seriesCacheIdleMillis: config.seriesCacheIdleMillis,
      connectTimeoutMillis: config.databaseConnectTimeoutMillis,
      poolSize: config.databasePoolSize,
    },
  );
  const blobs = openBlobStore(config.blobUrl);
  const events =
    shareLiveEvents && store.dialect.name === 'postgres'
      ? await PostgresLiveEvents.open(config.databaseUrl)
      : undefined;
  return createCore({
    store,
    blobs,
    ...(events ? { events } : {}),
    limits: { maxAssetBytes: config.maxAssetBytes, workspaceQuotaBytes: config.workspaceQuotaBytes },
    sessionTtlMillis: config.sessionTtlHours * 60 * 60 * 1000,
    ...(config.rateLimitPointsPerSecond > 0
      ? { pointsRateLimit: { perSecond: config.rateLimitPointsPerSecond, burst: config.rateLimitPointsBurst } }
      : {}),
    blobSweep: {
      graceMillis: config.blobSweepGraceSeconds * 1000,
      intervalMillis: config.blobSweepIntervalSeconds * 1000,
    },
    webhooks: {
      sender: new HttpWebhookSender({ timeoutMillis: config.webhookTimeoutMillis, rules: config.webhookAddressRules }),
      options: {
        backoffBaseMillis: config.webhookBackoffBaseMillis,
        maxAttempts: config.webhookMaxAttempts,
        // A claimed delivery must outlive its longest attempt (see WebhookDispatchOptions).
        leaseMillis: config.webhookTimeoutMillis + 50_000,
      },
    },
  });
}

export interface RunningServer {
  app: FastifyInstance;
  core: Core;
  /** Stops accepting, lets in-flight requests finish, then closes the store. */
  stop(): Promise<void>;
}

/**
 * Composition root of `cairn server`: open the store, make sure an admin exists, listen.
 * A generated admin key is printed once and written to <dataDir>/admin-api-key (0600), beside a
 * one-time sign-in link for the web UI (printed only).
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const core = await openCore(config, { shareLiveEvents: true });
  const bootstrap = await core.auth.bootstrap(config.adminApiKey);
  const app = await buildApp({
    core,
    config,
    logger: { level: config.logLevel },
  });
  if (bootstrap.generatedSecret) {
    const file = join(config.dataDir, 'admin-api-key');
    await writeFile(file, `${bootstrap.generatedSecret}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    // The link is a credential too, but short-lived and single-use: printed here and kept nowhere.
    const { token } = await core.sessions.createSignInToken(ADMIN_USER);
    process.stdout.write(
      `\nCairn created the admin user, the "default" workspace and an admin API key:\n\n  ${bootstrap.generatedSecret}\n\nIt is shown only now; it is also in ${file} (mode 0600).\n\n` +
        `Sign in to the web UI as admin with this link (once, within 24 hours):\n\n  ${signInLink(config.publicUrl, token)}\n\n` +
        'A new link: cairn users sign-in-link admin\n\n',
    );
  } else if (bootstrap.created) {
    app.log.info(
      'created the admin user and the "default" workspace with CAIRN_ADMIN_API_KEY; sign in to the web UI with that key, or with a link from "cairn users sign-in-link admin"',
    );
  }
  await app.listen({ host: config.host, port: config.port });
  // Deliveries left pending by the last run (or recorded by the CLI) go out from here on.
  core.webhookDispatcher.start({ onError: (error) => app.log.error({ err: error }, 'webhook delivery pass failed') });
  // Bytes a crashed or killed run left without a row (dead uploads' temp files among them).
  core.blobSweeper.start({
    onSwept: (swept) => {
      if (swept.orphans + swept.abandoned > 0) app.log.info(swept, 'blob sweep removed unreferenced blobs');
    },
    onError: (error) => app.log.error({ err: error }, 'blob sweep failed'),
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // Closing the listener drops only the connections idle at that moment; a keep-alive
      // connection whose in-flight request finishes later would hold the exit until the client
      // hung up or keepAliveTimeout passed. Drop each one as soon as its response is done.
      const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
      reaper.unref();
      await app.close();
      clearInterval(reaper);
      // After the requests (which may record deliveries), before the store it reads goes.
      await core.webhookDispatcher.stop();
      await core.blobSweeper.stop();
      await core.events.close?.();
      await core.store.close();
    })();
    return stopping;
  };
  return { app, core, stop };
}
