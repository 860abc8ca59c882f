import type { ExperimentMetadata } from '@cairn/schemas/comet';
import { InvalidArgumentError, SdkErrorCode } from '../../../core/errors.js';
import type { ExperimentView } from '../../../core/experiments.service.js';
import { experimentRid, modelRid } from '../../../core/rids.js';

/**
 * An experiment as Comet's ExperimentMetadata (spec §3.1): the metadata reply and each row of
 * `GET /experiments`. Project fields name the experiment's home project, also when the row is
 * listed through a symlink, so a row means the same wherever it appears.
 */
export function toExperimentMetadata(view: ExperimentView): ExperimentMetadata {
  const { experiment, project, workspace, run } = view;
  return {
    experimentKey: experiment.id,
    experimentName: experiment.name,
    optimizationId: experiment.optimizationId,
    projectId: project.id,
    projectName: project.name,
    workspaceName: workspace.name,
    userName: view.creatorName,
    filePath: experiment.filePath,
    fileName: experiment.fileName,
    // Cairn never throttles logging, so there is nothing to report.
    throttle: false,
    durationMillis: run.durationMillis,
    startTimeMillis: experiment.startTime,
    endTimeMillis: run.endTime,
    archived: experiment.archived,
    running: run.running,
    hasCrashed: experiment.hasCrashed,
    error: experiment.error,
    status: run.status,
    experimentRid: experimentRid(experiment.id),
    modelRid: modelRid(experiment.projectId),
  };
}

/** The UI address of an experiment in a project (clients print it as "Experiment created: …"). */
export function experimentLink(publicUrl: string, workspaceName: string, projectName: string, key: string): string {
  return `${publicUrl}/${encodeURIComponent(workspaceName)}/${encodeURIComponent(projectName)}/${key}`;
}

/**
 * The experiment key of a request that may spell it `exerimentKey`, as Comet's own write docs do
 * for `project/symlink`.
 */
export function requiredExperimentKey(query: { experimentKey?: string; exerimentKey?: string }): string {
  const key = query.experimentKey ?? query.exerimentKey;
  if (!key) throw new InvalidArgumentError('experimentKey is required', SdkErrorCode.experimentKeyNotSpecified);
  return key;
}
