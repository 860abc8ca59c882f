import { randomBytes } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import type {
  DownsampledSeries,
  MetricColumns,
  MetricPoint,
  MetricPointInput,
  SeriesSummary,
  SeriesWindow,
  SummaryPoint,
} from '../../core/entities.js';
import type { AppendOptions, SeriesQuery, SeriesReadOptions, SeriesRepository } from '../../core/store.port.js';
import { atomically, inSnapshot } from '../sql/atomic.js';
import type { Database } from '../sql/database.js';
import { type SqlDialect, toBytes } from '../sql/dialect.js';
import { countKeyChanges, keyDelta } from '../sql/key-catalogue.js';
import { allocateSequence } from '../sql/sequence.js';
import {
  appendTailFrame,
  type BlockColumns,
  decodeBlockColumns,
  decodeTail,
  decodeTailColumns,
  encodeBlock,
  type StoredPoint,
} from './block-codec.js';
import {
  CHUNK_SIZE,
  type ChunkSummary,
  decodeChunkSummaries,
  downsampleChunks,
  encodeChunkSummaries,
  summarizeChunks,
} from './chunk-summary.js';
import { DecodedBlockCache } from './decoded-block.cache.js';
import { BucketScratch, computeWindow, type RawAxis, rawAxisOf, type Segment, segmentOf } from './series-window.js';

/**
 * Points per sealed block. Large enough that the per-block row and index cost (~100 bytes) is
 * well under a byte per point, small enough that a page read decodes little it does not return.
 */
export const BLOCK_SIZE = 4096;

/**
 * Points are sealed into a block as soon as a series has this many unsealed ones (its tail plus
 * the batch being appended), so each point is sealed at most once and a tail, which costs ~13
 * bytes a point uncompressed and is rewritten with its series row on every append, stays a few
 * KiB. Full BLOCK_SIZE blocks are cut first; a remainder of at least this size becomes a shorter
 * block, a smaller one stays behind.
 */
export const DIRECT_SEAL_MIN = 256;

/**
 * Decoded blocks kept for chart reads. 64 MiB holds ~1.5 M points (44 bytes each decoded): a
 * dashboard of 50 series of 10k points takes a third of it, and the cost is bounded whatever the
 * number of series.
 */
export const DECODED_BLOCK_CACHE_BYTES = 64 * 1024 * 1024;

type SeriesRow = Database['series'];

type BlockRow = Database['series_blocks'];

/**
 * Most rows per multi-row INSERT of series or blocks, below the bind-parameter limit: a sealed
 * block carries up to ~40 KiB of payload, so this also keeps one statement a few MiB at most.
 */
const MAX_ROWS_PER_INSERT = 64;

/** The series row without its tail: what summary reads select. */
type SummaryRow = Omit<SeriesRow, 'tail_payload'>;

const SUMMARY_COLUMNS = [
  'id',
  'experiment_id',
  'name',
  'contexts',
  'point_count',
  'block_count',
  'tail_count',
  ...(['min', 'max', 'last', 'latest'] as const).flatMap(
    (p) => [`${p}_value`, `${p}_step`, `${p}_timestamp`, `${p}_context`, `${p}_offset`] as const,
  ),
] as const satisfies readonly (keyof SummaryRow)[];

/** A series row as the code works with it: NaN where the database holds NULL. */
type SeriesState = Omit<SeriesRow, 'min_value' | 'max_value' | 'last_value' | 'latest_value'> & {
  min_value: number;
  max_value: number;
  last_value: number;
  latest_value: number;
};

/**
 * Series store on the SQL database: recent points go to the series row's tail (a frame of
 * encoded columns per append); once a series holds DIRECT_SEAL_MIN unsealed points they are
 * sealed into compressed blocks, in the same transaction as the write that filled it. Appends run in the caller's transaction or in
 * their own; multi-statement reads run against one snapshot, so a reader never sees points
 * half-way between the tail and a block.
 *
 * NaN is a legitimate metric value but SQLite stores a bound NaN as NULL, so value columns are
 * nullable and NULL means NaN on both backends (a point always has a value).
 */
export class SqlSeriesRepository implements SeriesRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
    /** Shared by every repository of one store, those of its transactions included. */
    private readonly decoded: DecodedBlockCache = new DecodedBlockCache(DECODED_BLOCK_CACHE_BYTES),
  ) {}

  async append(experimentId: string, points: MetricPointInput[], options: AppendOptions = {}): Promise<number[]> {
    if (points.length === 0) return [];
    return atomically(this.db, (db) =>
      new SqlSeriesRepository(db, this.dialect, this.decoded).appendInTransaction(experimentId, points, options),
    );
  }

  private async appendInTransaction(
    experimentId: string,
    points: MetricPointInput[],
    { updatedAt }: AppendOptions,
  ): Promise<number[]> {
    // Taken first: on PostgreSQL the experiment row lock serialises writers to its series.
    const first = await allocateSequence(this.db, experimentId, points.length, updatedAt);
    const offsets = points.map((_, i) => first + i);

    // Each series' points as indexes into `points` (point i has offset first + i): no object per
    // point. A batch usually holds a series' points in one run, so the map is consulted per run.
    const byName = new Map<string, number[]>();
    let run: number[] | undefined;
    let runName: string | undefined;
    for (let i = 0; i < points.length; i++) {
      const name = (points[i] as MetricPointInput).name;
      if (name !== runName) {
        runName = name;
        run = byName.get(name);
        if (!run) {
          run = [];
          byName.set(name, run);
        }
      }
      (run as number[]).push(i);
    }

    const existing = await this.db
      .selectFrom('series')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .where('name', 'in', [...byName.keys()])
      .execute();
    const rows = new Map(existing.map((row) => [row.name, fromColumns(row)]));

    // Rows and blocks are written after all series were appended to, a few multi-row statements
    // for the whole batch: on PostgreSQL each statement is a round trip, and a 25-series request
    // used to send 50 of them.
    const created: SeriesState[] = [];
    const changed: SeriesState[] = [];
    const blocks: BlockRow[] = [];
    for (const [name, indexes] of byName) {
      const current = rows.get(name);
      const row = appendToSeries(experimentId, name, current, points, indexes, first, blocks);
      (current ? changed : created).push(row);
    }
    // New series rows first: their blocks reference them.
    await this.insertRows('series', created.map(toColumns));
    await this.insertRows('series_blocks', blocks);
    await this.updateSeriesRows(changed);
    await countKeyChanges(
      this.db,
      this.dialect,
      experimentId,
      created.map((row) => keyDelta('metric', row.name, 1)),
    );
    return offsets;
  }

  async listSummaries(experimentId: string): Promise<SeriesSummary[]> {
    const rows = await this.db
      .selectFrom('series')
      .select(SUMMARY_COLUMNS)
      .where('experiment_id', '=', experimentId)
      .orderBy('name')
      .execute();
    return rows.map((row) => toSummary(fromColumns(row)));
  }

  async listSummariesOf(experimentIds: string[], names?: readonly string[]): Promise<Map<string, SeriesSummary[]>> {
    const byExperiment = new Map<string, SeriesSummary[]>(experimentIds.map((id) => [id, []]));
    if (experimentIds.length === 0 || names?.length === 0) return byExperiment;
    let query = this.db.selectFrom('series').select(SUMMARY_COLUMNS).where('experiment_id', 'in', experimentIds);
    if (names) query = query.where('name', 'in', [...names]);
    const rows = await query.orderBy('experiment_id').orderBy('name').execute();
    for (const row of rows) byExperiment.get(row.experiment_id)?.push(toSummary(fromColumns(row)));
    return byExperiment;
  }

  async getSummary(experimentId: string, name: string): Promise<SeriesSummary | undefined> {
    const row = await this.db
      .selectFrom('series')
      .select(SUMMARY_COLUMNS)
      .where('experiment_id', '=', experimentId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toSummary(fromColumns(row));
  }

  /**
   * Uses decoded blocks already cached but adds none: its callers (exports, MLflow histories,
   * run comparisons) walk many series once, and filling the cache with them would evict the
   * series people are looking at and grow the server's memory to the cache's budget.
   */
  async readPoints(experimentId: string, name: string, options: SeriesReadOptions = {}): Promise<MetricPoint[]> {
    return pointsOfColumns(await this.readColumnsOf(experimentId, name, options, false));
  }

  /**
   * Reads the series row, its block index and only the payloads of the blocks that overlap the
   * page (or the step range) and are not already decoded in the cache, in one snapshot (or, when
   * every block is cached, with the row's statement alone); the points are then copied column by
   * column, never as an object each.
   */
  async readColumns(experimentId: string, name: string, options: SeriesReadOptions = {}): Promise<MetricColumns> {
    return this.readColumnsOf(experimentId, name, options, true);
  }

  private async readColumnsOf(
    experimentId: string,
    name: string,
    options: SeriesReadOptions,
    fillCache: boolean,
  ): Promise<MetricColumns> {
    const byStep = options.stepFrom !== undefined || options.stepTo !== undefined;
    const from = options.stepFrom ?? Number.NEGATIVE_INFINITY;
    const to = options.stepTo ?? Number.POSITIVE_INFINITY;
    const skip = Math.max(0, options.offset ?? 0);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return emptyColumns(await this.totalOf(experimentId, name));
    const end = skip + limit;
    // Blocks read inside a caller's transaction may yet be rolled back: they are not cached.
    const cacheable = fillCache && !this.db.isTransaction;
    const plan = async (db: Kysely<Database>, row: SeriesRow, index: readonly BlockIndexEntry[]) => {
      const wanted: { blockNo: number; position: number }[] = [];
      let position = 0;
      for (const block of index) {
        const overlaps = byStep
          ? block.min_step !== null && block.max_step !== null && block.max_step >= from && block.min_step <= to
          : position + block.point_count > skip && position < end;
        if (overlaps) wanted.push({ blockNo: block.block_no, position });
        position += block.point_count;
      }
      const segments = new Map<number, Segment>();
      const missing: number[] = [];
      for (const { blockNo } of wanted) {
        const segment = this.decoded.get(row.id, blockNo);
        if (segment) segments.set(blockNo, segment);
        else missing.push(blockNo);
      }
      // Block numbers of one series are dense: a range selects the missing ones in one statement.
      const payloads =
        missing.length === 0
          ? []
          : await db
              .selectFrom('series_blocks')
              .select(['block_no', 'payload'])
              .where('experiment_id', '=', experimentId)
              .where('series_id', '=', row.id)
              .where('block_no', '>=', missing[0] as number)
              .where('block_no', '<=', missing[missing.length - 1] as number)
              .execute();
      const tail = (byStep || end > position) && row.tail_payload ? toBytes(row.tail_payload) : null;
      return { row, wanted, segments, payloads, tail, tailPosition: position };
    };
    // Hot path: when every block of the series is decoded in the cache, the series row alone
    // (one statement, so one snapshot of its block count and tail) says everything else, since
    // blocks are immutable and numbered densely from 0; no transaction is needed.
    let fetched: Awaited<ReturnType<typeof plan>> | undefined;
    if (!this.db.isTransaction) {
      const row = await findSeries(this.db, experimentId, name);
      if (!row) return emptyColumns(0);
      const index = this.cachedIndex(row.id, row.block_count);
      // Synchronous from the index to the cache lookups in `plan`: nothing is evicted in between.
      if (index) fetched = await plan(this.db, row, index);
    }
    // Otherwise the series row, its blocks and its tail must come from one snapshot: a seal
    // committed between two of these reads would hide (or repeat) a block's worth of points.
    fetched ??= await inSnapshot(this.db, async (db) => {
      const row = await findSeries(db, experimentId, name);
      if (!row) return undefined;
      const index = this.cachedIndex(row.id, row.block_count) ?? (await blockIndex(db, experimentId, row.id));
      return plan(db, row, index);
    });
    if (!fetched) return emptyColumns(0);
    const { row, segments } = fetched;
    for (const { block_no, payload } of fetched.payloads) {
      if (segments.has(block_no)) continue;
      const segment = segmentOf(decodeBlockColumns(toBytes(payload)));
      segments.set(block_no, segment);
      if (cacheable) this.decoded.put(row.id, block_no, segment);
    }
    const parts: { columns: BlockColumns; position: number }[] = [];
    for (const { blockNo, position } of fetched.wanted) {
      parts.push({ columns: (segments.get(blockNo) as Segment).columns, position });
    }
    if (fetched.tail) parts.push({ columns: decodeTailColumns(fetched.tail), position: fetched.tailPosition });
    const contexts = (JSON.parse(row.contexts) as string[]).map((c) => (c === '' ? null : c));
    return byStep
      ? stepRangeColumns(row.point_count, contexts, parts, from, to, skip, limit)
      : pageColumns(row.point_count, contexts, parts, skip, end);
  }

  /** The block index of a series rebuilt from the decoded-block cache, if every block is there. */
  private cachedIndex(seriesId: string, blockCount: number): BlockIndexEntry[] | undefined {
    const index: BlockIndexEntry[] = [];
    for (let blockNo = 0; blockNo < blockCount; blockNo++) {
      const segment = this.decoded.get(seriesId, blockNo);
      if (!segment) return undefined;
      const { step } = segment;
      index.push({
        block_no: blockNo,
        point_count: segment.columns.count,
        min_step: step.count > 0 ? step.min : null,
        max_step: step.count > 0 ? step.max : null,
      });
    }
    return index;
  }

  private async totalOf(experimentId: string, name: string): Promise<number> {
    return (await this.getSummary(experimentId, name))?.count ?? 0;
  }

  async downsample(experimentId: string, name: string, buckets: number): Promise<DownsampledSeries> {
    const fetched = await inSnapshot(this.db, async (db) => {
      const row = await findSeries(db, experimentId, name);
      if (!row) return undefined;
      // Few points, or buckets finer than the stored chunks: work from the points themselves.
      if (row.point_count <= 2 * buckets || row.point_count < buckets * CHUNK_SIZE) {
        return { total: row.point_count, chunks: undefined };
      }
      const blocks = await db
        .selectFrom('series_blocks')
        .select('chunk_summaries')
        .where('experiment_id', '=', experimentId)
        .where('series_id', '=', row.id)
        .orderBy('block_no')
        .execute();
      const tail = decodeTail(row.tail_payload);
      const chunks: ChunkSummary[] = [];
      for (const block of blocks) chunks.push(...decodeChunkSummaries(toBytes(block.chunk_summaries)));
      chunks.push(...summarizeChunks(tail));
      return { total: row.point_count, chunks };
    });
    if (!fetched) return { total: 0, exact: true, points: [] };
    if (!fetched.chunks) {
      // Read after the snapshot closed: a concurrent append can only add points, and every point
      // returned is exact either way.
      const points = (await this.readPoints(experimentId, name)).map(({ offset, value, step, timestamp }) => ({
        offset,
        value,
        step,
        timestamp,
      }));
      if (points.length <= 2 * buckets) return { total: points.length, exact: true, points };
      // Buckets finer than a chunk: bucket the points themselves.
      const size = Math.ceil(points.length / buckets);
      return {
        total: points.length,
        exact: false,
        points: downsampleChunks(summarizeChunks(points, size), points.length, buckets),
      };
    }
    return { total: fetched.total, exact: false, points: downsampleChunks(fetched.chunks, fetched.total, buckets) };
  }

  async query(query: SeriesQuery): Promise<SeriesWindow[]> {
    const startTimes = new Map(query.experiments.map((e) => [e.id, e.startTime]));
    const metrics = [...new Set(query.metrics)];
    if (startTimes.size === 0 || metrics.length === 0) return [];
    const axis = rawAxisOf(query.x);
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const to = query.to ?? Number.POSITIVE_INFINITY;
    const originOf = (experimentId: string) => (query.x === 'relative' ? (startTimes.get(experimentId) ?? 0) : 0);
    // Blocks read inside a caller's transaction may yet be rolled back: they are not cached.
    const cacheable = !this.db.isTransaction;

    const fetched = await inSnapshot(this.db, async (db) => {
      const rows = await db
        .selectFrom('series')
        .select(['id', 'experiment_id', 'name', 'point_count', 'block_count', 'tail_payload'])
        .where('experiment_id', 'in', [...startTimes.keys()])
        .where('name', 'in', metrics)
        .execute();
      const segments = new Map<string, Segment>();
      const missing: MissingBlocks[] = [];
      for (const row of rows) {
        const blockNos: number[] = [];
        for (let blockNo = 0; blockNo < row.block_count; blockNo++) {
          const segment = this.decoded.get(row.id, blockNo);
          if (segment) segments.set(segmentKey(row.id, blockNo), segment);
          else blockNos.push(blockNo);
        }
        if (blockNos.length > 0) {
          missing.push({
            experimentId: row.experiment_id,
            seriesId: row.id,
            blockNos,
            origin: originOf(row.experiment_id),
          });
        }
      }
      const blocks = await this.fetchBlocks(db, missing, axis, from, to);
      return { rows, segments, blocks };
    });

    for (const block of fetched.blocks) {
      const segment = segmentOf(decodeBlockColumns(toBytes(block.payload)));
      fetched.segments.set(segmentKey(block.series_id, block.block_no), segment);
      if (cacheable) this.decoded.put(block.series_id, block.block_no, segment);
    }
    const bySeries = new Map(fetched.rows.map((row) => [`${row.experiment_id}\u0000${row.name}`, row]));
    const scratch = new BucketScratch();
    const windows: SeriesWindow[] = [];
    for (const experimentId of startTimes.keys()) {
      for (const metric of metrics) {
        const row = bySeries.get(`${experimentId}\u0000${metric}`);
        if (!row) continue;
        // Blocks by number, then the tail: offset order, which the window's tie rules rely on.
        const segments: Segment[] = [];
        for (let blockNo = 0; blockNo < row.block_count; blockNo++) {
          // A block missing here was pruned by its extents in SQL: none of its points is in range.
          const segment = fetched.segments.get(segmentKey(row.id, blockNo));
          if (segment) segments.push(segment);
        }
        // Contexts take no part in chart reads.
        if (row.tail_payload) segments.push(segmentOf(decodeTailColumns(toBytes(row.tail_payload))));
        const window = computeWindow(
          segments,
          { axis, origin: originOf(experimentId), from, to, buckets: query.buckets },
          scratch,
        );
        windows.push({ experimentId, metric, total: row.point_count, ...window });
      }
    }
    return windows;
  }

  /**
   * Payloads of the blocks not in the cache, leaving out those whose stored extent on the axis
   * misses [from, to]. Blocks sealed before their timestamp and epoch extents were kept (NULL
   * min_timestamp) are always fetched on those axes.
   */
  private async fetchBlocks(
    db: Kysely<Database>,
    missing: readonly MissingBlocks[],
    axis: RawAxis,
    from: number,
    to: number,
  ): Promise<{ series_id: string; block_no: number; payload: Uint8Array }[]> {
    const result: { series_id: string; block_no: number; payload: Uint8Array }[] = [];
    // Each series costs its experiment, its id, its block numbers and up to two bounds in bind parameters.
    const budget = Math.floor(this.dialect.maxBindParameters / 2);
    let start = 0;
    while (start < missing.length) {
      let used = 0;
      let end = start;
      while (
        end < missing.length &&
        (end === start || used + (missing[end] as MissingBlocks).blockNos.length + 4 <= budget)
      ) {
        used += (missing[end] as MissingBlocks).blockNos.length + 4;
        end++;
      }
      const group = missing.slice(start, end);
      start = end;
      const rows = await db
        .selectFrom('series_blocks')
        .select(['series_id', 'block_no', 'payload'])
        .where((eb) =>
          eb.or(
            group.map(({ experimentId, seriesId, blockNos, origin }) => {
              // The extent columns hold integers: fractional bounds are rounded inwards, which
              // keeps the comparison exact (and PostgreSQL compares bigint with integers only).
              const low = Math.ceil(from + origin);
              const high = Math.floor(to + origin);
              const conditions = [
                eb('experiment_id', '=', experimentId),
                eb('series_id', '=', seriesId),
                eb('block_no', 'in', blockNos),
              ];
              if (axis === 'step') {
                conditions.push(eb('min_step', 'is not', null));
                if (from !== Number.NEGATIVE_INFINITY) conditions.push(eb('max_step', '>=', low));
                if (to !== Number.POSITIVE_INFINITY) conditions.push(eb('min_step', '<=', high));
              } else {
                const [minColumn, maxColumn] =
                  axis === 'epoch'
                    ? (['min_epoch', 'max_epoch'] as const)
                    : (['min_timestamp', 'max_timestamp'] as const);
                const known = [eb(minColumn, 'is not', null)];
                if (from !== Number.NEGATIVE_INFINITY) known.push(eb(maxColumn, '>=', low));
                if (to !== Number.POSITIVE_INFINITY) known.push(eb(minColumn, '<=', high));
                conditions.push(eb.or([eb('min_timestamp', 'is', null), eb.and(known)]));
              }
              return eb.and(conditions);
            }),
          ),
        )
        .execute();
      result.push(...rows);
    }
    return result;
  }

  /** Inserts rows in multi-row statements, as many per statement as the bind parameters allow. */
  private async insertRows<T extends 'series' | 'series_blocks'>(table: T, rows: Database[T][]): Promise<void> {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0] as object).length;
    const perStatement = Math.min(MAX_ROWS_PER_INSERT, Math.floor(this.dialect.maxBindParameters / columns));
    for (let i = 0; i < rows.length; i += perStatement) {
      // Kysely's insert types cannot follow a table name chosen by a type parameter.
      await this.db
        .insertInto(table)
        .values(rows.slice(i, i + perStatement) as never)
        .execute();
    }
  }

  /**
   * Writes the summary columns of changed series rows with hand-compiled statements: Kysely
   * compiling a thirty-column update per series per request cost more than the update itself on
   * small-batch logging. SQLite runs one cached statement per row (in process, no round trip);
   * PostgreSQL one statement for all rows, each row a JSON object that json_populate_recordset
   * types by the table's own row type.
   */
  private async updateSeriesRows(rows: readonly SeriesState[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.dialect.name === 'postgres') {
      const json = JSON.stringify(rows.map(toColumns), postgresJsonValue);
      await this.db.executeQuery(CompiledQuery.raw(this.seriesUpdateSql(), [json]));
      return;
    }
    for (const state of rows) {
      const row = toColumns(state);
      const parameters = SERIES_UPDATE_COLUMNS.map((column) => row[column]);
      parameters.push(row.experiment_id, row.id);
      await this.db.executeQuery(CompiledQuery.raw(this.seriesUpdateSql(), parameters));
    }
  }

  private seriesUpdateText?: string;

  private seriesUpdateSql(): string {
    if (this.seriesUpdateText === undefined) {
      if (this.dialect.name === 'postgres') {
        const sets = SERIES_UPDATE_COLUMNS.map((column) => `"${column}" = v."${column}"`).join(', ');
        this.seriesUpdateText = `update "series" as s set ${sets} from json_populate_recordset(null::"series", $1::json) as v where s."experiment_id" = v."experiment_id" and s."id" = v."id"`;
      } else {
        const sets = SERIES_UPDATE_COLUMNS.map((column) => `"${column}" = ?`).join(', ');
        this.seriesUpdateText = `update "series" set ${sets} where "experiment_id" = ? and "id" = ?`;
      }
    }
    return this.seriesUpdateText;
  }
}

/**
 * JSON for json_populate_recordset, which reads each field with its column type's text input:
 * bytes as bytea's hex form, NaN and infinities as float8 spells them (JSON has no such numbers).
 */
function postgresJsonValue(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Uint8Array) return `\\x${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('hex')}`;
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : String(value);
  return value;
}

/**
 * Appends one series' entries to its state (a new row when `current` is undefined) and adds the
 * blocks they seal to `blocks`; the caller writes both.
 */
function appendToSeries(
  experimentId: string,
  name: string,
  current: SeriesState | undefined,
  points: readonly MetricPointInput[],
  indexes: readonly number[],
  firstOffset: number,
  blocks: BlockRow[],
): SeriesState {
  const pointAt = (k: number) => points[indexes[k] as number] as MetricPointInput;
  const offsetAt = (k: number) => firstOffset + (indexes[k] as number);
  const row: SeriesState = current ? { ...current } : newSeriesRow(experimentId, name, pointAt(0), offsetAt(0));
  const contexts = JSON.parse(row.contexts) as string[];
  const contextIds = new Map(contexts.map((context, id) => [context, id]));
  const count = indexes.length;
  const stored: StoredPoint[] = new Array(count);
  // One pass keeps the batch's extremes by index; the summary row is folded once per batch,
  // not once per point (the bulk path's hot loop).
  let minAt = -1;
  let maxAt = -1;
  let latestAt = 0;
  let lastContext: string | undefined;
  let lastContextId = 0;
  for (let k = 0; k < count; k++) {
    const point = pointAt(k);
    const context = point.context ?? '';
    // A batch's points mostly share one context: the dictionary is consulted when it changes.
    if (context !== lastContext) {
      let contextId = contextIds.get(context);
      if (contextId === undefined) {
        contextId = contexts.push(context) - 1;
        contextIds.set(context, contextId);
      }
      lastContext = context;
      lastContextId = contextId;
    }
    // Neither driver keeps -0 in a float column (pg sends "0"; SQLite stores integral reals as
    // integers) while a block would: store 0 so a point reads the same before and after sealing.
    const value = point.value === 0 ? 0 : point.value;
    if (!Number.isNaN(value)) {
      if (minAt < 0 || value < pointAt(minAt).value) minAt = k;
      if (maxAt < 0 || value > pointAt(maxAt).value) maxAt = k;
    }
    if (k > 0 && isLaterPoint(point, pointAt(latestAt))) latestAt = k;
    stored[k] = {
      offset: offsetAt(k),
      value,
      step: point.step,
      epoch: point.epoch,
      timestamp: point.timestamp,
      contextId: lastContextId,
    };
  }
  for (const at of new Set([minAt, maxAt, latestAt, count - 1])) {
    if (at < 0) continue;
    foldIntoSummary(row, pointAt(at), offsetAt(at));
  }
  row.contexts = JSON.stringify(contexts);
  row.point_count += stored.length;

  let pending = stored;
  if (row.tail_count + pending.length >= DIRECT_SEAL_MIN) {
    const tail = row.tail_payload ? decodeTail(toBytes(row.tail_payload)) : [];
    const all = tail.length > 0 ? [...tail, ...pending] : pending;
    let start = 0;
    for (; all.length - start >= BLOCK_SIZE; start += BLOCK_SIZE) {
      blocks.push(blockRow(row.experiment_id, row.id, row.block_count++, all.slice(start, start + BLOCK_SIZE)));
    }
    // A big remainder becomes a (shorter) block of its own; a small one waits in the tail.
    if (all.length - start >= DIRECT_SEAL_MIN) {
      blocks.push(blockRow(row.experiment_id, row.id, row.block_count++, all.slice(start)));
      start = all.length;
    }
    pending = all.slice(start);
    row.tail_count = 0;
    row.tail_payload = null;
  }
  if (pending.length > 0) row.tail_payload = appendTailFrame(row.tail_payload && toBytes(row.tail_payload), pending);
  row.tail_count += pending.length;
  return row;
}

/** A sealed block's row: its points encoded, with the extents that let reads skip it. */
function blockRow(experimentId: string, seriesId: string, blockNo: number, points: StoredPoint[]): BlockRow {
  let minStep: number | null = null;
  let maxStep: number | null = null;
  let minEpoch: number | null = null;
  let maxEpoch: number | null = null;
  let minTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  // NaN points take no part in extremes (as in the series summary); a block of NaN alone has
  // none (NULL). Infinities are real extremes and are stored as such.
  let minValue: number | null = null;
  let maxValue: number | null = null;
  for (const p of points) {
    if (p.step !== null) {
      minStep = minStep === null ? p.step : Math.min(minStep, p.step);
      maxStep = maxStep === null ? p.step : Math.max(maxStep, p.step);
    }
    if (p.epoch !== null) {
      minEpoch = minEpoch === null ? p.epoch : Math.min(minEpoch, p.epoch);
      maxEpoch = maxEpoch === null ? p.epoch : Math.max(maxEpoch, p.epoch);
    }
    minTimestamp = Math.min(minTimestamp, p.timestamp);
    maxTimestamp = Math.max(maxTimestamp, p.timestamp);
    if (Number.isNaN(p.value)) continue;
    if (minValue === null || p.value < minValue) minValue = p.value;
    if (maxValue === null || p.value > maxValue) maxValue = p.value;
  }
  return {
    experiment_id: experimentId,
    series_id: seriesId,
    block_no: blockNo,
    point_count: points.length,
    first_offset: (points[0] as StoredPoint).offset,
    last_offset: (points[points.length - 1] as StoredPoint).offset,
    min_step: minStep,
    max_step: maxStep,
    min_timestamp: minTimestamp,
    max_timestamp: maxTimestamp,
    min_epoch: minEpoch,
    max_epoch: maxEpoch,
    min_value: minValue,
    max_value: maxValue,
    payload: encodeBlock(points),
    chunk_summaries: encodeChunkSummaries(summarizeChunks(points)),
  };
}

/** The series row's columns that appends change (all but its id, experiment and name). */
const SERIES_UPDATE_COLUMNS = [
  'contexts',
  'point_count',
  'block_count',
  'tail_count',
  'tail_payload',
  ...(['min', 'max', 'last', 'latest'] as const).flatMap(
    (p) => [`${p}_value`, `${p}_step`, `${p}_timestamp`, `${p}_context`, `${p}_offset`] as const,
  ),
] as const satisfies readonly (keyof SeriesRow)[];

function findSeries(db: Kysely<Database>, experimentId: string, name: string): Promise<SeriesRow | undefined> {
  return db
    .selectFrom('series')
    .selectAll()
    .where('experiment_id', '=', experimentId)
    .where('name', '=', name)
    .executeTakeFirst();
}

interface BlockIndexEntry {
  block_no: number;
  point_count: number;
  min_step: number | null;
  max_step: number | null;
}

function blockIndex(db: Kysely<Database>, experimentId: string, seriesId: string): Promise<BlockIndexEntry[]> {
  return db
    .selectFrom('series_blocks')
    .select(['block_no', 'point_count', 'min_step', 'max_step'])
    .where('experiment_id', '=', experimentId)
    .where('series_id', '=', seriesId)
    .orderBy('block_no')
    .execute();
}

interface MissingBlocks {
  experimentId: string;
  seriesId: string;
  blockNos: number[];
  /** Subtracted from the raw coordinate to give x (see `WindowRequest.origin`). */
  origin: number;
}

function segmentKey(seriesId: string, blockNo: number): string {
  return `${seriesId}:${blockNo}`;
}

function nanToNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

function nullToNan(value: number | null): number {
  return value ?? Number.NaN;
}

type ValueColumn = 'min_value' | 'max_value' | 'last_value' | 'latest_value';

function fromColumns<R extends SummaryRow>(row: R): Omit<R, ValueColumn> & Record<ValueColumn, number> {
  return {
    ...row,
    min_value: nullToNan(row.min_value),
    max_value: nullToNan(row.max_value),
    last_value: nullToNan(row.last_value),
    latest_value: nullToNan(row.latest_value),
  };
}

function toColumns(row: SeriesState): SeriesRow {
  return {
    ...row,
    min_value: nanToNull(row.min_value),
    max_value: nanToNull(row.max_value),
    last_value: nanToNull(row.last_value),
    latest_value: nanToNull(row.latest_value),
  };
}

function newSeriesRow(experimentId: string, name: string, point: MetricPointInput, offset: number): SeriesState {
  const extreme = {
    value: point.value === 0 ? 0 : point.value,
    step: point.step,
    timestamp: point.timestamp,
    context: point.context,
    offset,
  };
  return {
    id: randomBytes(8).toString('hex'),
    experiment_id: experimentId,
    name,
    contexts: '[]',
    point_count: 0,
    block_count: 0,
    tail_count: 0,
    tail_payload: null,
    ...prefixed('min', extreme),
    ...prefixed('max', extreme),
    ...prefixed('last', extreme),
    ...prefixed('latest', extreme),
  };
}

function prefixed<P extends 'min' | 'max' | 'last' | 'latest'>(prefix: P, point: SummaryPoint) {
  return {
    [`${prefix}_value`]: point.value,
    [`${prefix}_step`]: point.step,
    [`${prefix}_timestamp`]: point.timestamp,
    [`${prefix}_context`]: point.context,
    [`${prefix}_offset`]: point.offset,
  } as Pick<SeriesState, `${P}_value` | `${P}_step` | `${P}_timestamp` | `${P}_context` | `${P}_offset`>;
}

/** Min and max ignore NaN unless nothing else was logged; the first extreme logged wins ties. */
function foldIntoSummary(row: SeriesState, point: MetricPointInput, offset: number): void {
  const summary: SummaryPoint = {
    // -0 is stored as 0 (see appendToSeries).
    value: point.value === 0 ? 0 : point.value,
    step: point.step,
    timestamp: point.timestamp,
    context: point.context,
    offset,
  };
  if (point.value < row.min_value || (Number.isNaN(row.min_value) && !Number.isNaN(point.value))) {
    Object.assign(row, prefixed('min', summary));
  }
  if (point.value > row.max_value || (Number.isNaN(row.max_value) && !Number.isNaN(point.value))) {
    Object.assign(row, prefixed('max', summary));
  }
  if (offset >= row.last_offset) Object.assign(row, prefixed('last', summary));
  const latest = { value: row.latest_value, step: row.latest_step, timestamp: row.latest_timestamp };
  if (isLaterPoint(summary, latest)) Object.assign(row, prefixed('latest', summary));
}

/**
 * MLflow's "latest" order: a point is later than the summary's latest when its (step, timestamp,
 * value) is greater, compared in that order; a missing step counts as 0 (MLflow's default step)
 * and NaN as lower than any number. Equal points keep the first logged.
 */
function isLaterPoint(point: PointOrder, than: PointOrder): boolean {
  const step = point.step ?? 0;
  const thanStep = than.step ?? 0;
  if (step !== thanStep) return step > thanStep;
  if (point.timestamp !== than.timestamp) return point.timestamp > than.timestamp;
  if (Number.isNaN(point.value)) return false;
  return Number.isNaN(than.value) || point.value > than.value;
}

type PointOrder = Pick<SummaryPoint, 'value' | 'step' | 'timestamp'>;

function toSummary(row: Omit<SeriesState, 'tail_payload'>): SeriesSummary {
  const pick = (p: 'min' | 'max' | 'last' | 'latest'): SummaryPoint => ({
    value: row[`${p}_value`],
    step: row[`${p}_step`],
    timestamp: row[`${p}_timestamp`],
    context: row[`${p}_context`],
    offset: row[`${p}_offset`],
  });
  return {
    name: row.name,
    count: row.point_count,
    min: pick('min'),
    max: pick('max'),
    last: pick('last'),
    latest: pick('latest'),
  };
}

function emptyColumns(total: number): MetricColumns {
  return {
    total,
    offsets: new Float64Array(0),
    steps: new Float64Array(0),
    epochs: new Float64Array(0),
    timestamps: new Float64Array(0),
    values: new Float64Array(0),
    contextIds: new Uint32Array(0),
    contexts: [],
  };
}

function allocateColumns(total: number, contexts: (string | null)[], count: number): MetricColumns {
  return {
    total,
    offsets: new Float64Array(count),
    steps: new Float64Array(count),
    epochs: new Float64Array(count),
    timestamps: new Float64Array(count),
    values: new Float64Array(count),
    contextIds: new Uint32Array(count),
    contexts,
  };
}

/** Points [skip, end) of the series, from parts that start at the given positions. */
function pageColumns(
  total: number,
  contexts: (string | null)[],
  parts: readonly { columns: BlockColumns; position: number }[],
  skip: number,
  end: number,
): MetricColumns {
  let count = 0;
  for (const { columns, position } of parts) {
    count += Math.max(0, Math.min(end, position + columns.count) - Math.max(skip, position));
  }
  const out = allocateColumns(total, contexts, count);
  let at = 0;
  for (const { columns, position } of parts) {
    const lo = Math.max(skip, position) - position;
    const hi = Math.min(end, position + columns.count) - position;
    if (hi <= lo) continue;
    out.offsets.set(columns.offsets.subarray(lo, hi), at);
    out.steps.set(columns.steps.subarray(lo, hi), at);
    out.epochs.set(columns.epochs.subarray(lo, hi), at);
    out.timestamps.set(columns.timestamps.subarray(lo, hi), at);
    out.values.set(columns.values.subarray(lo, hi), at);
    out.contextIds.set(columns.contextIds.subarray(lo, hi), at);
    at += hi - lo;
  }
  return out;
}

/** The points whose step is in [from, to], after skipping `skip` of them, at most `limit`. */
function stepRangeColumns(
  total: number,
  contexts: (string | null)[],
  parts: readonly { columns: BlockColumns }[],
  from: number,
  to: number,
  skip: number,
  limit: number,
): MetricColumns {
  let bound = 0;
  for (const { columns } of parts) bound += columns.count;
  const out = allocateColumns(total, contexts, Math.min(bound, limit));
  let matched = 0;
  let at = 0;
  for (const { columns } of parts) {
    for (let i = 0; i < columns.count && at < out.offsets.length; i++) {
      const step = columns.steps[i] as number;
      // Absent steps are NaN and fail both comparisons.
      if (!(step >= from && step <= to) || matched++ < skip) continue;
      out.offsets[at] = columns.offsets[i] as number;
      out.steps[at] = step;
      out.epochs[at] = columns.epochs[i] as number;
      out.timestamps[at] = columns.timestamps[i] as number;
      out.values[at] = columns.values[i] as number;
      out.contextIds[at] = columns.contextIds[i] as number;
      at++;
    }
  }
  return at === out.offsets.length ? out : sliceColumns(out, at);
}

function sliceColumns(columns: MetricColumns, count: number): MetricColumns {
  return {
    total: columns.total,
    offsets: columns.offsets.slice(0, count),
    steps: columns.steps.slice(0, count),
    epochs: columns.epochs.slice(0, count),
    timestamps: columns.timestamps.slice(0, count),
    values: columns.values.slice(0, count),
    contextIds: columns.contextIds.slice(0, count),
    contexts: columns.contexts,
  };
}

function pointsOfColumns(columns: MetricColumns): MetricPoint[] {
  const points: MetricPoint[] = new Array(columns.offsets.length);
  for (let i = 0; i < points.length; i++) {
    const step = columns.steps[i] as number;
    const epoch = columns.epochs[i] as number;
    points[i] = {
      offset: columns.offsets[i] as number,
      value: columns.values[i] as number,
      step: Number.isNaN(step) ? null : step,
      epoch: Number.isNaN(epoch) ? null : epoch,
      timestamp: columns.timestamps[i] as number,
      context: columns.contexts[columns.contextIds[i] as number] ?? null,
    };
  }
  return points;
}
