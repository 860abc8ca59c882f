import { describe, expect, it } from 'vitest';
import type { LoggedValueInput } from '../src/core/entities.js';
import { ENVIRONMENT_FIELDS, type ExperimentSearch, type SortPosition } from '../src/core/experiment-query.js';
import { columnField, parseFilter, parseSort } from '../src/core/query-language.js';
import type { KeySource, ProjectKey, Store } from '../src/core/store.port.js';
import { newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

const value = (name: string, v: string | number | boolean): LoggedValueInput => ({
  name,
  type: typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string',
  text: String(v),
  step: null,
  timestamp: T0,
  context: null,
});

/**
 * `searchPage` on a project large enough for the index-driven and candidate-round plans (more
 * than 2,000 experiments), beside a second project sharing its names: walking every page must
 * give exactly the order of `search` (one sorted query), with `countMatching` its length.
 */
describe.each(backends)('Experiment table contract: keyset pages of a large project (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (s) => {
    store = s;
  });
  let projectId: string;
  const N = 2100;

  it('seeds', { timeout: 120_000 }, async () => {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const project = newProject(workspace.id, user.id);
    const neighbour = newProject(workspace.id, user.id);
    await store.projects.insert(project);
    await store.projects.insert(neighbour);
    projectId = project.id;
    for (let start = 0; start < N + 300; start += 300) {
      await store.transaction(async (tx) => {
        for (let i = start; i < start + 300; i++) {
          const home = i < N ? project : neighbour;
          const experiment = newExperiment(home, {
            id: `e${String(i).padStart(5, '0')}`.padEnd(32, '0'),
            createdAt: T0 + (i % 50),
            archived: i % 10 === 0,
          });
          await tx.experiments.insert(experiment);
          const values: LoggedValueInput[] = [];
          if (i % 11 !== 0) values.push(value('p', i % 13 === 0 ? `t${i % 3}` : i % 17));
          if (i % 3 === 0) values.push(value('flag', i % 2 === 0));
          if (values.length > 0) await tx.values.append(experiment.id, 'param', values);
          if (i % 6 !== 0) {
            const m = i % 29 === 0 ? Number.NaN : (i % 23) / 10;
            await tx.series.append(experiment.id, [
              { name: 'm', value: m, step: 0, epoch: null, timestamp: T0, context: null },
              { name: 'm', value: (i % 7) / 10, step: 1, epoch: null, timestamp: T0, context: null },
            ]);
          }
          if (i % 97 === 0) await tx.experiments.addTags(experiment.id, ['rare']);
        }
      });
    }
  });

  const searchOf = (sort: string, filter?: string, archived?: boolean): ExperimentSearch => {
    const { column, direction } = parseSort(sort);
    const field = columnField(column);
    if (!field) throw new Error(`no field for ${sort}`);
    return {
      projectId,
      ...(archived === undefined ? {} : { archived }),
      ...(filter ? { where: parseFilter(filter) } : {}),
      orderBy: { field, direction },
      now: T0,
      heartbeatTimeoutMs: 60_000,
    };
  };

  it.each([
    ['params.p', undefined, false],
    ['-params.p', undefined, undefined],
    ['params.flag', undefined, false],
    ['metrics.m.max', undefined, false],
    ['-metrics.m.max', undefined, true],
    ['-metrics.m', undefined, undefined],
    ['metrics.m.min', 'params.p > 3', false],
    // ~1% of the project: candidate rounds beyond the first thousand rows.
    ['-metrics.m.max', "tags contains 'rare'", undefined],
    ['params.p', "tags contains 'rare' or params.p = 't1'", false],
    ['-params.p', 'metrics.m.last >= 0.6', false],
  ] as const)(
    'sort %s, filter %s, archived %s: pages walk the one-query order',
    { timeout: 60_000 },
    async (sort, filter, archived) => {
      const search = searchOf(sort, filter, archived);
      const expected = await store.experiments.search(search);
      expect(expected.length).toBeGreaterThan(0);
      expect(await store.experiments.countMatching(search)).toBe(expected.length);
      const walked: string[] = [];
      let after: SortPosition | undefined;
      for (;;) {
        const page = await store.experiments.searchPage({ ...search, limit: 311 }, after);
        walked.push(...page.map((r) => r.key));
        if (page.length < 311) break;
        after = page[page.length - 1]?.position;
      }
      expect(walked).toEqual(expected);
    },
  );

  it('refuses a position that does not fit the order', async () => {
    const search = { ...searchOf('params.p'), limit: 5 };
    await expect(store.experiments.searchPage(search, { segment: 0, value: 'text', key: 'x' })).rejects.toThrow(
      /cursor/,
    );
    await expect(store.experiments.searchPage(search, { segment: 7, value: 1, key: 'x' })).rejects.toThrow(/cursor/);
    await expect(store.experiments.searchPage(search, { segment: 2, value: 1, key: 'x' })).rejects.toThrow(/cursor/);
    expect(await store.experiments.searchPage(search, { segment: 2, value: null, key: 'e' })).toHaveLength(5);
  });
});

/**
 * The key catalogue is kept on write: after every kind of write that gives, takes or moves keys,
 * `listKeys` equals the catalogue recomputed from the experiments' own data.
 */
describe.each(backends)('Experiment table contract: the key catalogue follows every write (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (s) => {
    store = s;
  });

  async function recomputed(projectId: string): Promise<ProjectKey[]> {
    const counts = new Map<string, ProjectKey>();
    const add = (source: KeySource, name: string, type?: 'number' | 'string' | 'boolean') => {
      const id = `${source}\u0000${name}`;
      const key = counts.get(id) ?? { source, name, experiments: 0, numbers: 0, strings: 0, booleans: 0 };
      key.experiments++;
      if (type) key[`${type}s`]++;
      counts.set(id, key);
    };
    for (const experiment of await store.experiments.listInProject(projectId)) {
      for (const kind of ['param', 'other'] as const) {
        for (const v of await store.values.listCurrent(experiment.id, kind)) add(kind, v.name, v.type);
      }
      for (const s of await store.series.listSummaries(experiment.id)) add('metric', s.name);
      for (const tag of await store.experiments.listTags(experiment.id)) add('tag', tag);
      const details = await store.experiments.getDocument(experiment.id, 'system-details');
      const fields = details ? (JSON.parse(details) as Record<string, unknown>) : {};
      for (const field of ENVIRONMENT_FIELDS)
        if (fields[field] !== undefined && fields[field] !== null) add('system', field);
    }
    const bytewise = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    return [...counts.values()].sort((a, b) => bytewise(a.source, b.source) || bytewise(a.name, b.name));
  }

  it('counts keys through values, series, tags, system details, symlinks, moves and deletes', async () => {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const [a, b, c] = [
      newProject(workspace.id, user.id),
      newProject(workspace.id, user.id),
      newProject(workspace.id, user.id),
    ];
    for (const p of [a, b, c]) await store.projects.insert(p);
    const check = async () => {
      for (const p of [a, b, c]) {
        expect(await store.experiments.listKeys(p.id, { limit: 1000 })).toEqual(await recomputed(p.id));
      }
    };
    const e1 = newExperiment(a);
    const e2 = newExperiment(a);
    const e3 = newExperiment(b);
    for (const e of [e1, e2, e3]) await store.experiments.insert(e);

    await store.values.append(e1.id, 'param', [value('lr', 0.1), value('opt', 'adam'), value('lr', 0.2)]);
    await store.values.append(e2.id, 'param', [value('lr', 'auto'), value('Opt', true)]);
    await store.values.append(e2.id, 'other', [value('lr', 1)]);
    await check();
    // The current value changes type, then back, in one batch and across batches.
    await store.values.append(e1.id, 'param', [value('lr', 'high'), value('opt', 1), value('opt', false)]);
    await store.values.append(e1.id, 'param', [value('lr', 0.3)]);
    await check();
    expect(
      (await store.experiments.listKeys(a.id, { source: 'param', limit: 10 })).find((k) => k.name === 'lr'),
    ).toEqual({
      source: 'param',
      name: 'lr',
      experiments: 2,
      numbers: 1,
      strings: 1,
      booleans: 0,
    });

    await store.series.append(e1.id, [{ name: 'loss', value: 1, step: 0, epoch: null, timestamp: T0, context: null }]);
    await store.series.append(e1.id, [
      { name: 'loss', value: 0.5, step: 1, epoch: null, timestamp: T0, context: null },
      { name: 'acc', value: Number.NaN, step: 1, epoch: null, timestamp: T0, context: null },
    ]);
    await store.series.append(e3.id, [{ name: 'loss', value: 2, step: 0, epoch: null, timestamp: T0, context: null }]);
    await store.experiments.addTags(e1.id, ['x', 'y']);
    await store.experiments.addTags(e1.id, ['y', 'z']);
    await store.experiments.addTags(e2.id, ['y']);
    await store.experiments.putDocument(e1.id, 'system-details', JSON.stringify({ os: 'Linux', pid: 1, ip: null }), T0);
    await store.experiments.putDocument(e2.id, 'system-details', JSON.stringify({ hostname: 'h' }), T0);
    await check();
    // Fields set and cleared by a later document; other document kinds count nothing.
    await store.experiments.putDocument(e1.id, 'system-details', JSON.stringify({ os: 'Linux', ip: '10.0.0.1' }), T0);
    await store.experiments.putDocument(e1.id, 'git-metadata', JSON.stringify({ os: 'no' }), T0);
    await check();

    // A symlink lists e1 in b as well; a second symlink, or one to its home, changes nothing.
    await store.experiments.addSymlink(e1.id, b.id);
    await store.experiments.addSymlink(e1.id, b.id);
    await check();
    // Writes to a symlinked experiment count in every project listing it.
    await store.values.append(e1.id, 'param', [value('momentum', 0.9)]);
    await store.experiments.addTags(e1.id, ['new']);
    await check();
    // Removing a tag counts one experiment fewer; removing an absent one changes nothing.
    expect(await store.experiments.removeTag(e1.id, 'z')).toBe(true);
    expect(await store.experiments.removeTag(e1.id, 'z')).toBe(false);
    await store.experiments.removeTag(e2.id, 'y');
    await check();
    // Moves: to c (still listed in b through the symlink), then into b where it is symlinked.
    await store.experiments.update(e1.id, { projectId: c.id });
    await check();
    await store.experiments.update(e1.id, { projectId: b.id });
    await check();
    await store.experiments.update(e1.id, { projectId: b.id, name: 'same home' });
    await check();
    await store.experiments.delete(e2.id);
    await check();
    await store.experiments.delete(e1.id);
    await check();
    expect(await store.experiments.listKeys(a.id, { limit: 10 })).toEqual([]);
    expect(await store.experiments.listKeys(b.id, { limit: 10 })).toEqual([
      { source: 'metric', name: 'loss', experiments: 1, numbers: 0, strings: 0, booleans: 0 },
    ]);
  });

  it('pages by source then name, searches names ignoring ASCII case, and counts the unpaged total', async () => {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const project = newProject(workspace.id, user.id);
    await store.projects.insert(project);
    const e = newExperiment(project);
    await store.experiments.insert(e);
    await store.values.append(
      e.id,
      'param',
      ['Beta', 'alpha', 'ALPHA2', 'gamma'].map((n) => value(n, 1)),
    );
    await store.experiments.addTags(e.id, ['Alpha-tag']);
    const names = async (options: Parameters<Store['experiments']['listKeys']>[1]) =>
      (await store.experiments.listKeys(project.id, options)).map((k) => `${k.source}:${k.name}`);
    expect(await names({ limit: 10 })).toEqual([
      'param:ALPHA2',
      'param:Beta',
      'param:alpha',
      'param:gamma',
      'tag:Alpha-tag',
    ]);
    expect(await names({ limit: 2, after: { source: 'param', name: 'Beta' } })).toEqual(['param:alpha', 'param:gamma']);
    expect(await names({ limit: 10, search: 'alPHA' })).toEqual(['param:ALPHA2', 'param:alpha', 'tag:Alpha-tag']);
    expect(await names({ limit: 10, search: 'alpha', source: 'param' })).toEqual(['param:ALPHA2', 'param:alpha']);
    expect(await store.experiments.countKeys(project.id, { search: 'ALPHA' })).toBe(3);
    expect(await store.experiments.countKeys(project.id, { source: 'tag' })).toBe(1);
    expect(await store.experiments.countKeys(project.id, {})).toBe(5);
  });
});
