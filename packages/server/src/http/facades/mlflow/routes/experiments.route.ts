import {
  CreateExperimentRequest,
  CreateExperimentResponse,
  DeleteExperimentRequest,
  DeleteExperimentTagRequest,
  ExperimentIdRequest,
  GetExperimentByNameRequest,
  GetExperimentResponse,
  MlflowEmpty,
  SearchExperimentsRequest,
  SearchExperimentsResponse,
  SetExperimentTagRequest,
  UpdateExperimentRequest,
} from '@cairn/schemas/mlflow';
import type { FastifyRequest } from 'fastify';
import type { Project } from '../../../../core/entities.js';
import { AlreadyExistsError, NotFoundError } from '../../../../core/errors.js';
import type { Principal } from '../../../../core/principal.js';
import { callerOf, type MlflowRouteContext } from '../mlflow.plugin.js';
import { MlflowApiError } from '../mlflow-errors.js';
import { experimentComparator, experimentPredicate } from '../mlflow-filter.js';
import {
  DEFAULT_EXPERIMENT_ID,
  DEFAULT_EXPERIMENT_NAME,
  experimentIdOf,
  findProjectByExperimentId,
  noSuchExperiment,
} from '../mlflow-ids.js';
import { inputOf, keyValueList, optionalEnum, optionalString, requiredString } from '../mlflow-request.js';
import { toWireExperiment } from './experiment.mapper.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { maxResultsOf, orderByOf, VIEW_TYPES } from './search-params.js';

const MAX_EXPERIMENT_TAG_KEY = 250;
const MAX_EXPERIMENT_TAG_VALUE = 5000;

/** Whether the caller may create the Default experiment on first use (a write). */
export function mayWrite(principal: Principal): boolean {
  return principal.scopes.has('write') || principal.scopes.has('admin');
}

/** MLflow's active-state refusal for a deleted experiment. */
function notActive(experimentId: string): MlflowApiError {
  return new MlflowApiError(
    'INVALID_STATE',
    `The experiment ${experimentId} must be in the 'active' state. Current state is deleted.`,
  );
}

function checkTag(key: string, value: string): void {
  if (key.length > MAX_EXPERIMENT_TAG_KEY) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `Tag key '${key}' had length ${key.length}, which exceeded length limit of ${MAX_EXPERIMENT_TAG_KEY}`,
    );
  }
  if (value.length > MAX_EXPERIMENT_TAG_VALUE) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `Tag value '${value.slice(0, 100)}...' had length ${value.length}, which exceeded length limit of ${MAX_EXPERIMENT_TAG_VALUE}`,
    );
  }
}

/** Experiments (Cairn projects): create, read, rename, trash and restore, tags, search. */
export function registerExperimentRoutes({ app, core }: MlflowRouteContext): void {
  /** The project an experiment_id names, or MLflow's not-found; "0" is created on first use. */
  async function projectOf(request: FastifyRequest, experimentId: string): Promise<Project> {
    const { principal, workspace } = callerOf(request);
    const project = await findProjectByExperimentId(core, principal, workspace, experimentId, {
      create: mayWrite(principal),
    });
    if (!project) throw noSuchExperiment(experimentId);
    return project;
  }

  /** POST /api/2.0/mlflow/experiments/create */
  app.post(
    '/experiments/create',
    { schema: { body: CreateExperimentRequest, response: { 200: CreateExperimentResponse } } },
    async (request) => {
      const input = inputOf(request);
      const name = requiredString(input, 'name');
      const artifactLocation = optionalString(input, 'artifact_location') || null;
      const tags = keyValueList(input, 'tags');
      if (artifactLocation?.startsWith('runs:')) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Artifact location cannot be a runs:/ URI. Given: '${artifactLocation}'`,
        );
      }
      for (const tag of tags) checkTag(tag.key, tag.value);
      const { principal, workspace } = callerOf(request);
      try {
        const project = await core.projects.createTracked(principal, {
          workspaceName: workspace.name,
          name,
          artifactLocation,
          tags,
        });
        return { experiment_id: experimentIdOf(project) };
      } catch (error) {
        if (error instanceof AlreadyExistsError) {
          throw new MlflowApiError(
            'RESOURCE_ALREADY_EXISTS',
            `Experiment(name=${name}) already exists. Error: an experiment of that name exists in workspace '${workspace.name}'.`,
          );
        }
        throw error;
      }
    },
  );

  /** GET /api/2.0/mlflow/experiments/get */
  const get = { querystring: ExperimentIdRequest, response: { 200: GetExperimentResponse } };
  app.get('/experiments/get', { schema: get }, async (request) => {
    const project = await projectOf(request, requiredString(inputOf(request), 'experiment_id'));
    return { experiment: toWireExperiment(project, await core.projects.tags(callerOf(request).principal, project.id)) };
  });

  /** GET /api/2.0/mlflow/experiments/get-by-name: deleted experiments are found too. */
  app.get(
    '/experiments/get-by-name',
    { schema: { querystring: GetExperimentByNameRequest, response: { 200: GetExperimentResponse } } },
    async (request) => {
      const name = requiredString(inputOf(request), 'experiment_name');
      const { principal, workspace } = callerOf(request);
      const project =
        name === DEFAULT_EXPERIMENT_NAME
          ? await findProjectByExperimentId(core, principal, workspace, DEFAULT_EXPERIMENT_ID, {
              create: mayWrite(principal),
            })
          : await core.projects.getProject(principal, { workspaceName: workspace.name, projectName: name }).then(
              (view) => view.project,
              (error: unknown) => {
                if (error instanceof NotFoundError) return undefined;
                throw error;
              },
            );
      if (!project) {
        throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
      }
      return { experiment: toWireExperiment(project, await core.projects.tags(principal, project.id)) };
    },
  );

  /** POST /api/2.0/mlflow/experiments/update: a rename. */
  const update = { body: UpdateExperimentRequest, response: { 200: MlflowEmpty } };
  app.post('/experiments/update', { schema: update }, async (request) => {
    const input = inputOf(request);
    const experimentId = requiredString(input, 'experiment_id');
    const newName = requiredString(input, 'new_name');
    const project = await projectOf(request, experimentId);
    // The Default experiment is "0" by its name: renaming it, or another to it, would change ids.
    if (project.name !== newName && (project.name === DEFAULT_EXPERIMENT_NAME || newName === DEFAULT_EXPERIMENT_NAME)) {
      throw new MlflowApiError(
        'INVALID_PARAMETER_VALUE',
        `The experiment name '${DEFAULT_EXPERIMENT_NAME}' is reserved for the default experiment '0'.`,
      );
    }
    try {
      await core.projects.renameTracked(callerOf(request).principal, project.id, newName);
    } catch (error) {
      if (error instanceof AlreadyExistsError) {
        throw new MlflowApiError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${newName}) already exists.`);
      }
      throw error;
    }
    return {};
  });

  /** POST /api/2.0/mlflow/experiments/delete: to the trash, with all its runs. */
  const byId = { body: ExperimentIdRequest, response: { 200: MlflowEmpty } };
  app.post('/experiments/delete', { schema: { ...byId, body: DeleteExperimentRequest } }, async (request) => {
    const experimentId = requiredString(inputOf(request), 'experiment_id');
    const project = await projectOf(request, experimentId);
    if (experimentIdOf(project) === DEFAULT_EXPERIMENT_ID) {
      throw new MlflowApiError(
        'INVALID_PARAMETER_VALUE',
        "Cannot delete the default experiment '0'. This is a reserved experiment for logging runs when no other experiment has been specified.",
      );
    }
    if (project.deletedAt !== null) throw noSuchExperiment(experimentId);
    await core.projects.setTrashed(callerOf(request).principal, project.id, true, request.id);
    return {};
  });

  /** POST /api/2.0/mlflow/experiments/restore: back from the trash, with all its runs. */
  app.post('/experiments/restore', { schema: byId }, async (request) => {
    const experimentId = requiredString(inputOf(request), 'experiment_id');
    const project = await projectOf(request, experimentId);
    if (project.deletedAt === null) throw noSuchExperiment(experimentId);
    await core.projects.setTrashed(callerOf(request).principal, project.id, false, request.id);
    return {};
  });

  /** POST /api/2.0/mlflow/experiments/set-experiment-tag */
  app.post(
    '/experiments/set-experiment-tag',
    { schema: { body: SetExperimentTagRequest, response: { 200: MlflowEmpty } } },
    async (request) => {
      const input = inputOf(request);
      const experimentId = requiredString(input, 'experiment_id');
      const key = requiredString(input, 'key');
      const value = optionalString(input, 'value') ?? '';
      checkTag(key, value);
      const project = await projectOf(request, experimentId);
      if (project.deletedAt !== null) throw notActive(experimentId);
      await core.projects.setTag(callerOf(request).principal, project.id, key, value);
      return {};
    },
  );

  /** POST /api/2.0/mlflow/experiments/delete-experiment-tag */
  app.post(
    '/experiments/delete-experiment-tag',
    { schema: { body: DeleteExperimentTagRequest, response: { 200: MlflowEmpty } } },
    async (request) => {
      const input = inputOf(request);
      const experimentId = requiredString(input, 'experiment_id');
      const key = requiredString(input, 'key');
      const project = await projectOf(request, experimentId);
      if (project.deletedAt !== null) throw notActive(experimentId);
      await core.projects.deleteTag(callerOf(request).principal, project.id, key);
      return {};
    },
  );

  /** POST (and GET) /api/2.0/mlflow/experiments/search: the workspace's experiments, paged. */
  async function search(request: FastifyRequest) {
    const input = inputOf(request);
    const maxResults = maxResultsOf(input);
    const viewType = optionalEnum(input, 'view_type', VIEW_TYPES) ?? 'ACTIVE_ONLY';
    const predicate = experimentPredicate(optionalString(input, 'filter'));
    const comparator = experimentComparator(orderByOf(input));
    const offset = decodePageToken(optionalString(input, 'page_token'));
    const { principal, workspace } = callerOf(request);
    if (mayWrite(principal)) {
      await findProjectByExperimentId(core, principal, workspace, DEFAULT_EXPERIMENT_ID, { create: true });
    }
    const listed = (await core.projects.listTracked(principal, workspace.id))
      .filter(({ project }) =>
        viewType === 'ALL' ? true : (project.deletedAt === null) === (viewType === 'ACTIVE_ONLY'),
      )
      .map((entry) => ({
        entry,
        fields: {
          experimentId: experimentIdOf(entry.project),
          name: entry.project.name,
          creationTime: entry.project.createdAt,
          lastUpdateTime: entry.project.updatedAt,
          tags: Object.fromEntries(entry.tags.map((t) => [t.key, t.value])),
        },
      }))
      .filter(({ fields }) => predicate(fields))
      .sort((a, b) => comparator(a.fields, b.fields));
    const page = listed.slice(offset, offset + maxResults);
    const next = offset + maxResults < listed.length ? encodePageToken(offset + maxResults) : undefined;
    return {
      experiments: page.map(({ entry }) => toWireExperiment(entry.project, entry.tags)),
      ...(next === undefined ? {} : { next_page_token: next }),
    };
  }
  const response = { 200: SearchExperimentsResponse };
  app.post('/experiments/search', { schema: { body: SearchExperimentsRequest, response } }, search);
  app.get('/experiments/search', { schema: { querystring: SearchExperimentsRequest, response } }, search);
}
