import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactTableNotFoundError } from '../src/core/artifact-tables.service.js';
import type { Principal } from '../src/core/principal.js';
import { TABLE_ROW_INDEX_STRIDE } from '../src/core/table-rows.js';
import { readParquet, writeParquet } from '../src/http/parquet.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
const fixture = (name: string) => readFile(new URL(`./fixtures/tables/${name}`, import.meta.url));

const COLUMNS = [
  { name: 'label', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'n', type: 'integer' },
  { name: 'ok', type: 'boolean' },
  { name: 'at', type: 'datetime' },
] as const;

describe.each(backends)('Cairn table artifacts API (%s)', (backend) => {
  let t: TestContext;
  let key: string;
  let other: string;
  let adminPrincipal: Principal;
  const admin = () => adminPrincipal;

  beforeAll(async () => {
    t = await createTestContext(backend);
    adminPrincipal = await t.core.auth.authenticate(t.adminKey);
    const create = () => t.core.experiments.create(admin(), { workspaceName: 'default', projectName: 'tables' });
    key = (await create()).experiment.id;
    other = (await create()).experiment.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const tableUrl = (name: string, experimentKey = key) =>
    `${API}/experiments/${experimentKey}/tables/${encodeURIComponent(name)}`;
  const putJson = (name: string, body: unknown, options: { key?: string; experimentKey?: string } = {}) =>
    t.request('PUT', tableUrl(name, options.experimentKey), {
      key: options.key,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
  const putBytes = (name: string, type: string, bytes: Buffer | Uint8Array | string, query = '') =>
    t.request('PUT', `${tableUrl(name)}${query}`, { headers: { 'content-type': type }, payload: Buffer.from(bytes) });
  const get = (url: string, key?: string | null) => t.request('GET', url, { key });
  const problem = (response: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) => {
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    return (response.json() as { detail: string }).detail;
  };

  it('logs a JSON table of every column type and reads it back exactly, nulls and non-finite doubles included', async () => {
    const rows = [
      ['cat', 0.91, 1, true, '2024-01-31T12:00:00Z'],
      ['dög "quoted"\nnewline', 'NaN', -9_007_199_254_740_991, false, '2024-01-31T13:30:00.5+01:30'],
      [null, 'Infinity', null, null, null],
      ['', '-Infinity', 0, true, '1969-12-31T23:59:59.999Z'],
    ];
    const created = await putJson('eval', { description: 'validation set', columns: COLUMNS, rows });
    expect(created.statusCode, created.body).toBe(201);
    const info = created.json();
    expect(info).toMatchObject({ name: 'eval', description: 'validation set', columns: COLUMNS, rowCount: 4 });

    // sizeBytes is the stored form: one JSON array per row, datetimes as epoch ms.
    const stored = [
      ['cat', 0.91, 1, true, Date.parse('2024-01-31T12:00:00Z')],
      ['dög "quoted"\nnewline', 'NaN', -9_007_199_254_740_991, false, Date.parse('2024-01-31T12:00:00.5Z')],
      [null, 'Infinity', null, null, null],
      ['', '-Infinity', 0, true, -1],
    ];
    expect(info.sizeBytes).toBe(stored.reduce((n, row) => n + Buffer.byteLength(`${JSON.stringify(row)}\n`), 0));

    const read = await get(tableUrl('eval'));
    expect(read.statusCode).toBe(200);
    expect(read.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(read.json()).toEqual({
      ...info,
      offset: 0,
      rows: [
        ['cat', 0.91, 1, true, '2024-01-31T12:00:00.000Z'],
        ['dög "quoted"\nnewline', 'NaN', -9_007_199_254_740_991, false, '2024-01-31T12:00:00.500Z'],
        [null, 'Infinity', null, null, null],
        ['', '-Infinity', 0, true, '1969-12-31T23:59:59.999Z'],
      ],
    });

    const list = await get(`${API}/experiments/${key}/tables`);
    expect(list.statusCode).toBe(200);
    expect(list.json().tables).toContainEqual(info);
  });

  it('rejects a table with one bad cell whole, naming the row and the column', async () => {
    const cases: [unknown[], string][] = [
      [
        [
          ['a', 1, 1, true, null],
          ['b', 2, 'three', true, null],
        ],
        'rows[1], column "n" (integer): expected an integer',
      ],
      [[['a', 1, 1.5, true, null]], 'rows[0], column "n" (integer)'],
      [[['a', 1, 2 ** 53, true, null]], 'rows[0], column "n" (integer)'],
      [[['a', 'abc', 1, true, null]], 'rows[0], column "score" (double): expected a number (or "NaN"'],
      [[['a', 1, 1, 'yes', null]], 'rows[0], column "ok" (boolean): expected a boolean, got "yes"'],
      [[[1, 1, 1, true, null]], 'rows[0], column "label" (string): expected a string, got 1'],
      [[['a', 1, 1, true, '2024-01-31T12:00:00']], 'rows[0], column "at" (datetime): expected an ISO-8601 datetime'],
      [[['a', 1, 1, true, '2024-02-30T12:00:00Z']], 'rows[0], column "at" (datetime)'],
      [[['a', 1, 1, true, 1_706_702_400_000]], 'rows[0], column "at" (datetime)'],
      [[['a', 1, 1, true]], 'rows[0] has 4 cells, the table has 5 columns'],
      [[['a', 1, 1, true, null], 'a'], 'body/rows/1 must be array'],
    ];
    for (const [rows, message] of cases) {
      const response = await putJson('rejected', { columns: COLUMNS, rows });
      expect(response.statusCode, JSON.stringify(rows)).toBe(400);
      expect(problem(response)).toContain(message);
    }
    const columnCases: [unknown, string][] = [
      [
        [
          { name: 'a', type: 'string' },
          { name: 'a', type: 'double' },
        ],
        'column name "a" appears twice',
      ],
      [[{ name: 'a', type: 'float' }], 'body/columns/0/type must be equal to one of the allowed values'],
      [[], 'body/columns must NOT have fewer than 1 items'],
    ];
    for (const [columns, message] of columnCases) {
      const response = await putJson('rejected', { columns, rows: [] });
      expect(response.statusCode).toBe(400);
      expect(problem(response)).toContain(message);
    }
    // A bare value is not a one-cell row, even for a one-column table.
    const bare = await putJson('rejected', { columns: [{ name: 'v', type: 'integer' }], rows: [1, 2] });
    expect(problem(bare)).toContain('body/rows/0 must be array');
    const described = await putJson('rejected', { description: 'x'.repeat(10_001), columns: COLUMNS, rows: [] });
    expect(problem(described)).toContain('at most 10000 characters');
    expect((await get(tableUrl('rejected'))).statusCode).toBe(404);
  });

  it('replaces a table logged again under its name and keeps the old one when the new one is refused', async () => {
    const first = await putJson('confusion', { columns: [{ name: 'v', type: 'integer' }], rows: [[1], [2]] });
    expect(first.statusCode).toBe(201);
    const before = await t.store.artifactTables.get(key, 'confusion');

    const refused = await putJson('confusion', { columns: [{ name: 'v', type: 'integer' }], rows: [[1], ['x']] });
    expect(refused.statusCode).toBe(400);
    expect((await get(tableUrl('confusion'))).json().rows).toEqual([[1], [2]]);

    const second = await putJson('confusion', {
      description: 'v2',
      columns: [{ name: 'w', type: 'string' }],
      rows: [['a']],
    });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ description: 'v2', rowCount: 1, createdAt: first.json().createdAt });
    expect((await get(tableUrl('confusion'))).json()).toMatchObject({
      columns: [{ name: 'w', type: 'string' }],
      rows: [['a']],
    });
    // The replaced rows' blob is gone; the new one is there.
    const after = await t.store.artifactTables.get(key, 'confusion');
    expect(after?.blobKey).not.toBe(before?.blobKey);
    expect(await t.blobs.size(before?.blobKey as string)).toBeUndefined();
    expect(await t.blobs.size(after?.blobKey as string)).toBe(after?.sizeBytes);
  });

  it('settles concurrent loggings of one name on one whole table', async () => {
    const uploads = Array.from({ length: 6 }, (_, i) =>
      putJson('raced', { columns: [{ name: 'v', type: 'integer' }], rows: Array.from({ length: 50 + i }, () => [i]) }),
    );
    const statuses = (await Promise.all(uploads)).map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 200, 200, 200, 200, 201]);
    const table = (await get(`${tableUrl('raced')}?limit=1000`)).json();
    const winner = table.rows[0][0] as number;
    expect(table.rows).toEqual(Array.from({ length: 50 + winner }, () => [winner]));
    const stored = await t.store.artifactTables.get(key, 'raced');
    expect(await t.blobs.size(stored?.blobKey as string)).toBe(stored?.sizeBytes);
  });

  it('pages rows by offset and limit across row-index entries', async () => {
    const count = 2 * TABLE_ROW_INDEX_STRIDE + 500;
    const rows = Array.from({ length: count }, (_, i) => [i, `row ${i}`, i % 3 === 0 ? null : i / 7]);
    const columns = [
      { name: 'i', type: 'integer' },
      { name: 's', type: 'string' },
      { name: 'x', type: 'double' },
    ];
    expect((await putJson('long', { columns, rows })).statusCode).toBe(201);
    const page = async (offset: number, limit: number) => {
      const response = await get(`${tableUrl('long')}?offset=${offset}&limit=${limit}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json() as { rowCount: number; offset: number; rows: unknown[][] };
    };
    for (const [offset, limit] of [
      [0, 10],
      [995, 10],
      [1000, 1],
      [1999, 2],
      [1, 2 * TABLE_ROW_INDEX_STRIDE],
      [count - 3, 100],
    ] as const) {
      const body = await page(offset, limit);
      expect(body.offset).toBe(offset);
      expect(body.rowCount).toBe(count);
      expect(body.rows).toEqual(rows.slice(offset, offset + limit));
    }
    expect((await page(count, 10)).rows).toEqual([]);
    expect((await page(count + 1000, 10)).rows).toEqual([]);
    expect((await get(tableUrl('long'))).json().rows).toEqual(rows.slice(0, 100));
    expect((await get(`${tableUrl('long')}?limit=10001`)).statusCode).toBe(400);
    expect((await get(`${tableUrl('long')}?offset=-1`)).statusCode).toBe(400);
  });

  it('takes CSV with types inferred per column, quoting, CRLF and a byte-order mark', async () => {
    const csv =
      '\ufeffid,score,ok,label,when,empty\r\n' +
      '1,0.5,true,"a, b",2024-01-31T12:00:00Z,\r\n' +
      '2,1e3,FALSE,"multi\nline ""quoted""",x,\r\n' +
      ',NaN,,"",,\r\n' +
      '-4,-inf,True,plain,,\r\n';
    const response = await putBytes('from-csv', 'text/csv; charset=utf-8', csv, '?description=from%20a%20file');
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({
      description: 'from a file',
      rowCount: 4,
      columns: [
        { name: 'id', type: 'integer' },
        { name: 'score', type: 'double' },
        { name: 'ok', type: 'boolean' },
        { name: 'label', type: 'string' },
        { name: 'when', type: 'string' },
        { name: 'empty', type: 'string' },
      ],
    });
    expect((await get(tableUrl('from-csv'))).json().rows).toEqual([
      [1, 0.5, true, 'a, b', '2024-01-31T12:00:00Z', null],
      [2, 1000, false, 'multi\nline "quoted"', 'x', null],
      [null, 'NaN', null, '', null, null],
      [-4, '-Infinity', true, 'plain', null, null],
    ]);

    const ragged = await putBytes('bad-csv', 'text/csv', 'a,b\n1,2\n3\n');
    expect(ragged.statusCode).toBe(400);
    expect(problem(ragged)).toBe('line 3 of the CSV has 1 fields, the header has 2');
    const unterminated = await putBytes('bad-csv', 'text/csv', 'a,b\n1,"2\n3,4\n');
    expect(problem(unterminated)).toBe('line 2 of the CSV opens a quote that never closes');
    const unnamed = await putBytes('bad-csv', 'text/csv', 'a,,c\n1,2,3\n');
    expect(problem(unnamed)).toBe('column 1 name must not be empty');
    // Octet-stream works with format=csv.
    const octet = await putBytes('octet-csv', 'application/octet-stream', 'x\n1\n', '?format=csv');
    expect(octet.statusCode).toBe(201);
    expect(octet.json().columns).toEqual([{ name: 'x', type: 'integer' }]);
  });

  it('takes Parquet as application/vnd.apache.parquet or octet-stream with format=parquet', async () => {
    const columns = COLUMNS.map((c) => ({ ...c }));
    const rows = [
      ['a', 1.5, 3, true, Date.parse('2024-01-31T12:00:00Z')],
      [null, Number.NaN, null, null, null],
    ];
    const bytes = writeParquet(columns, rows);
    const response = await putBytes('from-parquet', 'application/vnd.apache.parquet', bytes, '?description=pq');
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ columns, rowCount: 2, description: 'pq' });
    expect((await get(tableUrl('from-parquet'))).json().rows).toEqual([
      ['a', 1.5, 3, true, '2024-01-31T12:00:00.000Z'],
      [null, 'NaN', null, null, null],
    ]);
    const octet = await putBytes('from-parquet', 'application/octet-stream', bytes, '?format=parquet');
    expect(octet.statusCode).toBe(200);

    // A file pyarrow wrote with zstd, with types beyond Cairn's own (see fixtures/tables/make-fixtures.py).
    const mixed = await putBytes(
      'pyarrow',
      'application/vnd.apache.parquet',
      await fixture('pyarrow-mixed-zstd.parquet'),
    );
    expect(mixed.statusCode, mixed.body).toBe(201);
    expect(mixed.json().columns).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'score', type: 'double' },
      { name: 'label', type: 'string' },
      { name: 'kind', type: 'string' },
      { name: 'ok', type: 'boolean' },
      { name: 'day', type: 'datetime' },
      { name: 'at', type: 'datetime' },
      { name: 'price', type: 'double' },
      { name: 'big', type: 'integer' },
    ]);
    expect((await get(tableUrl('pyarrow'))).json().rows).toEqual([
      [1, 0.5, 'cat', 'a', true, '2024-01-31T00:00:00.000Z', '2024-01-31T12:00:00.123Z', 1.25, 1],
      [2, null, null, 'b', false, null, null, null, 2],
      [null, 'NaN', 'dög', 'a', null, '1960-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', -3.5, 2 ** 53 - 1],
    ]);

    const nested = await putBytes('nested', 'application/vnd.apache.parquet', await fixture('pyarrow-nested.parquet'));
    expect(nested.statusCode).toBe(400);
    expect(problem(nested)).toBe('Parquet column "tags" is nested: only flat columns are supported');
    const garbage = await putBytes('garbage', 'application/vnd.apache.parquet', 'not parquet at all');
    expect(problem(garbage)).toMatch(/^not a readable Parquet file/);
  });

  it('answers unsupported media types with 415 and contradicting formats with 400', async () => {
    const xml = await putBytes('x', 'application/xml', '<x/>');
    expect(xml.statusCode).toBe(415);
    const octet = await putBytes('x', 'application/octet-stream', 'a\n1\n');
    expect(octet.statusCode).toBe(415);
    expect(problem(octet)).toContain('format=csv|parquet');
    const contradiction = await putBytes('x', 'text/csv', 'a\n1\n', '?format=parquet');
    expect(contradiction.statusCode).toBe(400);
    expect(problem(contradiction)).toBe('format=parquet contradicts Content-Type text/csv');
  });

  it('keeps the previous table when the new rows fail to store', async () => {
    expect((await putJson('capped', { columns: [{ name: 'v', type: 'integer' }], rows: [[7]] })).statusCode).toBe(201);
    // A compact Parquet upload whose stored rows exceed the store's cap (1 MiB in tests) fails
    // while its blob is being written.
    const rows = Array.from({ length: 150_000 }, (_, i) => [i]);
    const bytes = writeParquet([{ name: 'v', type: 'integer' }], rows);
    expect(bytes.length).toBeLessThan(1024 * 1024);
    const response = await putBytes('capped', 'application/vnd.apache.parquet', bytes);
    expect(response.statusCode).toBe(413);
    expect(problem(response)).toContain('exceeds the limit');
    expect((await get(tableUrl('capped'))).json()).toMatchObject({ rowCount: 1, rows: [[7]] });
  });

  it('refuses uploads over the body limit without parsing them', async () => {
    const big = `v\n${'1\n'.repeat(1024 * 1024 + 1)}`;
    const response = await putBytes('huge', 'text/csv', big);
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('serves a whole table as Parquet that reads back to the same columns and rows', async () => {
    const count = 25_000;
    const rows = Array.from({ length: count }, (_, i) => [i, i % 2 === 0, `s${i}`]);
    const columns = [
      { name: 'i', type: 'integer' as const },
      { name: 'even', type: 'boolean' as const },
      { name: 's', type: 'string' as const },
    ];
    expect((await putJson('as-parquet', { columns, rows })).statusCode).toBe(201);
    const response = await get(`${tableUrl('as-parquet')}?format=parquet`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/vnd.apache.parquet');
    const table = await readParquet(response.rawPayload, { maxCells: 10 ** 6 });
    expect(table.columns).toEqual(columns);
    expect(table.rows).toEqual(rows);

    const first = await get(`${tableUrl('eval')}?format=parquet`);
    const evalTable = await readParquet(first.rawPayload, { maxCells: 100 });
    expect(evalTable.rows[1]?.[1]).toBeNaN();
    expect(evalTable.rows[0]?.[4]).toBe(Date.parse('2024-01-31T12:00:00Z'));
  });

  it('names tables with "/" when percent-encoded', async () => {
    const response = await putJson('train/loss table', { columns: [{ name: 'v', type: 'double' }], rows: [[1]] });
    expect(response.statusCode).toBe(201);
    expect(response.json().name).toBe('train/loss table');
    const names = (await get(`${API}/experiments/${key}/tables`)).json().tables.map((x: { name: string }) => x.name);
    expect(names).toContain('train/loss table');
    expect((await get(`${API}/experiments/${key}/tables/train%2Floss%20table`)).json().rows).toEqual([[1]]);
  });

  it('lists tables by name, per experiment', async () => {
    for (const name of ['b', 'B', 'a']) {
      await putJson(name, { columns: [{ name: 'v', type: 'integer' }], rows: [] }, { experimentKey: other });
    }
    const list = (await get(`${API}/experiments/${other}/tables`)).json().tables;
    expect(list.map((x: { name: string }) => x.name)).toEqual(['B', 'a', 'b']);
    expect(list[0]).toMatchObject({ rowCount: 0, sizeBytes: 0, description: null });
    expect((await get(tableUrl('a', other))).json()).toMatchObject({ rows: [], rowCount: 0 });
    const empty = await get(`${tableUrl('a', other)}?format=parquet`);
    expect((await readParquet(empty.rawPayload, { maxCells: 1 })).columns).toEqual([{ name: 'v', type: 'integer' }]);
  });

  it('deletes a table and its rows', async () => {
    await putJson('doomed', { columns: [{ name: 'v', type: 'integer' }], rows: [[1]] });
    const blobKey = (await t.store.artifactTables.get(key, 'doomed'))?.blobKey as string;
    const deleted = await t.request('DELETE', tableUrl('doomed'));
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect(await t.blobs.size(blobKey)).toBeUndefined();
    const gone = await get(tableUrl('doomed'));
    expect(gone.statusCode).toBe(404);
    expect(problem(gone)).toBe(`table "doomed" not found in experiment ${key}`);
    await expect(t.core.artifactTables.get(admin(), key, 'doomed')).rejects.toBeInstanceOf(ArtifactTableNotFoundError);
    // A missing experiment is not a missing table.
    await expect(t.core.artifactTables.get(admin(), 'f'.repeat(32), 'doomed')).rejects.not.toBeInstanceOf(
      ArtifactTableNotFoundError,
    );
    expect((await t.request('DELETE', tableUrl('doomed'))).statusCode).toBe(404);
  });

  it('keeps other tenants out and read-only keys from writing', async () => {
    const body = { columns: [{ name: 'v', type: 'integer' }], rows: [[1]] };
    for (const response of [
      await putJson('intruder', body, { key: t.otherKey }),
      await get(`${API}/experiments/${key}/tables`, t.otherKey),
      await get(tableUrl('eval'), t.otherKey),
      await get(`${tableUrl('eval')}?format=parquet`, t.otherKey),
      await t.request('DELETE', tableUrl('eval'), { key: t.otherKey }),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(problem(response)).toMatch(/^experiment \w+ not found/);
    }
    expect((await get(tableUrl('eval'), t.readOnlyKey)).statusCode).toBe(200);
    const readOnly = await putJson('eval', body, { key: t.readOnlyKey });
    expect(readOnly.statusCode).toBe(403);
    expect((await t.request('DELETE', tableUrl('eval'), { key: t.readOnlyKey })).statusCode).toBe(403);
    expect((await get(tableUrl('eval'), null)).statusCode).toBe(401);
    expect((await get(tableUrl('eval'))).json().rowCount).toBe(4);
  });

  it('deletes the rows of an experiment’s tables with the experiment', async () => {
    const doomed = (await t.core.experiments.create(admin(), { workspaceName: 'default', projectName: 'tables' }))
      .experiment.id;
    await putJson('t1', { columns: [{ name: 'v', type: 'integer' }], rows: [[1]] }, { experimentKey: doomed });
    const blobKey = (await t.store.artifactTables.get(doomed, 't1'))?.blobKey as string;
    expect(await t.blobs.size(blobKey)).toBeGreaterThan(0);
    await t.core.experiments.delete(admin(), doomed);
    expect(await t.store.artifactTables.get(doomed, 't1')).toBeUndefined();
    expect(await t.blobs.size(blobKey)).toBeUndefined();
  });
});
