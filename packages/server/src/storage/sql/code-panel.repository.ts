import type { Kysely, Selectable } from 'kysely';
import type { CodePanel, PanelCode, PanelScope } from '../../core/entities.js';
import type { CodePanelRepository } from '../../core/store.port.js';
import type { Database } from './database.js';

export class SqlCodePanelRepository implements CodePanelRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(panel: CodePanel): Promise<void> {
    await this.db.insertInto('code_panels').values(toRow(panel)).execute();
  }

  async get(id: string): Promise<CodePanel | undefined> {
    const row = await this.db.selectFrom('code_panels').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toCodePanel(row);
  }

  async list(workspaceId: string, publicOnly: boolean): Promise<CodePanel[]> {
    let query = this.db
      .selectFrom('code_panels')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at')
      .orderBy('id');
    if (publicOnly) query = query.where('scope_type', '=', 'PUBLIC');
    return (await query.execute()).map(toCodePanel);
  }

  async update(panel: CodePanel): Promise<void> {
    const { id: _id, workspace_id: _ws, owner_user_id: _owner, created_at: _created, ...set } = toRow(panel);
    await this.db.updateTable('code_panels').set(set).where('id', '=', panel.id).execute();
  }
}

function toRow(p: CodePanel): Database['code_panels'] {
  return {
    id: p.id,
    workspace_id: p.workspaceId,
    owner_user_id: p.ownerUserId,
    name: p.name,
    query_builder_id: p.queryBuilderId,
    scope_type: p.scopeType,
    code: JSON.stringify(p.code),
    thumbnail_name: p.thumbnailName,
    revision_id: p.revisionId,
    blob_key: p.blobKey,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

function toCodePanel(row: Selectable<Database['code_panels']>): CodePanel {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    ownerUserId: row.owner_user_id,
    name: row.name,
    queryBuilderId: row.query_builder_id,
    scopeType: row.scope_type as PanelScope,
    code: JSON.parse(row.code) as PanelCode,
    thumbnailName: row.thumbnail_name,
    revisionId: row.revision_id,
    blobKey: row.blob_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
