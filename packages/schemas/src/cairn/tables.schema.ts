import { type Static, Type } from '@sinclair/typebox';
import { EntryName } from '../shared/names.js';
import { SafeInteger } from '../shared/numbers.js';

/**
 * Table artifacts of an experiment (`/api/cairn/v1/experiments/{experimentKey}/tables`). Rows
 * travel as arrays of cells in column order. Cells in JSON: strings; doubles as numbers, or
 * "NaN"/"Infinity"/"-Infinity"; integers as numbers within ±(2^53−1); booleans; datetimes as
 * ISO-8601 strings with a zone (responses: UTC, millisecond precision); null when missing.
 */

export const TABLE_COLUMN_TYPE_NAMES = ['string', 'double', 'integer', 'boolean', 'datetime'] as const;

const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const Cell = Type.Unsafe<string | number | boolean | null>({
  type: ['string', 'number', 'boolean', 'null'],
});

/** Table names may contain "/" (sent percent-encoded as %2F, like every path segment). */
export const TableParams = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  name: EntryName(),
});

export const TableColumn = Type.Object({
  name: EntryName(),
  type: Type.Unsafe<(typeof TABLE_COLUMN_TYPE_NAMES)[number]>({ type: 'string', enum: [...TABLE_COLUMN_TYPE_NAMES] }),
});

export const PutTableJsonBody = Type.Object({
  description: Type.Optional(NullableString),
  columns: Type.Array(TableColumn, { minItems: 1 }),
  /**
   * Each row an array of cells in column order. JSON bodies are validated without coercion, so a
   * row sent as a bare value is refused, not wrapped into a one-cell row.
   */
  rows: Type.Array(Type.Array(Type.Unknown(), { description: 'The cells of one row, in column order' })),
});
export type PutTableJsonBody = Static<typeof PutTableJsonBody>;

/**
 * A CSV or Parquet upload's bytes. Documentation only: such bodies reach the route as raw bytes,
 * which a JSON Schema cannot validate, so the schema has annotations and no assertion.
 */
const UploadBytes = (mediaType: string, what: string) =>
  Type.Unsafe<Uint8Array>({ contentMediaType: mediaType, description: what });

/**
 * PUT's body by Content-Type. application/octet-stream needs `format=csv` or `format=parquet`.
 */
export const PutTableBody = {
  content: {
    'application/json': { schema: PutTableJsonBody },
    'text/csv': {
      schema: UploadBytes(
        'text/csv',
        'CSV with a header row; column types are inferred (integer, double, boolean, else string)',
      ),
    },
    'application/vnd.apache.parquet': {
      schema: UploadBytes('application/vnd.apache.parquet', 'A Parquet file of flat columns'),
    },
    'application/octet-stream': {
      schema: UploadBytes('application/octet-stream', 'CSV or Parquet, as the format query parameter says'),
    },
  },
};

export const PutTableQuery = Type.Object({
  /** For CSV and Parquet uploads; a JSON body's own `description` wins. */
  description: Type.Optional(Type.String()),
  format: Type.Optional(Type.Unsafe<'json' | 'csv' | 'parquet'>({ type: 'string', enum: ['json', 'csv', 'parquet'] })),
});

export const TableInfo = Type.Object({
  name: Type.String(),
  description: NullableString,
  columns: Type.Array(TableColumn),
  rowCount: Type.Integer(),
  /** Bytes of the stored rows. */
  sizeBytes: Type.Integer(),
  /** Epoch milliseconds: the first logging of this name, and the logging of the current rows. */
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
});

export const TableListResponse = Type.Object({ tables: Type.Array(TableInfo) });

export const TableRowsQuery = Type.Object({
  offset: Type.Optional(SafeInteger({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  /** `parquet` answers the whole table as a Parquet file (offset and limit do not apply). */
  format: Type.Optional(Type.Unsafe<'json' | 'parquet'>({ type: 'string', enum: ['json', 'parquet'] })),
});

export const TableRowsResponse = Type.Composite([
  TableInfo,
  Type.Object({
    offset: Type.Integer(),
    rows: Type.Array(Type.Array(Cell)),
  }),
]);

export const NoContent = Type.Null({ description: 'No Content' });
