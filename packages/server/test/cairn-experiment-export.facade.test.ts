import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/core/principal.js';
import { hex, newExperiment, T0 } from './support/store-fixtures.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
const PROJECT = `${API}/workspaces/default/projects/export`;
/** More than two pages of the export's 1,000 rows: the third page is a partial one. */
const BULK = 2_600;
const NOTES = ['plain', '=HYPERLINK("http://x","y")', 'with,comma', 'say "hi"', 'two\r\nlines', '-3.5', '+cmd', '@at'];

/** RFC 4180 records as text fields (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      fields.push(field);
      records.push(fields);
      fields = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field, 'the CSV ends with CRLF').toBe('');
  return records;
}

interface Row {
  key: string;
  name: string | null;
  values: Record<string, unknown>;
}

/** What the export promises for a cell of the JSON answer (docs/api/cairn.md "CSV export"). */
function expectedCell(value: unknown, time: boolean): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return time ? new Date(value).toISOString() : String(value);
  if (typeof value === 'boolean') return String(value);
  const text = Array.isArray(value) ? value.join(';') : String(value);
  // The table answer's non-finite metric values are numbers, not text: never defused.
  if (['NaN', 'Infinity', '-Infinity'].includes(text)) return text;
  return /^[=+\-@]/.test(text) && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? `'${text}` : text;
}

describe.each(backends)('Cairn CSV export of the experiment table (%s)', (backend) => {
  let t: TestContext;
  let admin: Principal;
  const richKeys: string[] = [];

  beforeAll(async () => {
    t = await createTestContext(backend);
    admin = await t.core.auth.authenticate(t.adminKey);
    // A few experiments with everything a cell can hold, logged through the core.
    for (const [i, name] of ['=cmd|" /C calc"!A0', 'resnet, "big"', null].entries()) {
      const { experiment } = await t.core.experiments.create(admin, {
        workspaceName: 'default',
        projectName: 'export',
        experimentName: name,
      });
      richKeys.push(experiment.id);
      await t.core.experiments.logValues(admin, experiment.id, 'param', [
        { name: 'lr', value: 0.5 + i },
        { name: 'note', value: NOTES[i + 1] as string },
        { name: 'flag', value: i % 2 === 0 },
      ]);
      await t.core.metrics.logSeries(admin, experiment.id, [{ name: 'loss', values: [1.5, i === 0 ? 'NaN' : -2] }], {
        allowNonFinite: true,
      });
      await t.core.experiments.addTags(admin, experiment.id, i === 1 ? ['-x', 'a'] : ['a', 'b']);
      // Ended: a live run's duration would move between two reads.
      await t.core.experiments.stop(admin, experiment.id);
    }
    // The bulk, written straight to the store in one transaction: ended runs (their status and
    // duration do not move with the clock), creation times with ties, notes that need quoting.
    const { project } = await t.core.experiments.get(admin, richKeys[0] as string);
    await t.store.transaction(async (tx) => {
      for (let i = 0; i < BULK; i++) {
        const at = T0 + (i % 700) * 1000;
        const experiment = newExperiment(project, {
          id: hex(),
          name: i % 3 === 0 ? null : `run ${NOTES[i % NOTES.length]} ${i}`,
          status: i % 5 === 0 ? 'FAILED' : 'SUCCEEDED',
          startTime: at,
          endTime: at + i,
          createdBy: admin.userId,
          createdAt: at,
          updatedAt: at + i,
          archived: i % 97 === 0,
        });
        await tx.experiments.insert(experiment);
        const value = (type: 'number' | 'string' | 'boolean', name: string, text: string) => ({
          name,
          type,
          text,
          step: null,
          timestamp: at,
          context: null,
        });
        await tx.values.append(experiment.id, 'param', [
          value('number', 'lr', String((i % 7) / 10)),
          value('string', 'note', NOTES[i % NOTES.length] as string),
          ...(i % 4 === 0 ? [] : [value('boolean', 'flag', String(i % 3 === 0))]),
        ]);
      }
    });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  /** Every row of the JSON table for the same options, page after page. */
  async function tableRows(query: URLSearchParams): Promise<Row[]> {
    const rows: Row[] = [];
    let cursor: string | null = null;
    do {
      const page = new URLSearchParams(query);
      page.set('limit', '1000');
      page.set('count', 'false');
      if (cursor) page.set('cursor', cursor);
      const response = await t.request('GET', `${PROJECT}/experiments?${page}`);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as { items: Row[]; nextCursor: string | null };
      rows.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);
    return rows;
  }

  async function exportCsv(query: URLSearchParams) {
    const response = await t.request('GET', `${PROJECT}/experiments/export?${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response;
  }

  it.each([
    ['the default order', {}],
    ['a sort with ties across page boundaries', { sort: 'params.lr' }],
    ['a descending sort and a filter', { sort: '-startTime', filter: "params.lr >= 0.1 or tags contains 'a'" }],
    ['archived ones too', { archived: 'all', sort: 'name' }],
  ])('answers every row of the JSON table, in its order, with %s', async (_label, options) => {
    const columns =
      'name,params.lr,params.note,params.flag,metrics.loss,metrics.loss.count,tags,startTime,endTime,duration,status,archived,params.missing';
    const query = new URLSearchParams({ ...options, columns });
    const [rows, response] = await Promise.all([tableRows(query), exportCsv(query)]);
    expect(rows.length).toBeGreaterThan(2000);
    const records = parseCsv(response.body);
    const ids = columns.split(',');
    expect(records[0]).toEqual(['key', 'name', ...ids]);
    const times = new Set(['startTime', 'endTime']);
    const expected = rows.map((row) => [
      row.key,
      expectedCell(row.name, false),
      ...ids.map((id) => expectedCell(row.values[id], times.has(id))),
    ]);
    expect(records.slice(1)).toEqual(expected);
  });

  it('names the file after the project and says it is UTF-8 CSV', async () => {
    const response = await exportCsv(new URLSearchParams({ filter: `key = '${richKeys[1]}'` }));
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="export-experiments.csv"; filename*=UTF-8''export-experiments.csv`,
    );
    expect(response.body).toBe(`key,name\r\n${richKeys[1]},"resnet, ""big"""\r\n`);
  });

  it('quotes per RFC 4180 and defuses formulas, leaving numbers as they are', async () => {
    const query = new URLSearchParams({
      filter: `key = '${richKeys[0]}' or key = '${richKeys[1]}'`,
      sort: 'params.lr',
      columns: 'params.note,metrics.loss.last,metrics.loss.min,tags,params.lr',
    });
    const text = (await exportCsv(query)).body;
    expect(text.split('\r\n')).toEqual([
      'key,name,params.note,metrics.loss.last,metrics.loss.min,tags,params.lr',
      // Formula-like texts get a leading quote; NaN is a number (the table's "NaN"), kept.
      `${richKeys[0]},"'=cmd|"" /C calc""!A0","'=HYPERLINK(""http://x"",""y"")",NaN,1.5,a;b,0.5`,
      `${richKeys[1]},"resnet, ""big""","with,comma",-2,-2,'-x;a,1.5`,
      '',
    ]);
  });

  it('answers a bad filter, sort or column as a problem, before any CSV', async () => {
    for (const [query, detail] of [
      ['filter=params.lr%20%3C', /invalid filter at position/],
      ['sort=tags', /cannot be sorted by/],
      ['columns=name,nosuch', /nosuch/],
      ['archived=maybe', /archived/],
    ] as const) {
      const response = await t.request('GET', `${PROJECT}/experiments/export?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['content-disposition']).toBeUndefined();
      expect(response.json().detail).toMatch(detail);
    }
  });

  it('is a read of a project the caller can see: another tenant gets 404, a read-only key its CSV', async () => {
    const hidden = await t.request('GET', `${PROJECT}/experiments/export`, { key: t.otherKey });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.headers['content-type']).toMatch(/^application\/problem\+json/);
    const missing = await t.request('GET', `${API}/workspaces/default/projects/nope/experiments/export`);
    expect(missing.statusCode).toBe(404);
    const readOnly = await t.request('GET', `${PROJECT}/experiments/export?filter=params.lr%20%3E%201&sort=params.lr`, {
      key: t.readOnlyKey,
    });
    expect(readOnly.statusCode).toBe(200);
    expect(parseCsv(readOnly.body).map((r) => r[0])).toEqual(['key', richKeys[1], richKeys[2]]);
  });
});
