import { CairnError } from '../core/errors.js';
import type { BodyInit, HttpClient, RequestOptions } from '../core/http.js';
import { contentTypeOf, multipartBody, multipartFields, toReadableStream } from '../core/multipart.js';
import { PagePromise } from '../core/pagination.js';
import type { Platform, UploadSource } from '../platform/platform.js';
import type {
  Asset,
  Document,
  DocumentKind,
  DocumentSummary,
  LoggedValue,
  LogOutputBody,
  Model,
  OutputLine,
  OutputPage,
} from '../types.js';
import type { AssetOptions, AssetSource } from '../writer/run.js';

const enc = encodeURIComponent;

/** `…/experiments/{key}/params` and `…/others`: the same shape. */
export interface ValuesResource {
  /** Current value of each name (by name); `history: true` for every logged value in order. */
  list(key: string, params?: { history?: boolean }, options?: RequestOptions): Promise<LoggedValue[]>;
  /** Logs values (nested objects flattened with "."); exactly once under `options.idempotencyKey`. */
  log(
    key: string,
    values: Record<string, unknown>,
    at?: { step?: number | null; timestamp?: number; context?: string | null },
    options?: RequestOptions,
  ): Promise<void>;
}

export interface TagsResource {
  list(key: string, options?: RequestOptions): Promise<string[]>;
  /** Adds tags (as a set); answers every tag of the experiment. */
  add(key: string, tags: string[], options?: RequestOptions): Promise<string[]>;
  remove(key: string, tag: string, options?: RequestOptions): Promise<string[]>;
}

export interface DocumentsResource {
  list(key: string, options?: RequestOptions): Promise<DocumentSummary[]>;
  get(key: string, kind: DocumentKind, options?: RequestOptions): Promise<Document>;
  put(key: string, kind: DocumentKind, content: string, options?: RequestOptions): Promise<void>;
}

export interface GitPatchResource {
  get(key: string, options?: RequestOptions): Promise<string>;
  /** The stored bytes as a fetch Response whose body streams (a zipped patch stays bytes). */
  download(key: string, options?: RequestOptions): Promise<Response>;
  /** Replaces the patch; a Blob (e.g. Node's `fs.openAsBlob`) is streamed, not read whole. */
  put(key: string, patch: string | Uint8Array | Blob, options?: RequestOptions): Promise<void>;
}

export interface OutputParams {
  stream?: 'stdout' | 'stderr';
  search?: string;
  limit?: number;
}

export interface OutputResource {
  /** Output lines in arrival order; `for await` for all of them. */
  list(key: string, params?: OutputParams, options?: RequestOptions): PagePromise<OutputLine>;
  log(key: string, lines: LogOutputBody['lines'], options?: RequestOptions): Promise<void>;
}

export interface DownloadOptions extends RequestOptions {
  /** First byte wanted (Range request: answered 206). */
  start?: number;
  /** Last byte wanted, inclusive. */
  end?: number;
}

export interface AssetsResource {
  list(key: string, params?: { type?: string }, options?: RequestOptions): Promise<Asset[]>;
  /**
   * Streams a file (a path in Node), Blob or byte stream to the server as multipart/form-data.
   * Retried uploads reuse the asset id, so the server keeps one copy; a one-shot stream is not
   * retried once it started.
   */
  upload(key: string, source: AssetSource, params?: AssetOptions, options?: RequestOptions): Promise<Asset>;
  /**
   * Logs a remote asset: a link (URI) to bytes kept elsewhere, with the upload's fields; no bytes
   * are sent or stored. Its download redirects to the link.
   */
  logRemote(key: string, link: string, params: RemoteAssetOptions, options?: RequestOptions): Promise<Asset>;
  /** The bytes (or a Range of them), as a fetch Response whose body streams. */
  download(key: string, assetId: string, options?: DownloadOptions): Promise<Response>;
  delete(key: string, assetId: string, options?: RequestOptions): Promise<void>;
}

/** The fields of a remote asset: those of an upload, with the file name required. */
export type RemoteAssetOptions = Omit<AssetOptions, 'onProgress' | 'name'> & { name: string };

export interface ModelsResource {
  list(key: string, options?: RequestOptions): Promise<Model[]>;
}

export function valuesResource(http: HttpClient, kind: 'params' | 'others'): ValuesResource {
  return {
    async list(key, params = {}, options) {
      const answer = await http.request<{ items: LoggedValue[] }>(
        { method: 'GET', path: `/experiments/${enc(key)}/${kind}`, query: { history: params.history } },
        options,
      );
      return answer.items;
    },
    async log(key, values, at = {}, options) {
      await http.request<void>(
        { method: 'POST', path: `/experiments/${enc(key)}/${kind}`, json: { values, ...at } },
        options,
      );
    },
  };
}

export function tagsResource(http: HttpClient): TagsResource {
  const base = (key: string) => `/experiments/${enc(key)}/tags`;
  return {
    async list(key, options) {
      return (await http.request<{ tags: string[] }>({ method: 'GET', path: base(key) }, options)).tags;
    },
    async add(key, tags, options) {
      return (await http.request<{ tags: string[] }>({ method: 'POST', path: base(key), json: { tags } }, options))
        .tags;
    },
    async remove(key, tag, options) {
      return (await http.request<{ tags: string[] }>({ method: 'DELETE', path: `${base(key)}/${enc(tag)}` }, options))
        .tags;
    },
  };
}

export function documentsResource(http: HttpClient): DocumentsResource {
  const base = (key: string) => `/experiments/${enc(key)}/documents`;
  return {
    async list(key, options) {
      return (await http.request<{ items: DocumentSummary[] }>({ method: 'GET', path: base(key) }, options)).items;
    },
    get(key, kind, options) {
      return http.request<Document>({ method: 'GET', path: `${base(key)}/${enc(kind)}` }, options);
    },
    async put(key, kind, content, options) {
      await http.request<void>({ method: 'PUT', path: `${base(key)}/${enc(kind)}`, json: { content } }, options);
    },
  };
}

export function gitPatchResource(http: HttpClient): GitPatchResource {
  const path = (key: string) => `/experiments/${enc(key)}/git/patch`;
  return {
    async get(key, options) {
      const response = await http.response(
        { method: 'GET', path: path(key), headers: { accept: 'text/x-diff' } },
        options,
      );
      return response.text();
    },
    download(key, options) {
      return http.response({ method: 'GET', path: path(key), headers: { accept: '*/*' } }, options);
    },
    async put(key, patch, options) {
      await http.request<void>(
        {
          method: 'PUT',
          path: path(key),
          body: () => patch as BodyInit,
          headers: { 'content-type': 'text/x-diff' },
        },
        options,
      );
    },
  };
}

export function outputResource(http: HttpClient): OutputResource {
  const base = (key: string) => `/experiments/${enc(key)}/output`;
  return {
    list(key, params = {}, options) {
      return new PagePromise<OutputLine>((cursor) =>
        http.request<OutputPage>(
          {
            method: 'GET',
            path: base(key),
            query: { stream: params.stream, search: params.search, limit: params.limit, cursor },
          },
          options,
        ),
      );
    },
    async log(key, lines, options) {
      await http.request<void>({ method: 'POST', path: base(key), json: { lines } }, options);
    },
  };
}

/** The upload source behind any accepted input. */
async function uploadSource(source: AssetSource, platform: Platform): Promise<UploadSource> {
  if (typeof source === 'string') {
    if (!platform.openFile) throw new CairnError('uploading from a path needs Node: pass a Blob or a stream');
    return platform.openFile(source);
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = (source as Blob & { name?: string }).name ?? 'blob';
    return { name, size: source.size, reopenable: true, open: () => source.stream() };
  }
  const given = source as Exclude<AssetSource, string | Blob>;
  let used = false;
  return {
    name: given.name,
    size: given.size,
    reopenable: false,
    open: () => {
      if (used) return undefined;
      used = true;
      return toReadableStream(given.stream);
    },
  };
}

export function assetsResource(http: HttpClient, platform: Platform, newId: () => string): AssetsResource {
  const base = (key: string) => `/experiments/${enc(key)}/assets`;
  return {
    async list(key, params = {}, options) {
      return (
        await http.request<{ items: Asset[] }>(
          { method: 'GET', path: base(key), query: { type: params.type } },
          options,
        )
      ).items;
    },
    async upload(key, source, params = {}, options) {
      const file = await uploadSource(source, platform);
      const name = params.name ?? file.name;
      const id = params.id ?? newId();
      const fields = uploadFields(id, name, params);
      const body = multipartBody(
        fields,
        { field: 'file', source: { ...file, name }, contentType: contentTypeOf(name) },
        `cairn-${newId()}`,
        params.onProgress,
      );
      return http.request<Asset>(
        {
          method: 'POST',
          path: base(key),
          body: () => {
            const stream = body.open();
            if (!stream) throw new CairnError('the upload stream was already read: it cannot be sent again');
            return stream;
          },
          headers: {
            'content-type': body.contentType,
            ...(body.length === undefined ? {} : { 'content-length': String(body.length) }),
          },
          retryable: file.reopenable,
        },
        {
          // The asset id already makes a repeat replace the first copy.
          idempotencyKey: `asset-${id}`,
          ...options,
          ...(params.signal ? { signal: params.signal } : {}),
        },
      );
    },
    async logRemote(key, link, params, options) {
      const id = params.id ?? newId();
      const fields = [...uploadFields(id, params.name, params), ['link', link] as [string, string]];
      const body = multipartFields(fields, `cairn-${newId()}`);
      return http.request<Asset>(
        {
          method: 'POST',
          path: base(key),
          body: () => body.text,
          headers: { 'content-type': body.contentType },
        },
        { idempotencyKey: `asset-${id}`, ...options, ...(params.signal ? { signal: params.signal } : {}) },
      );
    },
    download(key, assetId, options = {}) {
      return downloadResponse(http, `${base(key)}/${enc(assetId)}`, options);
    },
    async delete(key, assetId, options) {
      await http.request<void>({ method: 'DELETE', path: `${base(key)}/${enc(assetId)}` }, options);
    },
  };
}

/** A file download (assets, registry and artifact files): the whole file, or a Range of it (206). */
export function downloadResponse(http: HttpClient, path: string, options: DownloadOptions = {}): Promise<Response> {
  const { start, end, ...rest } = options;
  const range =
    start === undefined && end === undefined ? undefined : `bytes=${start ?? 0}-${end === undefined ? '' : end}`;
  return http.response({ method: 'GET', path, headers: { accept: '*/*', ...(range ? { range } : {}) } }, rest);
}

/** The multipart fields of an asset upload, in the order the server wants them (before the file). */
function uploadFields(id: string, name: string, params: Omit<AssetOptions, 'onProgress'>): [string, string][] {
  const fields: [string, string][] = [
    ['id', id],
    ['fileName', name],
  ];
  if (params.type !== undefined) fields.push(['type', params.type]);
  if (params.step !== undefined) fields.push(['step', String(params.step)]);
  if (params.epoch !== undefined) fields.push(['epoch', String(params.epoch)]);
  if (params.context !== undefined) fields.push(['context', params.context]);
  if (params.metadata !== undefined) {
    fields.push(['metadata', typeof params.metadata === 'string' ? params.metadata : JSON.stringify(params.metadata)]);
  }
  if (params.model !== undefined) fields.push(['model', params.model]);
  return fields;
}

export function modelsResource(http: HttpClient): ModelsResource {
  return {
    async list(key, options) {
      return (
        await http.request<{ items: Model[] }>({ method: 'GET', path: `/experiments/${enc(key)}/models` }, options)
      ).items;
    },
  };
}
