import type { MlflowExperiment } from '@cairn/schemas/mlflow';
import type { KeyValue, Project } from '../../../../core/entities.js';
import { artifactLocationOf, experimentIdOf } from '../mlflow-ids.js';

/** A project as MLflow's Experiment: the trash is its lifecycle, its times MLflow's. */
export function toWireExperiment(project: Project, tags: readonly KeyValue[]): MlflowExperiment {
  return {
    experiment_id: experimentIdOf(project),
    name: project.name,
    artifact_location: artifactLocationOf(project),
    lifecycle_stage: project.deletedAt === null ? 'active' : 'deleted',
    last_update_time: project.updatedAt,
    creation_time: project.createdAt,
    tags: tags.map((t) => ({ key: t.key, value: t.value })),
  };
}
