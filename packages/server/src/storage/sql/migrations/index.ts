import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { SqlDialect } from '../dialect.js';
import { initialSchema } from './0001-initial-schema.js';
import { projectShareLinks } from './0002-project-share-links.js';
import { experimentSearch } from './0003-experiment-search.js';
import { modelRegistry } from './0004-model-registry.js';
import { artifacts } from './0005-artifacts.js';
import { panelsDashboards } from './0006-panels-dashboards.js';
import { artifactTables } from './0007-artifact-tables.js';
import { clientlib } from './0008-clientlib.js';
import { projectKeys } from './0009-project-keys.js';
import { seriesBlockExtents } from './0010-series-block-extents.js';
import { outputLines } from './0011-output-lines.js';
import { sessions } from './0012-sessions.js';
import { mlflow } from './0013-mlflow.js';
import { seriesTailFrames } from './0014-series-tail-frames.js';
import { keyExpiryAudit } from './0015-key-expiry-audit.js';
import { workspaceUsage } from './0016-workspace-usage.js';
import { blobKeyIndexes } from './0017-blob-key-indexes.js';
import { seriesExperimentKeys } from './0018-series-experiment-keys.js';
import { severalNodes } from './0019-several-nodes.js';

/** Numbered migrations, frozen once landed. Each receives the dialect for its few differences. */
export type DialectMigration = (db: Kysely<unknown>, dialect: SqlDialect) => Promise<void>;

const migrations: Record<string, DialectMigration> = {
  '0001-initial-schema': initialSchema,
  '0002-project-share-links': projectShareLinks,
  '0003-experiment-search': experimentSearch,
  '0004-model-registry': modelRegistry,
  '0005-artifacts': artifacts,
  '0006-panels-dashboards': panelsDashboards,
  '0007-artifact-tables': artifactTables,
  '0008-clientlib': clientlib,
  '0009-project-keys': projectKeys,
  '0010-series-block-extents': seriesBlockExtents,
  '0011-output-lines': outputLines,
  '0012-sessions': sessions,
  '0013-mlflow': mlflow,
  '0014-series-tail-frames': seriesTailFrames,
  '0015-key-expiry-audit': keyExpiryAudit,
  '0016-workspace-usage': workspaceUsage,
  '0017-blob-key-indexes': blobKeyIndexes,
  '0018-series-experiment-keys': seriesExperimentKeys,
  '0019-several-nodes': severalNodes,
};

export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return Object.fromEntries(
        Object.entries(migrations).map(([name, up]) => [name, { up: (db: Kysely<unknown>) => up(db, dialect) }]),
      );
    },
  };
}
