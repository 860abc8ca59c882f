import {
  AccountDetailsResponse,
  AddShareLinkResponse,
  CometError,
  CreateProjectBody,
  CreateProjectResponse,
  CreateWorkspaceBody,
  CreateWorkspaceResponse,
  DeleteProjectBody,
  PlainWriteResponse,
  ProjectLocatorQuery,
  ProjectNotesBody,
  ProjectNotesResponse,
  ProjectRow,
  ProjectsQuery,
  ProjectsResponse,
  ShareCodeQuery,
  ShareLinksResponse,
  UpdateProjectBody,
  WorkspacesResponse,
} from '@cairn/schemas/comet';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { projectLocatorRule, projectNameRule } from '../comet-field-rules.js';
import { projectRef, toProjectRow, writeOk } from '../comet-reply.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** Workspaces, account details and projects: reads (spec §3.2) and writes (spec §4.3). */
export function registerProjectRoutes({ app, core }: CometRouteContext): void {
  /** GET /workspaces */
  app.get('/workspaces', { schema: { response: { 200: WorkspacesResponse, ...errors } } }, async (request) => {
    const workspaces = await core.projects.listWorkspaces(principalOf(request));
    return { workspaceNames: workspaces.map((w) => w.name) };
  });

  /** GET /account-details */
  app.get('/account-details', { schema: { response: { 200: AccountDetailsResponse, ...errors } } }, async (request) =>
    core.projects.accountDetails(principalOf(request)),
  );

  /** GET /projects?workspaceName= */
  app.get(
    '/projects',
    { schema: { querystring: ProjectsQuery, response: { 200: ProjectsResponse, ...errors } } },
    async (request) => {
      const views = await core.projects.listProjects(principalOf(request), request.query.workspaceName);
      return { projects: views.map(toProjectRow) };
    },
  );

  /** GET /project?projectId= | ?workspaceName=&projectName= */
  app.get(
    '/project',
    { schema: { querystring: ProjectLocatorQuery, response: { 200: ProjectRow, ...errors } } },
    async (request) => toProjectRow(await core.projects.getProject(principalOf(request), projectRef(request.query))),
  );

  /** GET /project/notes?projectId= */
  app.get(
    '/project/notes',
    { schema: { querystring: ProjectLocatorQuery, response: { 200: ProjectNotesResponse, ...errors } } },
    async (request) => {
      const view = await core.projects.getProject(principalOf(request), projectRef(request.query));
      return { notes: view.project.notes };
    },
  );

  /** POST /write/project/create */
  app.post(
    '/write/project/create',
    {
      config: { cometFieldRules: { projectName: projectNameRule } },
      schema: { body: CreateProjectBody, response: { 200: CreateProjectResponse, ...errors } },
    },
    async (request) => {
      const body = request.body;
      const view = await core.projects.createProject(principalOf(request), {
        workspaceName: body.workspaceName,
        projectName: body.projectName,
        description: body.projectDescription ?? null,
        isPublic: body.isPublic ?? false,
      });
      return writeOk('Project created', { projectId: view.project.id });
    },
  );

  /** POST /write/project/update */
  app.post(
    '/write/project/update',
    {
      config: { cometFieldRules: { '': projectLocatorRule, newProjectName: projectNameRule } },
      schema: { body: UpdateProjectBody, response: { 200: PlainWriteResponse, ...errors } },
    },
    async (request) => {
      const body = request.body;
      await core.projects.updateProject(principalOf(request), projectRef(body), {
        ...(body.newProjectName != null ? { name: body.newProjectName } : {}),
        ...(body.newProjectDescription != null ? { description: body.newProjectDescription } : {}),
        ...(body.isPublic != null ? { isPublic: body.isPublic } : {}),
      });
      return writeOk('Updated');
    },
  );

  /** POST /write/project/delete */
  app.post(
    '/write/project/delete',
    {
      config: { cometFieldRules: { '': projectLocatorRule } },
      schema: { body: DeleteProjectBody, response: { 200: PlainWriteResponse, ...errors } },
    },
    async (request) => {
      const body = request.body;
      await core.projects.deleteProject(
        principalOf(request),
        projectRef(body),
        body.deleteAllExperiments ?? false,
        request.id,
      );
      return writeOk('Deleted');
    },
  );

  /** POST /write/project/notes */
  app.post(
    '/write/project/notes',
    { schema: { body: ProjectNotesBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.projects.setNotes(
        principalOf(request),
        { projectId: request.body.projectId },
        request.body.notes ?? '',
      );
      return writeOk('Saved');
    },
  );

  /** GET /project/get-project-share-links?projectId= */
  app.get(
    '/project/get-project-share-links',
    { schema: { querystring: ProjectLocatorQuery, response: { 200: ShareLinksResponse, ...errors } } },
    async (request) => ({
      shareCodes: await core.projects.listShareCodes(principalOf(request), projectRef(request.query)),
    }),
  );

  /** GET /write/project/add-share-link?projectId= (a write sent as GET, spec §1.3) */
  app.get(
    '/write/project/add-share-link',
    { schema: { querystring: ProjectLocatorQuery, response: { 200: AddShareLinkResponse, ...errors } } },
    async (request) => {
      const shareCode = await core.projects.addShareCode(principalOf(request), projectRef(request.query));
      return writeOk('Share link added', { shareCode });
    },
  );

  /** GET /write/project/delete-project-share-link?projectId=&shareCode= */
  app.get(
    '/write/project/delete-project-share-link',
    { schema: { querystring: ShareCodeQuery, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { projectId, shareCode } = request.query;
      await core.projects.deleteShareCode(principalOf(request), { projectId }, shareCode);
      return writeOk('Share link deleted');
    },
  );

  /** POST /write/workspace/new */
  app.post(
    '/write/workspace/new',
    { schema: { body: CreateWorkspaceBody, response: { 200: CreateWorkspaceResponse, ...errors } } },
    async (request) => {
      const workspace = await core.projects.createWorkspace(principalOf(request), request.body.name, request.id);
      return writeOk('saved', { workspace_name: workspace.name, workspace_id: workspace.id });
    },
  );
}
