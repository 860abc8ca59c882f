import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { parquetMetadata } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableCell, TableColumn } from '../src/core/entities.js';
import { parquetStream, readParquet, seriesParquetStream, writeParquet } from '../src/http/parquet.js';

const fixture = (name: string) => readFile(new URL(`./fixtures/tables/${name}`, import.meta.url));

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const EVERY_TYPE: TableColumn[] = [
  { name: 'label', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'n', type: 'integer' },
  { name: 'ok', type: 'boolean' },
  { name: 'at', type: 'datetime' },
];

const EVERY_TYPE_ROWS: TableCell[][] = [
  ['cat', 0.91, 1, true, Date.parse('2024-01-31T12:00:00.123Z')],
  ['dög', Number.NaN, -9_007_199_254_740_991, false, -1],
  [null, null, null, null, null],
  ['', Number.NEGATIVE_INFINITY, 9_007_199_254_740_991, true, 253_402_300_799_999],
  ['x'.repeat(10_000), Number.POSITIVE_INFINITY, 0, null, 0],
];

/** A Python with pyarrow to read our files with (optional: CAIRN_TEST_PYTHON, else python3 if it has pyarrow). */
function pyarrowPython(): string | undefined {
  for (const candidate of [process.env.CAIRN_TEST_PYTHON, 'python3']) {
    if (!candidate) continue;
    try {
      execFileSync(candidate, ['-c', 'import pyarrow'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // Not there, or no pyarrow: try the next one.
    }
  }
  return undefined;
}

describe('Parquet codec', () => {
  it('writes each Cairn column type as its Parquet type, every column nullable', () => {
    const metadata = parquetMetadata(writeParquet(EVERY_TYPE, EVERY_TYPE_ROWS));
    const [, ...elements] = metadata.schema;
    expect(elements.map((e) => [e.name, e.type, e.repetition_type])).toEqual([
      ['label', 'BYTE_ARRAY', 'OPTIONAL'],
      ['score', 'DOUBLE', 'OPTIONAL'],
      ['n', 'INT64', 'OPTIONAL'],
      ['ok', 'BOOLEAN', 'OPTIONAL'],
      ['at', 'INT64', 'OPTIONAL'],
    ]);
    expect(elements[0]).toMatchObject({ converted_type: 'UTF8', logical_type: { type: 'STRING' } });
    expect(elements[4]).toMatchObject({
      converted_type: 'TIMESTAMP_MILLIS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    });
    expect(metadata.num_rows).toBe(BigInt(EVERY_TYPE_ROWS.length));
  });

  it('round-trips every type, nulls, NaN and infinities', async () => {
    const table = await readParquet(writeParquet(EVERY_TYPE, EVERY_TYPE_ROWS), { maxCells: 1000 });
    expect(table.columns).toEqual(EVERY_TYPE);
    expect(table.rows).toEqual(EVERY_TYPE_ROWS);
    expect(table.rows[1]?.[1]).toBeNaN();
  });

  it('round-trips an empty table with its columns', async () => {
    const bytes = writeParquet(EVERY_TYPE, []);
    expect(parquetMetadata(bytes).row_groups).toHaveLength(0);
    expect(await readParquet(bytes, { maxCells: 1 })).toEqual({ columns: EVERY_TYPE, rows: [] });
  });

  it('splits large tables into row groups and reads them all back in order', async () => {
    const rows = Array.from({ length: 25_001 }, (_, i) => [i, `r${i}`]);
    const columns: TableColumn[] = [
      { name: 'i', type: 'integer' },
      { name: 's', type: 'string' },
    ];
    const bytes = writeParquet(columns, rows);
    expect(parquetMetadata(bytes).row_groups.map((g) => Number(g.num_rows))).toEqual([10_000, 10_000, 5_001]);
    expect((await readParquet(bytes, { maxCells: 100_000 })).rows).toEqual(rows);
  });

  it('streams one row group per non-empty batch and stops pulling batches when destroyed', async () => {
    const columns: TableColumn[] = [{ name: 'v', type: 'double' }];
    async function* batches() {
      yield [[1], [2]];
      yield [];
      yield [[3]];
    }
    const bytes = await bytesOf(parquetStream(columns, batches()));
    expect(parquetMetadata(bytes).row_groups.map((g) => Number(g.num_rows))).toEqual([2, 1]);
    expect((await readParquet(bytes, { maxCells: 10 })).rows).toEqual([[1], [2], [3]]);

    let pulled = 0;
    let closed = false;
    async function* endless() {
      try {
        for (;;) {
          pulled++;
          yield Array.from({ length: 1000 }, (_, i) => [i]);
        }
      } finally {
        closed = true;
      }
    }
    const stream = parquetStream(columns, endless());
    for await (const _chunk of stream) {
      if (pulled >= 3) break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
    expect(pulled).toBeLessThan(10);
  });

  it('writes a metric series as value DOUBLE, timestamp INT64 (epoch ms) and step INT64', async () => {
    const points = [
      { value: 0.5, timestamp: 1_700_000_000_000, step: 0 },
      { value: Number.NaN, timestamp: 1_700_000_000_001, step: null },
      { value: -1e300, timestamp: 1_700_000_000_002, step: 9_007_199_254_740_991 },
    ];
    const bytes = await bytesOf(seriesParquetStream([points.slice(0, 2), points.slice(2)]));
    const [, ...elements] = parquetMetadata(bytes).schema;
    expect(elements.map((e) => [e.name, e.type, e.repetition_type, e.converted_type, e.logical_type])).toEqual([
      ['value', 'DOUBLE', 'REQUIRED', undefined, undefined],
      ['timestamp', 'INT64', 'REQUIRED', undefined, undefined],
      ['step', 'INT64', 'OPTIONAL', undefined, undefined],
    ]);
    const table = await readParquet(bytes, { maxCells: 100 });
    expect(table.rows).toEqual(points.map((p) => [p.value, p.timestamp, p.step]));
    const empty = await readParquet(await bytesOf(seriesParquetStream([])), { maxCells: 1 });
    expect(empty).toEqual({
      columns: [
        { name: 'value', type: 'double' },
        { name: 'timestamp', type: 'integer' },
        { name: 'step', type: 'integer' },
      ],
      rows: [],
    });
  });

  it('reads files other writers make: pyarrow with zstd, dictionaries, dates, decimals, micros', async () => {
    const table = await readParquet(await fixture('pyarrow-mixed-zstd.parquet'), { maxCells: 1000 });
    expect(table.columns.map((c) => c.type)).toEqual([
      'integer',
      'double',
      'string',
      'string',
      'boolean',
      'datetime',
      'datetime',
      'double',
      'integer',
    ]);
    expect(table.rows[0]).toEqual([
      1,
      0.5,
      'cat',
      'a',
      true,
      Date.parse('2024-01-31T00:00:00Z'),
      Date.parse('2024-01-31T12:00:00.123Z'),
      1.25,
      1,
    ]);
    // Microseconds before 1970 round down to the millisecond, not toward zero.
    expect(table.rows[2]?.[6]).toBe(-1);
  });

  it('refuses what it cannot represent, before decoding rows where it can', async () => {
    await expect(readParquet(Buffer.from('PAR1 nonsense'), { maxCells: 10 })).rejects.toThrow(
      /^not a readable Parquet file/,
    );
    await expect(readParquet(await fixture('pyarrow-nested.parquet'), { maxCells: 10 })).rejects.toThrow(
      'Parquet column "tags" is nested: only flat columns are supported',
    );
    const bytes = writeParquet([{ name: 'v', type: 'integer' }], [[1], [2], [3]]);
    await expect(readParquet(bytes, { maxCells: 2 })).rejects.toThrow(
      'the Parquet file holds 3 rows × 1 columns, more than the 2 cells accepted in one upload',
    );

    const writer = new ByteWriter();
    const huge = new ParquetWriter({
      writer,
      schema: [
        { name: 'root', num_children: 1 },
        { name: 'big', type: 'INT64' },
      ],
    });
    huge.write({ columnData: [{ name: 'big', data: [1n, 2n ** 60n] }] });
    huge.finish();
    await expect(readParquet(writer.getBytes(), { maxCells: 10 })).rejects.toThrow(
      'row 1, column "big" (integer): 1152921504606846976 is outside the safe integer range',
    );
  });

  describe('read by pyarrow', () => {
    const python = pyarrowPython();
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cairn-parquet-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it.skipIf(!python)('reads our tables and series with the right types and values', async () => {
      await writeFile(join(dir, 'table.parquet'), writeParquet(EVERY_TYPE, EVERY_TYPE_ROWS));
      await writeFile(
        join(dir, 'series.parquet'),
        await bytesOf(seriesParquetStream([[{ value: 1.5, timestamp: 1_700_000_000_000, step: 7 }]])),
      );
      const script = `
import json, math, sys, pyarrow.parquet as pq
def cell(v):
    if isinstance(v, float) and not math.isfinite(v): return str(v)
    if hasattr(v, 'isoformat'): return v.isoformat()
    return v
out = {}
for name in ['table', 'series']:
    t = pq.read_table(sys.argv[1] + '/' + name + '.parquet')
    out[name] = {'schema': [[f.name, str(f.type), f.nullable] for f in t.schema],
                 'rows': [[cell(v) for v in row.values()] for row in t.to_pylist()]}
print(json.dumps(out))
`;
      const read = JSON.parse(execFileSync(python as string, ['-c', script, dir], { encoding: 'utf8' }));
      expect(read.table.schema).toEqual([
        ['label', 'string', true],
        ['score', 'double', true],
        ['n', 'int64', true],
        ['ok', 'bool', true],
        ['at', 'timestamp[ms, tz=UTC]', true],
      ]);
      expect(read.table.rows.slice(0, 4)).toEqual([
        ['cat', 0.91, 1, true, '2024-01-31T12:00:00.123000+00:00'],
        ['dög', 'nan', -9_007_199_254_740_991, false, '1969-12-31T23:59:59.999000+00:00'],
        [null, null, null, null, null],
        ['', '-inf', 9_007_199_254_740_991, true, '9999-12-31T23:59:59.999000+00:00'],
      ]);
      expect(read.series).toEqual({
        schema: [
          ['value', 'double', false],
          ['timestamp', 'int64', false],
          ['step', 'int64', true],
        ],
        rows: [[1.5, 1_700_000_000_000, 7]],
      });
    });
  });
});
