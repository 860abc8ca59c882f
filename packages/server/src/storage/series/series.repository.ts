import { randomBytes } from 'node:crypto';
import { CompiledQuery, type Kysely } from 'kysely';
import type {
  DownsampledSeries,
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
  decodeBlock,
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

    const byName = new Map<string, { point: MetricPointInput; offset: number }[]>();
    points.forEach((input, i) => {
      // Neither driver keeps -0 in a float column (pg sends "0"; SQLite stores integral reals as
      // integers) while a block would: store 0 so a point reads the same before and after sealing.
      const point = Object.is(input.value, -0) ? { ...input, value: 0 } : input;
      const list = byName.get(point.name) ?? [];
      list.push({ point, offset: offsets[i] as number });
      byName.set(point.name, list);
    });

    const existing = await this.db
      .selectFrom('series')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .where('name', 'in', [...byName.keys()])
      .execute();
    const rows = new Map(existing.map((row) => [row.name, fromColumns(row)]));

    // Every changed series row, its tail with it, is written after all were appended to.
    const changed: SeriesState[] = [];
    for (const [name, entries] of byName) {
      const current = rows.get(name);
      const row = await this.appendToSeries(experimentId, name, current, entries);
      if (current) changed.push(row);
    }
    await this.updateSeriesRows(changed);
    const created = [...byName.keys()].filter((name) => !rows.has(name));
    await countKeyChanges(
      this.db,
      this.dialect,
      experimentId,
      created.map((name) => keyDelta('metric', name, 1)),
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

  async readPoints(experimentId: string, name: string, options: SeriesReadOptions = {}): Promise<MetricPoint[]> {
    if (options.stepFrom !== undefined || options.stepTo !== undefined) {
      return this.readStepRange(experimentId, name, options);
    }
    const skip = Math.max(0, options.offset ?? 0);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    if (limit <= 0) return [];
    const end = skip + limit;
    // The series row, its blocks and its tail must come from one snapshot: a seal committed
    // between two of these reads would hide (or repeat) a block's worth of points.
    const fetched = await inSnapshot(this.db, async (db) => {
      const row = await findSeries(db, experimentId, name);
      if (!row) return undefined;
      // Only the blocks overlapping [skip, end) are fetched; the others are skipped by count.
      const counts = await db
        .selectFrom('series_blocks')
        .select(['block_no', 'point_count'])
        .where('series_id', '=', row.id)
        .orderBy('block_no')
        .execute();
      let position = 0;
      let firstBlock: number | undefined;
      let lastBlock: number | undefined;
      let firstBlockPosition = 0;
      for (const block of counts) {
        const blockEnd = position + block.point_count;
        if (blockEnd > skip && position < end) {
          if (firstBlock === undefined) {
            firstBlock = block.block_no;
            firstBlockPosition = position;
          }
          lastBlock = block.block_no;
        }
        position = blockEnd;
      }
      const payloads =
        firstBlock === undefined || lastBlock === undefined
          ? []
          : await db
              .selectFrom('series_blocks')
              .select('payload')
              .where('series_id', '=', row.id)
              .where('block_no', '>=', firstBlock)
              .where('block_no', '<=', lastBlock)
              .orderBy('block_no')
              .execute();
      const tail = end > position ? decodeTail(row.tail_payload) : [];
      return { contexts: row.contexts, payloads, firstBlockPosition, tail, tailPosition: position };
    });
    if (!fetched) return [];

    const contexts = JSON.parse(fetched.contexts) as string[];
    const result: MetricPoint[] = [];
    let position = fetched.firstBlockPosition;
    for (const { payload } of fetched.payloads) {
      for (const point of decodeBlock(toBytes(payload))) {
        if (position >= skip && position < end) result.push(toMetricPoint(point, contexts));
        position++;
      }
    }
    position = fetched.tailPosition;
    for (const point of fetched.tail) {
      if (position >= skip && position < end) result.push(toMetricPoint(point, contexts));
      position++;
    }
    return result;
  }

  /** Points whose step is in range; blocks whose step span misses the range are never fetched. */
  private async readStepRange(experimentId: string, name: string, options: SeriesReadOptions): Promise<MetricPoint[]> {
    if (options.limit !== undefined && options.limit <= 0) return [];
    const from = options.stepFrom ?? Number.NEGATIVE_INFINITY;
    const to = options.stepTo ?? Number.POSITIVE_INFINITY;
    const fetched = await inSnapshot(this.db, async (db) => {
      const row = await findSeries(db, experimentId, name);
      if (!row) return undefined;
      let query = db
        .selectFrom('series_blocks')
        .select('payload')
        .where('series_id', '=', row.id)
        .where('min_step', 'is not', null)
        .orderBy('block_no');
      if (options.stepFrom !== undefined) query = query.where('max_step', '>=', options.stepFrom);
      if (options.stepTo !== undefined) query = query.where('min_step', '<=', options.stepTo);
      const payloads = await query.execute();
      const tail = decodeTail(row.tail_payload);
      return { contexts: row.contexts, payloads, tail };
    });
    if (!fetched) return [];
    const contexts = JSON.parse(fetched.contexts) as string[];
    const skip = Math.max(0, options.offset ?? 0);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const result: MetricPoint[] = [];
    let matched = 0;
    const consider = (point: StoredPoint): boolean => {
      if (point.step === null || point.step < from || point.step > to) return true;
      if (matched++ >= skip) result.push(toMetricPoint(point, contexts));
      return result.length < limit;
    };
    for (const { payload } of fetched.payloads) {
      for (const point of decodeBlock(toBytes(payload))) if (!consider(point)) return result;
    }
    for (const point of fetched.tail) if (!consider(point)) return result;
    return result;
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
        if (blockNos.length > 0) missing.push({ seriesId: row.id, blockNos, origin: originOf(row.experiment_id) });
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
    // Each series costs its id, its block numbers and up to two bounds in bind parameters.
    const budget = Math.floor(this.dialect.maxBindParameters / 2);
    let start = 0;
    while (start < missing.length) {
      let used = 0;
      let end = start;
      while (
        end < missing.length &&
        (end === start || used + (missing[end] as MissingBlocks).blockNos.length + 3 <= budget)
      ) {
        used += (missing[end] as MissingBlocks).blockNos.length + 3;
        end++;
      }
      const group = missing.slice(start, end);
      start = end;
      const rows = await db
        .selectFrom('series_blocks')
        .select(['series_id', 'block_no', 'payload'])
        .where((eb) =>
          eb.or(
            group.map(({ seriesId, blockNos, origin }) => {
              // The extent columns hold integers: fractional bounds are rounded inwards, which
              // keeps the comparison exact (and PostgreSQL compares bigint with integers only).
              const low = Math.ceil(from + origin);
              const high = Math.floor(to + origin);
              const conditions = [eb('series_id', '=', seriesId), eb('block_no', 'in', blockNos)];
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

  private async appendToSeries(
    experimentId: string,
    name: string,
    current: SeriesState | undefined,
    entries: { point: MetricPointInput; offset: number }[],
  ): Promise<SeriesState> {
    const firstEntry = entries[0] as { point: MetricPointInput; offset: number };
    const row: SeriesState = current ? { ...current } : newSeriesRow(experimentId, name, firstEntry);
    const contexts = JSON.parse(row.contexts) as string[];
    const contextIds = new Map(contexts.map((context, id) => [context, id]));
    const stored: StoredPoint[] = new Array(entries.length);
    // One pass keeps the batch's extremes by index; the summary row is folded once per batch,
    // not once per point (the bulk path's hot loop).
    let minAt = -1;
    let maxAt = -1;
    let latestAt = 0;
    for (let i = 0; i < entries.length; i++) {
      const { point, offset } = entries[i] as { point: MetricPointInput; offset: number };
      const context = point.context ?? '';
      let contextId = contextIds.get(context);
      if (contextId === undefined) {
        contextId = contexts.push(context) - 1;
        contextIds.set(context, contextId);
      }
      const value = point.value;
      if (!Number.isNaN(value)) {
        if (minAt < 0 || value < (entries[minAt] as { point: MetricPointInput }).point.value) minAt = i;
        if (maxAt < 0 || value > (entries[maxAt] as { point: MetricPointInput }).point.value) maxAt = i;
      }
      if (i > 0 && isLaterPoint(point, (entries[latestAt] as { point: MetricPointInput }).point)) latestAt = i;
      stored[i] = { offset, value, step: point.step, epoch: point.epoch, timestamp: point.timestamp, contextId };
    }
    for (const at of new Set([minAt, maxAt, latestAt, entries.length - 1])) {
      if (at < 0) continue;
      const { point, offset } = entries[at] as { point: MetricPointInput; offset: number };
      foldIntoSummary(row, point, offset);
    }
    row.contexts = JSON.stringify(contexts);
    row.point_count += stored.length;

    if (!current) await this.db.insertInto('series').values(toColumns(row)).execute();

    let pending = stored;
    if (row.tail_count + pending.length >= DIRECT_SEAL_MIN) {
      const tail = row.tail_payload ? decodeTail(toBytes(row.tail_payload)) : [];
      const all = tail.length > 0 ? [...tail, ...pending] : pending;
      let start = 0;
      for (; all.length - start >= BLOCK_SIZE; start += BLOCK_SIZE) {
        await this.insertBlock(row.id, row.block_count++, all.slice(start, start + BLOCK_SIZE));
      }
      // A big remainder becomes a (shorter) block of its own; a small one waits in the tail.
      if (all.length - start >= DIRECT_SEAL_MIN) {
        await this.insertBlock(row.id, row.block_count++, all.slice(start));
        start = all.length;
      }
      pending = all.slice(start);
      row.tail_count = 0;
      row.tail_payload = null;
    }
    if (pending.length > 0) row.tail_payload = appendTailFrame(row.tail_payload && toBytes(row.tail_payload), pending);
    row.tail_count += pending.length;
    // A new series' row was inserted above without its final counts: update it too.
    if (!current) await this.updateSeriesRows([row]);
    return row;
  }

  /**
   * Writes the summary columns of changed series rows with one hand-compiled statement per row
   * shape: Kysely compiling a thirty-column update per series per request cost more than the
   * update itself on small-batch logging.
   */
  private async updateSeriesRows(rows: readonly SeriesState[]): Promise<void> {
    for (const state of rows) {
      const row = toColumns(state);
      const parameters = SERIES_UPDATE_COLUMNS.map((column) => row[column]);
      parameters.push(row.id);
      await this.db.executeQuery(CompiledQuery.raw(this.seriesUpdateSql(), parameters));
    }
  }

  private seriesUpdateText?: string;

  private seriesUpdateSql(): string {
    if (this.seriesUpdateText === undefined) {
      const place = (i: number) => (this.dialect.name === 'postgres' ? `$${i}` : '?');
      const sets = SERIES_UPDATE_COLUMNS.map((column, i) => `"${column}" = ${place(i + 1)}`).join(', ');
      this.seriesUpdateText = `update "series" set ${sets} where "id" = ${place(SERIES_UPDATE_COLUMNS.length + 1)}`;
    }
    return this.seriesUpdateText;
  }

  private async insertBlock(seriesId: string, blockNo: number, points: StoredPoint[]): Promise<void> {
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
    await this.db
      .insertInto('series_blocks')
      .values({
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
      })
      .execute();
  }
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

interface MissingBlocks {
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

function newSeriesRow(
  experimentId: string,
  name: string,
  first: { point: MetricPointInput; offset: number },
): SeriesState {
  const { point, offset } = first;
  const extreme = {
    value: point.value,
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
    value: point.value,
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

function toMetricPoint(point: StoredPoint, contexts: readonly string[]): MetricPoint {
  const context = contexts[point.contextId] ?? '';
  return {
    offset: point.offset,
    value: point.value,
    step: point.step,
    epoch: point.epoch,
    timestamp: point.timestamp,
    context: context === '' ? null : context,
  };
}
