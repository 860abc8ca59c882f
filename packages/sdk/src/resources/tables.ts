import type { BodyInit, HttpClient, RequestOptions } from '../core/http.js';
import type { PutTableJsonBody, TableInfo, TableRows, WebhookDelivery } from '../types.js';

const enc = encodeURIComponent;

export type TableUpload =
  | ({ format?: 'json' } & PutTableJsonBody)
  | { format: 'csv' | 'parquet'; data: string | Uint8Array | Blob; description?: string };

/** Table artifacts of an experiment (`…/experiments/{key}/tables`). */
export interface TablesResource {
  list(key: string, options?: RequestOptions): Promise<TableInfo[]>;
  /** A page of rows (default 100, at most 10,000). */
  rows(
    key: string,
    name: string,
    params?: { offset?: number; limit?: number },
    options?: RequestOptions,
  ): Promise<TableRows>;
  /** The whole table as Parquet bytes. */
  parquet(key: string, name: string, options?: RequestOptions): Promise<Uint8Array>;
  /** Logs (or replaces) a table from JSON rows, CSV or Parquet. */
  put(key: string, name: string, table: TableUpload, options?: RequestOptions): Promise<TableInfo>;
  delete(key: string, name: string, options?: RequestOptions): Promise<void>;
}

const MEDIA_TYPES = { csv: 'text/csv', parquet: 'application/vnd.apache.parquet' } as const;

export function tablesResource(http: HttpClient): TablesResource {
  const base = (key: string) => `/experiments/${enc(key)}/tables`;
  return {
    async list(key, options) {
      return (await http.request<{ tables: TableInfo[] }>({ method: 'GET', path: base(key) }, options)).tables;
    },
    rows(key, name, params = {}, options) {
      return http.request<TableRows>(
        { method: 'GET', path: `${base(key)}/${enc(name)}`, query: { offset: params.offset, limit: params.limit } },
        options,
      );
    },
    async parquet(key, name, options) {
      const response = await http.response(
        { method: 'GET', path: `${base(key)}/${enc(name)}`, query: { format: 'parquet' }, headers: { accept: '*/*' } },
        options,
      );
      return new Uint8Array(await response.arrayBuffer());
    },
    put(key, name, table, options) {
      const path = `${base(key)}/${enc(name)}`;
      if (table.format === 'csv' || table.format === 'parquet') {
        const { data, format, description } = table;
        return http.request<TableInfo>(
          {
            method: 'PUT',
            path,
            query: { description },
            body: () => data as BodyInit,
            headers: { 'content-type': MEDIA_TYPES[format] },
          },
          options,
        );
      }
      const { format: _format, ...json } = table;
      return http.request<TableInfo>({ method: 'PUT', path, json }, options);
    },
    async delete(key, name, options) {
      await http.request<void>({ method: 'DELETE', path: `${base(key)}/${enc(name)}` }, options);
    },
  };
}

export interface WebhooksResource {
  /** The webhook delivery log of a workspace, newest first. */
  deliveries(
    params: { workspace: string; status?: 'pending' | 'delivered' | 'failed'; limit?: number },
    options?: RequestOptions,
  ): Promise<WebhookDelivery[]>;
}

export function webhooksResource(http: HttpClient): WebhooksResource {
  return {
    async deliveries(params, options) {
      const answer = await http.request<{ deliveries: WebhookDelivery[] }>(
        {
          method: 'GET',
          path: '/webhooks/deliveries',
          query: { workspaceName: params.workspace, status: params.status, limit: params.limit },
        },
        options,
      );
      return answer.deliveries;
    },
  };
}
