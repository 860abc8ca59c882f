import { type ExpressionBuilder, type Kysely, type RawBuilder, type Selectable, type SqlBool, sql } from 'kysely';
import type {
  DocumentInfo,
  DocumentKind,
  Experiment,
  ExperimentStatus,
  OutputFilter,
  OutputLine,
  OutputLineInput,
} from '../../core/entities.js';
import {
  ENVIRONMENT_FIELDS,
  type EnvironmentField,
  type ExperimentSearch,
  type SortPosition,
} from '../../core/experiment-query.js';
import type {
  ExperimentPatch,
  ExperimentRepository,
  KeyListOptions,
  KeySource,
  OutputRange,
  ProjectColumns,
  ProjectKey,
} from '../../core/store.port.js';
import { atomically } from './atomic.js';
import type { Database } from './database.js';
import type { SqlDialect } from './dialect.js';
import { afterPosition, checkPosition, type OrderPlan, planOrder, type Segment } from './experiment-order.js';
import { ExperimentConditionCompiler } from './experiment-search.js';
import {
  applyKeyDeltas,
  countKeyChanges,
  keyDelta,
  keysOf,
  memberProjects,
  negate,
  systemFields,
} from './key-catalogue.js';
import { allocateSequence } from './sequence.js';
import { addWorkspaceBytes, experimentBytes } from './workspace-usage.js';

/** Projects up to this size are sorted whole; larger ones are paged along a value index (see holdsMany). */
const JOINED_SCAN_MIN = 2000;
/**
 * Candidate rows in the first round of candidateRows; each further round takes four times more,
 * up to MAX_CANDIDATES (their keys are bound as parameters: far below either backend's limit).
 */
const CANDIDATES = 1000;
const MAX_CANDIDATES = 16_000;

/** What every segment query of one page shares. */
interface PageQuery {
  where: RawBuilder<SqlBool>;
  scope: RawBuilder<SqlBool>;
  plan: OrderPlan;
}

export class SqlExperimentRepository implements ExperimentRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  async insert(e: Experiment): Promise<void> {
    await this.db
      .insertInto('experiments')
      .values({
        id: e.id,
        project_id: e.projectId,
        workspace_id: e.workspaceId,
        name: e.name,
        status: e.status,
        archived: e.archived ? 1 : 0,
        start_time: e.startTime,
        end_time: e.endTime,
        created_by: e.createdBy,
        optimization_id: e.optimizationId,
        file_path: e.filePath,
        file_name: e.fileName,
        last_heartbeat: e.lastHeartbeat,
        has_crashed: e.hasCrashed ? 1 : 0,
        error: e.error,
        status_detail: e.statusDetail,
        next_seq: 0,
        created_at: e.createdAt,
        updated_at: e.updatedAt,
      })
      .execute();
  }

  async get(id: string): Promise<Experiment | undefined> {
    const row = await this.db.selectFrom('experiments').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toExperiment(row);
  }

  async getMany(ids: string[]): Promise<Experiment[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('experiments').selectAll().where('id', 'in', ids).execute();
    const byId = new Map(rows.map((row) => [row.id, toExperiment(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async listInProject(projectId: string, archived?: boolean): Promise<Experiment[]> {
    let query = this.db
      .selectFrom('experiments')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('project_id', '=', projectId),
          eb(
            'id',
            'in',
            eb.selectFrom('experiment_symlinks').select('experiment_id').where('project_id', '=', projectId),
          ),
        ]),
      )
      .orderBy('created_at')
      .orderBy('id');
    if (archived !== undefined) query = query.where('archived', '=', archived ? 1 : 0);
    return (await query.execute()).map(toExperiment);
  }

  async listOwnedByProject(projectId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('experiments').select('id').where('project_id', '=', projectId).execute();
    return rows.map((r) => r.id);
  }

  async update(id: string, patch: ExperimentPatch): Promise<void> {
    const set: Partial<Database['experiments']> = {};
    const columns: Record<keyof ExperimentPatch, keyof Database['experiments']> = {
      name: 'name',
      status: 'status',
      archived: 'archived',
      startTime: 'start_time',
      endTime: 'end_time',
      optimizationId: 'optimization_id',
      filePath: 'file_path',
      fileName: 'file_name',
      lastHeartbeat: 'last_heartbeat',
      hasCrashed: 'has_crashed',
      error: 'error',
      statusDetail: 'status_detail',
      updatedAt: 'updated_at',
      projectId: 'project_id',
      workspaceId: 'workspace_id',
    };
    for (const [key, column] of Object.entries(columns) as [keyof ExperimentPatch, keyof Database['experiments']][]) {
      const value = patch[key];
      if (value === undefined) continue;
      (set as Record<string, unknown>)[column] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    }
    if (Object.keys(set).length === 0) return;
    const target = patch.projectId;
    if (patch.workspaceId !== undefined) {
      // A move to another workspace takes its asset bytes along (workspace_usage, migration 0016).
      // The experiment's row before the usage counters' rows, as uploads lock them (no deadlock).
      await atomically(this.db, async (db) => {
        const home = await db.selectFrom('experiments').select('workspace_id').where('id', '=', id).executeTakeFirst();
        await this.updateRow(db, id, set, target);
        if (home && home.workspace_id !== patch.workspaceId) {
          const bytes = await experimentBytes(db, id);
          await addWorkspaceBytes(db, home.workspace_id, -bytes);
          await addWorkspaceBytes(db, patch.workspaceId as string, bytes);
        }
      });
      return;
    }
    await this.updateRow(this.db, id, set, target);
  }

  private async updateRow(
    executor: Kysely<Database>,
    id: string,
    set: Partial<Database['experiments']>,
    target: string | undefined,
  ): Promise<void> {
    if (target === undefined) {
      await executor.updateTable('experiments').set(set).where('id', '=', id).execute();
      return;
    }
    await atomically(executor, async (db) => {
      const home = await db.selectFrom('experiments').select('project_id').where('id', '=', id).executeTakeFirst();
      if (home && home.project_id !== target) {
        // A move: the keys leave the old home's catalogue (unless a symlink keeps the experiment
        // listed there) and join the new one's (unless a symlink listed it there already).
        const linked = new Set(
          (
            await db.selectFrom('experiment_symlinks').select('project_id').where('experiment_id', '=', id).execute()
          ).map((r) => r.project_id),
        );
        const keys = await keysOf(db, id);
        if (!linked.has(home.project_id)) await applyKeyDeltas(db, this.dialect, [home.project_id], negate(keys));
        if (!linked.has(target)) await applyKeyDeltas(db, this.dialect, [target], keys);
      }
      await db.updateTable('experiments').set(set).where('id', '=', id).execute();
    });
  }

  async delete(id: string): Promise<void> {
    await atomically(this.db, async (db) => {
      await applyKeyDeltas(db, this.dialect, await memberProjects(db, id), negate(await keysOf(db, id)));
      // Its assets cascade away: their bytes leave the workspace's usage, counted before and
      // subtracted after the row is gone (its lock before the counter's, as uploads take them).
      const home = await db.selectFrom('experiments').select('workspace_id').where('id', '=', id).executeTakeFirst();
      const bytes = await experimentBytes(db, id);
      // Children cascade on PostgreSQL and on SQLite (foreign_keys=ON).
      await db.deleteFrom('experiments').where('id', '=', id).execute();
      if (home) await addWorkspaceBytes(db, home.workspace_id, -bytes);
    });
  }

  async addSymlink(experimentId: string, projectId: string): Promise<void> {
    await atomically(this.db, async (db) => {
      const members = await memberProjects(db, experimentId);
      const added = await db
        .insertInto('experiment_symlinks')
        .values({ experiment_id: experimentId, project_id: projectId })
        .onConflict((oc) => oc.doNothing())
        .returning('project_id')
        .execute();
      if (added.length > 0 && !members.includes(projectId)) {
        await applyKeyDeltas(db, this.dialect, [projectId], await keysOf(db, experimentId));
      }
    });
  }

  async search(search: ExperimentSearch): Promise<string[]> {
    const compiler = new ExperimentConditionCompiler(this.dialect, search);
    const where = search.where ? compiler.compile(search.where) : sql<SqlBool>`(1 = 1)`;
    const scope = await this.scope(search);
    const order = search.orderBy ?? { field: 'createdAt', direction: 'asc' };
    const direction = sql.raw(order.direction === 'desc' ? 'desc' : 'asc');
    const page = sql`
      ${search.limit !== undefined ? sql`limit ${search.limit}` : sql``}
      ${search.offset ? sql`offset ${search.offset}` : sql``}
    `;
    if (order.field === 'createdAt' || order.field === 'name') {
      // By creation time the scan runs down the (project_id, created_at) index and stops at the
      // page. Unnamed experiments sort after named ones whichever the direction, as listings show them.
      const column = sql.ref(order.field === 'name' ? 'experiments.name' : 'experiments.created_at');
      const nullsLast = order.field === 'name' ? sql`(experiments.name is null), ` : sql``;
      const { rows } = await sql<{ id: string }>`
        select experiments.id from experiments
        where ${scope} and ${where}
        order by ${nullsLast}${column} ${direction}, experiments.id asc
        ${page}
      `.execute(this.db);
      return rows.map((r) => r.id);
    }
    // Any other order: each experiment's segment (missing last), then its value in the segment.
    const plan = planOrder(order, compiler, this.dialect);
    const segments = plan.segments.map((segment, i) => ({ value: segment.value, alias: sql.ref(`v${i}`) }));
    const segmentOf = sql`(case ${sql.join(
      segments.map((s, i) => sql`when ${s.alias} is not null then ${i}`),
      sql` `,
    )} else ${segments.length} end)`;
    const { rows } = await sql<{ id: string }>`
      select t.id from (
        select experiments.id as id, ${sql.join(
          segments.map((s) => sql`${s.value} as ${s.alias}`),
          sql`, `,
        )}
        from experiments where ${scope} and ${where}
      ) t
      order by ${segmentOf}, ${sql.join(
        segments.map((s) => sql`${s.alias} ${direction}`),
        sql`, `,
      )}, ${this.dialect.bytewise(sql.ref('t.id'))} asc
      ${page}
    `.execute(this.db);
    return rows.map((r) => r.id);
  }

  async searchPage(search: ExperimentSearch, after?: SortPosition): Promise<{ key: string; position: SortPosition }[]> {
    const compiler = new ExperimentConditionCompiler(this.dialect, search);
    const query: PageQuery = {
      where: search.where ? compiler.compile(search.where) : sql<SqlBool>`(1 = 1)`,
      scope: await this.scope(search),
      plan: planOrder(search.orderBy ?? { field: 'createdAt', direction: 'asc' }, compiler, this.dialect),
    };
    const { plan } = query;
    if (after) checkPosition(plan, after);
    const limit = search.limit ?? Number.MAX_SAFE_INTEGER;
    let large: boolean | undefined;
    const rows: { key: string; position: SortPosition }[] = [];
    // Segment after segment (numbers, texts, none…) until the page is full.
    for (let segment = after?.segment ?? 0; segment <= plan.segments.length && rows.length < limit; segment++) {
      const from = after?.segment === segment ? after : undefined;
      const wanted = limit - rows.length;
      const current = plan.segments[segment];
      if (!current) {
        if (!plan.missing) break;
        const key = this.dialect.bytewise(sql.ref('experiments.id'));
        const { rows: found } = await sql<{ id: string }>`
          select experiments.id as id from experiments
          where ${query.scope} and ${query.where} and ${plan.missing}${from ? sql` and ${key} > ${from.key}` : sql``}
          order by ${key} asc limit ${wanted}
        `.execute(this.db);
        for (const r of found) rows.push({ key: r.id, position: { segment, value: null, key: r.id } });
        continue;
      }
      if (current.catalogued && !(await this.anyCatalogued(projectIdsOf(search), current.catalogued))) continue;
      if (current.joined && large === undefined) large = await this.holdsMany(projectIdsOf(search));
      const found =
        current.joined && large
          ? current.joined.indexed
            ? await this.indexedRows(query, current.joined, from, wanted)
            : await this.candidateRows(query, current.joined, from, wanted)
          : await this.sortedRows(query, current, from, wanted);
      for (const r of found) {
        const value = current.type === 'number' ? Number(r.sv) : String(r.sv);
        rows.push({ key: r.id, position: { segment, value, key: r.id } });
      }
    }
    return rows;
  }

  /** A segment's page by sorting the project's matching experiments on their correlated value. */
  private async sortedRows(query: PageQuery, segment: Segment, from: SortPosition | undefined, wanted: number) {
    const key = this.dialect.bytewise(sql.ref('t.id'));
    const { rows } = await sql<{ id: string; sv: number | string }>`
      select t.id as id, t.sv as sv from (
        select experiments.id as id, ${segment.value} as sv from experiments where ${query.scope} and ${query.where}
      ) t
      where t.sv is not null${from ? sql` and ${afterPosition(sql.ref('t.sv'), key, query.plan.direction, from)}` : sql``}
      order by t.sv ${sql.raw(query.plan.direction)}, ${key} asc limit ${wanted}
    `.execute(this.db);
    return rows;
  }

  /**
   * A segment's page in the order of its value index, joined to the experiments it reaches: the
   * scan stops once the page is full. (SQLite takes CROSS JOIN as the join order.)
   */
  private async indexedRows(
    query: PageQuery,
    joined: NonNullable<Segment['joined']>,
    from: SortPosition | undefined,
    wanted: number,
  ) {
    const key = this.dialect.bytewise(sql.ref('experiments.id'));
    const { rows } = await sql<{ id: string; sv: number | string }>`
      select experiments.id as id, ${joined.value} as sv
      from ${joined.table} cross join experiments
      where experiments.id = v.experiment_id and ${joined.where} and ${query.scope} and ${query.where}
        ${from ? sql`and ${afterPosition(joined.value, key, query.plan.direction, from)}` : sql``}
      order by ${joined.value} ${sql.raw(query.plan.direction)}, ${key} asc limit ${wanted}
    `.execute(this.db);
    return rows;
  }

  /**
   * A segment's page from a value table without a value index: the best CANDIDATES rows of the
   * table alone (a sort of one narrow scan), then the condition probed on those only, in rounds
   * of growing size until the page is full. Sorting after joining would probe the condition on
   * every experiment first: 250 ms instead of ~60 ms for a nested filter at 100k experiments.
   */
  private async candidateRows(
    query: PageQuery,
    joined: NonNullable<Segment['joined']>,
    from: SortPosition | undefined,
    wanted: number,
  ) {
    const direction = sql.raw(query.plan.direction);
    const key = this.dialect.bytewise(sql.ref('v.experiment_id'));
    const rows: { id: string; sv: number | string }[] = [];
    let position = from;
    for (let size = CANDIDATES; rows.length < wanted; size = Math.min(size * 4, MAX_CANDIDATES)) {
      const { rows: candidates } = await sql<{ id: string; sv: number | string }>`
        select v.experiment_id as id, ${joined.value} as sv from ${joined.table}
        where ${joined.where}${position ? sql` and ${afterPosition(joined.value, key, query.plan.direction, position)}` : sql``}
        order by ${joined.value} ${direction}, ${key} asc limit ${size}
      `.execute(this.db);
      const last = candidates[candidates.length - 1];
      if (!last) break;
      // The candidates drive the join (CROSS JOIN fixes SQLite's order): with `id in (…)` SQLite
      // preferred the project index and scanned the whole project (43 ms instead of 3 at 100k).
      const { rows: passing } = await sql<{ id: string }>`
        select experiments.id as id
        from (values ${sql.join(candidates.map((c) => sql`(${c.id})`))}) c cross join experiments
        where experiments.id = c.column1 and ${query.scope} and ${query.where}
      `.execute(this.db);
      const passed = new Set(passing.map((r) => r.id));
      for (const candidate of candidates) {
        if (rows.length === wanted) break;
        if (passed.has(candidate.id)) rows.push(candidate);
      }
      if (candidates.length < size) break;
      position = { segment: 0, value: last.sv, key: last.id };
    }
    return rows;
  }

  async countMatching(search: ExperimentSearch): Promise<number> {
    const where = search.where
      ? new ExperimentConditionCompiler(this.dialect, search).compile(search.where)
      : sql<SqlBool>`(1 = 1)`;
    const { rows } = await sql<{ n: number | string }>`
      select count(*) as n from experiments where ${await this.scope(search)} and ${where}
    `.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * The experiments a search covers. Without symlinks into the projects (the usual case) a scan
   * can run down the (project_id, created_at) index; the OR that symlinks need rules that out.
   */
  private async scope(search: ExperimentSearch): Promise<RawBuilder<SqlBool>> {
    const projectIds = projectIdsOf(search);
    if (projectIds.length === 0) return sql<SqlBool>`(1 = 0)`;
    const linked = await this.db
      .selectFrom('experiment_symlinks')
      .select('experiment_id')
      .where('project_id', 'in', projectIds)
      .limit(1)
      .executeTakeFirst();
    if (linked) return inProjects(projectIds, search.archived);
    const home =
      projectIds.length === 1
        ? sql<SqlBool>`experiments.project_id = ${projectIds[0]}`
        : sql<SqlBool>`experiments.project_id in (${sql.join(projectIds)})`;
    return search.archived === undefined
      ? home
      : sql<SqlBool>`(${home} and experiments.archived = ${search.archived ? 1 : 0})`;
  }

  /** Whether some experiment of the projects has the key (with a current value of one of `types`). */
  private async anyCatalogued(
    projectIds: readonly string[],
    key: NonNullable<Segment['catalogued']>,
  ): Promise<boolean> {
    if (projectIds.length === 0) return false;
    const rows = await this.db
      .selectFrom('project_keys')
      .select(['numbers', 'strings', 'booleans'])
      .where('project_id', 'in', projectIds)
      .where('source', '=', key.source)
      .where('name', '=', key.name)
      .execute();
    return rows.some((row) => key.types.length === 0 || key.types.some((type) => Number(row[type]) > 0));
  }

  /**
   * Whether the projects hold more than JOINED_SCAN_MIN experiments (counted no further). A
   * large project is paged in the order of a value index across every project's rows of that
   * name; a small one is cheaper to sort whole than to find among other projects' rows.
   */
  private async holdsMany(projectIds: readonly string[]): Promise<boolean> {
    if (projectIds.length === 0) return false;
    const { rows } = await sql<{ n: number | string }>`
      select count(*) as n from (select 1 from experiments where project_id in (${sql.join(projectIds)}) limit ${JOINED_SCAN_MIN + 1}) t
    `.execute(this.db);
    return Number(rows[0]?.n ?? 0) > JOINED_SCAN_MIN;
  }

  async countInProject(projectId: string, archived?: boolean): Promise<number> {
    const { rows } = await sql<{ n: number | string }>`
      select count(*) as n from experiments where ${inProject(projectId, archived)}
    `.execute(this.db);
    return Number(rows[0]?.n ?? 0);
  }

  async listProjectColumns(projectId: string, archived?: boolean): Promise<ProjectColumns> {
    const members = sql`select experiments.id from experiments where ${inProject(projectId, archived)}`;
    const names = async (query: RawBuilder<{ name: string }>) => (await query.execute(this.db)).rows.map((r) => r.name);
    const valueNames = async (kind: 'param' | 'other') =>
      (
        await sql<{ name: string; textual: number | string }>`
          select name, max(case when value_type = 'number' and value_number is not null then 0 else 1 end) as textual
          from experiment_value_current
          where kind = ${kind} and experiment_id in (${members})
          group by name order by name
        `.execute(this.db)
      ).rows.map((r) => ({ name: r.name, numeric: Number(r.textual) === 0 }));
    const environment: EnvironmentField[] = [];
    for (const field of ENVIRONMENT_FIELDS) {
      const { rows } = await sql<{ found: number }>`
        select 1 as found from experiment_documents
        where kind = 'system-details' and experiment_id in (${members})
          and ${this.dialect.jsonText(sql.ref('body'), field)} is not null
        limit 1
      `.execute(this.db);
      if (rows.length > 0) environment.push(field);
    }
    return {
      metrics: await names(
        sql<{ name: string }>`select distinct name from series where experiment_id in (${members}) order by name`,
      ),
      params: await valueNames('param'),
      others: await valueNames('other'),
      tags: await names(
        sql<{
          name: string;
        }>`select distinct tag as name from experiment_tags where experiment_id in (${members}) order by tag`,
      ),
      environment,
    };
  }

  async listKeys(projectId: string, options: KeyListOptions): Promise<ProjectKey[]> {
    const { after } = options;
    const rows = await this.db
      .selectFrom('project_keys')
      .select(['source', 'name', 'experiments', 'numbers', 'strings', 'booleans'])
      .where('project_id', '=', projectId)
      .where(this.keyFilter(options))
      .where((eb) =>
        after
          ? eb.or([
              eb('source', '>', after.source),
              eb.and([eb('source', '=', after.source), eb('name', '>', after.name)]),
            ])
          : eb.lit(true),
      )
      .orderBy('source')
      .orderBy('name')
      .limit(options.limit)
      .execute();
    return rows.map((r) => ({
      source: r.source as KeySource,
      name: r.name,
      experiments: Number(r.experiments),
      numbers: Number(r.numbers),
      strings: Number(r.strings),
      booleans: Number(r.booleans),
    }));
  }

  async countKeys(projectId: string, options: Pick<KeyListOptions, 'source' | 'search'>): Promise<number> {
    const row = await this.db
      .selectFrom('project_keys')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('project_id', '=', projectId)
      .where(this.keyFilter(options))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  private keyFilter(options: Pick<KeyListOptions, 'source' | 'search'>) {
    const { source, search } = options;
    return (eb: ExpressionBuilder<Database, 'project_keys'>) =>
      eb.and([
        ...(source ? [eb('source', '=', source)] : []),
        ...(search
          ? // lower() folds ASCII letters alone on both backends (PostgreSQL: the names' "C"
            // collation), so the needle is folded the same way.
            [
              eb(
                this.dialect.position(
                  sql`lower(name)`,
                  search.replace(/[A-Z]/g, (c) => c.toLowerCase()),
                ),
                '>',
                0,
              ),
            ]
          : []),
      ]);
  }

  async getDocument(id: string, kind: DocumentKind): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('experiment_documents')
      .select('body')
      .where('experiment_id', '=', id)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row?.body;
  }

  async getDocumentEntry(id: string, kind: DocumentKind): Promise<{ body: string; updatedAt: number } | undefined> {
    const row = await this.db
      .selectFrom('experiment_documents')
      .select(['body', 'updated_at'])
      .where('experiment_id', '=', id)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row && { body: row.body, updatedAt: row.updated_at };
  }

  async listDocuments(id: string): Promise<DocumentInfo[]> {
    // octet_length: bytes, not characters, on both backends (SQLite has it since 3.43).
    const { rows } = await sql<{ kind: DocumentKind; size: number | string; updated_at: number }>`
      select kind, octet_length(body) as size, updated_at from experiment_documents
      where experiment_id = ${id} order by kind
    `.execute(this.db);
    return rows.map((r) => ({ kind: r.kind, size: Number(r.size), updatedAt: Number(r.updated_at) }));
  }

  async getDocumentsOf(ids: string[], kind: DocumentKind): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('experiment_documents')
      .select(['experiment_id', 'body'])
      .where('experiment_id', 'in', ids)
      .where('kind', '=', kind)
      .execute();
    return new Map(rows.map((r) => [r.experiment_id, r.body]));
  }

  async putDocument(id: string, kind: DocumentKind, body: string, at: number): Promise<void> {
    const put = (db: Kysely<Database>) =>
      db
        .insertInto('experiment_documents')
        .values({ experiment_id: id, kind, body, updated_at: at })
        .onConflict((oc) => oc.columns(['experiment_id', 'kind']).doUpdateSet({ body, updated_at: at }))
        .execute();
    if (kind !== 'system-details') {
      await put(this.db);
      return;
    }
    // Its fields are the catalogue's system keys: fields set or cleared move the counts.
    await atomically(this.db, async (db) => {
      const before = new Set(systemFields(await new SqlExperimentRepository(db, this.dialect).getDocument(id, kind)));
      const after = new Set(systemFields(body));
      await put(db);
      await countKeyChanges(db, this.dialect, id, [
        ...[...after].filter((f) => !before.has(f)).map((f) => keyDelta('system', f, 1)),
        ...[...before].filter((f) => !after.has(f)).map((f) => keyDelta('system', f, -1)),
      ]);
    });
  }

  async addTags(id: string, tags: string[]): Promise<void> {
    const unique = [...new Set(tags)];
    if (unique.length === 0) return;
    await atomically(this.db, async (db) => {
      const first = await allocateSequence(db, id, unique.length);
      const added = await db
        .insertInto('experiment_tags')
        .values(unique.map((tag, i) => ({ experiment_id: id, seq: first + i, tag })))
        .onConflict((oc) => oc.doNothing())
        .returning('tag')
        .execute();
      await countKeyChanges(
        db,
        this.dialect,
        id,
        added.map((r) => keyDelta('tag', r.tag, 1)),
      );
    });
  }

  async removeTag(id: string, tag: string): Promise<boolean> {
    return atomically(this.db, async (db) => {
      const result = await db
        .deleteFrom('experiment_tags')
        .where('experiment_id', '=', id)
        .where('tag', '=', tag)
        .executeTakeFirst();
      const removed = Number(result.numDeletedRows) > 0;
      // The key catalogue counts experiments having the tag: one fewer now.
      if (removed) await countKeyChanges(db, this.dialect, id, [keyDelta('tag', tag, -1)]);
      return removed;
    });
  }

  async listTags(id: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('experiment_tags')
      .select('tag')
      .where('experiment_id', '=', id)
      .orderBy('seq')
      .execute();
    return rows.map((r) => r.tag);
  }

  async listTagsOf(ids: string[]): Promise<Map<string, string[]>> {
    const byExperiment = new Map<string, string[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byExperiment;
    const rows = await this.db
      .selectFrom('experiment_tags')
      .select(['experiment_id', 'tag'])
      .where('experiment_id', 'in', ids)
      .orderBy('experiment_id')
      .orderBy('seq')
      .execute();
    for (const r of rows) byExperiment.get(r.experiment_id)?.push(r.tag);
    return byExperiment;
  }

  async appendOutput(id: string, lines: OutputLineInput[]): Promise<void> {
    if (lines.length === 0) return;
    // Several INSERTs when the batch exceeds the bind-parameter limit: all or none must land.
    await atomically(this.db, async (db) => {
      // The sequence's row lock serialises appenders, so the last line number read next is final.
      const first = await allocateSequence(db, id, lines.length);
      const firstLine = (await this.lastLine(db, id)) + 1;
      const chunk = Math.floor(this.dialect.maxBindParameters / 8);
      for (let start = 0; start < lines.length; start += chunk) {
        await db
          .insertInto('experiment_output')
          .values(
            lines.slice(start, start + chunk).map((line, i) => ({
              experiment_id: id,
              seq: first + start + i,
              text: line.text,
              stderr: line.stderr ? 1 : 0,
              context: line.context,
              timestamp: line.timestamp,
              client_offset: line.clientOffset,
              line_no: firstLine + start + i,
            })),
          )
          .execute();
      }
    });
  }

  async listOutput(id: string): Promise<OutputLine[]> {
    const rows = await this.db
      .selectFrom('experiment_output')
      .selectAll()
      .where('experiment_id', '=', id)
      .orderBy('seq')
      .execute();
    return rows.map(toOutputLine);
  }

  lastOutputLine(id: string): Promise<number> {
    return this.lastLine(this.db, id);
  }

  async readOutput(id: string, filter: OutputFilter, range: OutputRange, limit: number): Promise<OutputLine[]> {
    const lines: OutputLine[] = [];
    // Line numbers have no gaps: an unfiltered page is exactly the next `limit` numbers. A filtered
    // page is looked for in windows of growing width. Each query then spans a bounded range, so
    // its cost never depends on the planner's guess of how many lines the experiment has (fresh
    // or stale PostgreSQL statistics made it sort a million lines for one page).
    const filtered = filter.stderr !== undefined || (filter.search !== undefined && filter.search !== '');
    let from = range.afterLine;
    let width = filtered ? OUTPUT_SCAN_WINDOW : limit;
    while (lines.length < limit && from < range.upToLine) {
      const to = Math.min(range.upToLine, from + width);
      const rows = await this.db
        .selectFrom('experiment_output')
        .selectAll()
        .where('experiment_id', '=', id)
        .where('line_no', '>', from)
        .where('line_no', '<=', to)
        .where((eb) => eb.and(this.outputConditions(filter)))
        .orderBy('line_no')
        .limit(limit - lines.length)
        .execute();
      for (const row of rows) lines.push(toOutputLine(row));
      from = to;
      width = Math.min(width * 2, OUTPUT_MAX_SCAN_WINDOW);
    }
    return lines;
  }

  async countOutput(id: string, filter: OutputFilter, range: OutputRange): Promise<number> {
    if (range.upToLine <= range.afterLine) return 0;
    // Line numbers have no gaps, so an unfiltered count is arithmetic on the last one.
    if (filter.stderr === undefined && filter.search === undefined) {
      return Math.max(0, Math.min(range.upToLine, await this.lastOutputLine(id)) - range.afterLine);
    }
    const row = await this.db
      .selectFrom('experiment_output')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('experiment_id', '=', id)
      .where('line_no', '>', range.afterLine)
      .where('line_no', '<=', range.upToLine)
      .where((eb) => eb.and(this.outputConditions(filter)))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  private outputConditions(filter: OutputFilter): RawBuilder<SqlBool>[] {
    const conditions: RawBuilder<SqlBool>[] = [];
    if (filter.stderr !== undefined) conditions.push(sql<SqlBool>`stderr = ${filter.stderr ? 1 : 0}`);
    if (filter.search !== undefined && filter.search !== '') {
      conditions.push(this.dialect.containsIgnoringCase(sql.ref('text'), filter.search));
    }
    return conditions;
  }

  private async lastLine(db: Kysely<Database>, id: string): Promise<number> {
    const row = await db
      .selectFrom('experiment_output')
      .select((eb) => eb.fn.max('line_no').as('last'))
      .where('experiment_id', '=', id)
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  }
}

function toOutputLine(row: Selectable<Database['experiment_output']>): OutputLine {
  return {
    seq: row.seq,
    line: Number(row.line_no),
    text: row.text,
    stderr: row.stderr === 1,
    context: row.context,
    timestamp: row.timestamp,
    clientOffset: row.client_offset,
  };
}

/** Lines a filtered output read examines first; the window doubles until the page is full. */
const OUTPUT_SCAN_WINDOW = 8192;
/** Widest window: bounds the work (and the sort of matches) of one statement. */
const OUTPUT_MAX_SCAN_WINDOW = 262_144;

/** Experiments whose home is the project or that are symlinked into it. */
/** The projects a search names, as a list. */
function projectIdsOf(search: Pick<ExperimentSearch, 'projectId'>): readonly string[] {
  return typeof search.projectId === 'string' ? [search.projectId] : search.projectId;
}

function inProjects(projectIds: readonly string[], archived: boolean | undefined): RawBuilder<SqlBool> {
  if (projectIds.length === 1) return inProject(projectIds[0] as string, archived);
  const list = sql.join(projectIds);
  const home = sql<SqlBool>`(experiments.project_id in (${list}) or experiments.id in (select experiment_id from experiment_symlinks where project_id in (${list})))`;
  return archived === undefined ? home : sql<SqlBool>`(${home} and experiments.archived = ${archived ? 1 : 0})`;
}

function inProject(projectId: string, archived: boolean | undefined): RawBuilder<SqlBool> {
  const home = sql<SqlBool>`(experiments.project_id = ${projectId} or experiments.id in (select experiment_id from experiment_symlinks where project_id = ${projectId}))`;
  return archived === undefined ? home : sql<SqlBool>`(${home} and experiments.archived = ${archived ? 1 : 0})`;
}

function toExperiment(row: Selectable<Database['experiments']>): Experiment {
  return {
    id: row.id,
    projectId: row.project_id,
    workspaceId: row.workspace_id,
    name: row.name,
    status: row.status as ExperimentStatus,
    archived: row.archived === 1,
    startTime: row.start_time,
    endTime: row.end_time,
    createdBy: row.created_by,
    optimizationId: row.optimization_id,
    filePath: row.file_path,
    fileName: row.file_name,
    lastHeartbeat: row.last_heartbeat,
    hasCrashed: row.has_crashed === 1,
    error: row.error,
    statusDetail: row.status_detail,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
