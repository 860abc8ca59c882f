import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Core } from '../../../core/core.js';
import type { Workspace } from '../../../core/entities.js';
import { NotFoundError } from '../../../core/errors.js';
import { type Principal, requireScope } from '../../../core/principal.js';
import { presentedApiKey } from '../../api-key.js';
import type { TypeBoxApp } from '../../typed-app.js';
import { MlflowApiError, mlflowErrorHandler, sendMlflowError } from './mlflow-errors.js';
import { setUpMlflowValidation } from './mlflow-validation.js';
import { registerArtifactRoutes } from './routes/artifacts.route.js';
import { registerExperimentRoutes } from './routes/experiments.route.js';
import { registerMetricRoutes } from './routes/metrics.route.js';
import { registerRegistryRoutes } from './routes/registry.route.js';
import { registerRunSearchRoutes } from './routes/run-search.route.js';
import { registerRunRoutes } from './routes/runs.route.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The workspace an MLflow request works in (X-MLFLOW-WORKSPACE, else the key's default). */
    mlflowWorkspace?: Workspace;
  }
}

export interface MlflowPluginOptions {
  core: Core;
  /** The server's public base URL (for links such as a model version's run_link). */
  publicUrl: string;
}

export interface MlflowRouteContext {
  app: TypeBoxApp;
  core: Core;
  publicUrl: string;
}

/** The caller and the workspace of an MLflow request; routes read them through this. */
export function callerOf(request: FastifyRequest): { principal: Principal; workspace: Workspace } {
  if (!request.principal || !request.mlflowWorkspace) throw new Error('route reached without authentication');
  return { principal: request.principal, workspace: request.mlflowWorkspace };
}

/**
 * Shared set-up of the MLflow plugins (tracking and registry at /api/2.0/mlflow, the proxied
 * artifact service at /api/2.0/mlflow-artifacts, each also under /ajax-api/2.0): MLflow's error
 * format, its 404 ENDPOINT_NOT_FOUND for unknown paths (the client falls back from one endpoint
 * to another on it), JSON bodies on every method, and authentication.
 */
export function setUpMlflowScope(app: TypeBoxApp, core: Core): void {
  app.setErrorHandler(mlflowErrorHandler);
  setUpMlflowValidation(app);
  app.setNotFoundHandler((_request, reply) =>
    sendMlflowError(reply, new MlflowApiError('ENDPOINT_NOT_FOUND', 'Not found')),
  );
  app.addHook('onRequest', async (request) => {
    const principal = await core.auth.authenticate(presentedApiKey(request.headers));
    request.principal = principal;
    request.mlflowWorkspace = await workspaceOf(core, principal, request);
  });
}

/**
 * The workspace of a request: the one `X-MLFLOW-WORKSPACE` names (MLflow 3's
 * `mlflow.set_workspace`), else the key's default workspace, else the caller's first one. The
 * client's own default name, "default", falls through to the key's default when no workspace has
 * that name, so an unconfigured client lands where its key belongs.
 */
async function workspaceOf(core: Core, principal: Principal, request: FastifyRequest): Promise<Workspace> {
  requireScope(principal, 'read');
  const header = request.headers['x-mlflow-workspace'];
  const named = (Array.isArray(header) ? header[0] : header)?.trim();
  const workspaces = await core.projects.listWorkspaces(principal);
  if (named) {
    const found = workspaces.find((w) => w.name === named);
    if (found) return found;
    if (named !== 'default') throw new NotFoundError(`workspace "${named}" not found`);
  }
  const chosen = workspaces.find((w) => w.id === principal.defaultWorkspaceId) ?? workspaces[0];
  if (!chosen) throw new NotFoundError('the API key belongs to no workspace');
  return chosen;
}

/**
 * MLflow's tracking and model-registry REST API (docs/api/mlflow.md), registered at
 * /api/2.0/mlflow and /ajax-api/2.0/mlflow: a third face over the same core and store.
 */
export const mlflowTrackingPlugin: FastifyPluginAsync<MlflowPluginOptions> = async (instance, { core, publicUrl }) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  setUpMlflowScope(app, core);
  const context: MlflowRouteContext = { app, core, publicUrl };
  registerExperimentRoutes(context);
  registerRunRoutes(context);
  registerRunSearchRoutes(context);
  // The web UI's bulk history read exists only under /ajax-api, as in MLflow's server.
  registerMetricRoutes(context, { ajax: instance.prefix.startsWith('/ajax-api') });
  registerRegistryRoutes(context);
  registerArtifactRoutes(context);
};
