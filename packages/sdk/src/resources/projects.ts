import type { HttpClient, RequestOptions } from '../core/http.js';
import { PagePromise } from '../core/pagination.js';
import type { CreateProjectBody, Me, Project, ProjectList, UpdateProjectBody, Workspace } from '../types.js';

const enc = encodeURIComponent;

/** `GET /me`, `…/workspaces`. */
export interface WorkspacesResource {
  /** The caller's workspaces, by name. */
  list(options?: RequestOptions): Promise<Workspace[]>;
  create(name: string, options?: RequestOptions): Promise<Workspace>;
}

/** `…/workspaces/{workspace}/projects`. */
export interface ProjectsResource {
  /** Projects of a workspace by name; `search` is a case-insensitive substring. `for await` for all. */
  list(workspace: string, params?: { search?: string; limit?: number }, options?: RequestOptions): PagePromise<Project>;
  get(workspace: string, project: string, options?: RequestOptions): Promise<Project>;
  create(workspace: string, body: CreateProjectBody, options?: RequestOptions): Promise<Project>;
  update(workspace: string, project: string, body: UpdateProjectBody, options?: RequestOptions): Promise<Project>;
}

export function me(http: HttpClient, options?: RequestOptions): Promise<Me> {
  return http.request({ method: 'GET', path: '/me' }, options);
}

export function workspacesResource(http: HttpClient): WorkspacesResource {
  return {
    async list(options) {
      return (await http.request<{ items: Workspace[] }>({ method: 'GET', path: '/workspaces' }, options)).items;
    },
    create(name, options) {
      return http.request({ method: 'POST', path: '/workspaces', json: { name } }, options);
    },
  };
}

export function projectsResource(http: HttpClient): ProjectsResource {
  return {
    list(workspace, params = {}, options) {
      return new PagePromise((cursor) =>
        http.request<ProjectList>(
          {
            method: 'GET',
            path: `/workspaces/${enc(workspace)}/projects`,
            query: { search: params.search, limit: params.limit, cursor },
          },
          options,
        ),
      );
    },
    get(workspace, project, options) {
      return http.request({ method: 'GET', path: `/workspaces/${enc(workspace)}/projects/${enc(project)}` }, options);
    },
    create(workspace, body, options) {
      return http.request({ method: 'POST', path: `/workspaces/${enc(workspace)}/projects`, json: body }, options);
    },
    update(workspace, project, body, options) {
      return http.request(
        { method: 'PATCH', path: `/workspaces/${enc(workspace)}/projects/${enc(project)}`, json: body },
        options,
      );
    },
  };
}
