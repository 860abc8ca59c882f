import { TABLE_COLUMN_TYPES, type TableCell, type TableColumn, type TableColumnType } from './entities.js';
import { InvalidArgumentError } from './errors.js';
import * as rules from './rules.js';

/**
 * The rules and the stored form of table artifacts' rows.
 *
 * Rows are stored as one blob of newline-delimited JSON arrays, one line per row, cells in column
 * order: doubles that JSON cannot carry as the strings "NaN", "Infinity" and "-Infinity",
 * datetimes as epoch milliseconds. A JSON line never holds a raw newline (strings escape it), so
 * a reader finds rows by splitting bytes on "\n" and parses only the rows it returns. The byte
 * offset of every TABLE_ROW_INDEX_STRIDE-th row is kept with the table's metadata: a page is read
 * as one byte range starting at most a stride before it and ending at most a stride after it.
 */

/** Rows between two entries of the row index: a page read skips at most this many lines. */
export const TABLE_ROW_INDEX_STRIDE = 1000;
/** Far beyond real tables; it bounds per-row work and the size of a table's metadata row. */
export const MAX_TABLE_COLUMNS = 4096;
export const MAX_TABLE_DESCRIPTION_LENGTH = 10_000;

const NEWLINE = 0x0a;
const COLUMN_TYPES: ReadonlySet<string> = new Set(TABLE_COLUMN_TYPES);
/** 0000-01-01 to 9999-12-31: what ISO-8601 strings with four-digit years can print. */
const MIN_DATETIME = -62_167_219_200_000;
const MAX_DATETIME = 253_402_300_799_999;
const ISO_DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

export function checkColumns(columns: readonly { name: string; type: string }[]): TableColumn[] {
  if (columns.length === 0) throw new InvalidArgumentError('a table needs at least one column');
  if (columns.length > MAX_TABLE_COLUMNS) {
    throw new InvalidArgumentError(`a table has at most ${MAX_TABLE_COLUMNS} columns, got ${columns.length}`);
  }
  const seen = new Set<string>();
  return columns.map(({ name, type }, i) => {
    rules.entryName(`column ${i}`, name);
    if (seen.has(name)) throw new InvalidArgumentError(`column name "${name}" appears twice`);
    seen.add(name);
    if (!COLUMN_TYPES.has(type)) {
      throw new InvalidArgumentError(
        `column "${name}" has unknown type "${type}": use one of ${TABLE_COLUMN_TYPES.join(', ')}`,
      );
    }
    return { name, type: type as TableColumnType };
  });
}

export function checkDescription(description: string | null | undefined): string | null {
  if (!description) return null;
  if (description.length > MAX_TABLE_DESCRIPTION_LENGTH) {
    throw new InvalidArgumentError(`a table description has at most ${MAX_TABLE_DESCRIPTION_LENGTH} characters`);
  }
  return description;
}

/** Checks typed rows (what decoders produce); the first bad cell names its row and column. */
export function checkRows(columns: readonly TableColumn[], rows: readonly (readonly TableCell[])[]): void {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as readonly TableCell[];
    checkRowLength(columns, row, r);
    for (let c = 0; c < columns.length; c++) {
      const column = columns[c] as TableColumn;
      const cell = row[c] as TableCell;
      if (cell !== null && !isCellOfType(column.type, cell)) {
        throw badCell(r, column, cell, expectation(column.type));
      }
    }
  }
}

/**
 * Rows as JSON carries them (the wire form shared by the facades), checked and typed: a double is
 * a number or "NaN"/"Infinity"/"-Infinity", an integer a safe integer, a datetime an ISO-8601
 * string with a zone (Z or ±hh:mm). Anything else rejects the whole table.
 */
export function rowsFromJson(columns: readonly TableColumn[], rows: readonly unknown[]): TableCell[][] {
  return rows.map((row, r) => {
    if (!Array.isArray(row)) throw new InvalidArgumentError(`rows[${r}] is not an array of cells`);
    checkRowLength(columns, row, r);
    return columns.map((column, c) => cellFromJson(column, row[c], r));
  });
}

function cellFromJson(column: TableColumn, value: unknown, row: number): TableCell {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      break;
    case 'integer':
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      break;
    case 'double':
      if (typeof value === 'number') return value;
      if (typeof value === 'string') {
        const special = nonFiniteFromString(value);
        if (special !== undefined) return special;
      }
      break;
    case 'datetime':
      if (typeof value === 'string') {
        const millis = parseIsoDatetime(value);
        if (millis !== undefined) return millis;
      }
      return badCellThrow(row, column, value, 'an ISO-8601 datetime with a zone, like 2024-01-31T12:00:00Z');
  }
  return badCellThrow(row, column, value, jsonExpectation(column.type));
}

/** A cell in the JSON wire form: datetimes as ISO-8601 UTC strings, non-finite doubles as strings. */
export function cellToJson(type: TableColumnType, cell: TableCell): TableCell {
  if (cell === null) return null;
  if (type === 'datetime') return new Date(cell as number).toISOString();
  if (type === 'double' && !Number.isFinite(cell)) return String(cell);
  return cell;
}

/** Epoch milliseconds of an ISO-8601 datetime with a zone; undefined when it is not one. */
export function parseIsoDatetime(text: string): number | undefined {
  const m = ISO_DATETIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = Number(`${m[7] ?? ''}000`.slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  // setUTCFullYear rolls 31 April over into May: a day beyond the month is not a date.
  if (date.getUTCDate() !== day) return undefined;
  let value = date.getTime();
  if (!m[8]) {
    const offsetMinutes = Number(m[10]) * 60 + Number(m[11]);
    if (Number(m[10]) > 23 || Number(m[11]) > 59) return undefined;
    value -= (m[9] === '-' ? -1 : 1) * offsetMinutes * 60_000;
  }
  return value >= MIN_DATETIME && value <= MAX_DATETIME ? value : undefined;
}

/** Safe-integer epoch milliseconds within the years 0000–9999. */
export function isDatetimeMillis(value: number): boolean {
  return Number.isSafeInteger(value) && value >= MIN_DATETIME && value <= MAX_DATETIME;
}

function isCellOfType(type: TableColumnType, cell: string | number | boolean): boolean {
  switch (type) {
    case 'string':
      return typeof cell === 'string';
    case 'boolean':
      return typeof cell === 'boolean';
    case 'double':
      return typeof cell === 'number';
    case 'integer':
      return typeof cell === 'number' && Number.isSafeInteger(cell);
    case 'datetime':
      return typeof cell === 'number' && isDatetimeMillis(cell);
  }
}

function expectation(type: TableColumnType): string {
  switch (type) {
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    case 'double':
      return 'a number';
    case 'integer':
      return `an integer within ±${Number.MAX_SAFE_INTEGER}`;
    case 'datetime':
      return 'epoch milliseconds within the years 0000–9999';
  }
}

function jsonExpectation(type: TableColumnType): string {
  return type === 'double' ? 'a number (or "NaN", "Infinity", "-Infinity")' : expectation(type);
}

function checkRowLength(columns: readonly TableColumn[], row: readonly unknown[], r: number): void {
  if (row.length !== columns.length) {
    throw new InvalidArgumentError(`rows[${r}] has ${row.length} cells, the table has ${columns.length} columns`);
  }
}

function badCell(row: number, column: TableColumn, value: unknown, expected: string): InvalidArgumentError {
  let shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return new InvalidArgumentError(
    `rows[${row}], column "${column.name}" (${column.type}): expected ${expected}, got ${shown}`,
  );
}

function badCellThrow(row: number, column: TableColumn, value: unknown, expected: string): never {
  throw badCell(row, column, value, expected);
}

function nonFiniteFromString(value: string): number | undefined {
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  return undefined;
}

/** The stored rows, produced lazily, and the row index, complete once the chunks are consumed. */
export interface EncodedRows {
  chunks: Iterable<Buffer>;
  rowIndex: number[];
}

/** Lines are gathered into chunks of about this size: fewer, larger writes to the blob store. */
const CHUNK_BYTES = 64 * 1024;

export function encodeRows(columns: readonly TableColumn[], rows: readonly (readonly TableCell[])[]): EncodedRows {
  const rowIndex: number[] = [];
  const doubles = columns.flatMap((column, i) => (column.type === 'double' ? [i] : []));
  function* chunks(): Generator<Buffer> {
    let offset = 0;
    let pending: string[] = [];
    let pendingBytes = 0;
    for (let r = 0; r < rows.length; r++) {
      if (r % TABLE_ROW_INDEX_STRIDE === 0) rowIndex.push(offset);
      const row = rows[r] as readonly TableCell[];
      let stored: readonly TableCell[] = row;
      for (const i of doubles) {
        const cell = row[i];
        if (typeof cell === 'number' && !Number.isFinite(cell)) {
          if (stored === row) stored = [...row];
          (stored as TableCell[])[i] = String(cell);
        }
      }
      const line = `${JSON.stringify(stored)}\n`;
      const bytes = Buffer.byteLength(line);
      offset += bytes;
      pending.push(line);
      pendingBytes += bytes;
      if (pendingBytes >= CHUNK_BYTES) {
        yield Buffer.from(pending.join(''));
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pending.length > 0) yield Buffer.from(pending.join(''));
  }
  return { chunks: chunks(), rowIndex };
}

/** One stored line (without its newline) back to typed cells. */
export function decodeRow(columns: readonly TableColumn[], line: Buffer): TableCell[] {
  const cells = JSON.parse(line.toString('utf8')) as TableCell[];
  for (let i = 0; i < columns.length; i++) {
    const cell = cells[i];
    if (typeof cell === 'string' && (columns[i] as TableColumn).type === 'double') cells[i] = Number(cell);
  }
  return cells;
}

/**
 * The lines of a byte stream, each without its "\n", as views of the chunks (no copy unless a
 * line spans chunks). Leaving the loop early destroys the stream, so a reader stops reading there.
 */
export async function* splitLines(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const chunk of stream) {
    let start = 0;
    let end = chunk.indexOf(NEWLINE, start);
    while (end !== -1) {
      const piece = chunk.subarray(start, end);
      if (pending.length > 0) {
        pending.push(piece);
        yield Buffer.concat(pending);
        pending = [];
      } else {
        yield piece;
      }
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length > 0) yield Buffer.concat(pending);
}

/** The byte range holding rows [offset, offset + limit) of a table, from its row index. */
export function rowByteRange(
  table: { rowIndex: readonly number[]; rowCount: number; sizeBytes: number },
  offset: number,
  limit: number,
): { start: number; end: number; skip: number } {
  const first = Math.floor(offset / TABLE_ROW_INDEX_STRIDE);
  const after = Math.ceil(Math.min(offset + limit, table.rowCount) / TABLE_ROW_INDEX_STRIDE);
  const start = table.rowIndex[first] ?? 0;
  const endExclusive = after < table.rowIndex.length ? (table.rowIndex[after] as number) : table.sizeBytes;
  return { start, end: endExclusive - 1, skip: offset - first * TABLE_ROW_INDEX_STRIDE };
}
