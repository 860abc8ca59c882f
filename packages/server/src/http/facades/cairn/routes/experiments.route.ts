import {
  CreateExperimentBody,
  EndExperimentBody,
  Experiment,
  ExperimentKeyParams,
  NoContent,
  Problem,
  ProjectParams,
  UpdateExperimentBody,
} from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import type { ExperimentView } from '../../../../core/experiments.service.js';
import type { Principal } from '../../../../core/principal.js';
import { principalOf } from '../../../request-context.js';
import { wireExperiment } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** An experiment's lifecycle: create, read, change, end, beat, delete. */
export function registerExperimentRoutes(app: CairnApp, core: Core): void {
  const wire = async (principal: Principal, view: ExperimentView) =>
    wireExperiment(view, await core.experiments.getTags(principal, view.experiment.id));

  /**
   * POST /api/cairn/v1/workspaces/:workspace/projects/:project/experiments — creates the project
   * too when missing, as every tracker's "start a run" does.
   */
  app.post(
    '/workspaces/:workspace/projects/:project/experiments',
    { schema: { params: ProjectParams, body: CreateExperimentBody, response: { 201: Experiment, ...errors } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const view = await core.experiments.create(principal, {
        workspaceName: request.params.workspace,
        projectName: request.params.project,
        experimentName: request.body.name ?? null,
        experimentKey: request.body.key ?? null,
      });
      return reply.code(201).send(await wire(principal, view));
    },
  );

  /** GET /api/cairn/v1/experiments/:key */
  app.get(
    '/experiments/:key',
    { schema: { params: ExperimentKeyParams, response: { 200: Experiment, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      return wire(principal, await core.experiments.get(principal, request.params.key));
    },
  );

  /** PATCH /api/cairn/v1/experiments/:key — name, status, archived, start and end times. */
  app.patch(
    '/experiments/:key',
    { schema: { params: ExperimentKeyParams, body: UpdateExperimentBody, response: { 200: Experiment, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      return wire(principal, await core.experiments.update(principal, request.params.key, request.body));
    },
  );

  /** POST /api/cairn/v1/experiments/:key/end — SUCCEEDED unless told FAILED; now unless told when. */
  app.post(
    '/experiments/:key/end',
    { schema: { params: ExperimentKeyParams, body: EndExperimentBody, response: { 200: Experiment, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      return wire(principal, await core.experiments.end(principal, request.params.key, request.body ?? {}));
    },
  );

  /** POST /api/cairn/v1/experiments/:key/heartbeat — the run is alive; beats every ≤ 10 s keep it running. */
  app.post(
    '/experiments/:key/heartbeat',
    { schema: { params: ExperimentKeyParams, response: { 204: NoContent, ...errors } } },
    async (request, reply) => {
      await core.experiments.heartbeat(principalOf(request), request.params.key);
      return reply.code(204).send(null);
    },
  );

  /** DELETE /api/cairn/v1/experiments/:key — with everything logged to it. */
  app.delete(
    '/experiments/:key',
    { schema: { params: ExperimentKeyParams, response: { 204: NoContent, ...errors } } },
    async (request, reply) => {
      await core.experiments.delete(principalOf(request), request.params.key);
      return reply.code(204).send(null);
    },
  );
}
