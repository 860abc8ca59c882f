import { Readable } from 'node:stream';
import { type ParquetParsers, parquetMetadata, parquetRead, parquetSchema, type SchemaElement } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ByteWriter, type ColumnSource, ParquetWriter } from 'hyparquet-writer';
import type { TableCell, TableColumn, TableColumnType } from '../core/entities.js';
import { InvalidArgumentError } from '../core/errors.js';

/**
 * Apache Parquet for every facade: tables (columns + rows) to Parquet and back, and metric series
 * as Parquet. Built on hyparquet (reader) and hyparquet-writer: pure JavaScript, no native code,
 * no dependencies beyond each other (and hyparquet-compressors, so files written with zstd, gzip,
 * brotli or lz4 — polars writes zstd by default — can be read too).
 *
 * Column types map one to one: string ⇄ BYTE_ARRAY (STRING), double ⇄ DOUBLE, integer ⇄ INT64,
 * boolean ⇄ BOOLEAN, datetime ⇄ INT64 TIMESTAMP(MILLIS, UTC). Written files are Snappy-compressed
 * with every column OPTIONAL (nullable). Reading accepts more than is written: see `readParquet`.
 */

export const PARQUET_MEDIA_TYPE = 'application/vnd.apache.parquet';

/** Rows per row group when a whole table is written at once. */
const ROW_GROUP_ROWS = 10_000;

const SCHEMA_BY_TYPE: Record<TableColumnType, Omit<SchemaElement, 'name'>> = {
  string: {
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
    repetition_type: 'OPTIONAL',
  },
  double: { type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  integer: { type: 'INT64', repetition_type: 'OPTIONAL' },
  boolean: { type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  datetime: {
    type: 'INT64',
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    repetition_type: 'OPTIONAL',
  },
};

type Rows = readonly (readonly TableCell[])[];

/** A whole table as one Parquet file in memory. */
export function writeParquet(columns: readonly TableColumn[], rows: Rows): Uint8Array {
  const writer = new ChunkWriter();
  const parquet = new ParquetWriter({ writer, schema: tableSchema(columns) });
  for (let start = 0; start < rows.length; start += ROW_GROUP_ROWS) {
    parquet.write({
      columnData: columnData(columns, rows.slice(start, start + ROW_GROUP_ROWS)),
      rowGroupSize: ROW_GROUP_ROWS,
    });
  }
  parquet.finish();
  return Buffer.concat(writer.take());
}

/**
 * A table as a Parquet byte stream, one row group per batch: memory holds one batch, not the
 * table. Destroying the stream stops pulling batches (and so closes their source).
 */
export function parquetStream(
  columns: readonly TableColumn[],
  batches: AsyncIterable<Rows> | Iterable<Rows>,
): Readable {
  return Readable.from(
    chunks(tableSchema(columns), batches, (batch) => columnData(columns, batch)),
    {
      objectMode: false,
    },
  );
}

/** One point of a metric series as Foundry's series Parquet carries it (spec E4). */
export interface SeriesParquetPoint {
  value: number;
  /** Epoch milliseconds. */
  timestamp: number;
  step: number | null;
}

/**
 * A metric series as Parquet (Foundry E4): `value` DOUBLE, `timestamp` INT64 (epoch ms), `step`
 * INT64. Value and timestamp are REQUIRED (every point has them; NaN stays NaN); step is OPTIONAL
 * because Comet-logged points may have none.
 */
export function seriesParquetStream(
  batches: AsyncIterable<readonly SeriesParquetPoint[]> | Iterable<readonly SeriesParquetPoint[]>,
): Readable {
  const schema: SchemaElement[] = [
    { name: 'root', num_children: 3 },
    { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' },
    { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED' },
    { name: 'step', type: 'INT64', repetition_type: 'OPTIONAL' },
  ];
  return Readable.from(
    chunks(schema, batches, (points) => [
      { name: 'value', data: Float64Array.from(points, (p) => p.value) },
      { name: 'timestamp', data: BigInt64Array.from(points, (p) => BigInt(p.timestamp)) },
      { name: 'step', data: points.map((p) => (p.step === null ? null : BigInt(p.step))) },
    ]),
    { objectMode: false },
  );
}

export interface ParquetTable {
  columns: TableColumn[];
  rows: TableCell[][];
}

/**
 * Reads a Parquet file into typed columns and rows. Flat columns only. Besides what
 * `writeParquet` writes it accepts: INT32 and the other integer widths (integer; unsigned 64-bit
 * values must be safe integers), FLOAT and FLOAT16 (double), DECIMAL (double, rounded),
 * TIMESTAMP in any unit, INT96 and DATE (datetime, truncated to milliseconds; a date is its UTC
 * midnight), JSON, ENUM, UUID and unannotated BYTE_ARRAY (string, as UTF-8). Other columns (nested,
 * repeated, TIME, INTERVAL, BSON, geometry, raw fixed-length bytes) are refused naming the column.
 * `maxCells` bounds rows × columns before anything is decoded: a small file can encode a huge
 * table (long runs compress to almost nothing).
 */
export async function readParquet(bytes: Uint8Array, options: { maxCells: number }): Promise<ParquetTable> {
  const file = toArrayBuffer(bytes);
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(file);
  } catch (error) {
    throw new InvalidArgumentError(`not a readable Parquet file: ${(error as Error).message}`);
  }
  const columns = parquetSchema(metadata).children.map((node) => {
    if (node.children.length > 0) {
      throw new InvalidArgumentError(
        `Parquet column "${node.element.name}" is nested: only flat columns are supported`,
      );
    }
    return { name: node.element.name, type: columnTypeOf(node.element) };
  });
  const rowCount = Number(metadata.num_rows);
  if (rowCount * Math.max(columns.length, 1) > options.maxCells) {
    throw new InvalidArgumentError(
      `the Parquet file holds ${rowCount} rows × ${columns.length} columns, more than the ${options.maxCells} cells accepted in one upload`,
    );
  }
  let decoded: unknown[][] = [];
  try {
    await parquetRead({
      file,
      metadata,
      compressors,
      parsers: PARSERS,
      // Unannotated byte arrays stay bytes, to be checked as UTF-8 below rather than mangled.
      utf8: false,
      rowFormat: 'array',
      onComplete: (rows: unknown[][]) => {
        decoded = rows;
      },
    });
  } catch (error) {
    throw new InvalidArgumentError(`the Parquet file could not be decoded: ${(error as Error).message}`);
  }
  // Converted in place: the decoder's row arrays become the table's rows, no second copy.
  for (let r = 0; r < decoded.length; r++) {
    const row = decoded[r] as unknown[];
    for (let c = 0; c < columns.length; c++) row[c] = cellFromParquet(columns[c] as TableColumn, row[c], r);
  }
  return { columns, rows: decoded as TableCell[][] };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decoders that keep times as epoch milliseconds and JSON as its (checked) text. */
const PARSERS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (millis) => Number(millis),
  timestampFromMicroseconds: (micros) => Number(floorDiv(micros, 1_000n)),
  timestampFromNanoseconds: (nanos) => Number(floorDiv(nanos, 1_000_000n)),
  dateFromDays: (days) => days * 86_400_000,
  jsonFromBytes: (bytes) => bytes,
};

function floorDiv(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  return value % divisor < 0n ? quotient - 1n : quotient;
}

function columnTypeOf(element: SchemaElement): TableColumnType {
  const refuse = (what: string) =>
    new InvalidArgumentError(`Parquet column "${element.name}" (${what}) has no Cairn column type`);
  if (element.repetition_type === 'REPEATED') throw refuse('repeated');
  const converted = element.converted_type;
  const logical = element.logical_type?.type;
  if (converted === 'DECIMAL' || logical === 'DECIMAL') return 'double';
  switch (element.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'FLOAT':
    case 'DOUBLE':
      return 'double';
    case 'INT96':
      return 'datetime';
    case 'INT32':
    case 'INT64':
      if (converted === 'DATE' || logical === 'DATE') return 'datetime';
      if (converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || logical === 'TIMESTAMP') {
        return 'datetime';
      }
      if (converted === 'TIME_MILLIS' || converted === 'TIME_MICROS' || logical === 'TIME') throw refuse('TIME');
      return 'integer';
    case 'BYTE_ARRAY':
      if (converted === 'BSON' || logical === 'BSON') throw refuse('BSON');
      if (logical === 'GEOMETRY' || logical === 'GEOGRAPHY') throw refuse(logical);
      return 'string';
    case 'FIXED_LEN_BYTE_ARRAY':
      if (logical === 'UUID') return 'string';
      if (logical === 'FLOAT16') return 'double';
      throw refuse(converted === 'INTERVAL' ? 'INTERVAL' : 'fixed-length bytes');
    default:
      throw refuse(String(element.type));
  }
}

function cellFromParquet(column: TableColumn, value: unknown, row: number): TableCell {
  if (value === null || value === undefined) return null;
  if (column.type === 'integer') {
    const number = typeof value === 'bigint' ? Number(value) : (value as number);
    if (!Number.isSafeInteger(number)) {
      throw new InvalidArgumentError(
        `row ${row}, column "${column.name}" (integer): ${String(value)} is outside the safe integer range ±${Number.MAX_SAFE_INTEGER}`,
      );
    }
    return number;
  }
  if (column.type === 'double') return typeof value === 'bigint' ? Number(value) : (value as number);
  if (value instanceof Uint8Array) {
    try {
      return UTF8.decode(value);
    } catch {
      throw new InvalidArgumentError(`row ${row}, column "${column.name}" (string): the bytes are not UTF-8 text`);
    }
  }
  return value as TableCell;
}

function tableSchema(columns: readonly TableColumn[]): SchemaElement[] {
  return [
    { name: 'root', num_children: columns.length },
    ...columns.map((column) => ({ name: column.name, ...SCHEMA_BY_TYPE[column.type] })),
  ];
}

function columnData(columns: readonly TableColumn[], rows: Rows): ColumnSource[] {
  return columns.map((column, c) => {
    const cells = rows.map((row) => row[c] ?? null);
    // INT64 columns are written from bigints; TIMESTAMP_MILLIS converts numbers itself.
    const data =
      column.type === 'integer' ? cells.map((cell) => (cell === null ? null : BigInt(cell as number))) : cells;
    return { name: column.name, data };
  });
}

/**
 * The Parquet bytes of a schema and batches of rows, produced as each row group is encoded.
 * Empty batches are skipped: a row group of no rows is legal but pointless.
 */
async function* chunks<T>(
  schema: SchemaElement[],
  batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>,
  toColumns: (batch: readonly T[]) => ColumnSource[],
): AsyncGenerator<Buffer> {
  const writer = new ChunkWriter();
  const parquet = new ParquetWriter({ writer, schema });
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    parquet.write({ columnData: toColumns(batch), rowGroupSize: batch.length });
    yield* writer.take();
  }
  parquet.finish();
  yield* writer.take();
}

/**
 * hyparquet-writer's buffer, emptied at every flush (after each row group and at the end) into
 * chunks a stream can pass on; earlier bytes are never revisited, as with the library's own
 * file writer.
 */
class ChunkWriter extends ByteWriter {
  private ready: Buffer[] = [];

  flush(): void {
    if (this.index === 0) return;
    this.ready.push(Buffer.from(this.buffer.slice(0, this.index)));
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }

  take(): Buffer[] {
    this.flush();
    const ready = this.ready;
    this.ready = [];
    return ready;
  }
}

/** The bytes as an ArrayBuffer of their own (a Buffer may be a view into a shared pool). */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return bytes.buffer;
  }
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
