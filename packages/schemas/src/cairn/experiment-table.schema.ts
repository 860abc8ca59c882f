import { type Static, Type } from '@sinclair/typebox';

/**
 * The experiment table (`GET /workspaces/{workspace}/projects/{project}/experiments`,
 * `POST …/experiments/query` with the same options as JSON, `GET …/experiments/export` as CSV)
 * and the key catalogue (`GET …/projects/{project}/keys`). docs/api/cairn.md holds the query
 * language and column ids.
 */

export const ExperimentTableParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  project: Type.String({ minLength: 1 }),
});

const ARCHIVED = ['false', 'true', 'all'] as const;
const Archived = Type.Unsafe<(typeof ARCHIVED)[number]>({
  type: 'string',
  enum: [...ARCHIVED],
  description: 'false (default): active experiments; true: archived ones; all: both',
});
const Limit = Type.Integer({ minimum: 1, maximum: 1000, description: 'Rows per page (default 50)' });

const tableOptions = {
  sort: Type.Optional(
    Type.String({ maxLength: 1000, description: 'One column id, `-` in front for descending; default newest first' }),
  ),
  archived: Type.Optional(Archived),
  cursor: Type.Optional(Type.String({ maxLength: 4096, description: 'nextCursor of the previous page' })),
  limit: Type.Optional(Limit),
  count: Type.Optional(Type.Boolean({ description: 'Default true: answer with `total`' })),
};

export const ExperimentTableQuery = Type.Object({
  filter: Type.Optional(Type.String({ maxLength: 8192, description: 'The query language' })),
  columns: Type.Optional(Type.String({ maxLength: 65536, description: 'Comma-separated column ids' })),
  ...tableOptions,
});
export type ExperimentTableQuery = Static<typeof ExperimentTableQuery>;

/**
 * `GET …/experiments/export`: the whole filtered, sorted table as CSV, so the listing's options
 * without paging or counting.
 */
export const ExperimentExportQuery = Type.Object({
  filter: ExperimentTableQuery.properties.filter,
  sort: tableOptions.sort,
  columns: ExperimentTableQuery.properties.columns,
  archived: tableOptions.archived,
});
export type ExperimentExportQuery = Static<typeof ExperimentExportQuery>;

export const ExperimentTableBody = Type.Object({
  filter: Type.Optional(Type.String({ maxLength: 65536, description: 'The query language' })),
  columns: Type.Optional(
    Type.Union([
      Type.String({ maxLength: 65536, description: 'Comma-separated column ids' }),
      Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { description: 'Column ids, one per entry' }),
    ]),
  ),
  ...tableOptions,
  // A JSON body carries the flag as the JSON boolean it is (as the SDK sends it), or as the
  // query string's words.
  archived: Type.Optional(Type.Union([Type.Boolean(), Archived])),
});
export type ExperimentTableBody = Static<typeof ExperimentTableBody>;

/**
 * A cell: numbers, strings and booleans as logged; `tags` as an array of strings; metric
 * values that JSON cannot carry as "NaN", "Infinity", "-Infinity"; null when the experiment
 * has no value.
 */
export const TableCell = Type.Unsafe<number | string | boolean | string[] | null>({
  anyOf: [
    { type: 'number' },
    { type: 'string' },
    { type: 'boolean' },
    { type: 'array', items: { type: 'string' } },
    { type: 'null' },
  ],
});

export const ExperimentTableRow = Type.Object({
  key: Type.String(),
  name: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
  /** One entry per requested column, under the column id as the request spelled it. */
  values: Type.Record(Type.String(), TableCell),
});

export const ExperimentTableResponse = Type.Object({
  items: Type.Array(ExperimentTableRow),
  nextCursor: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
  /** Matching experiments in all; absent with count=false. */
  total: Type.Optional(Type.Integer()),
});
export type ExperimentTableResponse = Static<typeof ExperimentTableResponse>;

export const CATALOGUE_KEY_SOURCES = ['metric', 'param', 'other', 'tag', 'system'] as const;
const KeySource = Type.Unsafe<(typeof CATALOGUE_KEY_SOURCES)[number]>({
  type: 'string',
  enum: [...CATALOGUE_KEY_SOURCES],
});
const CATALOGUE_KEY_TYPES = ['number', 'string', 'boolean', 'mixed'] as const;

export const KeyCatalogueQuery = Type.Object({
  source: Type.Optional(KeySource),
  search: Type.Optional(
    Type.String({ maxLength: 1000, description: 'Case-insensitive substring of the name (ASCII letters fold)' }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: 4096 })),
  limit: Type.Optional(Limit),
});
export type KeyCatalogueQuery = Static<typeof KeyCatalogueQuery>;

export const CatalogueKey = Type.Object({
  source: KeySource,
  name: Type.String(),
  /** Experiments of the project (archived ones included) having the key. */
  experiments: Type.Integer(),
  /** Parameters and others: the type of their current values, `mixed` when they differ. */
  type: Type.Optional(
    Type.Unsafe<(typeof CATALOGUE_KEY_TYPES)[number]>({ type: 'string', enum: [...CATALOGUE_KEY_TYPES] }),
  ),
});

export const KeyCatalogueResponse = Type.Object({
  items: Type.Array(CatalogueKey),
  nextCursor: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
  total: Type.Integer(),
});
