import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TableCell, TableColumn } from './entities.js';
import {
  cellToJson,
  decodeRow,
  encodeRows,
  parseIsoDatetime,
  rowByteRange,
  rowsFromJson,
  splitLines,
  TABLE_ROW_INDEX_STRIDE,
} from './table-rows.js';

async function collect(stream: AsyncIterable<Buffer>): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of splitLines(stream)) lines.push(line.toString('utf8'));
  return lines;
}

describe('table rows', () => {
  it('parses ISO-8601 datetimes with a zone and refuses the rest', () => {
    expect(parseIsoDatetime('2024-01-31T12:00:00Z')).toBe(Date.UTC(2024, 0, 31, 12));
    expect(parseIsoDatetime('2024-01-31T12:00:00.123456+00:00')).toBe(Date.UTC(2024, 0, 31, 12, 0, 0, 123));
    expect(parseIsoDatetime('2024-01-31T14:30+02:30')).toBe(Date.UTC(2024, 0, 31, 12));
    expect(parseIsoDatetime('2024-01-31 12:00:00-0100')).toBe(Date.UTC(2024, 0, 31, 13));
    expect(parseIsoDatetime('0000-01-01T00:00:00Z')).toBe(-62_167_219_200_000);
    expect(parseIsoDatetime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of [
      '2024-01-31T12:00:00',
      '2024-01-31',
      '2023-02-29T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-01-31T24:00:00Z',
      '2024-01-31T12:00:00+25:00',
      'yesterday',
      '2024-01-31T12:00:00Z ',
    ]) {
      expect(parseIsoDatetime(bad), bad).toBeUndefined();
    }
  });

  it('converts JSON cells to typed cells and back', () => {
    const columns: TableColumn[] = [
      { name: 'd', type: 'double' },
      { name: 't', type: 'datetime' },
    ];
    const rows = rowsFromJson(columns, [
      ['-Infinity', '1970-01-01T00:00:00.001Z'],
      [null, undefined],
    ]);
    expect(rows).toEqual([
      [Number.NEGATIVE_INFINITY, 1],
      [null, null],
    ]);
    expect(rows[0]?.map((cell, i) => cellToJson(columns[i]?.type ?? 'string', cell))).toEqual([
      '-Infinity',
      '1970-01-01T00:00:00.001Z',
    ]);
    expect(() => rowsFromJson(columns, ['not a row'])).toThrow('rows[0] is not an array of cells');
    expect(() => rowsFromJson(columns, [['nan', null]])).toThrow('rows[0], column "d" (double)');
  });

  it('indexes the byte offset of every stride-th row and finds any page from it', async () => {
    const columns: TableColumn[] = [
      { name: 's', type: 'string' },
      { name: 'x', type: 'double' },
    ];
    // Multi-byte text makes bytes and characters differ, so a wrong offset would show.
    const rows: TableCell[][] = Array.from({ length: 3 * TABLE_ROW_INDEX_STRIDE + 7 }, (_, i) => [
      `ü${'é'.repeat(i % 13)}`,
      i % 5 === 0 ? Number.NaN : i,
    ]);
    const encoded = encodeRows(columns, rows);
    const bytes = Buffer.concat([...encoded.chunks]);
    expect(encoded.rowIndex).toHaveLength(4);
    const lines = bytes.toString('utf8').split('\n');
    encoded.rowIndex.forEach((offset, k) => {
      const line = lines[k * TABLE_ROW_INDEX_STRIDE] as string;
      expect(bytes.subarray(offset, offset + Buffer.byteLength(line)).toString('utf8')).toBe(line);
    });
    const table = { rowIndex: encoded.rowIndex, rowCount: rows.length, sizeBytes: bytes.length };
    for (const [offset, limit] of [
      [0, 1],
      [999, 2],
      [1000, 1000],
      [2500, 10_000],
      [3006, 1],
    ] as const) {
      const range = rowByteRange(table, offset, limit);
      const slice = bytes.subarray(range.start, range.end + 1);
      const sliceLines = await collect(Readable.from([slice]));
      // The range starts less than a stride before the page and ends less than a stride after it.
      expect(range.skip).toBeLessThan(TABLE_ROW_INDEX_STRIDE);
      expect(sliceLines.length).toBeLessThan(
        range.skip + Math.min(limit, rows.length - offset) + TABLE_ROW_INDEX_STRIDE,
      );
      const got = sliceLines.slice(range.skip, range.skip + limit).map((line) => decodeRow(columns, Buffer.from(line)));
      expect(got).toEqual(rows.slice(offset, offset + limit));
    }
  });

  it('splits lines across chunk boundaries', async () => {
    const chunks = ['ab', 'c\nde', 'f\n\ng', 'h\n'].map((s) => Buffer.from(s));
    expect(await collect(Readable.from(chunks))).toEqual(['abc', 'def', '', 'gh']);
    expect(await collect(Readable.from([Buffer.from('no newline')]))).toEqual(['no newline']);
  });
});
