import { describe, expect, it } from 'vitest';
import type { CodePanel, Dashboard, Experiment, MetricPointInput, Project } from '../src/core/entities.js';
import type { Store } from '../src/core/store.port.js';
import { hex, newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The contract of the code panel, dashboard and optimization repositories (core/store.port.ts),
 * run against every backend with fresh ids per test.
 */

function newPanel(workspaceId: string, ownerUserId: string, overrides: Partial<CodePanel> = {}): CodePanel {
  return {
    id: hex(),
    workspaceId,
    ownerUserId,
    name: 'Panel',
    queryBuilderId: '',
    scopeType: 'PRIVATE',
    code: {
      code: 'draw()',
      css: '',
      description: 'd',
      html: '<div></div>',
      defaultConfig: '{}',
      internalResources: [{ name: 'plotly', version: '2', enabled: true }],
      userResources: ['https://example.test/lib.js'],
      pyCode: '',
      type: 'js',
      pyConfig: '',
    },
    thumbnailName: null,
    revisionId: T0,
    blobKey: `code-panels/${hex()}`,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function newDashboard(project: Project, createdBy: string, overrides: Partial<Dashboard> = {}): Dashboard {
  return {
    id: hex(),
    projectId: project.id,
    name: 'Overview',
    createdBy,
    experimentQueryState: '{"q":1}',
    dashboardChartState: '{}',
    reactGridTableState: '[]',
    v2: { toggles: { a: { isVisible: true, toggleId: 'a' } } },
    source: null,
    current: false,
    unsavedView: false,
    projectDefault: false,
    pinnedExperiments: [],
    autoRefresh: false,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

function point(name: string, value: number): MetricPointInput {
  return { name, value, step: null, epoch: null, timestamp: T0, context: null };
}

describe.each(backends)('Panel, dashboard and optimization store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  async function seed(projectOverrides: Partial<Project> = {}) {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const project = newProject(workspace.id, user.id, projectOverrides);
    await store.projects.insert(project);
    return { user, workspace, project };
  }

  it('stores code panels whole and lists them oldest first, PUBLIC only on request', async () => {
    const { user, workspace } = await seed();
    const later = newPanel(workspace.id, user.id, { createdAt: T0 + 10, scopeType: 'PUBLIC', thumbnailName: 't' });
    const first = newPanel(workspace.id, user.id, { createdAt: T0 });
    await store.codePanels.insert(later);
    await store.codePanels.insert(first);
    expect(await store.codePanels.get(later.id)).toEqual(later);
    expect(await store.codePanels.get(hex())).toBeUndefined();
    expect((await store.codePanels.list(workspace.id, false)).map((p) => p.id)).toEqual([first.id, later.id]);
    expect((await store.codePanels.list(workspace.id, true)).map((p) => p.id)).toEqual([later.id]);
  });

  it('updates a panel revision but keeps its id, workspace, owner and creation time', async () => {
    const { user, workspace } = await seed();
    const other = await seed();
    const panel = newPanel(workspace.id, user.id);
    await store.codePanels.insert(panel);
    const revised = {
      ...panel,
      workspaceId: other.workspace.id,
      ownerUserId: other.user.id,
      createdAt: T0 + 99,
      name: 'Renamed',
      code: { ...panel.code, type: 'py' as const, pyCode: 'print(1)' },
      revisionId: T0 + 5,
      blobKey: 'code-panels/new',
      updatedAt: T0 + 5,
    };
    await store.codePanels.update(revised);
    expect(await store.codePanels.get(panel.id)).toEqual({
      ...revised,
      workspaceId: workspace.id,
      ownerUserId: user.id,
      createdAt: T0,
    });
  });

  it('stores dashboards, lists them per workspace and keeps one project default', async () => {
    const { user, workspace, project } = await seed({ isPublic: false });
    const open = newProject(workspace.id, user.id, { isPublic: true });
    await store.projects.insert(open);
    const a = newDashboard(project, user.id, { projectDefault: true, createdAt: T0 + 2 });
    const b = newDashboard(open, user.id, { createdAt: T0 + 1, pinnedExperiments: [hex()], source: 'x' });
    const c = newDashboard(project, user.id, { projectDefault: true, createdAt: T0 + 3 });
    for (const d of [a, b, c]) await store.dashboards.insert(d);
    expect(await store.dashboards.get(b.id)).toEqual(b);
    expect((await store.dashboards.listInWorkspace(workspace.id, false)).map((d) => d.id)).toEqual([b.id, a.id, c.id]);
    expect((await store.dashboards.listInWorkspace(workspace.id, true)).map((d) => d.id)).toEqual([b.id]);

    await store.dashboards.clearProjectDefault(project.id, c.id);
    expect((await store.dashboards.get(a.id))?.projectDefault).toBe(false);
    expect((await store.dashboards.get(c.id))?.projectDefault).toBe(true);

    await store.dashboards.update({
      ...a,
      name: 'Renamed',
      current: true,
      projectDefault: false,
      createdBy: 'someone',
      createdAt: 1,
    });
    expect(await store.dashboards.get(a.id)).toEqual({ ...a, name: 'Renamed', current: true, projectDefault: false });
  });

  it('replaces a dashboard’s instances, keeping kept ones and their viz stores', async () => {
    const { user, workspace, project } = await seed();
    const [p1, p2, p3] = [
      newPanel(workspace.id, user.id),
      newPanel(workspace.id, user.id),
      newPanel(workspace.id, user.id),
    ];
    for (const p of [p1, p2, p3]) await store.codePanels.insert(p);
    const dashboard = newDashboard(project, user.id);
    await store.dashboards.insert(dashboard);
    const i1 = { id: hex(), dashboardId: dashboard.id, templateId: p1.id, position: 0 };
    const i2 = { id: hex(), dashboardId: dashboard.id, templateId: p2.id, position: 1 };
    await store.dashboards.replaceInstances(dashboard.id, [i1, i2]);
    expect(await store.dashboards.listInstances(dashboard.id)).toEqual([i1, i2]);
    expect(await store.dashboards.getVizStore(i2.id)).toBeUndefined();
    await store.dashboards.putVizStore(i2.id, '{"a":1}', T0);
    await store.dashboards.putVizStore(i1.id, '{"b":1}', T0);
    await store.dashboards.putVizStore(i2.id, '{"a":2}', T0 + 1);
    expect(await store.dashboards.getVizStore(i2.id)).toBe('{"a":2}');

    const i3 = { id: hex(), dashboardId: dashboard.id, templateId: p3.id, position: 0 };
    await store.dashboards.replaceInstances(dashboard.id, [i3, { ...i2, position: 1 }]);
    expect(await store.dashboards.listInstances(dashboard.id)).toEqual([i3, { ...i2, position: 1 }]);
    expect(await store.dashboards.getInstance(i1.id)).toBeUndefined();
    expect(await store.dashboards.getVizStore(i1.id)).toBeUndefined();
    expect(await store.dashboards.getVizStore(i2.id)).toBe('{"a":2}');

    await store.dashboards.replaceInstances(dashboard.id, []);
    expect(await store.dashboards.listInstances(dashboard.id)).toEqual([]);
  });

  it('deletes a project’s dashboards, instances and viz stores with it', async () => {
    const { user, workspace, project } = await seed();
    const panel = newPanel(workspace.id, user.id);
    await store.codePanels.insert(panel);
    const dashboard = newDashboard(project, user.id);
    await store.dashboards.insert(dashboard);
    const instance = { id: hex(), dashboardId: dashboard.id, templateId: panel.id, position: 0 };
    await store.dashboards.replaceInstances(dashboard.id, [instance]);
    await store.dashboards.putVizStore(instance.id, '{}', T0);
    await store.projects.delete(project.id);
    expect(await store.dashboards.get(dashboard.id)).toBeUndefined();
    expect(await store.dashboards.getInstance(instance.id)).toBeUndefined();
    expect(await store.dashboards.getVizStore(instance.id)).toBeUndefined();
    expect(await store.codePanels.get(panel.id)).toEqual(panel);
  });

  describe('optimizations', () => {
    async function trial(
      project: Project,
      optimizationId: string | null,
      values: number[],
      overrides: Partial<Experiment> = {},
    ) {
      const experiment = newExperiment(project, { optimizationId, ...overrides });
      await store.experiments.insert(experiment);
      if (values.length > 0)
        await store.series.append(
          experiment.id,
          values.map((v) => point('loss', v)),
        );
      return experiment;
    }

    it('ranks by the series minimum for MIN and the maximum for MAX, counting every trial', async () => {
      const { workspace, project } = await seed();
      const opt = hex();
      const a = await trial(project, opt, [5, 1, 9]);
      const b = await trial(project, opt, [2, 3, 12]);
      await trial(project, opt, []);
      await trial(project, hex(), [-100, 100]);
      await trial(project, null, [-100, 100]);
      expect(await store.optimizations.rank(opt, [workspace.id], 'loss', 'MIN')).toEqual({
        experimentCount: 3,
        best: { experimentId: a.id, value: 1 },
      });
      expect(await store.optimizations.rank(opt, [workspace.id], 'loss', 'MAX')).toEqual({
        experimentCount: 3,
        best: { experimentId: b.id, value: 12 },
      });
      expect(await store.optimizations.rank(opt, [workspace.id], 'acc', 'MAX')).toEqual({ experimentCount: 3 });
    });

    it('ignores NaN-only and infinite extremes, and breaks ties by creation time then id', async () => {
      const { workspace, project } = await seed();
      const opt = hex();
      await trial(project, opt, [Number.NaN]);
      await trial(project, opt, [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
      const late = await trial(project, opt, [3], { createdAt: T0 + 10 });
      const early = await trial(project, opt, [3, 4], { createdAt: T0 + 5 });
      expect(await store.optimizations.rank(opt, [workspace.id], 'loss', 'MIN')).toEqual({
        experimentCount: 4,
        best: { experimentId: early.id, value: 3 },
      });
      expect((await store.optimizations.rank(opt, [workspace.id], 'loss', 'MAX')).best).toEqual({
        experimentId: early.id,
        value: 4,
      });
      const twinA = await trial(project, opt, [-7], { id: `0${hex().slice(1)}`, createdAt: T0 });
      await trial(project, opt, [-7], { id: `f${hex().slice(1)}`, createdAt: T0 });
      expect((await store.optimizations.rank(opt, [workspace.id], 'loss', 'MIN')).best?.experimentId).toBe(twinA.id);
      expect(late.id).not.toBe(early.id);
    });

    it('counts only experiments in the given workspaces', async () => {
      const mine = await seed();
      const theirs = await seed({ isPublic: true });
      const opt = hex();
      const own = await trial(mine.project, opt, [10]);
      const foreign = await trial(theirs.project, opt, [-10]);
      expect(await store.optimizations.rank(opt, [mine.workspace.id], 'loss', 'MIN')).toEqual({
        experimentCount: 1,
        best: { experimentId: own.id, value: 10 },
      });
      expect(await store.optimizations.rank(opt, [mine.workspace.id, theirs.workspace.id], 'loss', 'MIN')).toEqual({
        experimentCount: 2,
        best: { experimentId: foreign.id, value: -10 },
      });
      expect(await store.optimizations.rank(opt, [], 'loss', 'MIN')).toEqual({ experimentCount: 0 });
      expect(await store.optimizations.rank(hex(), [mine.workspace.id], 'loss', 'MIN')).toEqual({ experimentCount: 0 });
    });
  });
});
