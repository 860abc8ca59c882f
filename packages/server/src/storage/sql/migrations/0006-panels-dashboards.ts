import type { Kysely } from 'kysely';

/**
 * Code panels (per workspace), dashboards (per project), the panels placed on dashboards
 * (instances) and each instance's viz store. Deleting a project takes its dashboards, their
 * instances and stores with it.
 */
export async function panelsDashboards(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('code_panels')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('owner_user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('query_builder_id', 'text', (c) => c.notNull())
    .addColumn('scope_type', 'text', (c) => c.notNull())
    // The panel's `code` object as JSON: read and written whole, never queried into.
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('thumbnail_name', 'text')
    .addColumn('revision_id', 'bigint', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('code_panels_workspace')
    .on('code_panels')
    .columns(['workspace_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('dashboards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('experiment_query_state', 'text', (c) => c.notNull())
    .addColumn('dashboard_chart_state', 'text', (c) => c.notNull())
    .addColumn('react_grid_table_state', 'text', (c) => c.notNull())
    .addColumn('v2', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('is_current', 'integer', (c) => c.notNull())
    .addColumn('unsaved_view', 'integer', (c) => c.notNull())
    .addColumn('project_default', 'integer', (c) => c.notNull())
    .addColumn('pinned_experiments', 'text', (c) => c.notNull())
    .addColumn('auto_refresh', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dashboards_project').on('dashboards').columns(['project_id', 'created_at']).execute();

  await db.schema
    .createTable('code_panel_instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('dashboard_id', 'text', (c) => c.notNull().references('dashboards.id').onDelete('cascade'))
    .addColumn('template_id', 'text', (c) => c.notNull().references('code_panels.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addUniqueConstraint('code_panel_instances_dashboard_template', ['dashboard_id', 'template_id'])
    .execute();
  // PostgreSQL does not index referencing columns; a panel's deletion would scan every instance.
  await db.schema
    .createIndex('code_panel_instances_template')
    .on('code_panel_instances')
    .column('template_id')
    .execute();

  await db.schema
    .createTable('viz_instance_stores')
    .addColumn('instance_id', 'text', (c) => c.primaryKey().references('code_panel_instances.id').onDelete('cascade'))
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
