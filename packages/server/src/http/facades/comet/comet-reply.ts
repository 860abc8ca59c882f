import type { ProjectRow } from '@cairn/schemas/comet';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError } from '../../../core/errors.js';
import type { ProjectRef, ProjectView } from '../../../core/projects.service.js';
import { modelRid } from '../../../core/rids.js';

/** onSend hook: comet_ml's JSON reader requires exactly "application/json" (spec §1.4), no charset. */
export async function exactJsonContentType(_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const type = reply.getHeader('content-type');
  if (typeof type === 'string' && type.startsWith('application/json')) reply.header('content-type', 'application/json');
  return payload;
}

/** The success envelope of every Comet write (spec §1.4), merged with the write's own fields. */
export function writeOk<T extends Record<string, unknown>>(msg: string, fields: T = {} as T) {
  return { msg, code: 200 as const, sdk_error_code: 0 as const, data: null, ...fields };
}

/** Comet names a project by id or by workspace + project name; ids win when both are given. */
export function projectRef(locator: {
  projectId?: string | null;
  workspaceName?: string | null;
  projectName?: string | null;
}): ProjectRef {
  if (locator.projectId) return { projectId: locator.projectId };
  if (locator.workspaceName && locator.projectName) {
    return { workspaceName: locator.workspaceName, projectName: locator.projectName };
  }
  throw new InvalidArgumentError('name the project with projectId, or with workspaceName and projectName');
}

export function toProjectRow(view: ProjectView): ProjectRow {
  const { project, workspace } = view;
  return {
    projectId: project.id,
    projectName: project.name,
    ownerUserName: view.ownerName,
    projectDescription: project.description,
    workspaceName: workspace.name,
    workspaceId: workspace.id,
    isPublic: project.isPublic,
    public: project.isPublic,
    numberOfExperiments: view.experimentCount,
    modelRid: modelRid(project.id),
    lastUpdated: project.updatedAt,
    created_at: project.createdAt,
  };
}
