import type { HttpClient, RequestOptions } from '../core/http.js';
import { PagePromise } from '../core/pagination.js';
import type {
  RegistryModel,
  RegistryModelList,
  RegistryModelSummary,
  RegistryVersion,
  UpdateRegistryVersionBody,
} from '../types.js';
import { type DownloadOptions, downloadResponse } from './logged.js';

const enc = encodeURIComponent;

/** A registry model: its workspace and name (found the way comet_ml writes names). */
export interface RegistryModelRef {
  workspace: string;
  model: string;
}

/** A version of a registry model (a semantic version, `1.2.0`). */
export interface RegistryVersionRef extends RegistryModelRef {
  version: string;
}

export interface RegistryListParams {
  /** Case-insensitive substring of the model name. */
  search?: string;
  /** Models per page, 1–1000 (default 100). */
  limit?: number;
}

/**
 * The model registry of a workspace (`…/workspaces/{workspace}/registry/models`): models with
 * their versions, stages, notes and files. Stage changes fire the workspace's webhooks.
 */
export interface RegistryResource {
  /** Models by name, each with its latest version; `for await` for all of them. */
  list(workspace: string, params?: RegistryListParams, options?: RequestOptions): PagePromise<RegistryModelSummary>;
  /** A model with every version (highest first) and its notes. */
  get(ref: RegistryModelRef, options?: RequestOptions): Promise<RegistryModel>;
  /** One version with its stages and files. */
  version(ref: RegistryVersionRef, options?: RequestOptions): Promise<RegistryVersion>;
  notes(ref: RegistryModelRef, options?: RequestOptions): Promise<string>;
  setNotes(ref: RegistryModelRef, notes: string, options?: RequestOptions): Promise<void>;
  /** Changes the comment (null clears it) and/or replaces the stages. */
  updateVersion(
    ref: RegistryVersionRef,
    body: UpdateRegistryVersionBody,
    options?: RequestOptions,
  ): Promise<RegistryVersion>;
  /** Adds a stage (nothing changes when the version has it already); answers the version. */
  addStage(ref: RegistryVersionRef, stage: string, options?: RequestOptions): Promise<RegistryVersion>;
  /** Removes a stage (NotFoundError when the version lacks it); answers the version. */
  removeStage(ref: RegistryVersionRef, stage: string, options?: RequestOptions): Promise<RegistryVersion>;
  /** The version's files as a zip: a fetch Response whose body streams. */
  download(ref: RegistryVersionRef, options?: RequestOptions): Promise<Response>;
  /** One file of the version (`files[].id`), or a Range of it (206): a Response whose body streams. */
  downloadFile(ref: RegistryVersionRef, fileId: string, options?: DownloadOptions): Promise<Response>;
}

export function registryResource(http: HttpClient): RegistryResource {
  const models = (workspace: string) => `/workspaces/${enc(workspace)}/registry/models`;
  const model = (ref: RegistryModelRef) => `${models(ref.workspace)}/${enc(ref.model)}`;
  const version = (ref: RegistryVersionRef) => `${model(ref)}/versions/${enc(ref.version)}`;
  return {
    list(workspace, params = {}, options) {
      return new PagePromise<RegistryModelSummary>((cursor) =>
        http.request<RegistryModelList>(
          { method: 'GET', path: models(workspace), query: { search: params.search, limit: params.limit, cursor } },
          options,
        ),
      );
    },
    get(ref, options) {
      return http.request<RegistryModel>({ method: 'GET', path: model(ref) }, options);
    },
    version(ref, options) {
      return http.request<RegistryVersion>({ method: 'GET', path: version(ref) }, options);
    },
    async notes(ref, options) {
      return (await http.request<{ notes: string }>({ method: 'GET', path: `${model(ref)}/notes` }, options)).notes;
    },
    async setNotes(ref, notes, options) {
      await http.request<void>({ method: 'PUT', path: `${model(ref)}/notes`, json: { notes } }, options);
    },
    updateVersion(ref, body, options) {
      return http.request<RegistryVersion>({ method: 'PATCH', path: version(ref), json: body }, options);
    },
    addStage(ref, stage, options) {
      return http.request<RegistryVersion>({ method: 'PUT', path: `${version(ref)}/stages/${enc(stage)}` }, options);
    },
    removeStage(ref, stage, options) {
      return http.request<RegistryVersion>({ method: 'DELETE', path: `${version(ref)}/stages/${enc(stage)}` }, options);
    },
    download(ref, options) {
      return http.response({ method: 'GET', path: `${version(ref)}/download`, headers: { accept: '*/*' } }, options);
    },
    downloadFile(ref, fileId, options) {
      return downloadResponse(http, `${version(ref)}/files/${enc(fileId)}`, options);
    },
  };
}
