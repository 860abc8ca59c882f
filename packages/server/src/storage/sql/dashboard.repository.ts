import type { Kysely, Selectable } from 'kysely';
import type { Dashboard, PanelInstance } from '../../core/entities.js';
import type { DashboardRepository } from '../../core/store.port.js';
import type { Database } from './database.js';

export class SqlDashboardRepository implements DashboardRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(dashboard: Dashboard): Promise<void> {
    await this.db.insertInto('dashboards').values(toRow(dashboard)).execute();
  }

  async get(id: string): Promise<Dashboard | undefined> {
    const row = await this.db.selectFrom('dashboards').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDashboard(row);
  }

  async update(dashboard: Dashboard): Promise<void> {
    const { id: _id, project_id: _project, created_by: _by, created_at: _at, ...set } = toRow(dashboard);
    await this.db.updateTable('dashboards').set(set).where('id', '=', dashboard.id).execute();
  }

  async listInWorkspace(workspaceId: string, publicProjectsOnly: boolean): Promise<Dashboard[]> {
    let query = this.db
      .selectFrom('dashboards')
      .innerJoin('projects', 'projects.id', 'dashboards.project_id')
      .selectAll('dashboards')
      .where('projects.workspace_id', '=', workspaceId)
      .orderBy('dashboards.created_at')
      .orderBy('dashboards.id');
    if (publicProjectsOnly) query = query.where('projects.is_public', '=', 1);
    return (await query.execute()).map(toDashboard);
  }

  async clearProjectDefault(projectId: string, keepId: string): Promise<void> {
    await this.db
      .updateTable('dashboards')
      .set({ project_default: 0 })
      .where('project_id', '=', projectId)
      .where('id', '!=', keepId)
      .where('project_default', '=', 1)
      .execute();
  }

  async listInstances(dashboardId: string): Promise<PanelInstance[]> {
    const rows = await this.db
      .selectFrom('code_panel_instances')
      .selectAll()
      .where('dashboard_id', '=', dashboardId)
      .orderBy('position')
      .orderBy('id')
      .execute();
    return rows.map(toInstance);
  }

  async getInstance(id: string): Promise<PanelInstance | undefined> {
    const row = await this.db.selectFrom('code_panel_instances').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toInstance(row);
  }

  async replaceInstances(dashboardId: string, instances: PanelInstance[]): Promise<void> {
    const keep = instances.map((i) => i.id);
    let removal = this.db.deleteFrom('code_panel_instances').where('dashboard_id', '=', dashboardId);
    if (keep.length > 0) removal = removal.where('id', 'not in', keep);
    await removal.execute();
    for (const instance of instances) {
      await this.db
        .insertInto('code_panel_instances')
        .values({
          id: instance.id,
          dashboard_id: dashboardId,
          template_id: instance.templateId,
          position: instance.position,
        })
        .onConflict((oc) => oc.column('id').doUpdateSet({ position: instance.position }))
        .execute();
    }
  }

  async getVizStore(instanceId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('viz_instance_stores')
      .select('body')
      .where('instance_id', '=', instanceId)
      .executeTakeFirst();
    return row?.body;
  }

  async putVizStore(instanceId: string, body: string, at: number): Promise<void> {
    await this.db
      .insertInto('viz_instance_stores')
      .values({ instance_id: instanceId, body, updated_at: at })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet({ body, updated_at: at }))
      .execute();
  }
}

function toRow(d: Dashboard): Database['dashboards'] {
  return {
    id: d.id,
    project_id: d.projectId,
    name: d.name,
    created_by: d.createdBy,
    experiment_query_state: d.experimentQueryState,
    dashboard_chart_state: d.dashboardChartState,
    react_grid_table_state: d.reactGridTableState,
    v2: JSON.stringify(d.v2),
    source: d.source,
    is_current: d.current ? 1 : 0,
    unsaved_view: d.unsavedView ? 1 : 0,
    project_default: d.projectDefault ? 1 : 0,
    pinned_experiments: JSON.stringify(d.pinnedExperiments),
    auto_refresh: d.autoRefresh ? 1 : 0,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

function toDashboard(row: Selectable<Database['dashboards']>): Dashboard {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    createdBy: row.created_by,
    experimentQueryState: row.experiment_query_state,
    dashboardChartState: row.dashboard_chart_state,
    reactGridTableState: row.react_grid_table_state,
    v2: JSON.parse(row.v2) as Record<string, unknown>,
    source: row.source,
    current: row.is_current === 1,
    unsavedView: row.unsaved_view === 1,
    projectDefault: row.project_default === 1,
    pinnedExperiments: JSON.parse(row.pinned_experiments) as string[],
    autoRefresh: row.auto_refresh === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toInstance(row: Selectable<Database['code_panel_instances']>): PanelInstance {
  return { id: row.id, dashboardId: row.dashboard_id, templateId: row.template_id, position: row.position };
}
