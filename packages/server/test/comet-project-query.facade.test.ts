import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';

type Rule = Record<string, unknown>;
type Predicate = { source: string; query: Rule };

/** A predicate as comet_ml builds it: one AND group per source. */
const predicate = (source: string, ...rules: Rule[]): Predicate => ({
  source,
  query: { condition: 'AND', rules, valid: true },
});
const rule = (field: string, type: string, operator: string, value: unknown): Rule => ({
  id: field,
  field,
  type,
  operator,
  value,
});

describe.each(backends)('Comet project query, column names and projects page (%s)', (backend) => {
  let t: TestContext;
  let projectId: string;
  const keyOf = new Map<string, string>();
  const nameOf = new Map<string, string>();

  async function ok(method: 'GET' | 'POST', path: string, body?: unknown) {
    const response = await t.request(method, `${V2}/${path}`, body === undefined ? {} : { body });
    expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
    return response.json();
  }

  async function experiment(name: string, project = 'q'): Promise<string> {
    const { experimentKey } = await ok('POST', 'write/experiment/create', {
      workspaceName: 'default',
      projectName: project,
      experimentName: name,
    });
    keyOf.set(name, experimentKey);
    nameOf.set(experimentKey, name);
    return experimentKey;
  }

  const metric = (experimentKey: string, metricName: string, metricValue: number) =>
    ok('POST', 'write/experiment/metric', { experimentKey, metricName, metricValue });
  const param = (experimentKey: string, parameterName: string, parameterValue: unknown) =>
    ok('POST', 'write/experiment/parameter', { experimentKey, parameterName, parameterValue });

  /** Names of the experiments the query returns, sorted. */
  async function query(predicates: Predicate[], archived?: boolean): Promise<string[]> {
    const body = await ok('POST', 'project/query', { projectId, predicates, ...(archived ? { archived } : {}) });
    return (body.experimentKeys as string[]).map((k) => nameOf.get(k) ?? k).sort();
  }

  beforeAll(async () => {
    t = await createTestContext(backend);
    const alpha = await experiment('alpha');
    const beta = await experiment('beta');
    const gamma = await experiment('gamma');
    const archived = await experiment('archived');
    await experiment('empty');
    const linked = await experiment('linked', 'elsewhere');
    projectId = (await ok('GET', 'project?workspaceName=default&projectName=q')).projectId;

    await metric(alpha, 'loss', 0.9);
    await metric(alpha, 'loss', 0.5);
    await metric(alpha, 'acc', 0.8);
    await metric(beta, 'loss', 0.2);
    await metric(gamma, 'loss', 0.7);
    await metric(archived, 'loss', 0.1);
    await metric(linked, 'loss', 0.3);

    await param(alpha, 'lr', 0.5);
    await param(alpha, 'lr', 0.01); // current value is the last logged
    await param(alpha, 'optimizer', 'adam');
    await param(alpha, 'use_bn', true);
    await param(beta, 'lr', 0.1);
    await param(beta, 'optimizer', 'sgd');
    await param(beta, 'use_bn', false);
    await param(gamma, 'lr', 'auto');
    await param(gamma, 'optimizer', 'Adam-W');
    await param(linked, 'lr', 0.05);
    await ok('POST', 'write/experiment/log-other', { experimentKey: alpha, key: 'dataset', value: 'mnist' });

    await ok('POST', 'write/experiment/tags', { experimentKey: alpha, addedTags: ['baseline', 'cnn'] });
    await ok('POST', 'write/experiment/tags', { experimentKey: beta, addedTags: ['cnn'] });
    await ok('POST', 'write/experiment/tags', { experimentKey: gamma, addedTags: ['rnn'] });
    await ok('POST', 'write/experiment/tags', { experimentKey: archived, addedTags: ['baseline'] });

    await ok('POST', 'write/experiment/system-details', {
      experimentKey: alpha,
      os: 'Linux',
      pid: 100,
      hostname: 'gpu-01',
    });
    await ok('POST', 'write/experiment/system-details', { experimentKey: beta, os: 'Darwin', pid: 200 });
    await ok('POST', 'write/experiment/html', { experimentKey: alpha, html: '<b>hi</b>', override: true });
    await ok('POST', 'write/experiment/git/metadata', {
      experimentKey: alpha,
      user: 'ada',
      root: '/src',
      branch: 'main',
      parent: 'abc123',
      origin: 'git@example.com:ada/repo.git',
    });
    await ok('POST', 'write/experiment/file-path', { experimentKey: alpha, filePath: '/src/train.py' });
    await ok('POST', 'write/experiment/set-start-end-time', {
      experimentKey: alpha,
      startTimeMillis: Date.UTC(2024, 0, 1),
      endTimeMillis: Date.UTC(2024, 0, 1) + 120_000,
    });
    await ok('GET', `write/experiment/set-status?experimentKey=${beta}`);
    const image = await t.request(
      'POST',
      `${V2}/write/experiment/upload-asset?experimentKey=${gamma}&fileName=a.png&type=image`,
      {
        payload: multipart('file', 'a.png', Buffer.from('png')),
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      },
    );
    expect(image.statusCode).toBe(200);

    await ok('GET', `write/experiment/archive?experimentKey=${archived}`);
    await ok('GET', `write/project/symlink?experimentKey=${linked}&projectName=q`);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('compares the current metric value, including experiments symlinked into the project', async () => {
    expect(await query([predicate('metrics', rule('loss', 'double', 'less', 0.6))])).toEqual([
      'alpha',
      'beta',
      'linked',
    ]);
    expect(await query([predicate('metrics', rule('loss', 'double', 'greater_or_equal', 0.7))])).toEqual(['gamma']);
    expect(await query([predicate('metrics', rule('loss', 'double', 'equal', 0.5))])).toEqual(['alpha']);
    expect(await query([predicate('metrics', rule('loss', 'double', 'not_equal', 0.5))])).toEqual([
      'beta',
      'gamma',
      'linked',
    ]);
    expect(await query([predicate('metrics', rule('loss', 'double', 'less_or_equal', 0.2))])).toEqual(['beta']);
  });

  it('treats between as inclusive and never matches a missing value with a negated operator', async () => {
    expect(await query([predicate('metrics', rule('loss', 'double', 'between', ['0.3', '0.5']))])).toEqual([
      'alpha',
      'linked',
    ]);
    // "empty" has no loss: only is_null/is_empty match it.
    expect(await query([predicate('metrics', rule('loss', 'double', 'not_between', ['0.3', '0.5']))])).toEqual([
      'beta',
      'gamma',
    ]);
    expect(await query([predicate('metrics', rule('loss', 'double', 'is_null', null))])).toEqual(['empty']);
    expect(await query([predicate('metrics', rule('acc', 'double', 'is_not_null', null))])).toEqual(['alpha']);
  });

  it('reads parameters as numbers or as text by the rule type', async () => {
    // gamma's lr is the text "auto": it has no numeric value.
    expect(await query([predicate('params', rule('lr', 'double', 'greater', 0.02))])).toEqual(['beta', 'linked']);
    expect(await query([predicate('params', rule('lr', 'double', 'less', 0.02))])).toEqual(['alpha']);
    expect(await query([predicate('params', rule('lr', 'string', 'equal', 'auto'))])).toEqual(['gamma']);
    expect(await query([predicate('params', rule('lr', 'string', 'is_null', null))])).toEqual(['empty']);
  });

  it('supports every string operator, case-sensitively', async () => {
    const names = (operator: string, value: string) =>
      query([predicate('params', rule('optimizer', 'string', operator, value))]);
    expect(await names('begins_with', 'ad')).toEqual(['alpha']);
    expect(await names('not_begins_with', 'ad')).toEqual(['beta', 'gamma']);
    expect(await names('contains', 'am')).toEqual(['alpha', 'gamma']);
    expect(await names('not_contains', 'am')).toEqual(['beta']);
    expect(await names('ends_with', 'gd')).toEqual(['beta']);
    expect(await names('not_ends_with', 'gd')).toEqual(['alpha', 'gamma']);
    expect(await names('equal', 'Adam-W')).toEqual(['gamma']);
    expect(await names('is_not_empty', '')).toEqual(['alpha', 'beta', 'gamma']);
    expect(await names('is_empty', '')).toEqual(['empty', 'linked']);
  });

  it('matches booleans given as 1 or 0', async () => {
    expect(await query([predicate('params', rule('use_bn', 'boolean', 'equal', 1))])).toEqual(['alpha']);
    expect(await query([predicate('params', rule('use_bn', 'boolean', 'equal', 0))])).toEqual(['beta']);
    expect(await query([predicate('params', rule('use_bn', 'boolean', 'not_equal', 1))])).toEqual(['beta']);
  });

  it('filters on others, tags and environment details', async () => {
    expect(await query([predicate('log_other', rule('dataset', 'string', 'equal', 'mnist'))])).toEqual(['alpha']);
    expect(await query([predicate('tag', rule('baseline', 'string', 'equal', 'baseline'))])).toEqual(['alpha']);
    expect(await query([predicate('tag', rule('cnn', 'string', 'equal', 'cnn'))])).toEqual(['alpha', 'beta']);
    expect(await query([predicate('tag', rule('cnn', 'string', 'not_equal', 'cnn'))])).toEqual([
      'empty',
      'gamma',
      'linked',
    ]);
    expect(await query([predicate('env_details', rule('os', 'string', 'equal', 'Linux'))])).toEqual(['alpha']);
    expect(await query([predicate('env_details', rule('pid', 'double', 'greater', 150))])).toEqual(['beta']);
    expect(await query([predicate('env_details', rule('hostname', 'string', 'is_null', null))])).toEqual([
      'beta',
      'empty',
      'gamma',
      'linked',
    ]);
  });

  it('filters on metadata columns: datetimes, durations in seconds, flags, git and file', async () => {
    const meta = (field: string, type: string, operator: string, value: unknown) =>
      query([predicate('metadata', rule(field, type, operator, value))]);
    expect(await meta('start_server_timestamp', 'datetime', 'less', '2024-01-01 00:00:01')).toEqual(['alpha']);
    expect(await meta('start_server_timestamp', 'datetime', 'equal', '2024-01-01 00:00:00.000000')).toEqual(['alpha']);
    expect(await meta('start_server_timestamp', 'datetime', 'greater', '2024-01-01 00:00:00')).toEqual([
      'beta',
      'empty',
      'gamma',
      'linked',
    ]);
    expect(await meta('duration', 'timenumber', 'between', ['119', '121'])).toEqual(['alpha']);
    // Liveness is derived from heartbeats, exactly as experiment metadata reports it.
    await ok('GET', `write/experiment/stop?experimentKey=${keyOf.get('gamma')}`);
    const running: string[] = [];
    for (const name of ['alpha', 'beta', 'gamma', 'empty', 'linked']) {
      if ((await ok('GET', `experiment/metadata?experimentKey=${keyOf.get(name)}`)).running) running.push(name);
    }
    expect(running).toContain('beta');
    expect(running).not.toContain('gamma');
    expect(await meta('runActive', 'boolean', 'equal', 1)).toEqual(running);
    expect(await meta('runActive', 'boolean', 'equal', 0)).toEqual(['gamma']);
    expect(await meta('hasHtml', 'boolean', 'equal', 1)).toEqual(['alpha']);
    expect(await meta('hasImages', 'boolean', 'equal', 1)).toEqual(['gamma']);
    expect(await meta('codeSHA', 'string', 'equal', 'abc123')).toEqual(['alpha']);
    expect(await meta('file_name', 'string', 'equal', 'train.py')).toEqual(['alpha']);
    expect(await meta('user_name', 'string', 'equal', 'admin')).toHaveLength(5);
    expect(await meta('experimentKey', 'string', 'equal', keyOf.get('gamma'))).toEqual(['gamma']);
  });

  it('ANDs predicates and evaluates OR, nested groups and negated groups', async () => {
    expect(
      await query([
        predicate('metrics', rule('loss', 'double', 'less', 0.6)),
        predicate('tag', rule('cnn', 'string', 'equal', 'cnn')),
      ]),
    ).toEqual(['alpha', 'beta']);
    const nested = {
      source: 'params',
      query: {
        condition: 'OR',
        valid: true,
        rules: [
          rule('lr', 'double', 'greater', 0.07),
          {
            condition: 'AND',
            rules: [rule('optimizer', 'string', 'equal', 'adam'), rule('use_bn', 'boolean', 'equal', 1)],
          },
        ],
      },
    };
    expect(await query([nested])).toEqual(['alpha', 'beta']);
    const negated = { source: 'params', query: { ...nested.query, not: true } };
    expect(await query([negated])).toEqual(['empty', 'gamma', 'linked']);
    expect(await query([{ source: 'params', query: { condition: 'OR', rules: [], valid: true } }])).toEqual([]);
    expect(await query([])).toHaveLength(5);
  });

  it('queries archived experiments when asked and counts the experiments of that state', async () => {
    expect(await query([predicate('tag', rule('baseline', 'string', 'equal', 'baseline'))], true)).toEqual([
      'archived',
    ]);
    const active = await ok('POST', 'project/query', { workspaceName: 'default', projectName: 'q', predicates: [] });
    expect(active.experimentsInProject).toBe(5);
    const archived = await ok('POST', 'project/query', { projectId, predicates: [], archived: true });
    expect(archived).toEqual({ experimentKeys: [keyOf.get('archived')], experimentsInProject: 1 });
  });

  it('rejects malformed queries with 400 and a message naming the problem', async () => {
    const bad = async (predicates: unknown, fragment: string) => {
      const response = await t.request('POST', `${V2}/project/query`, { body: { projectId, predicates } });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().msg).toContain(fragment);
      expect(response.headers['content-type']).toBe('application/json');
    };
    await bad([predicate('metrics', rule('loss', 'double', 'almost', 1))], 'unknown operator "almost"');
    await bad([predicate('metrics', rule('loss', 'double', 'contains', 'x'))], 'string columns only');
    await bad([predicate('metrics', rule('loss', 'double', 'less', 'abc'))], 'not a number');
    await bad([predicate('metrics', rule('loss', 'double', 'between', ['1']))], '[low, high]');
    await bad([predicate('metadata', rule('nope', 'string', 'equal', 'x'))], 'unknown metadata column');
    await bad(
      [predicate('metadata', rule('start_server_timestamp', 'datetime', 'less', 'yesterday'))],
      'not a datetime',
    );
    await bad([predicate('params', rule('use_bn', 'boolean', 'greater', 1))], 'equal or not_equal');
    await bad([predicate('weights', rule('w', 'double', 'less', 1))], 'unknown predicate source');
    await bad([{ source: 'metrics', query: { condition: 'AND', rules: [], valid: false } }], 'valid: false');
    await bad([{ source: 'metrics', query: { condition: 'XOR', rules: [] } }], 'unknown condition');
  });

  it('answers 404 for an unknown project or another tenant', async () => {
    const unknown = await t.request('POST', `${V2}/project/query`, {
      body: { projectId: '0'.repeat(32), predicates: [] },
    });
    expect(unknown.statusCode).toBe(404);
    const other = await t.request('POST', `${V2}/project/query`, {
      body: { projectId, predicates: [] },
      key: t.otherKey,
    });
    expect(other.statusCode).toBe(404);
    const columns = await t.request('GET', `${V2}/project/column-names?projectId=${projectId}`, { key: t.otherKey });
    expect(columns.statusCode).toBe(404);
  });

  it('lists one column per logged name with its type and source', async () => {
    const { columns } = await ok('GET', `project/column-names?projectId=${projectId}`);
    const byId = new Map((columns as { id: string }[]).map((c) => [c.id, c]));
    expect(byId.get('loss--metrics')).toEqual({ name: 'loss', id: 'loss--metrics', type: 'double', source: 'metrics' });
    expect(byId.get('acc--metrics')?.type).toBe('double');
    // One experiment logged lr as text, so the column is a string column.
    expect(byId.get('lr--params')?.type).toBe('string');
    expect(byId.get('optimizer--params')?.type).toBe('string');
    expect(byId.get('dataset--log_other')?.type).toBe('string');
    expect(byId.get('cnn--tag')).toEqual({ name: 'cnn', id: 'cnn--tag', type: 'string', source: 'tag' });
    expect(byId.get('os--env_details')?.type).toBe('string');
    expect(byId.get('pid--env_details')?.type).toBe('double');
    expect(byId.get('duration--metadata')?.type).toBe('timenumber');
    expect(byId.get('start_server_timestamp--metadata')?.type).toBe('datetime');
    expect(byId.get('runActive--metadata')?.type).toBe('boolean');
    // The archived experiment's tag alone is not a column of the active experiments… but baseline is on alpha too.
    expect(byId.has('baseline--tag')).toBe(true);
    expect(byId.has('rnn--tag')).toBe(true);
    const archived = await ok('GET', `project/column-names?projectId=${projectId}&archived=true`);
    const archivedIds = (archived.columns as { id: string }[]).map((c) => c.id);
    expect(archivedIds).toContain('baseline--tag');
    expect(archivedIds).not.toContain('rnn--tag');
    expect(archivedIds).not.toContain('acc--metrics');
  });

  it('pages, sorts, searches and filters projects', async () => {
    await ok('POST', 'write/project/create', {
      workspaceName: 'default',
      projectName: 'public-one',
      projectDescription: 'shown to all',
      isPublic: true,
    });
    const all = await ok('GET', 'projects/page?workspaceName=default&sort=projectName&order=desc');
    const names = (all.rows as { projectName: string }[]).map((r) => r.projectName);
    expect(names).toEqual(['q', 'public-one', 'elsewhere']);
    expect(all.totalRowCount).toBe(3);
    expect(all.filteredRowCount).toBe(3);
    const q = all.rows[0];
    expect(q).toMatchObject({
      projectId,
      userName: 'admin',
      projectDesc: null,
      generalProject: false,
      totalRowCount: '3',
      filteredRowCount: '3',
      experimentCount: 6,
      isPublic: false,
      teamName: 'default',
      isStarterProject: false,
      isInProjectTeam: true,
      owner: true,
      canEdit: true,
    });
    const page = await ok('GET', 'projects/page?workspaceName=default&sort=projectName&order=asc&offset=1&count=1');
    expect(page.rows.map((r: { projectName: string }) => r.projectName)).toEqual(['public-one']);
    expect(page.filteredRowCount).toBe(3);
    const searched = await ok('GET', 'projects/page?workspaceName=default&search=PUBLIC');
    expect(searched.rows.map((r: { projectName: string }) => r.projectName)).toEqual(['public-one']);
    expect(searched).toMatchObject({ totalRowCount: 3, filteredRowCount: 1 });
    const publicOnly = await ok('GET', 'projects/page?workspaceName=default&public=TRUE');
    expect(publicOnly.rows).toHaveLength(1);
    const byCount = await ok('GET', 'projects/page?workspaceName=default&sort=experimentCount&order=desc');
    expect(byCount.rows[0].projectName).toBe('q');
    const starters = await ok('GET', 'projects/page?workspaceName=default&starterProject=true');
    expect(starters).toMatchObject({ rows: [], filteredRowCount: 0, totalRowCount: 3 });
    // Bob sees the public project only, and does not own it.
    const bob = await t.request('GET', `${V2}/projects/page?workspaceName=default`, { key: t.otherKey });
    expect(bob.json().rows).toMatchObject([{ projectName: 'public-one', owner: false, canEdit: false }]);
    const badSort = await t.request('GET', `${V2}/projects/page?workspaceName=default&sort=color`);
    expect(badSort.statusCode).toBe(400);
  });
});

const BOUNDARY = 'cairnboundary';
function multipart(field: string, filename: string, content: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
}
