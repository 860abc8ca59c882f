import { type Kysely, Migrator, sql } from 'kysely';
import type { Repositories, Store } from '../../core/store.port.js';
import { DecodedBlockCache } from '../series/decoded-block.cache.js';
import { DECODED_BLOCK_CACHE_BYTES, SqlSeriesRepository } from '../series/series.repository.js';
import { SqlArtifactRepository } from './artifact.repository.js';
import { SqlArtifactTableRepository } from './artifact-table.repository.js';
import { SqlAssetRepository } from './asset.repository.js';
import { SqlAuditRepository } from './audit.repository.js';
import { SqlClientBatchRepository } from './client-batch.repository.js';
import { SqlCodePanelRepository } from './code-panel.repository.js';
import { SqlDashboardRepository } from './dashboard.repository.js';
import type { Database } from './database.js';
import {
  type OpenedDatabase,
  openPostgres,
  openSqlite,
  type PostgresOptions,
  type SqlDialect,
  type SqliteOptions,
} from './dialect.js';
import { SqlExperimentRepository } from './experiment.repository.js';
import { SqlExperimentInputRepository } from './experiment-input.repository.js';
import { SqlLoggedValueRepository } from './logged-value.repository.js';
import { migrationProvider } from './migrations/index.js';
import { SqlOptimizationRepository } from './optimization.repository.js';
import { SqlProjectRepository } from './project.repository.js';
import { SqlRegistryRepository } from './registry.repository.js';
import { SqlSessionRepository } from './session.repository.js';
import { sqliteFileOf } from './sqlite-snapshot.js';
import { SqlTenancyRepository } from './tenancy.repository.js';
import { SqlWebhookRepository } from './webhook.repository.js';

function repositories(db: Kysely<Database>, dialect: SqlDialect, decoded: DecodedBlockCache): Repositories {
  return {
    tenancy: new SqlTenancyRepository(db),
    sessions: new SqlSessionRepository(db),
    projects: new SqlProjectRepository(db),
    experiments: new SqlExperimentRepository(db, dialect),
    values: new SqlLoggedValueRepository(db, dialect),
    inputs: new SqlExperimentInputRepository(db, dialect),
    series: new SqlSeriesRepository(db, dialect, decoded),
    assets: new SqlAssetRepository(db),
    artifacts: new SqlArtifactRepository(db),
    registry: new SqlRegistryRepository(db),
    webhooks: new SqlWebhookRepository(db),
    artifactTables: new SqlArtifactTableRepository(db),
    codePanels: new SqlCodePanelRepository(db),
    dashboards: new SqlDashboardRepository(db),
    optimizations: new SqlOptimizationRepository(db),
    clientBatches: new SqlClientBatchRepository(db),
    audit: new SqlAuditRepository(db),
  };
}

/** The one SQL store, for SQLite and PostgreSQL alike. */
export class SqlStore implements Store {
  readonly tenancy;
  readonly sessions;
  readonly projects;
  readonly experiments;
  readonly values;
  readonly inputs;
  readonly series;
  readonly assets;
  readonly artifacts;
  readonly registry;
  readonly webhooks;
  readonly artifactTables;
  readonly codePanels;
  readonly dashboards;
  readonly optimizations;
  readonly clientBatches;
  readonly audit;

  /** Decoded sealed blocks, shared by the store's repositories and those of its transactions. */
  private readonly decoded: DecodedBlockCache;

  private constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: SqlDialect,
    seriesCacheBytes: number,
    seriesCacheIdleMillis: number | undefined,
  ) {
    this.decoded = new DecodedBlockCache(seriesCacheBytes, seriesCacheIdleMillis);
    const repos = repositories(db, dialect, this.decoded);
    this.tenancy = repos.tenancy;
    this.sessions = repos.sessions;
    this.projects = repos.projects;
    this.experiments = repos.experiments;
    this.values = repos.values;
    this.inputs = repos.inputs;
    this.series = repos.series;
    this.assets = repos.assets;
    this.artifacts = repos.artifacts;
    this.registry = repos.registry;
    this.webhooks = repos.webhooks;
    this.artifactTables = repos.artifactTables;
    this.codePanels = repos.codePanels;
    this.dashboards = repos.dashboards;
    this.optimizations = repos.optimizations;
    this.clientBatches = repos.clientBatches;
    this.audit = repos.audit;
  }

  /** Opens the database named by URL (`sqlite:<file>` or `postgres://…`) and migrates it. */
  /**
   * `seriesCacheBytes` bounds the decoded sealed blocks kept for chart reads (44 bytes a point):
   * a dashboard of 100 runs × 5 metrics × 10,000 steps holds 220 MB of them.
   */
  static async open(
    url: string,
    sqlite: SqliteOptions = { synchronous: 'full' },
    {
      seriesCacheBytes = DECODED_BLOCK_CACHE_BYTES,
      seriesCacheIdleMillis,
      connectTimeoutMillis,
      poolSize,
    }: { seriesCacheBytes?: number; seriesCacheIdleMillis?: number } & PostgresOptions = {},
  ): Promise<SqlStore> {
    const opened = openByUrl(url, sqlite, { connectTimeoutMillis, poolSize });
    const store = new SqlStore(opened.db, opened.dialect, seriesCacheBytes, seriesCacheIdleMillis);
    await store.migrate();
    return store;
  }

  async migrate(): Promise<void> {
    // Kysely looks for its migration tables in every schema it can see unless told which one, so
    // on PostgreSQL another schema's kysely_migration table (another Cairn, a parallel test
    // suite) would make it skip creating ours. Name the schema the search_path resolves to.
    const migrationTableSchema =
      this.dialect.name === 'postgres'
        ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(this.db)).rows[0]?.schema
        : undefined;
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider(this.dialect),
      migrationTableSchema,
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }

  get serialisesWrites(): boolean {
    return this.dialect.name === 'sqlite';
  }

  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => work(repositories(trx, this.dialect, this.decoded)));
  }

  async referencedBlobKeys(keys: readonly string[]): Promise<Set<string>> {
    const referenced = new Set<string>();
    // One bind parameter per key; three tables share the statement's limit.
    const page = Math.floor(this.dialect.maxBindParameters / 3);
    for (let i = 0; i < keys.length; i += page) {
      const some = keys.slice(i, i + page);
      const rows = await this.db
        .selectFrom('assets')
        .select('blob_key')
        .where('blob_key', 'in', some)
        .union((db) => db.selectFrom('artifact_tables').select('blob_key').where('blob_key', 'in', some))
        .union((db) => db.selectFrom('code_panels').select('blob_key').where('blob_key', 'in', some))
        .execute();
      for (const row of rows) if (row.blob_key !== null) referenced.add(row.blob_key);
    }
    return referenced;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

function openByUrl(url: string, sqlite: SqliteOptions, postgres: PostgresOptions): OpenedDatabase {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return openPostgres(url, postgres);
  const file = sqliteFileOf(url);
  if (file !== undefined) return openSqlite(file, sqlite);
  throw new Error(`unsupported database URL ${url}: use sqlite:<file> or postgres://…`);
}
