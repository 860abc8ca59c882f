import type { TableCell, TableColumn, TableColumnType } from '../core/entities.js';
import { InvalidArgumentError } from '../core/errors.js';

/**
 * CSV to a typed table (RFC 4180: comma-separated, `"` quotes with `""` inside, CRLF or LF line
 * ends, UTF-8, an optional byte-order mark). The first record names the columns. Each column's
 * type is inferred from its non-empty cells: integer when all are integers within ±(2^53−1),
 * double when all are numbers (including NaN and ±inf/Infinity), boolean when all are
 * true/false (any case), string otherwise. An integer-looking cell beyond the safe range makes
 * the column a string column rather than lose digits. Datetimes stay strings: a CSV has no way
 * to say a text is one.
 *
 * An empty unquoted cell is null in every column; a quoted empty cell ("") is the empty string
 * in a string column and null in the others. Blank lines are skipped when the table has more
 * than one column; with a single column they are null cells (that is how one-column writers
 * print a missing value).
 */

export const CSV_MEDIA_TYPE = 'text/csv';
/** Exports are UTF-8: RFC 4180 registers `charset`, whose default would be US-ASCII. */
export const CSV_EXPORT_MEDIA_TYPE = 'text/csv; charset=utf-8';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;
const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const BOOLEAN = /^(?:true|false)$/i;

/**
 * A record as read: one entry per field, null for an empty unquoted field and "" for a quoted
 * empty one. Records become the table's rows in place, cell by cell, so a large upload holds
 * one array per row and no per-cell objects.
 */
type Record = (string | null)[];

export function readCsv(bytes: Uint8Array): { columns: TableColumn[]; rows: TableCell[][] } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidArgumentError('the CSV is not UTF-8 text');
  }
  const { records, lines } = parseRecords(text);
  const header = records.shift();
  lines.shift();
  if (!header) throw new InvalidArgumentError('the CSV is empty: its first line must name the columns');
  const width = header.length;
  const rows: Record[] = [];
  records.forEach((record, i) => {
    if (record.length === 1 && record[0] === null && width > 1) return;
    if (record.length !== width) {
      throw new InvalidArgumentError(
        `line ${lines[i]} of the CSV has ${record.length} fields, the header has ${width}`,
      );
    }
    rows.push(record);
  });
  const columns = header.map((name, c) => ({ name: name ?? '', type: inferType(rows, c) }));
  for (const row of rows) {
    for (let c = 0; c < width; c++)
      (row as TableCell[])[c] = cellOf(row[c] as string | null, (columns[c] as TableColumn).type);
  }
  return { columns, rows: rows as TableCell[][] };
}

function inferType(rows: readonly Record[], c: number): TableColumnType {
  let integer = true;
  let double = true;
  let boolean = true;
  let any = false;
  for (const row of rows) {
    const text = row[c];
    if (!text) continue;
    any = true;
    const integral = INTEGER.test(text);
    if (integral && !Number.isSafeInteger(Number(text))) return 'string';
    integer &&= integral;
    double &&= integral || DECIMAL.test(text) || NON_FINITE.test(text);
    boolean &&= BOOLEAN.test(text);
    if (!integer && !double && !boolean) return 'string';
  }
  if (!any) return 'string';
  return integer ? 'integer' : double ? 'double' : boolean ? 'boolean' : 'string';
}

function cellOf(text: string | null, type: TableColumnType): TableCell {
  if (text === null) return null;
  if (text === '') return type === 'string' ? '' : null;
  switch (type) {
    case 'integer':
      return Number(text);
    case 'double':
      return NON_FINITE.test(text) ? nonFinite(text) : Number(text);
    case 'boolean':
      return text.toLowerCase() === 'true';
    default:
      return text;
  }
}

function nonFinite(text: string): number {
  if (/nan/i.test(text)) return Number.NaN;
  return text.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** The records, and the line each starts on (quoted fields may span lines). */
function parseRecords(text: string): { records: Record[]; lines: number[] } {
  const records: Record[] = [];
  const lines: number[] = [];
  const length = text.length;
  let i = 0;
  let line = 1;
  while (i < length) {
    const start = line;
    const fields: Record = [];
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        const opened = line;
        let value = '';
        let from = i + 1;
        for (;;) {
          const close = text.indexOf('"', from);
          if (close === -1) throw new InvalidArgumentError(`line ${opened} of the CSV opens a quote that never closes`);
          value += text.slice(from, close);
          line += countLineBreaks(text, from, close);
          if (text.charCodeAt(close + 1) === QUOTE) {
            value += '"';
            from = close + 2;
          } else {
            i = close + 1;
            break;
          }
        }
        const next = text.charCodeAt(i);
        if (i < length && next !== COMMA && next !== LF && next !== CR) {
          throw new InvalidArgumentError(`line ${line} of the CSV has text after a closing quote`);
        }
        fields.push(value);
      } else {
        let end = i;
        while (end < length) {
          const code = text.charCodeAt(end);
          if (code === COMMA || code === LF || code === CR) break;
          end++;
        }
        fields.push(end === i ? null : text.slice(i, end));
        i = end;
      }
      if (i < length && text.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      break;
    }
    // End of record: CRLF, LF, a lone CR, or the end of the text.
    if (text.charCodeAt(i) === CR) i++;
    if (text.charCodeAt(i) === LF) i++;
    line++;
    records.push(fields);
    lines.push(start);
  }
  return { records, lines };
}

function countLineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const code = text.charCodeAt(i);
    if (code === LF || (code === CR && text.charCodeAt(i + 1) !== LF)) count++;
  }
  return count;
}

// --- Writing ---------------------------------------------------------------------------------

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@]/;

/**
 * One CSV record (RFC 4180): fields joined with commas, a field in double quotes (inner quotes
 * doubled) when it holds a comma, a quote or a line break, and CRLF at the end.
 */
export function csvRecord(fields: readonly string[]): string {
  let record = '';
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i] as string;
    if (i > 0) record += ',';
    record += NEEDS_QUOTES.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
  }
  return `${record}\r\n`;
}

/**
 * Text bound for a spreadsheet: one that starts with `=`, `+`, `-` or `@` and is not a number
 * gets a leading `'`, so a spreadsheet shows it instead of running it as a formula (CSV
 * injection: logged names and values are anyone's text). Numbers such as `-1.5` stay as they are.
 */
export function spreadsheetSafe(text: string): string {
  return FORMULA_START.test(text) && !DECIMAL.test(text) ? `'${text}` : text;
}
