import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/core/principal.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
const TABLE = `${API}/workspaces/default/projects/table/experiments`;

/** 32-alphanumeric keys; "Z06" sorts before the "k…" keys bytewise (not in en_US order). */
const K = (id: string) => id.padEnd(32, '0');
const [k01, k02, k03, k04, k05, Z06, k07] = ['k01', 'k02', 'k03', 'k04', 'k05', 'Z06', 'k07'].map(K) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];

interface Page {
  items: { key: string; name: string | null; values: Record<string, unknown> }[];
  nextCursor: string | null;
  total?: number;
}

describe.each(backends)('Cairn experiment table (%s)', (backend) => {
  let t: TestContext;
  let admin: Principal;

  beforeAll(async () => {
    t = await createTestContext(backend);
    admin = await t.core.auth.authenticate(t.adminKey);
    const create = async (key: string, name: string | null, project = 'table') =>
      t.core.experiments.create(admin, {
        workspaceName: 'default',
        projectName: project,
        experimentKey: key,
        experimentName: name,
      });
    const params = (
      key: string,
      values: Record<string, string | number | boolean>,
      kind: 'param' | 'other' = 'param',
    ) =>
      t.core.experiments.logValues(
        admin,
        key,
        kind,
        Object.entries(values).map(([name, value]) => ({ name, value })),
      );
    const metrics = (key: string, series: Record<string, (number | string)[]>) =>
      t.core.metrics.logSeries(
        admin,
        key,
        Object.entries(series).map(([name, values]) => ({ name, values })),
        { allowNonFinite: true },
      );
    const system = (key: string, details: Record<string, unknown>) =>
      t.core.experiments.setDocument(admin, key, 'system-details', JSON.stringify(details));

    await create(k01, 'resnet-a');
    await params(k01, { lr: 0.01, optimizer: 'adam', flag: true });
    await params(k01, { seed: 1 }, 'other');
    await metrics(k01, { loss: [1.0, 0.5], acc: [0.2, 0.6] });
    await t.core.experiments.addTags(admin, k01, ['baseline']);
    await system(k01, { hostname: 'gpu-1', pid: 10, os: 'Linux' });

    await create(k02, 'resnet-b');
    await params(k02, { lr: 0.1, optimizer: 'sgd', flag: false });
    await params(k02, { seed: 2 }, 'other');
    await metrics(k02, { loss: [0.9, 0.3], acc: [0.5] });
    await t.core.experiments.addTags(admin, k02, ['baseline', 'sweep']);
    await system(k02, { hostname: 'gpu-2', pid: 9 });
    await t.core.experiments.stop(admin, k02);

    await create(k03, 'vit');
    await params(k03, { lr: 'auto', optimizer: 'adamw' });
    await metrics(k03, { acc: [0.9] });
    await t.core.experiments.addTags(admin, k03, ['sweep']);
    await system(k03, { hostname: 'gpu-1', pid: '7' });
    await t.core.experiments.updateStatus(admin, k03, { isAlive: false, hasCrashed: true });

    await create(k04, null);
    await params(k04, { lr: 0.01 });
    await params(k04, { seed: 3 }, 'other');
    await metrics(k04, { loss: ['NaN'] });

    await create(k05, 'old');
    await params(k05, { lr: 0.05, optimizer: 'sgd' });
    await metrics(k05, { loss: [0.2], acc: [0.1] });
    await t.core.experiments.addTags(admin, k05, ['baseline']);
    await system(k05, { os: 'Darwin' });
    await t.core.experiments.setArchived(admin, k05, true);

    await create(Z06, 'zeta');
    await params(Z06, { lr: 0.01 });
    await metrics(Z06, { loss: [0.7] });

    await create(k07, 'empty');

    // Another project of the same workspace: never listed in "table".
    await create(K('x01'), 'elsewhere', 'other-project');
    await params(K('x01'), { lr: 0.001 });
    await metrics(K('x01'), { loss: [0.01] });
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (query: string, key = t.adminKey): Promise<Page> => {
    const response = await t.request('GET', `${TABLE}?${query}`, { key });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const keysOf = async (query: string) => (await get(query)).items.map((i) => i.key);
  const matching = async (filter: string, extra = '') =>
    (await keysOf(`filter=${encodeURIComponent(filter)}&limit=1000${extra}`)).sort();
  const sorted = async (sort: string) => keysOf(`sort=${encodeURIComponent(sort)}&limit=1000`);

  it('filters on parameters and others, typed by the literal', async () => {
    expect(await matching('params.lr < 0.05')).toEqual([Z06, k01, k04].sort());
    expect(await matching("params.lr = 'auto'")).toEqual([k03]);
    expect(await matching('params.flag = true')).toEqual([k01]);
    expect(await matching('params.flag != true')).toEqual([k02]);
    expect(await matching("params.optimizer contains 'ADAM'")).toEqual([k01, k03]);
    expect(await matching('others.seed >= 2')).toEqual([k02, k04]);
    expect(await matching('others.seed is null')).toEqual([Z06, k03, k07].sort());
    expect(await matching('params.lr between 0.01 and 0.05')).toEqual([Z06, k01, k04].sort());
  });

  it('filters on metric summaries; NaN counts as no value', async () => {
    expect(await matching('metrics.loss.min < 0.6')).toEqual([k01, k02]);
    expect(await matching('metrics.loss.last <= 0.5')).toEqual([k01, k02]);
    expect(await matching('metrics.acc.max > 0.55')).toEqual([k01, k03]);
    expect(await matching('metrics.acc > 0.55')).toEqual([k01, k03]);
    expect(await matching('metrics.loss.count = 2')).toEqual([k01, k02]);
    expect(await matching('metrics.loss is null')).toEqual([k03, k04, k07]);
  });

  it('filters on system details, tags and attributes', async () => {
    expect(await matching("system.hostname = 'gpu-1'")).toEqual([k01, k03]);
    expect(await matching('system.pid > 8')).toEqual([k01, k02]);
    expect(await matching("system.os contains 'linux'")).toEqual([k01]);
    expect(await matching("tags contains 'baseline'")).toEqual([k01, k02]);
    expect(await matching("tags = 'sweep'")).toEqual([k02, k03]);
    expect(await matching("not tags contains 'baseline'")).toEqual([Z06, k03, k04, k07].sort());
    expect(await matching('tags is null')).toEqual([Z06, k04, k07].sort());
    expect(await matching("name startswith 'resnet'")).toEqual([k01, k02]);
    expect(await matching('name is null')).toEqual([k04]);
    expect(await matching("status = 'FAILED'")).toEqual([k03]);
    expect(await matching("status = 'SUCCEEDED'")).toEqual([k02]);
    expect(await matching('running = true')).toEqual([Z06, k01, k04, k07].sort());
    expect(await matching("user = 'admin'")).toEqual([Z06, k01, k02, k03, k04, k07].sort());
    expect(await matching(`key = '${k02}'`)).toEqual([k02]);
    const start = (await get(`filter=${encodeURIComponent(`key = '${k04}'`)}&columns=startTime`)).items[0]?.values
      .startTime as number;
    const iso = new Date(start).toISOString();
    expect(await matching(`startTime >= '${iso}'`)).toEqual((await matching(`startTime >= ${start}`)).sort());
    expect(await matching(`startTime >= '${iso}'`)).toContain(k04);
    expect(await matching(`startTime >= '${iso}'`)).not.toContain(k01);
  });

  it('combines conditions with and/or/not and parentheses', async () => {
    expect(await matching("params.lr < 0.05 and not (tags contains 'baseline' or name is null)")).toEqual([Z06]);
    expect(await matching("params.lr < 0.05 AND tags contains 'baseline' OR status = 'FAILED'")).toEqual([k01, k03]);
    expect(await matching("params.lr < 0.05 and (tags contains 'baseline' or status = 'FAILED')")).toEqual([k01]);
  });

  it('lists archived experiments with archived=true or all, never by default', async () => {
    expect((await get('limit=1000')).items.map((i) => i.key)).not.toContain(k05);
    expect(await keysOf('archived=true')).toEqual([k05]);
    expect(await matching('archived = true', '&archived=all')).toEqual([k05]);
    expect(await matching("tags contains 'baseline'", '&archived=all')).toEqual([k01, k02, k05]);
    expect((await get('archived=all&limit=1000')).total).toBe(7);
    expect((await get('limit=1000')).total).toBe(6);
  });

  it('takes archived in a JSON body as the boolean the SDK sends, or as the query words', async () => {
    const keys = async (archived: unknown) => {
      const response = await t.request('POST', `${TABLE}/query`, { body: { archived, limit: 1000 } });
      expect(response.statusCode, response.body).toBe(200);
      return (response.json() as Page).items.map((i) => i.key);
    };
    expect(await keys(true)).toEqual([k05]);
    expect(await keys('true')).toEqual([k05]);
    expect(await keys(false)).not.toContain(k05);
    expect(await keys('all')).toContain(k05);
    const refused = await t.request('POST', `${TABLE}/query`, { body: { archived: 1 } });
    expect(refused.statusCode).toBe(400);
  });

  it('sorts by parameters: numbers, then texts, then experiments without the value; ties by key', async () => {
    expect(await sorted('params.lr')).toEqual([Z06, k01, k04, k02, k03, k07]);
    expect(await sorted('-params.lr')).toEqual([k03, k02, Z06, k01, k04, k07]);
    expect(await sorted('-others.seed')).toEqual([k04, k02, k01, Z06, k03, k07]);
    expect(await sorted('params.flag')).toEqual([k02, k01, Z06, k03, k04, k07]);
  });

  it('sorts by metric aggregates, system fields and attributes, missing values last either way', async () => {
    expect(await sorted('metrics.loss.min')).toEqual([k02, k01, Z06, k03, k04, k07]);
    expect(await sorted('-metrics.loss.min')).toEqual([Z06, k01, k02, k03, k04, k07]);
    expect(await sorted('-metrics.acc')).toEqual([k03, k01, k02, Z06, k04, k07]);
    expect(await sorted('metrics.loss.count')).toEqual([Z06, k04, k01, k02, k03, k07]);
    expect(await sorted('system.pid')).toEqual([k02, k01, k03, Z06, k04, k07]);
    expect(await sorted('-system.pid')).toEqual([k03, k01, k02, Z06, k04, k07]);
    expect(await sorted('system.hostname')).toEqual([k01, k03, k02, Z06, k04, k07]);
    expect(await sorted('name')).toEqual([k07, k01, k02, k03, Z06, k04]);
    expect(await sorted('-name')).toEqual([Z06, k03, k02, k01, k07, k04]);
    expect(await sorted('status')).toEqual([k03, Z06, k01, k04, k07, k02]);
    expect(await sorted('-running')).toEqual([Z06, k01, k04, k07, k02, k03]);
    expect(await sorted('key')).toEqual([Z06, k01, k02, k03, k04, k07]);
  });

  it('sorts newest first by default and by time columns on request', async () => {
    const page = await get('columns=startTime&limit=1000');
    const rows = page.items.map((i) => ({ key: i.key, start: i.values.startTime as number }));
    const expected = [...rows].sort((a, b) => b.start - a.start || (a.key < b.key ? -1 : 1));
    expect(rows.map((r) => r.key)).toEqual(expected.map((r) => r.key));
    expect(await sorted('startTime')).toEqual(
      [...rows].sort((a, b) => a.start - b.start || (a.key < b.key ? -1 : 1)).map((r) => r.key),
    );
  });

  it('returns only the requested columns, typed', async () => {
    const columns = [
      'name',
      'status',
      'running',
      'archived',
      'user',
      'tags',
      'params.lr',
      'params.flag',
      'params.optimizer',
      'others.seed',
      'metrics.loss',
      'metrics.loss.min',
      'metrics.loss.count',
      'system.pid',
      'system.hostname',
      'params.`missing one`',
    ].join(',');
    const page = await get(`sort=key&columns=${encodeURIComponent(columns)}&limit=1000`);
    const byKey = new Map(page.items.map((i) => [i.key, i]));
    expect(byKey.get(k01)).toEqual({
      key: k01,
      name: 'resnet-a',
      values: {
        name: 'resnet-a',
        status: 'RUNNING',
        running: true,
        archived: false,
        user: 'admin',
        tags: ['baseline'],
        'params.lr': 0.01,
        'params.flag': true,
        'params.optimizer': 'adam',
        'others.seed': 1,
        'metrics.loss': 0.5,
        'metrics.loss.min': 0.5,
        'metrics.loss.count': 2,
        'system.pid': 10,
        'system.hostname': 'gpu-1',
        'params.`missing one`': null,
      },
    });
    expect(byKey.get(k03)?.values).toMatchObject({
      status: 'FAILED',
      running: false,
      'params.lr': 'auto',
      'params.flag': null,
      'metrics.loss': null,
      'system.pid': '7',
      tags: ['sweep'],
    });
    expect(byKey.get(k04)?.values).toMatchObject({
      name: null,
      'metrics.loss': 'NaN',
      'metrics.loss.min': 'NaN',
      tags: [],
    });
    expect(byKey.get(k02)?.values['params.flag']).toBe(false);

    const bare = await get('limit=1');
    expect(bare.items[0]?.values).toEqual({});
    const post = await t.request('POST', `${TABLE}/query`, {
      body: { filter: `key = '${k02}'`, columns: ['metrics.acc.max', 'params.`lr`'] },
    });
    expect(post.statusCode, post.body).toBe(200);
    expect(post.json().items).toEqual([
      { key: k02, name: 'resnet-b', values: { 'metrics.acc.max': 0.5, 'params.`lr`': 0.1 } },
    ]);
  });

  it('answers the same with POST …/query and a JSON body, including filters too long for a URL', async () => {
    const filter = `${Array.from({ length: 150 }, (_, i) => `params.never${i} = ${i}`).join(' or ')} or params.lr < 0.05`;
    expect(filter.length).toBeGreaterThan(3000);
    const response = await t.request('POST', `${TABLE}/query`, {
      body: { filter, sort: '-params.lr', columns: 'params.lr', limit: 2, count: true },
    });
    expect(response.statusCode, response.body).toBe(200);
    const first: Page = response.json();
    expect(first.items.map((i) => i.key)).toEqual([Z06, k01]);
    expect(first.total).toBe(3);
    const next = await t.request('POST', `${TABLE}/query`, {
      body: { filter, sort: '-params.lr', columns: 'params.lr', limit: 2, cursor: first.nextCursor },
    });
    expect(next.json().items.map((i: { key: string }) => i.key)).toEqual([k04]);
    expect(next.json().nextCursor).toBeNull();
  });

  it('counts unless count=false', async () => {
    expect((await get(`filter=${encodeURIComponent("tags contains 'sweep'")}&limit=1`)).total).toBe(2);
    const page = await get(`filter=${encodeURIComponent("tags contains 'sweep'")}&limit=1&count=false`);
    expect(page).not.toHaveProperty('total');
    expect(page.nextCursor).not.toBeNull();
  });

  it('refuses a malformed filter, sort or column list with 400 problem+json naming the position', async () => {
    const response = await t.request('GET', `${TABLE}?filter=${encodeURIComponent('params.lr < 0.1 and and')}`);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(response.json().detail).toContain('invalid filter at position 21');
    const post = await t.request('POST', `${TABLE}/query`, { body: { filter: "status = 'DONE'" } });
    expect(post.statusCode).toBe(400);
    expect(post.json().detail).toContain('position 10');
    for (const query of ['sort=-nope', 'sort=tags', 'columns=name,,status', 'columns=foo', 'limit=0', 'limit=1001']) {
      const bad = await t.request('GET', `${TABLE}?${query}`);
      expect(bad.statusCode, query).toBe(400);
      expect(bad.headers['content-type']).toContain('application/problem+json');
    }
    const archived = await t.request('GET', `${TABLE}?archived=maybe`);
    expect(archived.statusCode).toBe(400);
  });

  it('refuses a cursor from another query, and a garbled one, with 400', async () => {
    const first = await get('sort=params.lr&limit=2');
    expect(first.nextCursor).not.toBeNull();
    const cursor = encodeURIComponent(first.nextCursor as string);
    expect((await get(`sort=params.lr&limit=2&cursor=${cursor}`)).items).toHaveLength(2);
    for (const query of [
      `sort=-params.lr&limit=2&cursor=${cursor}`,
      `sort=params.lr&archived=all&cursor=${cursor}`,
      `sort=params.lr&filter=${encodeURIComponent('params.lr > 0')}&cursor=${cursor}`,
      'sort=params.lr&cursor=garbage',
      `sort=params.lr&cursor=t1.${Buffer.from('{"h":1}').toString('base64url')}`,
      `sort=params.lr&cursor=${encodeURIComponent(`${(first.nextCursor as string).slice(0, -6)}xx`)}`,
    ]) {
      const response = await t.request('GET', `${TABLE}?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().detail).toMatch(/cursor/);
    }
    const keys = await t.request('GET', `${API}/workspaces/default/projects/table/keys?cursor=${cursor}`);
    expect(keys.statusCode).toBe(400);
  });

  it('is a read: a read-only key lists with GET and POST; another tenant gets 404', async () => {
    expect((await get('limit=2', t.readOnlyKey)).items).toHaveLength(2);
    const post = await t.request('POST', `${TABLE}/query`, { key: t.readOnlyKey, body: { limit: 1 } });
    expect(post.statusCode, post.body).toBe(200);
    for (const [method, url] of [
      ['GET', TABLE],
      ['POST', `${TABLE}/query`],
      ['GET', `${API}/workspaces/default/projects/table/keys`],
    ] as const) {
      const response = await t.request(method, url, { key: t.otherKey, ...(method === 'POST' ? { body: {} } : {}) });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect((await t.request('GET', TABLE, { key: null })).statusCode).toBe(401);
    expect((await t.request('GET', `${API}/workspaces/default/projects/nope/experiments`)).statusCode).toBe(404);
  });
});

describe.each(backends)('Cairn experiment table paging (%s)', (backend) => {
  let t: TestContext;
  const URL = `${API}/workspaces/default/projects/paging/experiments`;
  const N = 37;

  beforeAll(async () => {
    t = await createTestContext(backend);
    const admin = await t.core.auth.authenticate(t.adminKey);
    for (let i = 0; i < N; i++) {
      const key = `p${String(i).padStart(2, '0')}`.padEnd(32, 'a');
      await t.core.experiments.create(admin, {
        workspaceName: 'default',
        projectName: 'paging',
        experimentKey: i % 5 === 0 ? key.toUpperCase() : key,
        experimentName: i % 6 === 0 ? null : `run-${i % 4}`,
      });
      const k = i % 5 === 0 ? key.toUpperCase() : key;
      // Many ties, some texts and some experiments lacking each value.
      if (i % 7 !== 0) {
        await t.core.experiments.logValues(admin, k, 'param', [{ name: 'p', value: i % 9 === 0 ? 'text' : i % 3 }]);
      }
      if (i % 4 !== 0) await t.core.metrics.logSeries(admin, k, [{ name: 'm', values: [i % 5] }]);
      if (i % 8 === 0) await t.core.experiments.setArchived(admin, k, true);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  async function walk(query: string, limit: number): Promise<{ keys: string[]; totals: number[] }> {
    const keys: string[] = [];
    const totals: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const url = `${URL}?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await t.request('GET', url);
      expect(response.statusCode, response.body).toBe(200);
      const page: Page = response.json();
      expect(page.items.length).toBeLessThanOrEqual(limit);
      keys.push(...page.items.map((i) => i.key));
      if (page.total !== undefined) totals.push(page.total);
      cursor = page.nextCursor;
      if (!cursor) return { keys, totals };
    }
    throw new Error('paging did not end');
  }

  it.each([
    '',
    'sort=params.p',
    'sort=-params.p',
    'sort=metrics.m',
    'sort=-metrics.m.max',
    'sort=name',
    'sort=-name',
    'sort=status',
    'sort=-lastUpdated',
    'sort=params.p&filter=metrics.m%20%3E%3D%201',
    'sort=-params.p&archived=all',
    'sort=metrics.m&archived=true',
  ])('pages %j to the end: every row once, in the order of one big page', async (query) => {
    const whole = await t.request('GET', `${URL}?${query}&limit=1000`);
    const all: Page = whole.json();
    expect(all.nextCursor).toBeNull();
    expect(all.total).toBe(all.items.length);
    const expected = all.items.map((i) => i.key);
    for (const limit of [1, 4, 7]) {
      const { keys, totals } = await walk(query, limit);
      expect(keys).toEqual(expected);
      expect(new Set(keys).size).toBe(keys.length);
      expect(new Set(totals)).toEqual(new Set([expected.length]));
    }
  });

  it('orders ties by key bytewise and puts missing values last in both directions', async () => {
    const page: Page = (await t.request('GET', `${URL}?sort=params.p&columns=params.p&limit=1000`)).json();
    const values = page.items.map((i) => i.values['params.p']);
    const firstText = values.findIndex((v) => typeof v === 'string');
    const firstNull = values.indexOf(null);
    expect(values.slice(0, firstText).every((v) => typeof v === 'number')).toBe(true);
    expect(values.slice(firstText, firstNull).every((v) => v === 'text')).toBe(true);
    expect(values.slice(firstNull).every((v) => v === null)).toBe(true);
    for (let i = 1; i < page.items.length; i++) {
      const [a, b] = [page.items[i - 1], page.items[i]] as [Page['items'][0], Page['items'][0]];
      if (a.values['params.p'] === b.values['params.p'])
        expect(Buffer.compare(Buffer.from(a.key), Buffer.from(b.key))).toBe(-1);
    }
    const desc: Page = (await t.request('GET', `${URL}?sort=-params.p&columns=params.p&limit=1000`)).json();
    expect(desc.items.at(-1)?.values['params.p']).toBeNull();
    expect(desc.items[0]?.values['params.p']).toBe('text');
  });

  it('counts once per listing: later pages answer with the total their cursor carries', async () => {
    const first: Page = (await t.request('GET', `${URL}?sort=params.p&limit=5`)).json();
    const total = first.total as number;
    const admin = await t.core.auth.authenticate(t.adminKey);
    await t.core.experiments.create(admin, { workspaceName: 'default', projectName: 'paging', experimentName: 'late' });
    const next = `${URL}?sort=params.p&limit=5&cursor=${encodeURIComponent(first.nextCursor as string)}`;
    expect((await t.request('GET', next)).json().total).toBe(total);
    expect((await t.request('GET', `${next}&count=false`)).json()).not.toHaveProperty('total');
    expect((await t.request('GET', `${URL}?sort=params.p&limit=5`)).json().total).toBe(total + 1);
    // A listing first paged without a count counts on the first page that asks for one.
    const uncounted: Page = (await t.request('GET', `${URL}?sort=params.p&limit=5&count=false`)).json();
    const later = `${URL}?sort=params.p&limit=5&cursor=${encodeURIComponent(uncounted.nextCursor as string)}`;
    expect((await t.request('GET', later)).json().total).toBe(total + 1);
  });
});
