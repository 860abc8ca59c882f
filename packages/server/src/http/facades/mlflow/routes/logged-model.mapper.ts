import type { MlflowLoggedModel, MlflowModelOutput } from '@cairn/schemas/mlflow';
import type { Static } from '@sinclair/typebox';
import type { ExperimentModel, LoggedModelStatus, Project } from '../../../../core/entities.js';
import type { LoggedModelView } from '../../../../core/logged-models.service.js';
import { artifactLocationOf, experimentIdOf } from '../mlflow-ids.js';

/** LoggedModelStatus by name and proto number, as requests may give it. */
export const LOGGED_MODEL_STATUS: Readonly<Record<LoggedModelStatus, number>> = {
  LOGGED_MODEL_PENDING: 1,
  LOGGED_MODEL_READY: 2,
  LOGGED_MODEL_UPLOAD_FAILED: 3,
};

/** A logged model's `artifact_uri`: `<experiment artifact location>/models/<model_id>/artifacts`. */
export function loggedModelArtifactUri(
  project: Pick<Project, 'id' | 'name' | 'artifactLocation'>,
  loggedModelId: string,
): string {
  return `${artifactLocationOf(project)}/models/${loggedModelId}/artifacts`;
}

/** The wire LoggedModel of a logged model whose run is in `project`. */
export function wireLoggedModel(view: LoggedModelView, project: Project): Static<typeof MlflowLoggedModel> {
  const { model, experiment } = view;
  const tags = Object.entries(model.tags ?? {}).map(([key, value]) => ({ key, value }));
  const params = Object.entries(model.params ?? {}).map(([key, value]) => ({ key, value }));
  return {
    info: {
      model_id: model.loggedModelId,
      experiment_id: experimentIdOf(project),
      name: model.name,
      creation_timestamp_ms: model.createdAt,
      last_updated_timestamp_ms: model.updatedAt ?? model.createdAt,
      artifact_uri: loggedModelArtifactUri(project, model.loggedModelId),
      status: model.status ?? 'LOGGED_MODEL_READY',
      ...(model.modelType ? { model_type: model.modelType } : {}),
      source_run_id: experiment.id,
      ...(tags.length > 0 ? { tags } : {}),
    },
    data: params.length > 0 ? { params } : {},
  };
}

/**
 * A run's `outputs.model_outputs`: its logged models that the run recorded as outputs
 * (`runs/outputs` gave them a step), in the order of `models` (the store's: by creation).
 */
export function modelOutputsOf(models: readonly ExperimentModel[]): Static<typeof MlflowModelOutput>[] {
  return models.flatMap((model) =>
    model.loggedModelId !== undefined && model.step !== undefined
      ? [{ model_id: model.loggedModelId, step: model.step }]
      : [],
  );
}
