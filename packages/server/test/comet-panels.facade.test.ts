import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';

/** A zip of the given files; `compress` deflates them (cometx's zipfile default is stored). */
async function zipOf(files: Record<string, string | Buffer>, compress = false): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, content] of Object.entries(files)) {
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name, { compress });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The template cometx's create_panel_zip writes. */
function cometxTemplate(name: string, pyCode: string): Record<string, unknown> {
  return {
    templateName: name,
    code: {
      code: '',
      css: '',
      description: '',
      html: '',
      defaultConfig: '',
      internalResources: [],
      userResources: [],
      pyCode,
      type: 'py',
      pyConfig: '{}',
    },
    createdAt: 1_700_000_000_000,
    thumbnailName: 'template-thumbnail-abc',
    editable: true,
  };
}

function panelZip(template: Record<string, unknown>, compress = false): Promise<Buffer> {
  return zipOf({ 'tempVisualizationTemplate.json': JSON.stringify(template) }, compress);
}

async function multipart(parts: [string, Buffer | string, string?][]) {
  const form = new FormData();
  for (const [name, value, filename] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value]), filename ?? 'panel.zip');
  }
  const response = new Response(form);
  return {
    payload: Buffer.from(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type') ?? '' },
  };
}

describe.each(backends)('Comet code panels, dashboards and viz stores (%s)', (backend) => {
  let t: TestContext;
  let workspaceId: string;
  beforeAll(async () => {
    t = await createTestContext(backend);
    const principal = await t.core.auth.authenticate(t.adminKey);
    workspaceId = (await t.core.projects.listWorkspaces(principal))[0]?.id ?? '';
  });
  afterAll(async () => {
    await t?.close();
  });

  async function upload(zip: Buffer, query: Record<string, string> = { teamName: 'default' }, key?: string) {
    const body = await multipart([['file', zip]]);
    return t.request('POST', `${V2}/write/template/upload?${new URLSearchParams(query)}`, {
      ...(key === undefined ? {} : { key }),
      payload: body.payload,
      headers: body.headers,
    });
  }

  async function uploadOk(template: Record<string, unknown>, query?: Record<string, string>): Promise<string> {
    const response = await upload(await panelZip(template), query);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().templateId as string;
  }

  async function createProject(name: string, isPublic = false, key?: string, workspaceName = 'default') {
    const response = await t.request('POST', `${V2}/write/project/create`, {
      ...(key === undefined ? {} : { key }),
      body: { workspaceName, projectName: name, isPublic },
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().projectId as string;
  }

  function expectError(response: Awaited<ReturnType<TestContext['request']>>, status: number, sdkErrorCode?: number) {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    const body = response.json();
    expect(body).toMatchObject({ code: status, data: null });
    expect(typeof body.msg).toBe('string');
    if (sdkErrorCode !== undefined) expect(body.sdk_error_code).toBe(sdkErrorCode);
  }

  describe('code panels', () => {
    it('uploads a cometx panel zip and serves its rows, its JSON and its zip', async () => {
      const zip = await panelZip(cometxTemplate('Hello Panel', "print('hello')"));
      const response = await upload(zip);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      const body = response.json();
      expect(body).toMatchObject({ code: 200, sdk_error_code: 0, data: null });
      expect(body.templateId).toMatch(/^[0-9a-f]{32}$/);
      expect(Number.isInteger(body.revisionId)).toBe(true);

      const list = await t.request('GET', `${V2}/code-panel/get-all?workspace=default`);
      expect(list.statusCode).toBe(200);
      expect(list.headers['content-type']).toBe('application/json');
      const row = (list.json().codePanelTemplateRows as Record<string, unknown>[]).find(
        (r) => r.templateId === body.templateId,
      );
      expect(row).toEqual({
        templateId: body.templateId,
        owner: 'admin',
        teamId: workspaceId,
        templateName: 'Hello Panel',
        queryBuilderId: '',
        scopeType: 'PRIVATE',
        revisionId: body.revisionId,
        createdAt: expect.any(Number),
      });

      const panel = await t.request('GET', `${V2}/code-panel/download?templateId=${body.templateId}`);
      expect(panel.statusCode).toBe(200);
      expect(panel.headers['content-type']).toBe('application/json');
      expect(panel.json()).toEqual({
        ...row,
        code: {
          code: '',
          css: '',
          description: '',
          html: '',
          defaultConfig: '',
          internalResources: [],
          userResources: [],
          pyCode: "print('hello')",
          type: 'py',
          pyConfig: '{}',
        },
        rank: { templateId: body.templateId, voteCount: 0, userVoteType: null },
        thumbnailName: 'template-thumbnail-abc',
        editable: true,
      });

      const download = await t.request('GET', `${V2}/template/${body.templateId}/download`);
      expect(download.statusCode).toBe(200);
      expect(download.headers['content-type']).toBe('application/zip');
      expect(download.rawPayload.equals(zip)).toBe(true);
      // The alias root serves the same routes.
      const alias = await t.request('GET', `/clientlib/rest/v2/template/${body.templateId}/download`);
      expect(alias.rawPayload.equals(zip)).toBe(true);
    });

    it('keeps every field of a JS panel template and ignores the fields the server owns', async () => {
      const templateId = await uploadOk({
        templateName: 'Chart',
        templateId: 'not-mine',
        owner: 'mallory',
        createdAt: 1,
        revisionId: 2,
        queryBuilderId: 'qb-1',
        scopeType: 'PUBLIC',
        thumbnailName: null,
        code: {
          code: 'class MyPanel {}',
          css: 'div { color: red }',
          description: 'A chart',
          html: '<div id="x"></div>',
          defaultConfig: { smoothing: 0.5 },
          internalResources: [
            { name: 'plotly', version: '2.0' },
            { name: 'lodash', version: '4', enabled: false },
          ],
          userResources: ['https://cdn.test/lib.js', { url: 'x' }],
          pyConfig: '',
        },
      });
      expect(templateId).not.toBe('not-mine');
      const panel = (await t.request('GET', `${V2}/code-panel/download?templateId=${templateId}`)).json();
      expect(panel).toMatchObject({
        owner: 'admin',
        queryBuilderId: 'qb-1',
        scopeType: 'PUBLIC',
        thumbnailName: null,
        code: {
          code: 'class MyPanel {}',
          css: 'div { color: red }',
          description: 'A chart',
          html: '<div id="x"></div>',
          defaultConfig: '{"smoothing":0.5}',
          internalResources: [
            { name: 'plotly', version: '2.0', enabled: true },
            { name: 'lodash', version: '4', enabled: false },
          ],
          userResources: ['https://cdn.test/lib.js', { url: 'x' }],
          pyCode: '',
          type: 'js',
          pyConfig: '',
        },
      });
      expect(panel.createdAt).not.toBe(1);
      expect(panel.revisionId).not.toBe(2);
    });

    it('finds the template in a folder, beside macOS litter, or as the only JSON file, deflated or not', async () => {
      const template = JSON.stringify(cometxTemplate('Layout', 'x = 1'));
      const zips = [
        await zipOf({ 'my-panel/tempVisualizationTemplate.json': template, 'my-panel/thumb.jpg': Buffer.alloc(10) }),
        await zipOf({
          '__MACOSX/._tempVisualizationTemplate.json': 'junk',
          'tempVisualizationTemplate.json': template,
        }),
        await zipOf({ 'panel.json': template, 'README.txt': 'hi' }, true),
        await panelZip(cometxTemplate('Layout', 'x = 1'), true),
      ];
      for (const zip of zips) {
        const response = await upload(zip);
        expect(response.statusCode, response.body).toBe(200);
        const panel = (
          await t.request('GET', `${V2}/code-panel/download?templateId=${response.json().templateId}`)
        ).json();
        expect(panel).toMatchObject({ templateName: 'Layout', code: { pyCode: 'x = 1', type: 'py' } });
      }
    });

    it('uploads a new revision in place with templateId', async () => {
      const templateId = await uploadOk(cometxTemplate('v1', 'one()'));
      const before = (await t.request('GET', `${V2}/code-panel/download?templateId=${templateId}`)).json();
      const zip = await panelZip(cometxTemplate('v2', 'two()'));
      const response = await upload(zip, { teamName: 'default', templateId });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().templateId).toBe(templateId);
      expect(response.json().revisionId).toBeGreaterThan(before.revisionId);

      const after = (await t.request('GET', `${V2}/code-panel/download?templateId=${templateId}`)).json();
      expect(after).toMatchObject({ templateName: 'v2', createdAt: before.createdAt, code: { pyCode: 'two()' } });
      expect(after.revisionId).toBe(response.json().revisionId);
      const rows = (await t.request('GET', `${V2}/code-panel/get-all?workspace=default`)).json().codePanelTemplateRows;
      expect(rows.filter((r: { templateId: string }) => r.templateId === templateId)).toHaveLength(1);
      const download = await t.request('GET', `${V2}/template/${templateId}/download`);
      expect(download.rawPayload.equals(zip)).toBe(true);
    });

    it('refuses bad uploads with 400 and stores nothing', async () => {
      const count = async () =>
        (await t.request('GET', `${V2}/code-panel/get-all?workspace=default`)).json().codePanelTemplateRows.length;
      const before = await count();
      const bad: [Buffer, RegExp][] = [
        [Buffer.from('not a zip at all'), /zip/],
        [await zipOf({ 'a.txt': 'x', 'b.txt': 'y' }), /tempVisualizationTemplate/],
        [await zipOf({ 'a.json': '{}', 'b.json': '{}' }), /tempVisualizationTemplate/],
        [await zipOf({ 'tempVisualizationTemplate.json': '{oops' }), /JSON/],
        [await zipOf({ 'tempVisualizationTemplate.json': '[1]' }), /object/],
        [await panelZip({ code: {} }), /templateName/],
        [await panelZip({ templateName: '' }), /empty/],
        [await panelZip({ ...cometxTemplate('x', ''), code: { type: 'ruby' } }), /type/],
        [await panelZip({ ...cometxTemplate('x', ''), scopeType: 'WORLD' }), /scopeType/],
        [await panelZip({ ...cometxTemplate('x', ''), code: { css: 5 } }), /css/],
        [await panelZip({ ...cometxTemplate('x', ''), code: { internalResources: [{ version: '1' }] } }), /name/],
      ];
      for (const [zip, message] of bad) {
        const response = await upload(zip);
        expectError(response, 400);
        expect(response.json().msg).toMatch(message);
      }
      const noFile = await multipart([['teamName', 'default']]);
      expectError(
        await t.request('POST', `${V2}/write/template/upload?teamName=default`, {
          payload: noFile.payload,
          headers: noFile.headers,
        }),
        400,
      );
      expectError(await t.request('POST', `${V2}/write/template/upload?teamName=default`, { body: {} }), 400);
      expectError(await upload(await panelZip(cometxTemplate('x', '')), {}), 400);
      expect(await count()).toBe(before);
    });

    it('refuses a zip above the upload limit with 413', async () => {
      const big = await zipOf({
        'tempVisualizationTemplate.json': JSON.stringify(cometxTemplate('big', '')),
        'pad.bin': Buffer.alloc(1_200_000, 7),
      });
      expectError(await upload(big), 413);
    });

    it('answers 404 for unknown workspaces and panels', async () => {
      const zip = await panelZip(cometxTemplate('x', ''));
      expectError(await upload(zip, { teamName: 'nowhere' }), 404, 90219);
      expectError(await upload(zip, { teamName: 'default', templateId: 'f'.repeat(32) }), 404);
      expectError(await t.request('GET', `${V2}/code-panel/get-all?workspace=nowhere`), 404, 90219);
      expectError(await t.request('GET', `${V2}/code-panel/download?templateId=${'f'.repeat(32)}`), 404);
      expectError(await t.request('GET', `${V2}/code-panel/download?instanceId=${'f'.repeat(32)}`), 404);
      expectError(await t.request('GET', `${V2}/code-panel/download`), 400);
      expectError(await t.request('GET', `${V2}/template/${'f'.repeat(32)}/download`), 404);
    });

    it('keeps private panels inside their workspace and shows public ones to everyone, read-only', async () => {
      const secret = await uploadOk({ ...cometxTemplate('Secret', 's()'), scopeType: 'PRIVATE' });
      const shared = await uploadOk({ ...cometxTemplate('Shared', 'p()'), scopeType: 'PUBLIC' });
      const bob = { key: t.otherKey };

      const rows = (await t.request('GET', `${V2}/code-panel/get-all?workspace=default`, bob)).json()
        .codePanelTemplateRows as { templateId: string; scopeType: string }[];
      expect(rows.map((r) => r.templateId)).toContain(shared);
      expect(rows.map((r) => r.templateId)).not.toContain(secret);
      expect(rows.every((r) => r.scopeType === 'PUBLIC')).toBe(true);

      expectError(await t.request('GET', `${V2}/code-panel/download?templateId=${secret}`, bob), 404);
      expectError(await t.request('GET', `${V2}/template/${secret}/download`, bob), 404);
      const publicPanel = await t.request('GET', `${V2}/code-panel/download?templateId=${shared}`, bob);
      expect(publicPanel.statusCode).toBe(200);
      expect(publicPanel.json()).toMatchObject({ templateName: 'Shared', editable: false });
      expect((await t.request('GET', `${V2}/template/${shared}/download`, bob)).statusCode).toBe(200);

      // Bob writes neither into admin's workspace nor over admin's panels from his own.
      const zip = await panelZip(cometxTemplate('Hijack', 'h()'));
      expectError(await upload(zip, { teamName: 'default' }, t.otherKey), 404, 90219);
      expectError(await upload(zip, { teamName: 'bob', templateId: shared }, t.otherKey), 404);
      expect((await t.request('GET', `${V2}/code-panel/download?templateId=${shared}`)).json().templateName).toBe(
        'Shared',
      );

      // The read-only key reads but neither uploads nor counts as an editor.
      expectError(await upload(zip, { teamName: 'default' }, t.readOnlyKey), 403);
      const readOnly = await t.request('GET', `${V2}/code-panel/download?templateId=${secret}`, {
        key: t.readOnlyKey,
      });
      expect(readOnly.json().editable).toBe(false);
      expectError(await t.request('GET', `${V2}/code-panel/get-all?workspace=default`, { key: null }), 401);
    });
  });

  describe('dashboards', () => {
    const keys = [
      'project_id',
      'template_name',
      'template_id',
      'experimentQueryState',
      'dashboardChartState',
      'reactGridTableState',
      'v2',
      'source',
      'current',
      'unsaved_view',
      'created_by',
      'project_default',
      'pinnedExperiments',
      'codePanelTemplateIds',
      'isAutoRefreshEnabled',
      'codePanelInstances',
    ];

    async function create(body: Record<string, unknown>, key?: string) {
      return t.request('POST', `${V2}/write/dashboard-template/create`, {
        ...(key === undefined ? {} : { key }),
        body,
      });
    }

    async function upsert(body: Record<string, unknown>, key?: string) {
      return t.request('POST', `${V2}/dashboard-templates/project/upsert`, {
        ...(key === undefined ? {} : { key }),
        body,
      });
    }

    async function download(projectId: string, templateId: string, key?: string) {
      return t.request('GET', `${V2}/dashboard-template/download?projectId=${projectId}&templateId=${templateId}`, {
        ...(key === undefined ? {} : { key }),
      });
    }

    it('creates a dashboard with panels and downloads it in Comet’s mixed-case shape', async () => {
      const projectId = await createProject('dash-main');
      const p1 = await uploadOk(cometxTemplate('One', '1'));
      const p2 = await uploadOk(cometxTemplate('Two', '2'));
      const key = 'a'.repeat(32);
      const response = await create({
        project_id: projectId,
        template_name: 'Overview',
        codePanelTemplateIds: [p1, p2, p1],
        experimentQueryState: { filters: [] },
        dashboardChartState: '{"line":[]}',
        reactGridTableState: '{"columns":["name"]}',
        v2: {
          reactGridTableState: { columnOrder: ['a'] },
          toggles: { T1: { isVisible: true, toggleId: 'T1' } },
          extra: 1,
        },
        source: 'USER',
        current: true,
        unsaved_view: false,
        project_default: true,
        pinnedExperiments: [key, key],
        isAutoRefreshEnabled: true,
        unknownField: 'ignored',
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      const created = response.json();
      expect(created).toMatchObject({ code: 200, sdk_error_code: 0, data: null });
      const templateId = created.template_id as string;
      expect(templateId).toMatch(/^[0-9a-f]{32}$/);

      const fetched = await download(projectId, templateId);
      expect(fetched.statusCode).toBe(200);
      expect(fetched.headers['content-type']).toBe('application/json');
      const dashboard = fetched.json();
      expect(Object.keys(dashboard).sort()).toEqual([...keys].sort());
      expect(dashboard).toEqual({
        project_id: projectId,
        template_name: 'Overview',
        template_id: templateId,
        experimentQueryState: '{"filters":[]}',
        dashboardChartState: '{"line":[]}',
        reactGridTableState: '{"columns":["name"]}',
        v2: {
          reactGridTableState: { columnOrder: ['a'] },
          toggles: { T1: { isVisible: true, toggleId: 'T1' } },
          extra: 1,
        },
        source: 'USER',
        current: true,
        unsaved_view: false,
        created_by: 'admin',
        project_default: true,
        pinnedExperiments: [key],
        codePanelTemplateIds: [p1, p2],
        isAutoRefreshEnabled: true,
        codePanelInstances: [
          { instanceId: expect.stringMatching(/^[0-9a-f]{32}$/), templateId: p1 },
          { instanceId: expect.stringMatching(/^[0-9a-f]{32}$/), templateId: p2 },
        ],
      });
      const { msg: _m, code: _c, sdk_error_code: _s, data: _d, ...createdDashboard } = created;
      expect(createdDashboard).toEqual(dashboard);

      const list = await t.request('GET', `${V2}/dashboard-template/get-all?workspace=default`);
      expect(list.statusCode).toBe(200);
      expect(list.json().dashboardTemplates).toContainEqual({
        templateId,
        templateName: 'Overview',
        projectId,
        projectName: 'dash-main',
        createdBy: 'admin',
      });

      // An instance names its panel.
      const instanceId = dashboard.codePanelInstances[1].instanceId as string;
      const viaInstance = await t.request('GET', `${V2}/code-panel/download?instanceId=${instanceId}`);
      expect(viaInstance.statusCode).toBe(200);
      expect(viaInstance.json()).toMatchObject({ templateId: p2, templateName: 'Two' });
    });

    it('fills defaults for a bare dashboard and clones another with template_id', async () => {
      const projectId = await createProject('dash-clone');
      const panel = await uploadOk(cometxTemplate('Cloned', 'c'));
      const bare = (await create({ project_id: projectId, template_name: 'Bare' })).json();
      expect(bare).toMatchObject({
        experimentQueryState: '{}',
        dashboardChartState: '{}',
        reactGridTableState: '{}',
        v2: {},
        source: null,
        current: false,
        unsaved_view: false,
        project_default: false,
        pinnedExperiments: [],
        codePanelTemplateIds: [],
        isAutoRefreshEnabled: false,
        codePanelInstances: [],
      });

      const source = (
        await create({
          project_id: projectId,
          template_name: 'Source',
          codePanelTemplateIds: [panel],
          dashboardChartState: '{"k":1}',
          project_default: true,
        })
      ).json();
      const otherProject = await createProject('dash-clone-target');
      const clone = await create({ project_id: otherProject, template_name: 'Copy', template_id: source.template_id });
      expect(clone.statusCode, clone.body).toBe(200);
      expect(clone.json()).toMatchObject({
        project_id: otherProject,
        template_name: 'Copy',
        dashboardChartState: '{"k":1}',
        codePanelTemplateIds: [panel],
        project_default: false,
      });
      expect(clone.json().template_id).not.toBe(source.template_id);
      expect(clone.json().codePanelInstances[0].instanceId).not.toBe(source.codePanelInstances[0].instanceId);
      expectError(await create({ project_id: projectId, template_name: 'X', template_id: 'f'.repeat(32) }), 404);
    });

    it('upserts: updates the named dashboard in place, or creates one without template_id', async () => {
      const projectId = await createProject('dash-upsert');
      const [p1, p2, p3] = [
        await uploadOk(cometxTemplate('U1', '1')),
        await uploadOk(cometxTemplate('U2', '2')),
        await uploadOk(cometxTemplate('U3', '3')),
      ];
      const first = (
        await create({
          project_id: projectId,
          template_name: 'Main',
          codePanelTemplateIds: [p1, p2],
          project_default: true,
        })
      ).json();
      const keptInstance = first.codePanelInstances[1].instanceId as string;
      const droppedInstance = first.codePanelInstances[0].instanceId as string;
      await t.request('POST', `${V2}/write/viz-instance/store/set`, {
        body: { instanceId: keptInstance, projectId, store: { zoom: 2 } },
      });

      const updated = await upsert({
        project_id: projectId,
        template_id: first.template_id,
        template_name: 'Main v2',
        codePanelTemplateIds: [p3, p2],
        experimentQueryState: '{"q":"new"}',
      });
      expect(updated.statusCode, updated.body).toBe(200);
      expect(updated.json()).toMatchObject({
        template_id: first.template_id,
        template_name: 'Main v2',
        experimentQueryState: '{"q":"new"}',
        project_default: true,
        codePanelTemplateIds: [p3, p2],
      });
      // The panel that stayed keeps its instance and store; the dropped one is gone with its store.
      expect(updated.json().codePanelInstances[1].instanceId).toBe(keptInstance);
      const store = await t.request(
        'GET',
        `${V2}/viz-instance/store/get?instanceId=${keptInstance}&projectId=${projectId}`,
      );
      expect(store.json()).toEqual({ store: '{"zoom":2}' });
      expectError(
        await t.request('GET', `${V2}/viz-instance/store/get?instanceId=${droppedInstance}&projectId=${projectId}`),
        404,
      );

      // Fields left out keep their value; codePanelTemplateIds left out keeps the panels.
      const renamed = (
        await upsert({ project_id: projectId, template_id: first.template_id, template_name: 'Main v3' })
      ).json();
      expect(renamed).toMatchObject({ experimentQueryState: '{"q":"new"}', codePanelTemplateIds: [p3, p2] });

      const created = await upsert({ project_id: projectId, template_name: 'Second', project_default: true });
      expect(created.statusCode, created.body).toBe(200);
      expect(created.json().template_id).not.toBe(first.template_id);
      // One default per project: the new default clears the old one.
      expect((await download(projectId, first.template_id)).json().project_default).toBe(false);
      expect((await download(projectId, created.json().template_id)).json().project_default).toBe(true);

      expectError(await upsert({ project_id: projectId, template_id: 'f'.repeat(32), template_name: 'X' }), 404);
      const elsewhere = await createProject('dash-upsert-other');
      expectError(await upsert({ project_id: elsewhere, template_id: first.template_id, template_name: 'X' }), 404);
      expectError(await download(elsewhere, first.template_id), 404);
    });

    it('refuses bad dashboard writes with 400 or 404', async () => {
      const projectId = await createProject('dash-bad');
      expectError(await create({ project_id: projectId }), 400);
      expectError(await create({ template_name: 'x' }), 400);
      expectError(await create({ project_id: projectId, template_name: 'x', experimentQueryState: '{nope' }), 400);
      expectError(await create({ project_id: projectId, template_name: 'x', pinnedExperiments: ['short'] }), 400);
      expectError(await create({ project_id: projectId, template_name: 'x', current: 'maybe' }), 400);
      expectError(
        await create({ project_id: projectId, template_name: 'x', codePanelTemplateIds: ['f'.repeat(32)] }),
        404,
      );
      expectError(await create({ project_id: 'f'.repeat(32), template_name: 'x' }), 404);
      expectError(await download(projectId, 'f'.repeat(32)), 404);
      expectError(await t.request('GET', `${V2}/dashboard-template/download?projectId=${projectId}`), 400);
      expectError(await t.request('GET', `${V2}/dashboard-template/get-all?workspace=nowhere`), 404, 90219);
      const list = (await t.request('GET', `${V2}/dashboard-template/get-all?workspace=default`)).json();
      expect(list.dashboardTemplates.filter((d: { projectId: string }) => d.projectId === projectId)).toEqual([]);
    });

    it('keeps dashboards of private projects from other tenants and lets them only read public ones', async () => {
      const secretProject = await createProject('dash-secret');
      const openProject = await createProject('dash-open', true);
      const privatePanel = await uploadOk(cometxTemplate('Private', 'p'));
      const secret = (await create({ project_id: secretProject, template_name: 'S' })).json();
      const open = (
        await create({ project_id: openProject, template_name: 'O', codePanelTemplateIds: [privatePanel] })
      ).json();
      const bob = t.otherKey;

      const bobList = (
        await t.request('GET', `${V2}/dashboard-template/get-all?workspace=default`, { key: bob })
      ).json().dashboardTemplates as { templateId: string }[];
      expect(bobList.map((d) => d.templateId)).toContain(open.template_id);
      expect(bobList.map((d) => d.templateId)).not.toContain(secret.template_id);
      expectError(await download(secretProject, secret.template_id, bob), 404);
      expect((await download(openProject, open.template_id, bob)).statusCode).toBe(200);

      // A panel placed on a public project's dashboard by its members is readable through it.
      const instanceId = open.codePanelInstances[0].instanceId as string;
      expectError(await t.request('GET', `${V2}/code-panel/download?templateId=${privatePanel}`, { key: bob }), 404);
      const viaInstance = await t.request('GET', `${V2}/code-panel/download?instanceId=${instanceId}`, { key: bob });
      expect(viaInstance.statusCode).toBe(200);
      expect(viaInstance.json()).toMatchObject({ templateId: privatePanel, editable: false });
      const secretInstance = (
        await upsert({
          project_id: secretProject,
          template_id: secret.template_id,
          codePanelTemplateIds: [privatePanel],
        })
      ).json().codePanelInstances[0].instanceId as string;
      expectError(await t.request('GET', `${V2}/code-panel/download?instanceId=${secretInstance}`, { key: bob }), 404);

      // A private panel of another workspace stays hidden even on a public project's dashboard.
      const created = await t.request('POST', `${V2}/write/workspace/new`, { body: { name: 'second' } });
      expect(created.statusCode, created.body).toBe(200);
      const foreignPanel = await uploadOk(cometxTemplate('Elsewhere', 'e'), { teamName: 'second' });
      const foreignInstance = (
        await upsert({
          project_id: openProject,
          template_id: open.template_id,
          codePanelTemplateIds: [privatePanel, foreignPanel],
        })
      ).json().codePanelInstances[1].instanceId as string;
      expect((await t.request('GET', `${V2}/code-panel/download?instanceId=${foreignInstance}`)).statusCode).toBe(200);
      expectError(await t.request('GET', `${V2}/code-panel/download?instanceId=${foreignInstance}`, { key: bob }), 404);
      await upsert({ project_id: openProject, template_id: open.template_id, codePanelTemplateIds: [privatePanel] });

      // Bob writes to neither, clones neither secret, and cannot place admin's private panel.
      expectError(
        await upsert({ project_id: openProject, template_id: open.template_id, template_name: 'B' }, bob),
        404,
        90210,
      );
      expectError(await create({ project_id: openProject, template_name: 'B' }, bob), 404, 90210);
      const bobProject = await createProject('bob-dash', false, bob, 'bob');
      expectError(
        await create({ project_id: bobProject, template_name: 'B', template_id: secret.template_id }, bob),
        404,
      );
      expectError(
        await create({ project_id: bobProject, template_name: 'B', codePanelTemplateIds: [privatePanel] }, bob),
        404,
      );
      const cloneOfOpen = await create(
        { project_id: bobProject, template_name: 'B', template_id: open.template_id },
        bob,
      );
      // The public dashboard clones, but not with admin's private panel on it.
      expectError(cloneOfOpen, 404);
      expectError(await create({ project_id: secretProject, template_name: 'B' }, t.readOnlyKey), 403);
    });

    it('deletes a project’s dashboards with the project', async () => {
      const projectId = await createProject('dash-gone');
      const dashboard = (await create({ project_id: projectId, template_name: 'Doomed' })).json();
      const deleted = await t.request('POST', `${V2}/write/project/delete`, { body: { projectId } });
      expect(deleted.statusCode).toBe(200);
      const list = (await t.request('GET', `${V2}/dashboard-template/get-all?workspace=default`)).json();
      expect(list.dashboardTemplates.map((d: { templateId: string }) => d.templateId)).not.toContain(
        dashboard.template_id,
      );
    });
  });

  describe('viz stores', () => {
    async function instanceOn(projectId: string): Promise<string> {
      const panel = await uploadOk(cometxTemplate('Viz', 'v'));
      const response = await t.request('POST', `${V2}/write/dashboard-template/create`, {
        body: { project_id: projectId, template_name: 'Viz board', codePanelTemplateIds: [panel] },
      });
      return response.json().codePanelInstances[0].instanceId as string;
    }

    it('stores a JSON map per instance and returns it as JSON text', async () => {
      const projectId = await createProject('viz-main');
      const instanceId = await instanceOn(projectId);
      const url = `${V2}/viz-instance/store/get?instanceId=${instanceId}&projectId=${projectId}`;
      const empty = await t.request('GET', url);
      expect(empty.statusCode).toBe(200);
      expect(empty.headers['content-type']).toBe('application/json');
      expect(empty.json()).toEqual({ store: '{}' });

      const set = await t.request('POST', `${V2}/write/viz-instance/store/set`, {
        body: { instanceId, projectId, store: { selected: ['a', 'b'], zoom: 1.5 } },
      });
      expect(set.statusCode, set.body).toBe(200);
      expect(set.json()).toMatchObject({ code: 200, sdk_error_code: 0, data: null });
      expect(JSON.parse((await t.request('GET', url)).json().store)).toEqual({ selected: ['a', 'b'], zoom: 1.5 });

      await t.request('POST', `${V2}/write/viz-instance/store/set`, {
        body: { instanceId, projectId, store: '{"replaced":true}' },
      });
      expect((await t.request('GET', url)).json()).toEqual({ store: '{"replaced":true}' });
    });

    it('refuses stores that are not JSON objects and unknown or foreign instances', async () => {
      const projectId = await createProject('viz-bad');
      const otherProject = await createProject('viz-bad-other');
      const instanceId = await instanceOn(projectId);
      const set = (body: Record<string, unknown>, key?: string) =>
        t.request('POST', `${V2}/write/viz-instance/store/set`, { ...(key === undefined ? {} : { key }), body });
      expectError(await set({ instanceId, projectId, store: '[1,2]' }), 400);
      expectError(await set({ instanceId, projectId, store: 'nope' }), 400);
      expectError(await set({ instanceId, projectId, store: [1] }), 400);
      expectError(await set({ instanceId, projectId, store: `{"x":"${'y'.repeat(1024 * 1024)}"}` }), 400);
      expectError(await set({ instanceId, projectId: otherProject, store: {} }), 404);
      expectError(await set({ instanceId: 'f'.repeat(32), projectId, store: {} }), 404);
      expectError(
        await t.request('GET', `${V2}/viz-instance/store/get?instanceId=${instanceId}&projectId=${otherProject}`),
        404,
      );
      expectError(await t.request('GET', `${V2}/viz-instance/store/get?instanceId=${instanceId}`), 400);

      // Other tenants see nothing of a private project's stores; read-only keys cannot write.
      await set({ instanceId, projectId, store: { secret: 1 } });
      const url = `${V2}/viz-instance/store/get?instanceId=${instanceId}&projectId=${projectId}`;
      expectError(await t.request('GET', url, { key: t.otherKey }), 404);
      expectError(await set({ instanceId, projectId, store: {} }, t.otherKey), 404);
      expectError(await set({ instanceId, projectId, store: {} }, t.readOnlyKey), 403);
      expect((await t.request('GET', url, { key: t.readOnlyKey })).json()).toEqual({ store: '{"secret":1}' });
    });
  });
});
