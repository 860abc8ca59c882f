import {
  CreateProjectBody,
  CreateWorkspaceBody,
  Me,
  Problem,
  Project,
  ProjectList,
  ProjectListQuery,
  ProjectParams,
  UpdateProjectBody,
  Workspace,
  WorkspaceList,
  WorkspaceParams,
} from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import { principalOf } from '../../../request-context.js';
import { wireProject, wireWorkspace } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';
import { decodeOffsetCursor, encodeOffsetCursor } from '../offset-cursor.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

/** Who is calling, their workspaces, and the projects in them. */
export function registerProjectRoutes(app: CairnApp, core: Core): void {
  /** GET /api/cairn/v1/me */
  app.get('/me', { schema: { response: { 200: Me, ...errors } } }, async (request) => {
    const principal = principalOf(request);
    const { user, defaultWorkspaceName } = await core.projects.account(principal);
    return {
      user: { id: user.id, name: user.name, email: user.email, isAdmin: user.isAdmin },
      defaultWorkspace: defaultWorkspaceName,
      scopes: [...principal.scopes].sort(),
    };
  });

  /** GET /api/cairn/v1/workspaces — the caller's workspaces, by name. */
  app.get('/workspaces', { schema: { response: { 200: WorkspaceList, ...errors } } }, async (request) => {
    const workspaces = await core.projects.listWorkspaces(principalOf(request));
    return { items: workspaces.map(wireWorkspace) };
  });

  /** POST /api/cairn/v1/workspaces — a workspace owned by the caller. */
  app.post(
    '/workspaces',
    { schema: { body: CreateWorkspaceBody, response: { 201: Workspace, ...errors } } },
    async (request, reply) => {
      const workspace = await core.projects.createWorkspace(principalOf(request), request.body.name, request.id);
      return reply.code(201).send(wireWorkspace(workspace));
    },
  );

  /** GET /api/cairn/v1/workspaces/:workspace/projects?search=&cursor=&limit= — by name. */
  app.get(
    '/workspaces/:workspace/projects',
    { schema: { params: WorkspaceParams, querystring: ProjectListQuery, response: { 200: ProjectList, ...errors } } },
    async (request) => {
      const { search, cursor, limit = 100 } = request.query;
      const offset =
        cursor === undefined ? 0 : decodeOffsetCursor(cursor, ['projects', request.params.workspace, search]);
      const page = await core.projects.pageProjects(principalOf(request), request.params.workspace, {
        offset,
        count: limit,
        sort: 'name',
        ...(search ? { search } : {}),
      });
      const next = offset + page.views.length;
      return {
        items: page.views.map(wireProject),
        nextCursor:
          next < page.filtered ? encodeOffsetCursor(next, ['projects', request.params.workspace, search]) : null,
        total: page.filtered,
      };
    },
  );

  /** POST /api/cairn/v1/workspaces/:workspace/projects */
  app.post(
    '/workspaces/:workspace/projects',
    { schema: { params: WorkspaceParams, body: CreateProjectBody, response: { 201: Project, ...errors } } },
    async (request, reply) => {
      const view = await core.projects.createProject(principalOf(request), {
        workspaceName: request.params.workspace,
        projectName: request.body.name,
        description: request.body.description ?? null,
        isPublic: request.body.isPublic ?? false,
      });
      return reply.code(201).send(wireProject(view));
    },
  );

  /** GET /api/cairn/v1/workspaces/:workspace/projects/:project */
  app.get(
    '/workspaces/:workspace/projects/:project',
    { schema: { params: ProjectParams, response: { 200: Project, ...errors } } },
    async (request) => {
      const { workspace, project } = request.params;
      return wireProject(
        await core.projects.getProject(principalOf(request), { workspaceName: workspace, projectName: project }),
      );
    },
  );

  /** PATCH /api/cairn/v1/workspaces/:workspace/projects/:project — name, description, visibility, notes. */
  app.patch(
    '/workspaces/:workspace/projects/:project',
    { schema: { params: ProjectParams, body: UpdateProjectBody, response: { 200: Project, ...errors } } },
    async (request) => {
      const { workspace, project } = request.params;
      const { name, description, isPublic, notes } = request.body;
      const view = await core.projects.updateProject(
        principalOf(request),
        { workspaceName: workspace, projectName: project },
        {
          ...(name === undefined ? {} : { name }),
          ...(description === undefined ? {} : { description }),
          ...(isPublic === undefined ? {} : { isPublic }),
          ...(notes === undefined ? {} : { notes }),
        },
      );
      return wireProject(view);
    },
  );
}
