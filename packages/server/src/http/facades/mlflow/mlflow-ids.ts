import type { Core } from '../../../core/core.js';
import type { Project, Workspace } from '../../../core/entities.js';
import type { Principal } from '../../../core/principal.js';
import { MlflowApiError } from './mlflow-errors.js';

/**
 * How MLflow ids name Cairn's entities (docs/api/mlflow.md, "Ids"):
 * - an MLflow experiment is a Cairn project; its `experiment_id` is the project's id (32 hex),
 *   except the workspace's project named `Default`, which is MLflow's default experiment "0";
 * - an MLflow run is a Cairn experiment; its `run_id` is the experiment key.
 */
export const DEFAULT_EXPERIMENT_ID = '0';
export const DEFAULT_EXPERIMENT_NAME = 'Default';

export function experimentIdOf(project: Pick<Project, 'id' | 'name'>): string {
  return project.name === DEFAULT_EXPERIMENT_NAME ? DEFAULT_EXPERIMENT_ID : project.id;
}

/** Where a project's artifacts live for MLflow clients: its own location, or Cairn's proxied store. */
export function artifactLocationOf(project: Pick<Project, 'id' | 'name' | 'artifactLocation'>): string {
  return project.artifactLocation ?? `mlflow-artifacts:/${experimentIdOf(project)}`;
}

/** A run's `artifact_uri`: `<experiment artifact location>/<run_id>/artifacts` (MLflow's layout). */
export function runArtifactUriOf(project: Pick<Project, 'id' | 'name' | 'artifactLocation'>, runId: string): string {
  return `${artifactLocationOf(project)}/${runId}/artifacts`;
}

/** `No Experiment with id=<id> exists`, MLflow's not-found for experiments. */
export function noSuchExperiment(experimentId: string): MlflowApiError {
  return new MlflowApiError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`);
}

/** `Run with id=<id> not found`. */
export function noSuchRun(runId: string): MlflowApiError {
  return new MlflowApiError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
}

/**
 * The project an `experiment_id` names, if the caller may read it: "0" is the workspace's
 * Default project (created on first use when `create` is set and the caller may write), any
 * other id a project id. Another tenant's project is reported as absent.
 */
export async function findProjectByExperimentId(
  core: Core,
  principal: Principal,
  workspace: Workspace,
  experimentId: string,
  options: { create?: boolean } = {},
): Promise<Project | undefined> {
  if (experimentId === DEFAULT_EXPERIMENT_ID) {
    const existing = await core.store.projects.getByName(workspace.id, DEFAULT_EXPERIMENT_NAME);
    if (existing || !options.create) return existing;
    return core.store.transaction(
      async (tx) => (await core.projects.ensureProject(tx, principal, workspace.name, DEFAULT_EXPERIMENT_NAME)).project,
    );
  }
  if (!/^[0-9a-f]{32}$/.test(experimentId)) return undefined;
  try {
    const view = await core.projects.getProject(principal, { projectId: experimentId });
    return view.project;
  } catch {
    return undefined;
  }
}
