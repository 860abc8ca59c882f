import { Readable } from 'node:stream';
import type { BlobStore } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type { ArtifactTable, ArtifactTableInfo, TableCell, TableColumn } from './entities.js';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { newHexId } from './ids.js';
import { type Principal, requireScope } from './principal.js';
import * as rules from './rules.js';
import type { Repositories, Store } from './store.port.js';
import {
  checkColumns,
  checkDescription,
  checkRows,
  decodeRow,
  encodeRows,
  rowByteRange,
  splitLines,
} from './table-rows.js';

/**
 * A table missing from an experiment the caller can see. Still a plain "not found" to facades that
 * do not care; Foundry's tells it (ExperimentArtifactNotFound) from a missing experiment.
 */
export class ArtifactTableNotFoundError extends NotFoundError {}

/** Largest page of rows one read returns; whole tables are read with `openRows`. */
export const MAX_TABLE_PAGE_ROWS = 10_000;
/** Rows per batch when a whole table is streamed (e.g. into Parquet row groups). */
export const TABLE_STREAM_BATCH_ROWS = 10_000;

export interface TableInput {
  description?: string | null;
  columns: readonly { name: string; type: string }[];
  /** Typed cells in column order (see `rowsFromJson` for the JSON wire form). */
  rows: readonly (readonly TableCell[])[];
}

export interface TablePage {
  table: ArtifactTableInfo;
  rows: TableCell[][];
}

export interface TableRowStream {
  table: ArtifactTableInfo;
  /** Every row in order, in batches of at most TABLE_STREAM_BATCH_ROWS. */
  batches: AsyncIterable<TableCell[][]>;
}

/**
 * Table artifacts of experiments: named tables of typed columns (see table-rows.ts for the rules
 * and the stored form). Logging a table under a name that exists replaces it whole.
 */
export class ArtifactTablesService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
    private readonly maxStoredBytes: number,
  ) {}

  /**
   * Logs a table, replacing any table of the same name. The rows are checked whole first, then
   * written to a blob of their own, and the metadata row is committed last: a reader sees the old
   * table or the new one, never a mix, and a failed write leaves the old table as it was. The
   * replaced rows' blob goes after the commit.
   */
  async put(
    principal: Principal,
    key: string,
    name: string,
    input: TableInput,
  ): Promise<{ table: ArtifactTableInfo; replaced: boolean }> {
    requireScope(principal, 'write');
    rules.entryName('table', name);
    const experiment = await this.experiments.writable(this.store, principal, key);
    const columns = checkColumns(input.columns);
    const description = checkDescription(input.description);
    checkRows(columns, input.rows);

    const blobKey = tableBlobKey(experiment.id, newHexId());
    const encoded = encodeRows(columns, input.rows);
    const { size } = await this.blobs.put(blobKey, Readable.from(encoded.chunks), { maxBytes: this.maxStoredBytes });
    const now = this.clock.now();
    const table: ArtifactTable = {
      experimentId: experiment.id,
      name,
      description,
      columns,
      rowCount: input.rows.length,
      sizeBytes: size,
      createdAt: now,
      updatedAt: now,
      blobKey,
      rowIndex: encoded.rowIndex,
    };
    let old: ArtifactTable | undefined;
    try {
      old = await this.store.transaction(async (tx) => {
        const current = await this.experiments.writable(tx, principal, key);
        // Touching the experiment first locks its row (PostgreSQL): concurrent loggings of one
        // experiment's tables queue here, so each sees the blob key it replaces.
        await tx.experiments.update(current.id, { updatedAt: now });
        const previous = await tx.artifactTables.get(current.id, name);
        await tx.artifactTables.put(table);
        return previous;
      });
    } catch (error) {
      await this.blobs.delete(blobKey);
      throw error;
    }
    if (old) await this.blobs.delete(old.blobKey);
    const info = infoOf(table);
    return { table: old ? { ...info, createdAt: old.createdAt } : info, replaced: old !== undefined };
  }

  /** The experiment's tables, ordered by name. */
  async list(principal: Principal, key: string): Promise<ArtifactTableInfo[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.artifactTables.list(experiment.id);
  }

  async get(principal: Principal, key: string, name: string): Promise<ArtifactTableInfo> {
    requireScope(principal, 'read');
    return infoOf(await this.find(this.store, principal, key, name));
  }

  /** Rows [offset, offset + limit) of a table; an offset past the end gives no rows. */
  async readRows(
    principal: Principal,
    key: string,
    name: string,
    page: { offset?: number; limit?: number } = {},
  ): Promise<TablePage> {
    requireScope(principal, 'read');
    const offset = page.offset ?? 0;
    const limit = page.limit ?? 100;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`offset must be a non-negative integer, got ${offset}`);
    }
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_TABLE_PAGE_ROWS) {
      throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_TABLE_PAGE_ROWS}, got ${limit}`);
    }
    let skip = 0;
    const { table, stream } = await this.open(principal, key, name, (t) => {
      if (offset >= t.rowCount) return null;
      const range = rowByteRange(t, offset, limit);
      skip = range.skip;
      return { start: range.start, end: range.end };
    });
    const info = infoOf(table);
    if (!stream) return { table: info, rows: [] };
    const rows: TableCell[][] = [];
    let seen = 0;
    for await (const line of splitLines(stream)) {
      if (seen++ < skip) continue;
      rows.push(decodeRow(table.columns, line));
      if (rows.length === limit) break;
    }
    return { table: info, rows };
  }

  /**
   * The whole table as a stream of row batches. The table is found and its blob opened before
   * this returns, so a missing table fails here, before a caller has started a response.
   */
  async openRows(principal: Principal, key: string, name: string): Promise<TableRowStream> {
    requireScope(principal, 'read');
    const { table, stream } = await this.open(principal, key, name, () => undefined);
    return { table: infoOf(table), batches: batchRows(table.columns, stream ?? Readable.from([])) };
  }

  async delete(principal: Principal, key: string, name: string): Promise<void> {
    requireScope(principal, 'write');
    const blobKey = await this.store.transaction(async (tx) => {
      const table = await this.find(tx, principal, key, name, true);
      await tx.artifactTables.delete(table.experimentId, name);
      return table.blobKey;
    });
    await this.blobs.delete(blobKey);
  }

  /**
   * Finds the table and opens its blob (a byte range of it, or all of it when `range` gives
   * undefined; `null` opens nothing). A reader that found the metadata of a table just replaced
   * may find its blob already deleted: it then reads the metadata again, once.
   */
  private async open(
    principal: Principal,
    key: string,
    name: string,
    range: (table: ArtifactTable) => { start: number; end: number } | undefined | null,
  ): Promise<{ table: ArtifactTable; stream: Readable | undefined }> {
    for (let attempt = 0; ; attempt++) {
      const table = await this.find(this.store, principal, key, name);
      const wanted = range(table);
      if (wanted === null) return { table, stream: undefined };
      // An empty table has an empty blob, and a byte range of nothing is no range at all.
      if (table.sizeBytes === 0) return { table, stream: Readable.from([]) };
      const stream = await this.blobs.get(table.blobKey, wanted);
      if (stream) return { table, stream };
      if (attempt > 0)
        throw new Error(`the rows of table "${name}" (${table.blobKey}) are missing from the blob store`);
    }
  }

  private async find(
    repos: Repositories,
    principal: Principal,
    key: string,
    name: string,
    write = false,
  ): Promise<ArtifactTable> {
    const experiment = write
      ? await this.experiments.writable(repos, principal, key)
      : await this.experiments.readable(repos, principal, key);
    const table = await repos.artifactTables.get(experiment.id, name);
    if (!table) throw new ArtifactTableNotFoundError(`table "${name}" not found in experiment ${key}`);
    return table;
  }
}

function infoOf(table: ArtifactTable): ArtifactTableInfo {
  const { rowIndex: _rowIndex, ...info } = table;
  return info;
}

async function* batchRows(columns: readonly TableColumn[], stream: Readable): AsyncGenerator<TableCell[][]> {
  let batch: TableCell[][] = [];
  for await (const line of splitLines(stream)) {
    batch.push(decodeRow(columns, line));
    if (batch.length === TABLE_STREAM_BATCH_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Where one logging of a table keeps its rows in the blob store. */
export function tableBlobKey(experimentId: string, id: string): string {
  return `experiments/${experimentId}/tables/${id}`;
}
