import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Core } from '../../../core/core.js';
import { admitIngest, type IngestAdmission } from '../../ingest-admission.js';
import { multipartLimits } from '../../multipart-reader.js';
import { DEFAULT_SSE_OPTIONS, type SseOptions } from '../../sse-stream.js';
import type { TypeBoxApp } from '../../typed-app.js';
import { cairnErrorHandler, sendProblem } from './cairn-errors.js';
import { registerApiKeyRoutes } from './routes/api-keys.route.js';
import { registerArtifactRoutes } from './routes/artifacts.route.js';
import { registerAssetRoutes } from './routes/assets.route.js';
import { registerAuditRoutes } from './routes/audit.route.js';
import { registerDocumentRoutes } from './routes/documents.route.js';
import { registerEventRoutes } from './routes/events.route.js';
import { registerExperimentTableRoutes } from './routes/experiment-table.route.js';
import { registerExperimentRoutes } from './routes/experiments.route.js';
import { registerMetricRoutes } from './routes/metrics.route.js';
import { registerOutputRoutes } from './routes/output.route.js';
import { registerProjectRoutes } from './routes/projects.route.js';
import { registerRegistryRoutes } from './routes/registry.route.js';
import { registerSeriesRoutes } from './routes/series.route.js';
import { registerSessionRoutes } from './routes/sessions.route.js';
import { registerTableRoutes } from './routes/tables.route.js';
import { registerValueRoutes } from './routes/values.route.js';
import { registerWebhookRoutes } from './routes/webhooks.route.js';
import { registerSessionAuth, SessionCookie } from './session-auth.js';

export type CairnApp = TypeBoxApp;

export interface CairnPluginOptions {
  core: Core;
  /** Admission of write bodies (shared by every write route of the API). */
  ingest: IngestAdmission;
  /** The app's body limit: what a body of unknown length is counted as by `ingest`. */
  bodyLimitBytes: number;
  /** Live event stream settings (tests shorten the keepalive). */
  live?: Partial<SseOptions>;
  /** The server's public base URL: its origin is the one browser writes may come from. */
  publicUrl: string;
}

/**
 * Cairn's own API at /api/cairn/v1 (docs/api/cairn.md): the native surface of the SDK, the CLI and
 * the web UI.
 */
export const cairnApiPlugin: FastifyPluginAsync<CairnPluginOptions> = async (
  instance,
  { core, ingest, bodyLimitBytes, live, publicUrl },
) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(cairnErrorHandler);
  // Asset uploads stream to the blob store, never buffered whole (limits: see multipartLimits).
  await app.register(multipart, { limits: multipartLimits(core.limits.maxAssetBytes) });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, `no Cairn API endpoint ${request.method} ${request.url.split('?')[0]}`),
  );
  // Before authentication: an overloaded server refuses a write without a store round trip.
  admitIngest(app, ingest, bodyLimitBytes);
  await registerSessionAuth(app, core, publicUrl);
  registerSessionRoutes(app, core, new SessionCookie(publicUrl));
  registerApiKeyRoutes(app, core);
  registerAuditRoutes(app, core);
  registerProjectRoutes(app, core);
  registerExperimentRoutes(app, core);
  registerMetricRoutes(app, core);
  registerValueRoutes(app, core);
  registerDocumentRoutes(app, core);
  registerOutputRoutes(app, core);
  registerAssetRoutes(app, core);
  registerExperimentTableRoutes(app, core);
  registerSeriesRoutes(app, core);
  registerEventRoutes(app, core, { ...DEFAULT_SSE_OPTIONS, ...live });
  registerTableRoutes(app, core);
  registerWebhookRoutes(app, core);
  registerRegistryRoutes(app, core);
  registerArtifactRoutes(app, core);
};
