import type { ModelVersionView, RegisteredModelView, VersionOrigin } from '../../../../core/model-registry.service.js';
import { MlflowApiError } from '../mlflow-errors.js';
import { artifactLocationOf, runArtifactUriOf } from '../mlflow-ids.js';

/** Wire shapes of MLflow's registry messages (model_registry.proto) and the source URIs they carry. */

const RUNS_SOURCE = /^runs:\/([^/]+)\/(.+)$/;
const LOGGED_MODEL_SOURCE = /^models:\/(m-[0-9a-f]+)\/?$/;
/** `mlflow-artifacts:` URIs may carry an authority (`mlflow-artifacts://host/…`). */
const ARTIFACTS_PREFIX = /^mlflow-artifacts:(?:\/\/[^/]*)?\/[^/]+\//;
const LOGGED_MODEL_FILES = /^models\/(m-[0-9a-f]+)\/artifacts\/?$/;
const RUN_FILES = /^([^/]+)\/artifacts\/(.+)$/;

/**
 * What a version's source names (docs/api/mlflow.md, "Model registry"): `runs:/<run>/<path>` and
 * `mlflow-artifacts:/<exp>/<run>/artifacts/<path>` a run's files under a path,
 * `models:/m-<id>` and `mlflow-artifacts:/<exp>/models/m-<id>/artifacts` a logged model; other
 * URIs name nothing in Cairn. Relative segments are refused, as MLflow's server does.
 */
export function originOf(source: string, runId: string | undefined): VersionOrigin {
  const loggedModelId = loggedModelIdOf(source);
  if (loggedModelId) return { kind: 'logged-model', loggedModelId };
  const runs = RUNS_SOURCE.exec(source);
  const artifacts = ARTIFACTS_PREFIX.test(source) ? RUN_FILES.exec(source.replace(ARTIFACTS_PREFIX, '')) : null;
  const found = runs ?? artifacts;
  if (found) {
    const path = (found[2] as string).replace(/\/+$/, '');
    if (path.split('/').some((segment) => segment === '..' || segment === '.' || segment === '')) {
      throw invalidSource(source);
    }
    return { kind: 'run-path', runId: found[1] as string, path };
  }
  if (/(^|\/)\.\.(\/|$)|%00/.test(source)) throw invalidSource(source);
  if (isLocal(source) && !runId) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`,
    );
  }
  return { kind: 'external' };
}

/** The logged model (`m-<hex>`) a source names, if it names one. */
export function loggedModelIdOf(source: string | null): string | undefined {
  if (!source) return undefined;
  const direct = LOGGED_MODEL_SOURCE.exec(source);
  if (direct) return direct[1];
  if (!ARTIFACTS_PREFIX.test(source)) return undefined;
  return LOGGED_MODEL_FILES.exec(source.replace(ARTIFACTS_PREFIX, ''))?.[1];
}

function isLocal(source: string): boolean {
  return source.startsWith('file:') || !/^[A-Za-z][A-Za-z0-9+.-]*:/.test(source);
}

function invalidSource(source: string): MlflowApiError {
  return new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid model version source: '${source}'.`);
}

/**
 * Where MLflow clients download a version's files: a logged model's artifact location, the
 * run's `<artifact_uri>/<model name>` for run files (Comet's versions too), else the source as
 * given (files outside Cairn).
 */
export function downloadUriOf(view: ModelVersionView): string {
  const { version, project } = view;
  const loggedModelId = loggedModelIdOf(version.source);
  if (version.experimentModelId !== null && project) {
    if (loggedModelId) return `${artifactLocationOf(project)}/models/${loggedModelId}/artifacts`;
    return `${runArtifactUriOf(project, version.experimentId)}/${version.experimentModelName}`;
  }
  return sourceOf(view) ?? '';
}

/** The version's source: as registered through MLflow, else where its (Comet) files appear to MLflow. */
function sourceOf(view: ModelVersionView): string | undefined {
  const { version, project } = view;
  if (version.source !== null) return version.source;
  if (version.experimentId === '') return undefined;
  if (project) return `${runArtifactUriOf(project, version.experimentId)}/${version.experimentModelName}`;
  return `runs:/${version.experimentId}/${version.experimentModelName}`;
}

function wireTags(tags: Record<string, string>): { key: string; value: string }[] {
  return Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
}

export function wireModelVersion(view: ModelVersionView) {
  const { model, version } = view;
  const source = sourceOf(view);
  const loggedModelId = loggedModelIdOf(version.source);
  return {
    name: model.name,
    version: String(version.number),
    creation_timestamp: version.createdAt,
    last_updated_timestamp: version.updatedAt,
    user_id: view.userName,
    current_stage: view.stage,
    ...(version.comment !== null ? { description: version.comment } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(version.experimentId !== '' ? { run_id: version.experimentId } : {}),
    status: version.status ?? 'READY',
    tags: wireTags(version.tags),
    ...(version.runLink !== null ? { run_link: version.runLink } : {}),
    aliases: view.aliases,
    ...(loggedModelId ? { model_id: loggedModelId } : {}),
  };
}

export function wireRegisteredModel(view: RegisteredModelView) {
  const { model } = view;
  return {
    name: model.name,
    creation_timestamp: model.createdAt,
    last_updated_timestamp: model.updatedAt,
    user_id: view.userName,
    ...(model.description !== null ? { description: model.description } : {}),
    latest_versions: view.latestVersions.map(wireModelVersion),
    tags: wireTags(model.tags),
    aliases: view.aliases.map(({ alias, number }) => ({ alias, version: String(number) })),
  };
}
