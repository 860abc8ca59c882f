import type { MlflowKeyValue, MlflowRun, MlflowRunInfo } from '@cairn/schemas/mlflow';
import {
  mlflowEndTimeOf,
  mlflowStatusOf,
  RUN_NAME_TAG,
  type RunRecord,
  USER_TAG,
} from '../../../../core/runs.service.js';
import { experimentIdOf, runArtifactUriOf } from '../mlflow-ids.js';
import { wireDouble } from '../mlflow-request.js';
import { modelOutputsOf } from './logged-model.mapper.js';

/** A run's info: `user_id` is its `mlflow.user` tag, else the name of the Cairn user who created it. */
export function toWireRunInfo(record: RunRecord): MlflowRunInfo {
  const { experiment, project } = record;
  const endTime = mlflowEndTimeOf(experiment, record.readAt);
  return {
    run_id: experiment.id,
    run_uuid: experiment.id,
    run_name: experiment.name ?? '',
    experiment_id: experimentIdOf(project),
    user_id: record.others.find((o) => o.name === USER_TAG)?.text ?? record.creatorName,
    status: mlflowStatusOf(experiment, record.readAt),
    start_time: experiment.startTime,
    ...(endTime === null ? {} : { end_time: endTime }),
    artifact_uri: runArtifactUriOf(project, experiment.id),
    lifecycle_stage: experiment.archived ? 'deleted' : 'active',
  };
}

/**
 * A run as MLflow shows it (docs/api/mlflow.md, "One data model"): metrics are each series'
 * `latest` point; tags are the "others", then Comet labels with the value "", then the name as
 * `mlflow.runName`.
 */
export function toWireRun(record: RunRecord): MlflowRun {
  const outputs = modelOutputsOf(record.models);
  const tags: MlflowKeyValue[] = record.others.map((o) => ({ key: o.name, value: o.text }));
  const keys = new Set(tags.map((t) => t.key));
  for (const label of record.labels) {
    if (!keys.has(label)) {
      keys.add(label);
      tags.push({ key: label, value: '' });
    }
  }
  if (record.experiment.name !== null && !keys.has(RUN_NAME_TAG)) {
    tags.push({ key: RUN_NAME_TAG, value: record.experiment.name });
  }
  return {
    info: toWireRunInfo(record),
    data: {
      metrics: record.metrics.map((s) => ({
        key: s.name,
        value: wireDouble(s.latest.value),
        timestamp: s.latest.timestamp,
        step: s.latest.step ?? 0,
      })),
      params: record.params.map((p) => ({ key: p.name, value: p.text })),
      tags,
    },
    inputs: {
      dataset_inputs: record.inputs.map((input) => ({
        tags: input.tags.map((t) => ({ key: t.key, value: t.value })),
        dataset: {
          name: input.name,
          digest: input.digest,
          source_type: input.sourceType,
          source: input.source,
          ...(input.schema === null ? {} : { schema: input.schema }),
          ...(input.profile === null ? {} : { profile: input.profile }),
        },
      })),
    },
    ...(outputs.length > 0 ? { outputs: { model_outputs: outputs } } : {}),
  };
}
