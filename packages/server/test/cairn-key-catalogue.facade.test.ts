import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/core/principal.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
const KEYS = `${API}/workspaces/default/projects/catalogue/keys`;

interface Key {
  source: string;
  name: string;
  experiments: number;
  type?: string;
}
interface KeyPage {
  items: Key[];
  nextCursor: string | null;
  total: number;
}

describe.each(backends)('Cairn key catalogue (%s)', (backend) => {
  let t: TestContext;
  let admin: Principal;
  const keys: string[] = [];

  beforeAll(async () => {
    t = await createTestContext(backend);
    admin = await t.core.auth.authenticate(t.adminKey);
    for (let i = 0; i < 4; i++) {
      keys.push(
        (await t.core.experiments.create(admin, { workspaceName: 'default', projectName: 'catalogue' })).experiment.id,
      );
    }
    const [a, b, c, d] = keys as [string, string, string, string];
    const log = (key: string, kind: 'param' | 'other', values: Record<string, string | number | boolean>) =>
      t.core.experiments.logValues(
        admin,
        key,
        kind,
        Object.entries(values).map(([name, value]) => ({ name, value })),
      );
    await log(a, 'param', { lr: 0.1, optimizer: 'adam', Flag: true, 'Batch Size': 32 });
    await log(b, 'param', { lr: 'auto', optimizer: 'sgd' });
    await log(c, 'param', { lr: 0.2 });
    await log(a, 'other', { seed: 1 });
    await t.core.metrics.logSeries(admin, a, [
      { name: 'loss', values: [1, 0.5] },
      { name: 'train/acc', values: [0.1] },
    ]);
    await t.core.metrics.logSeries(admin, b, [{ name: 'loss', values: [2] }]);
    await t.core.experiments.addTags(admin, a, ['baseline']);
    await t.core.experiments.addTags(admin, b, ['baseline', 'sweep']);
    await t.core.experiments.setDocument(admin, a, 'system-details', JSON.stringify({ hostname: 'h1', pid: 3 }));
    await t.core.experiments.setDocument(admin, b, 'system-details', JSON.stringify({ hostname: 'h2', os: null }));
    // Archived experiments count too.
    await t.core.experiments.setArchived(admin, c, true);
    await log(d, 'param', { optimizer: 'adamw' });
    // Another project's keys never show.
    const other = (await t.core.experiments.create(admin, { workspaceName: 'default', projectName: 'elsewhere' }))
      .experiment.id;
    await log(other, 'param', { momentum: 0.9 });
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (query = '', key = t.adminKey): Promise<KeyPage> => {
    const response = await t.request('GET', `${KEYS}${query ? `?${query}` : ''}`, { key });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };

  it('lists every key by source then name, with counts and the type of params and others', async () => {
    const page = await get('limit=100');
    expect(page.items).toEqual([
      { source: 'metric', name: 'loss', experiments: 2 },
      { source: 'metric', name: 'train/acc', experiments: 1 },
      { source: 'other', name: 'seed', experiments: 1, type: 'number' },
      { source: 'param', name: 'Batch Size', experiments: 1, type: 'number' },
      { source: 'param', name: 'Flag', experiments: 1, type: 'boolean' },
      { source: 'param', name: 'lr', experiments: 3, type: 'mixed' },
      { source: 'param', name: 'optimizer', experiments: 3, type: 'string' },
      { source: 'system', name: 'hostname', experiments: 2 },
      { source: 'system', name: 'pid', experiments: 1 },
      { source: 'tag', name: 'baseline', experiments: 2 },
      { source: 'tag', name: 'sweep', experiments: 1 },
    ]);
    expect(page.total).toBe(11);
    expect(page.nextCursor).toBeNull();
  });

  it('filters by source and searches names case-insensitively', async () => {
    expect((await get('source=param')).items.map((k) => k.name)).toEqual(['Batch Size', 'Flag', 'lr', 'optimizer']);
    const found = await get('search=A');
    expect(found.items.map((k) => `${k.source}:${k.name}`)).toEqual([
      'metric:train/acc',
      'param:Batch Size',
      'param:Flag',
      'system:hostname',
      'tag:baseline',
    ]);
    expect(found.total).toBe(5);
    expect((await get('search=flag&source=param')).items).toEqual([
      { source: 'param', name: 'Flag', experiments: 1, type: 'boolean' },
    ]);
    expect(await get('search=nothing-like-this')).toEqual({ items: [], nextCursor: null, total: 0 });
  });

  it('pages to the end with cursors, each key once, the total on every page', async () => {
    const all = (await get('limit=100')).items;
    for (const query of ['limit=1', 'limit=3', 'limit=4&search=a', 'limit=2&source=param']) {
      const whole = await get(`${query.replace(/limit=\d+/, 'limit=100')}`);
      const seen: Key[] = [];
      let cursor: string | null = null;
      do {
        const page = await get(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.total).toBe(whole.total);
        seen.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(whole.items);
    }
    expect(all).toHaveLength(11);
  });

  it('follows new keys, type changes, moves and deletes', async () => {
    const [a, b] = keys as [string, string];
    await t.core.experiments.logValues(admin, a, 'param', [{ name: 'lr', value: 'high' }]);
    await t.core.experiments.addTags(admin, a, ['sweep']);
    const param = async (name: string) => (await get('source=param')).items.find((k) => k.name === name);
    expect(await param('lr')).toEqual({ source: 'param', name: 'lr', experiments: 3, type: 'mixed' });
    await t.core.experiments.logValues(admin, keys[2] as string, 'param', [{ name: 'lr', value: 'low' }]);
    expect(await param('lr')).toEqual({ source: 'param', name: 'lr', experiments: 3, type: 'string' });
    expect((await get('source=tag')).items).toEqual([
      { source: 'tag', name: 'baseline', experiments: 2 },
      { source: 'tag', name: 'sweep', experiments: 2 },
    ]);
    await t.core.experiments.move(admin, {
      targetWorkspaceName: 'default',
      targetProjectName: 'elsewhere',
      experimentKeys: [b],
      symlink: false,
    });
    expect((await get('source=tag')).items).toEqual([
      { source: 'tag', name: 'baseline', experiments: 1 },
      { source: 'tag', name: 'sweep', experiments: 1 },
    ]);
    const elsewhere = await t.request('GET', `${API}/workspaces/default/projects/elsewhere/keys?source=tag`);
    expect(elsewhere.json().items).toEqual([
      { source: 'tag', name: 'baseline', experiments: 1 },
      { source: 'tag', name: 'sweep', experiments: 1 },
    ]);
    await t.core.experiments.delete(admin, a);
    const after = await get('limit=100');
    expect(after.items.find((k) => k.name === 'seed')).toBeUndefined();
    expect(after.items.filter((k) => k.source === 'metric')).toEqual([]);
    expect(after.items.find((k) => k.name === 'optimizer')).toEqual({
      source: 'param',
      name: 'optimizer',
      experiments: 1,
      type: 'string',
    });
  });

  it('refuses foreign and garbled cursors and bad options with 400', async () => {
    const first = await get('limit=1');
    const cursor = encodeURIComponent(first.nextCursor as string);
    for (const query of [
      `limit=1&source=param&cursor=${cursor}`,
      `limit=1&search=a&cursor=${cursor}`,
      'cursor=k1.bm90IGpzb24',
      'source=metrics',
      'limit=0',
      'limit=1001',
    ]) {
      const response = await t.request('GET', `${KEYS}?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('answers read-only keys and hides the project from other tenants', async () => {
    expect((await get('limit=1', t.readOnlyKey)).items).toHaveLength(1);
    const response = await t.request('GET', KEYS, { key: t.otherKey });
    expect(response.statusCode).toBe(404);
    expect((await t.request('GET', `${API}/workspaces/default/projects/none/keys`)).statusCode).toBe(404);
  });
});
