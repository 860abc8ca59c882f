import type { HttpClient, RequestOptions } from '../core/http.js';
import { PagePromise } from '../core/pagination.js';
import type { Artifact, ArtifactList, ArtifactSummary, ArtifactVersion } from '../types.js';
import { type DownloadOptions, downloadResponse } from './logged.js';

const enc = encodeURIComponent;

/** An artifact: its workspace and name. */
export interface ArtifactRef {
  workspace: string;
  artifact: string;
}

/** A version of an artifact: a version (`1.2.0`), else an alias naming one (`latest`). */
export interface ArtifactVersionRef extends ArtifactRef {
  version: string;
}

export interface ArtifactListParams {
  /** Only artifacts of this type (exactly). */
  type?: string;
  /** Case-insensitive substring of the artifact name. */
  search?: string;
  /** Artifacts per page, 1–1000 (default 100). */
  limit?: number;
}

/** Artifacts of a workspace (`…/workspaces/{workspace}/artifacts`): read-only, members only. */
export interface ArtifactsResource {
  /** Artifacts by name; `for await` for all of them. */
  list(workspace: string, params?: ArtifactListParams, options?: RequestOptions): PagePromise<ArtifactSummary>;
  /** An artifact with every version, highest first. */
  get(ref: ArtifactRef, options?: RequestOptions): Promise<Artifact>;
  /** One version (by version or alias) with its files, in any state. */
  version(ref: ArtifactVersionRef, options?: RequestOptions): Promise<ArtifactVersion>;
  /** A CLOSED version's files as a zip: a fetch Response whose body streams. */
  download(ref: ArtifactVersionRef, options?: RequestOptions): Promise<Response>;
  /** One file of the version (`files[].id`), or a Range of it (206): a Response whose body streams. */
  downloadFile(ref: ArtifactVersionRef, fileId: string, options?: DownloadOptions): Promise<Response>;
}

export function artifactsResource(http: HttpClient): ArtifactsResource {
  const artifacts = (workspace: string) => `/workspaces/${enc(workspace)}/artifacts`;
  const artifact = (ref: ArtifactRef) => `${artifacts(ref.workspace)}/${enc(ref.artifact)}`;
  const version = (ref: ArtifactVersionRef) => `${artifact(ref)}/versions/${enc(ref.version)}`;
  return {
    list(workspace, params = {}, options) {
      return new PagePromise<ArtifactSummary>((cursor) =>
        http.request<ArtifactList>(
          {
            method: 'GET',
            path: artifacts(workspace),
            query: { type: params.type, search: params.search, limit: params.limit, cursor },
          },
          options,
        ),
      );
    },
    get(ref, options) {
      return http.request<Artifact>({ method: 'GET', path: artifact(ref) }, options);
    },
    version(ref, options) {
      return http.request<ArtifactVersion>({ method: 'GET', path: version(ref) }, options);
    },
    download(ref, options) {
      return http.response({ method: 'GET', path: `${version(ref)}/download`, headers: { accept: '*/*' } }, options);
    },
    downloadFile(ref, fileId, options) {
      return downloadResponse(http, `${version(ref)}/files/${enc(fileId)}`, options);
    },
  };
}
