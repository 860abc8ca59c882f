import type { Experiment, Project, Workspace } from '@cairn/schemas/cairn';
import type { Workspace as WorkspaceEntity } from '../../../core/entities.js';
import type { ExperimentView } from '../../../core/experiments.service.js';
import type { ProjectView } from '../../../core/projects.service.js';

/** Domain → wire mapping of Cairn's API: names instead of ids where people read them. */

export function wireWorkspace(workspace: WorkspaceEntity): Workspace {
  return { id: workspace.id, name: workspace.name, createdAt: workspace.createdAt };
}

export function wireProject(view: ProjectView): Project {
  const { project } = view;
  return {
    id: project.id,
    workspace: view.workspace.name,
    name: project.name,
    description: project.description,
    isPublic: project.isPublic,
    notes: project.notes,
    owner: view.ownerName,
    experimentCount: view.experimentCount,
    createdAt: project.createdAt,
    updatedAt: project.updatedAt,
  };
}

export function wireExperiment(view: ExperimentView, tags: string[]): Experiment {
  const { experiment, run } = view;
  return {
    key: experiment.id,
    name: experiment.name,
    workspace: view.workspace.name,
    project: view.project.name,
    projectId: view.project.id,
    status: run.status,
    running: run.running,
    archived: experiment.archived,
    startTime: experiment.startTime,
    endTime: run.endTime,
    durationMillis: run.durationMillis,
    createdBy: view.creatorName,
    lastHeartbeat: experiment.lastHeartbeat,
    createdAt: experiment.createdAt,
    updatedAt: experiment.updatedAt,
    tags,
  };
}
