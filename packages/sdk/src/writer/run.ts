import {
  type APIError,
  APIUserAbortError,
  BufferOverflowError,
  CairnError,
  DeadLetterError,
  FlushTimeoutError,
  isAPIError,
} from '../core/errors.js';
import type { BodyInit, HttpClient, LevelLogger } from '../core/http.js';
import { isRetryableError, type RetryQuota, retryDelayMs, startTimer } from '../core/retry.js';
import type { ExitParticipant, Platform, WriterSpool } from '../platform/platform.js';
import type { Asset, Experiment } from '../types.js';
import { type BatchDocument, type BatchPart, documentChunks, documentFileName, splitPart, utf8 } from './batch.js';
import { checkName, chunkSlices, countPoints, SeriesBuffer, type SeriesSlice } from './buffer.js';
import { Emitter } from './emitter.js';
import { ByteWriter, encodeMetricsAsync, encodeMetricsSync, flattenValues, type LoggableValue } from './encode.js';

/** What a full buffer does when there is no spool to spill to (browsers, `spool: false`). */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'throw';

/** How a run batches, spools and sends. Every field has a default (see the Cairn client options). */
export interface WriterOptions {
  /** `offline` only spools: nothing is sent; `cairn sync` (syncSpool) uploads later. */
  mode: 'online' | 'offline';
  /** A batch is sealed at this many points… */
  maxBatchPoints: number;
  /** …or at about this many bytes of JSON… */
  maxBatchBytes: number;
  /** …or this often, whichever comes first. */
  flushIntervalMs: number;
  /** Points held in memory at most; then batches wait on disk (spool) or `overflow` applies. */
  maxBufferedPoints: number;
  overflow: OverflowPolicy;
  /** gzip bodies (and spool files) from this many bytes; true = 64 KiB, false = never. */
  gzip: boolean | number;
  /** Spool sealed batches to disk before sending them (Node only). */
  spool: boolean;
  /** Root of the spool: `$CAIRN_SPOOL_DIR`, else `~/.cairn/spool`. */
  spoolDir: string | undefined;
  heartbeatIntervalMs: number;
  /** Install the process hooks (exit, SIGTERM/SIGINT, beforeExit) while the run is open (Node only). */
  exitHandlers: boolean;
  /** Default deadline of `end()`. */
  endTimeoutMs: number;
  /** Deadline of the `end()` a forgotten run gets when the event loop empties. */
  exitTimeoutMs: number;
  /** Backoff of batch retries: first delay bound and cap. */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
}

export interface LogOptions {
  /** An integer; points may come in any step order and steps may repeat. */
  step?: number;
  epoch?: number;
  /** Epoch ms; now unless given. */
  timestamp?: number;
  /** Separates series of one name (e.g. `train`/`eval`, a rank). */
  context?: string;
}

export interface ValueOptions {
  step?: number;
  timestamp?: number;
}

export interface FlushOptions {
  /** Reject with FlushTimeoutError after this long (what is not acknowledged stays queued/spooled). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface EndOptions {
  /** FAILED marks the run failed; SUCCEEDED by default. */
  status?: 'SUCCEEDED' | 'FAILED';
  /** How long to wait for the server to acknowledge everything (default `endTimeoutMs`, 30 s). */
  timeoutMs?: number;
}

export interface AssetOptions {
  /** File name on the server (default: the file's own name). */
  name?: string;
  /** What the file is: "asset" (default), "image", "model-element", … */
  type?: string;
  step?: number;
  epoch?: number;
  context?: string;
  /** An object (sent as JSON), or JSON text sent as it is (what `Asset.metadata` reads back). */
  metadata?: Record<string, unknown> | string;
  /** The experiment model the file belongs to. */
  model?: string;
  /** The asset id; one is generated, so that a retried upload replaces instead of duplicating. */
  id?: string;
  onProgress?: (progress: { loaded: number; total: number | undefined }) => void;
  signal?: AbortSignal;
}

/** Source of an upload: a path (Node), a Blob/File, or a stream of bytes with a name. */
export type AssetSource =
  | string
  | Blob
  | { stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>; name: string; size?: number };

export interface RunStats {
  /** Points accepted by log calls. */
  logged: number;
  /** Points the server acknowledged (stored now, or earlier under the same batch key). */
  acknowledged: number;
  /** Of those, points a repeated batch key answered as already stored. */
  duplicates: number;
  /** Points logged and not acknowledged yet: buffered, queued, spooled, in flight. */
  pending: number;
  /** Of those, points in spool files. */
  spooled: number;
  /** Points in parts the server refused (kept under `failed/` with a spool). */
  deadLettered: number;
  /** Points dropped: buffer overflow without a spool, logged after `end()`, or unsent at the end without a spool. */
  dropped: number;
  /** Values that were not numbers, ignored. */
  invalid: number;
  batches: { sealed: number; acknowledged: number };
  retries: number;
  /** The last failed answer was 429 or 503: the server asks the writer to slow down. */
  throttled: boolean;
  lastError: Error | undefined;
}

export interface RunSummary {
  key: string;
  writerId: string;
  /** Whether `POST /experiments/{key}/end` was acknowledged (false for attached writers and offline runs). */
  ended: boolean;
  /** The deadline passed before everything was acknowledged. */
  timedOut: boolean;
  logged: number;
  /** Points acknowledged by the server. */
  sent: number;
  /** Points waiting in the spool for a later `cairn sync`. */
  pendingInSpool: number;
  deadLettered: number;
  dropped: number;
  /** This writer's spool directory (Node), where pending batches and dead letters are. */
  spoolDir: string | undefined;
  errors: Error[];
  durationMs: number;
}

export interface RunEvents extends Record<string, unknown> {
  /** Something needs attention: delivery is failing (reported once per outage) or a part was refused. */
  error: Error;
  warning: string;
  /** A sealed batch is durable on disk (after the file and directory fsync). */
  spooled: { seq: number; points: number; spooledPoints: number };
  /** The server acknowledged every part of a batch. */
  acknowledged: { seq: number; points: number; acknowledgedPoints: number };
  deadLetter: DeadLetterError;
  /** Delivery works again after failures. */
  recovered: { downMs: number };
}

/** What a run needs of its client. */
export interface RunContext {
  http: HttpClient;
  platform: Platform;
  log: LevelLogger;
  quota: RetryQuota;
  maxRetryAfterMs: number;
  newId(): string;
  uploadAsset(key: string, source: AssetSource, options: AssetOptions & { id: string }): Promise<Asset>;
}

export interface RunInit {
  key: string;
  writerId: string;
  /** The primary writer beats and ends the experiment; attached writers only log. */
  primary: boolean;
  experiment: Experiment | undefined;
  /**
   * Lazy start: the experiment is created by the first parts of the stream, its start time set to
   * `startTime` (this clock's), however late the creation reaches the server.
   */
  create: { workspace: string; project: string; name: string | null; startTime: number } | undefined;
  /** Server clock minus this clock, as measured at creation: end times are sent in the server's time. */
  clockOffsetMs: number;
  options: WriterOptions;
}

interface Sealed {
  seq: number;
  doc: BatchDocument;
  /** Metric points still columnar; encoded into the metrics part when prepared. */
  slices: SeriesSlice[] | undefined;
  /** The parts' bodies as UTF-8, in part order, once encoded (the metrics part's text stays ''). */
  bodies: Uint8Array[] | undefined;
  points: number;
  /** The bytes to send, by part (gzipped or not), once prepared; a split half has none (its text is sent). */
  payloads: Map<string, Payload>;
  /** Spool files holding this batch (two when an exit-time write raced an async one). */
  files: string[];
  /** Where each part's body is in a spool file: a released batch is read back from there, no parsing. */
  location: { file: string; ranges: Payload['range'][] } | undefined;
  onDisk: boolean;
  /** Bodies dropped from memory: read back from the spool when its turn comes. */
  released: boolean;
  /** Encoded (and spooled): ready to send. */
  ready: Promise<void>;
  settledParts: Set<string>;
}

interface Payload {
  bytes: Uint8Array;
  gzip: boolean;
  /** Bytes [offset, offset + length) of the spool file. */
  range?: { offset: number; length: number; gzip: boolean };
}

interface Position {
  step: number;
  epoch: number;
  time: number;
  context: string | undefined;
}

/** A prepared batch file, before and after its write. */
interface SpoolWrite {
  name: string;
  chunks: Uint8Array[];
  ranges: NonNullable<Payload['range']>[];
  written: boolean;
}

interface Waiter {
  target: number;
  resolve(): void;
  reject(error: Error): void;
}

interface ValueGroup {
  step: number | null;
  timestamp: number;
  values: Map<string, LoggableValue>;
}

/** A JSON-estimate of one point (value, step, timestamp, epoch and separators): sizes batches by bytes. */
const BYTES_PER_POINT = 64;
const NO_CONTEXT = '\u0000none';

const enc = encodeURIComponent;

/**
 * A run: logs to one experiment as one writer. Log calls are synchronous and O(1): they append
 * to columnar buffers and return. A background flusher seals batches (by points, bytes or time),
 * spools each to disk (fsynced) before sending it, sends one batch at a time in order, and
 * deletes its file once every part is acknowledged. Retries never give up while a spool holds the
 * batch; a part the server refuses for good is dead-lettered, never silently dropped.
 */
export class Run extends Emitter<RunEvents> implements ExitParticipant {
  readonly key: string;
  readonly writerId: string;
  readonly primary: boolean;
  private experimentValue: Experiment | undefined;

  private readonly ctx: RunContext;
  private readonly options: WriterOptions;
  private readonly batchPoints: number;
  private readonly gzipThreshold: number | undefined;
  private readonly spool: WriterSpool | undefined;
  private spoolBroken = false;

  // Buffers.
  private readonly series = new Map<string, Map<string, SeriesBuffer>>();
  private lastContext: string | undefined;
  private lastMap: Map<string, SeriesBuffer> | undefined;
  private unsealedPoints = 0;
  private heldPoints = 0;
  private sealScheduled = false;
  private pendingCreate: RunInit['create'];
  private readonly pendingValues = { params: new Map<string, ValueGroup>(), others: new Map<string, ValueGroup>() };
  private readonly pendingTags = new Set<string>();
  private pendingEnd: { status: 'SUCCEEDED' | 'FAILED'; endTime: number } | undefined;

  // Stream.
  private readonly queue: Sealed[] = [];
  private nextSeq = 1;
  private settledThrough = 0;
  private prepareChain: Promise<void> = Promise.resolve();
  private durableChain: Promise<unknown> = Promise.resolve();
  private pumping = false;
  /** Deletions of acknowledged batch files still under way (the spool closes after them). */
  private readonly removals = new Set<Promise<void>>();
  /** The async encoder's buffer, reused by every batch (one is encoded at a time). */
  private readonly byteWriter = new ByteWriter();
  private sending: Sealed | undefined;
  private stopped = false;
  private readonly stopController = new AbortController();
  private wakePause: (() => void) | undefined;
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;
  private waiters: Waiter[] = [];
  private keepAlive = 0;
  private outageSince: number | undefined;

  // Lifecycle.
  private closed = false;
  private ending: Promise<RunSummary> | undefined;
  private readonly flushTimer: ReturnType<typeof setInterval>;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private heartbeatInFlight: Promise<void> | undefined;
  private created: boolean;
  private createdResolve: (() => void) | undefined;
  private createdReject: ((error: Error) => void) | undefined;
  private readonly createdPromise: Promise<void>;
  private readonly startedAt = Date.now();
  private readonly clockOffsetMs: number;

  // Accounting.
  private logged = 0;
  private acknowledged = 0;
  private duplicates = 0;
  private spooledPoints = 0;
  private deadLetteredPoints = 0;
  private dropped = 0;
  /** Of `dropped`, points that had been logged (overflow of sealed batches, unsent at the end). */
  private droppedLogged = 0;
  private invalid = 0;
  private sealedBatches = 0;
  private acknowledgedBatches = 0;
  private retries = 0;
  private throttled = false;
  private lastError: Error | undefined;
  private readonly deadLetters: DeadLetterError[] = [];
  private readonly reportedDeadLetters = new Set<DeadLetterError>();
  private readonly warned = new Set<string>();
  /** Reused by every log call: the hot path allocates no position object of its own. */
  private readonly at: Position = { step: Number.NaN, epoch: Number.NaN, time: 0, context: undefined };

  /** @internal Runs are made by `cairn.startExperiment()` and `cairn.attach()`. */
  constructor(ctx: RunContext, init: RunInit) {
    super();
    this.ctx = ctx;
    this.key = init.key;
    this.writerId = init.writerId;
    this.primary = init.primary;
    this.experimentValue = init.experiment;
    this.clockOffsetMs = init.clockOffsetMs;
    this.options = init.options;
    const o = init.options;
    this.batchPoints = Math.max(1, Math.min(o.maxBatchPoints, Math.floor(o.maxBatchBytes / BYTES_PER_POINT)));
    this.gzipThreshold =
      o.gzip === false || !ctx.platform.gzip ? undefined : o.gzip === true ? 64 * 1024 : Math.max(0, o.gzip);
    const spool = ctx.platform.spool;
    if (o.spool && spool) this.spool = spool.open(o.spoolDir ?? spool.defaultRoot(), init.key, init.writerId);
    if (o.mode === 'offline' && !this.spool) {
      throw new CairnError('offline mode needs a spool: Node, with the spool option on');
    }
    this.created = init.create === undefined;
    this.createdPromise = new Promise<void>((resolve, reject) => {
      this.createdResolve = resolve;
      this.createdReject = reject;
    });
    this.createdPromise.catch(() => {});
    if (this.created) this.createdResolve?.();
    this.pendingCreate = init.create;
    this.flushTimer = setInterval(() => this.onTick(), o.flushIntervalMs);
    (this.flushTimer as { unref?: () => void }).unref?.();
    if (o.exitHandlers) ctx.platform.exitHooks?.register(this);
    if (this.pendingCreate) this.seal();
    else this.startHeartbeat();
  }

  /** The experiment as created (undefined for attached writers, and until a lazy creation is acknowledged). */
  get experiment(): Experiment | undefined {
    return this.experimentValue;
  }

  /** This writer's spool directory (Node with the spool on). */
  get spoolDir(): string | undefined {
    return this.spool?.dir;
  }

  // ---------------------------------------------------------------- logging (synchronous, O(1))

  /** Logs one point per metric at the same step/epoch/time. Synchronous: never waits for the network. */
  logMetrics(values: Record<string, number>, options?: LogOptions): void {
    if (this.closed) {
      this.late(Object.keys(values).length);
      return;
    }
    const at = this.position(options);
    const map = this.seriesOf(at.context);
    for (const name in values) this.append(map, name, values[name], at);
  }

  /** Logs one point of one metric. */
  logMetric(name: string, value: number, options?: LogOptions): void {
    if (this.closed) {
      this.late(1);
      return;
    }
    const at = this.position(options);
    this.append(this.seriesOf(at.context), name, value, at);
  }

  /** Step, epoch (NaN: not given), time and context of a log call, checked once per call. */
  private position(options: LogOptions | undefined): Position {
    const at = this.at;
    at.step = Number.NaN;
    at.epoch = Number.NaN;
    at.context = undefined;
    let timestamp: number | undefined;
    if (options !== undefined) {
      if (options.step !== undefined) at.step = checkInteger('step', options.step);
      if (options.epoch !== undefined) at.epoch = checkInteger('epoch', options.epoch);
      if (options.timestamp !== undefined) timestamp = checkTimestamp(options.timestamp);
      at.context = options.context;
    }
    at.time = timestamp ?? Date.now();
    return at;
  }

  /** One point into its columns: four array stores and two counters. */
  private append(map: Map<string, SeriesBuffer>, name: string, value: unknown, at: Position): void {
    if (typeof value !== 'number') {
      this.invalidValue(name, value);
      return;
    }
    const buffer = map.get(name) ?? this.newSeries(map, name, at.context);
    if (this.unsealedPoints + this.heldPoints >= this.options.maxBufferedPoints && !this.relieve()) {
      this.dropped++;
      return;
    }
    // SeriesBuffer.push written out: the stores inline here (~115 → ~60 ns per point measured).
    const i = buffer.length;
    if (i === buffer.capacity) buffer.grow();
    buffer.values[i] = value;
    buffer.steps[i] = at.step;
    buffer.timestamps[i] = at.time;
    buffer.epochs[i] = at.epoch;
    buffer.length = i + 1;
    this.logged++;
    // Once per batch, when the count reaches it (seal() starts the count again).
    if (++this.unsealedPoints === this.batchPoints) this.requestSeal();
  }

  /** Hyperparameters; nested objects are flattened (`optimizer.name`). Queued, coalesced, sent in order. */
  logParams(values: Record<string, unknown>, options?: ValueOptions): void {
    this.logValues('params', values, options);
  }

  logParam(name: string, value: unknown, options?: ValueOptions): void {
    this.logValues('params', { [name]: value }, options);
  }

  /** Other values (seeds, data set names, …); same rules as params. */
  logOthers(values: Record<string, unknown>, options?: ValueOptions): void {
    this.logValues('others', values, options);
  }

  logOther(name: string, value: unknown, options?: ValueOptions): void {
    this.logValues('others', { [name]: value }, options);
  }

  addTags(tags: string[]): void {
    if (this.closed) {
      this.late(0);
      return;
    }
    for (const tag of tags) {
      checkName('tag', tag);
      this.pendingTags.add(tag);
    }
  }

  addTag(tag: string): void {
    this.addTags([tag]);
  }

  /**
   * Uploads a file (streamed from disk, never read whole into memory) or a Blob/stream. A
   * generated asset id makes a retried upload replace instead of duplicating. Resolves when the
   * server has stored it.
   */
  async logAsset(source: AssetSource, options: AssetOptions = {}): Promise<Asset> {
    if (this.options.mode === 'offline') throw new CairnError('offline runs do not upload assets');
    await this.createdPromise;
    return this.ctx.uploadAsset(this.key, source, { ...options, id: options.id ?? this.ctx.newId() });
  }

  // ---------------------------------------------------------------- flush, end, stats

  /**
   * Resolves once the server acknowledged everything logged before the call (offline: once it is
   * on disk). Rejects with an AggregateError of DeadLetterErrors when parts were refused, and with
   * FlushTimeoutError after `timeoutMs`.
   */
  async flush(options: FlushOptions = {}): Promise<void> {
    this.seal();
    const target = this.nextSeq - 1;
    const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
    await this.waitSettled(target, deadline, options.signal);
    this.throwDeadLetters(target);
  }

  /**
   * Flushes within the deadline, marks the experiment ended (FAILED if asked; attached writers
   * leave that to the primary) and stops the writer's timers. Never throws for delivery problems:
   * the summary says what was sent, what waits in the spool, what was refused or dropped.
   */
  end(options: EndOptions = {}): Promise<RunSummary> {
    this.ending ??= this.finish(options);
    return this.ending;
  }

  stats(): RunStats {
    return {
      logged: this.logged,
      acknowledged: this.acknowledged,
      duplicates: this.duplicates,
      pending: this.logged - this.acknowledged - this.deadLetteredPoints - this.droppedLogged,
      spooled: this.spooledPoints,
      deadLettered: this.deadLetteredPoints,
      dropped: this.dropped,
      invalid: this.invalid,
      batches: { sealed: this.sealedBatches, acknowledged: this.acknowledgedBatches },
      retries: this.retries,
      throttled: this.throttled,
      lastError: this.lastError,
    };
  }

  // ---------------------------------------------------------------- exit participation

  /** @internal */
  spillSync(final = true): void {
    if (this.spool && !this.spoolBroken) {
      try {
        this.seal();
        for (const batch of this.queue) this.writeBatchSync(batch);
      } catch (error) {
        this.spoolBroken = true;
        throw error;
      }
    }
    if (final) {
      this.stop();
      this.spool?.closeSync();
    }
  }

  /** @internal */
  async drain(deadline: number): Promise<void> {
    this.seal();
    await this.waitSettled(this.nextSeq - 1, deadline).catch(() => {});
    // Acknowledged files are deleted in the background: before the process ends, not after.
    await Promise.all(this.removals);
  }

  /** @internal */
  endForgotten(): Promise<unknown> {
    if (this.ending) return this.ending;
    this.ctx.log.warn(`run ${this.key} was not ended: ending it now (await run.end() to choose when)`);
    return this.end({ timeoutMs: this.options.exitTimeoutMs });
  }

  // ---------------------------------------------------------------- internals: buffers

  private seriesOf(context: string | undefined): Map<string, SeriesBuffer> {
    const id = context === undefined || context === '' ? NO_CONTEXT : context;
    if (id === this.lastContext && this.lastMap) return this.lastMap;
    let map = this.series.get(id);
    if (!map) {
      if (id !== NO_CONTEXT) checkName('context', id);
      map = new Map();
      this.series.set(id, map);
    }
    this.lastContext = id;
    this.lastMap = map;
    return map;
  }

  private newSeries(map: Map<string, SeriesBuffer>, name: string, context: string | undefined): SeriesBuffer {
    checkName('metric', name);
    const buffer = new SeriesBuffer(name, context ? context : null);
    map.set(name, buffer);
    return buffer;
  }

  private logValues(kind: 'params' | 'others', values: Record<string, unknown>, options?: ValueOptions): void {
    if (this.closed) {
      this.late(0);
      return;
    }
    const step = options?.step === undefined ? null : checkInteger('step', options.step);
    const timestamp = options?.timestamp === undefined ? Date.now() : checkTimestamp(options.timestamp);
    const flat = flattenValues(values);
    for (const name of flat.keys()) checkName(kind === 'params' ? 'parameter' : 'other', name);
    const groups = this.pendingValues[kind];
    const id = String(step);
    let group = groups.get(id);
    if (!group) {
      group = { step, timestamp, values: new Map() };
      groups.set(id, group);
    }
    group.timestamp = timestamp;
    for (const [name, value] of flat) group.values.set(name, value);
  }

  private invalidValue(name: string, value: unknown): void {
    this.invalid++;
    this.warnOnce(
      `invalid:${name}`,
      `metric "${name}" was given ${typeof value} ${String(value)}: only numbers are logged; ignored`,
    );
  }

  private late(points: number): void {
    this.dropped += points;
    this.warnOnce(
      'late',
      `run ${this.key} has ended: values logged after end() are dropped (counted in stats().dropped)`,
    );
  }

  private warnOnce(id: string, message: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.ctx.log.warn(message);
    this.emit('warning', message);
  }

  private requestSeal(): void {
    if (this.sealScheduled) return;
    this.sealScheduled = true;
    queueMicrotask(() => {
      this.sealScheduled = false;
      if (this.unsealedPoints >= this.batchPoints) this.seal();
    });
  }

  private onTick(): void {
    if (
      this.unsealedPoints > 0 ||
      this.pendingValues.params.size > 0 ||
      this.pendingValues.others.size > 0 ||
      this.pendingTags.size > 0
    ) {
      this.seal();
    }
  }

  /**
   * A full buffer. With a spool, everything is written to disk now (synchronously: the log call
   * cannot wait) and only the batch being sent stays in memory. Without one, the overflow policy
   * decides; what it drops is counted and reported, never silent.
   */
  private relieve(): boolean {
    if (this.spool && !this.spoolBroken) {
      try {
        this.spillSync(false);
        for (const batch of this.queue) if (batch.onDisk && batch !== this.sending) this.release(batch);
        if (this.unsealedPoints + this.heldPoints < this.options.maxBufferedPoints) return true;
      } catch (error) {
        this.report(new CairnError(`the spool failed; falling back to the overflow policy: ${String(error)}`));
      }
    }
    const policy = this.options.overflow;
    if (policy === 'throw') {
      throw new BufferOverflowError(
        `run ${this.key}: ${this.options.maxBufferedPoints} points are buffered and none can be sent or spooled`,
      );
    }
    this.warnOnce(
      'overflow',
      `run ${this.key}: the buffer is full (${this.options.maxBufferedPoints} points, no spool); overflow policy "${policy}" drops points (counted in stats().dropped)`,
    );
    if (policy === 'drop-newest') return false;
    this.seal();
    for (const batch of this.queue) {
      if (this.unsealedPoints + this.heldPoints < this.options.maxBufferedPoints * 0.9) break;
      if (batch === this.sending || batch.points === 0) continue;
      const metrics = batch.doc.parts.findIndex((p) => p.part === 'metrics');
      if (metrics < 0) continue;
      batch.doc.parts.splice(metrics, 1);
      batch.bodies?.splice(metrics, 1);
      batch.payloads.delete('metrics');
      batch.slices = undefined;
      this.dropped += batch.points;
      this.heldPoints -= batch.points;
      this.droppedLogged += batch.points;
      batch.points = 0;
    }
    return this.unsealedPoints + this.heldPoints < this.options.maxBufferedPoints;
  }

  // ---------------------------------------------------------------- internals: sealing

  /** Turns everything logged so far into sealed batches, in order. */
  private seal(): void {
    const slices: SeriesSlice[] = [];
    for (const map of this.series.values()) {
      for (const buffer of map.values()) {
        const slice = buffer.take();
        if (slice) slices.push(slice);
      }
    }
    this.unsealedPoints = 0;
    const chunks = slices.length > 0 ? chunkSlices(slices, this.batchPoints) : [];
    const hasExtra =
      this.pendingCreate !== undefined ||
      this.pendingValues.params.size > 0 ||
      this.pendingValues.others.size > 0 ||
      this.pendingTags.size > 0 ||
      this.pendingEnd !== undefined;
    if (chunks.length === 0 && !hasExtra) return;
    if (chunks.length === 0) chunks.push([]);
    chunks.forEach((chunk, i) => {
      const seq = this.nextSeq++;
      const parts: BatchPart[] = [];
      if (i === 0 && this.pendingCreate) {
        const { startTime } = this.pendingCreate;
        parts.push(this.createPart(seq), this.startPart(seq, startTime));
      }
      const points = countPoints(chunk);
      if (points > 0) parts.push(this.part(seq, 'metrics', `/experiments/${enc(this.key)}/metrics`, '', points));
      if (i === chunks.length - 1) parts.push(...this.valueParts(seq));
      const doc: BatchDocument = {
        v: 1,
        experimentKey: this.key,
        writerId: this.writerId,
        seq,
        createdAt: Date.now(),
        points,
        parts,
      };
      const batch: Sealed = {
        seq,
        doc,
        slices: points > 0 ? chunk : undefined,
        points,
        bodies: undefined,
        payloads: new Map(),
        files: [],
        location: undefined,
        onDisk: false,
        released: false,
        ready: Promise.resolve(),
        settledParts: new Set(),
      };
      this.sealedBatches++;
      this.heldPoints += points;
      this.queue.push(batch);
      // Batches are encoded one after another; each one's write and fsync overlaps the encoding
      // of the next, and they count as on disk in seq order. A preparation that fails (it should
      // not) must not stall the ones after it: that batch is encoded when its turn to be sent comes.
      const prepared = this.prepareChain.then(() => this.prepare(batch));
      this.prepareChain = prepared.then(
        () => undefined,
        () => undefined,
      );
      const written = prepared.then((write) => this.persist(write));
      batch.ready = this.durableChain = Promise.all([written, this.durableChain])
        .then(([write]) => this.onDurable(batch, write))
        .catch((error: unknown) => this.report(new CairnError(`could not prepare batch ${seq}: ${String(error)}`)));
    });
    this.kick();
  }

  private part(seq: number, part: string, path: string, body: string, points = 0): BatchPart {
    return { part, method: 'POST', path, idempotencyKey: `${this.writerId}:${seq}:${part}`, points, body };
  }

  private createPart(seq: number): BatchPart {
    const create = this.pendingCreate as NonNullable<RunInit['create']>;
    this.pendingCreate = undefined;
    const body = JSON.stringify({ key: this.key, ...(create.name ? { name: create.name } : {}) });
    const path = `/workspaces/${enc(create.workspace)}/projects/${enc(create.project)}/experiments`;
    return { ...this.part(seq, 'create', path, body), conflictIsSuccess: true };
  }

  /** The start as it happened here, not when the (lazy, offline) creation reached the server. */
  private startPart(seq: number, startTime: number): BatchPart {
    const part = this.part(seq, 'start', `/experiments/${enc(this.key)}`, JSON.stringify({ startTime }));
    return { ...part, method: 'PATCH' };
  }

  private valueParts(seq: number): BatchPart[] {
    const parts: BatchPart[] = [];
    for (const kind of ['params', 'others'] as const) {
      const groups = this.pendingValues[kind];
      for (const group of groups.values()) {
        const name = group.step === null ? kind : `${kind}@${group.step}`;
        const body = JSON.stringify({
          values: Object.fromEntries(group.values),
          ...(group.step === null ? {} : { step: group.step }),
          timestamp: group.timestamp,
        });
        parts.push(this.part(seq, name, `/experiments/${enc(this.key)}/${kind}`, body));
      }
      groups.clear();
    }
    if (this.pendingTags.size > 0) {
      const body = JSON.stringify({ tags: [...this.pendingTags] });
      parts.push(this.part(seq, 'tags', `/experiments/${enc(this.key)}/tags`, body));
      this.pendingTags.clear();
    }
    if (this.pendingEnd) {
      parts.push(this.part(seq, 'end', `/experiments/${enc(this.key)}/end`, JSON.stringify(this.pendingEnd)));
      this.pendingEnd = undefined;
    }
    return parts;
  }

  /** The parts' bodies as UTF-8, in part order: the metrics part's written from its columns. */
  private bodiesOf(batch: Sealed, metrics: Uint8Array | undefined): Uint8Array[] {
    return batch.doc.parts.map((part) => (part.part === 'metrics' && metrics ? metrics : utf8(part.body)));
  }

  /** Encodes now (the exit path, a full buffer): what an async encoding under way would have made. */
  private encodeSync(batch: Sealed): Uint8Array[] {
    if (batch.bodies) return batch.bodies;
    const metrics = batch.slices ? encodeMetricsSync(batch.slices) : undefined;
    batch.slices = undefined;
    batch.bodies = this.bodiesOf(batch, metrics);
    return batch.bodies;
  }

  /**
   * Encodes a batch, gzips what is large (on the thread pool), writes it to the spool and fsyncs
   * it. Batches are prepared one at a time, in order, ahead of the one being sent. The bytes
   * written are the bytes sent: each body is encoded (and compressed) once.
   */
  private async prepare(batch: Sealed): Promise<SpoolWrite | undefined> {
    if (batch.released || batch.onDisk) return undefined;
    const slices = batch.slices;
    if (slices && !batch.bodies) {
      const metrics = await encodeMetricsAsync(slices, this.byteWriter, yieldToLoop);
      // Unless the exit path encoded it meanwhile (the same bytes).
      if (!batch.bodies) {
        batch.slices = undefined;
        batch.bodies = this.bodiesOf(batch, metrics);
      }
    }
    if (batch.released || batch.onDisk) return undefined;
    const bodies = batch.bodies ?? this.encodeSync(batch);
    const gzip = this.ctx.platform.gzip;
    const threshold = this.gzipThreshold;
    const parts = batch.doc.parts;
    if (this.spool && !this.spoolBroken) {
      const plain = documentChunks(batch.doc, bodies);
      const size = plain.reduce((n, p) => n + p.length, 0);
      let chunks = plain;
      let gzipped = false;
      if (gzip && threshold !== undefined && size >= threshold) {
        try {
          chunks = await Promise.all(plain.map((p) => gzip(p)));
          gzipped = true;
        } catch {
          chunks = plain;
        }
      }
      if (batch.released || batch.onDisk) return undefined;
      const name = documentFileName(batch.seq, gzipped);
      const ranges = bodyRanges(chunks, gzipped);
      parts.forEach((part, i) => {
        const range = ranges[i] as NonNullable<Payload['range']>;
        // Small parts go uncompressed: gzip would cost the server more than it saves.
        const small = !gzipped || (bodies[i] as Uint8Array).length < (threshold ?? 0);
        batch.payloads.set(part.part, {
          bytes: (small ? bodies[i] : chunks[2 * i + 1]) as Uint8Array,
          gzip: !small,
          ...(small && gzipped ? {} : { range }),
        });
      });
      return { name, chunks, ranges, written: false };
    }
    for (const [i, part] of parts.entries()) {
      const bytes = bodies[i] as Uint8Array;
      let payload: Payload = { bytes, gzip: false };
      if (gzip && threshold !== undefined && bytes.length >= threshold) {
        try {
          payload = { bytes: await gzip(bytes), gzip: true };
        } catch {
          // Sent as is.
        }
      }
      batch.payloads.set(part.part, payload);
    }
    return undefined;
  }

  /** Writes a prepared batch and fsyncs it; runs while the next batch is being encoded. */
  private async persist(write: SpoolWrite | undefined): Promise<SpoolWrite | undefined> {
    if (!write || !this.spool || this.spoolBroken) return write;
    try {
      await this.spool.write(write.name, write.chunks);
      write.written = true;
    } catch (error) {
      this.spoolBroken = true;
      this.report(
        new CairnError(`cannot write the spool ${this.spool.dir} (${String(error)}): batches stay in memory only`, {
          cause: error,
        }),
      );
    }
    return write;
  }

  /**
   * A batch's file is durable, and so are its predecessors' (this runs in seq order): it is on
   * disk now, ready to send. Order matters to whoever counts on "spooled": everything up to the
   * batch reported is on disk, never a later batch without an earlier one.
   */
  private onDurable(batch: Sealed, write: SpoolWrite | undefined): void {
    if (!write?.written) return;
    batch.files.push(write.name);
    if (!batch.onDisk) {
      batch.location = { file: write.name, ranges: write.ranges };
      this.markOnDisk(batch);
    }
    // Outside the first batches in line, a spooled batch waits on disk, not in memory.
    if (batch !== this.queue[0] && this.heldPoints > this.options.maxBufferedPoints / 4) this.release(batch);
  }

  private writeBatchSync(batch: Sealed): void {
    if (!this.spool || batch.onDisk || batch.released) return;
    const bodies = this.encodeSync(batch);
    const name = documentFileName(batch.seq, false);
    const chunks = documentChunks(batch.doc, bodies);
    this.spool.writeSync(name, chunks);
    batch.files.push(name);
    batch.location = { file: name, ranges: bodyRanges(chunks, false) };
    // Sent as written, unless an async preparation already chose its (equal) payloads.
    batch.doc.parts.forEach((part, i) => {
      if (!batch.payloads.has(part.part))
        batch.payloads.set(part.part, { bytes: bodies[i] as Uint8Array, gzip: false });
    });
    this.markOnDisk(batch);
  }

  private markOnDisk(batch: Sealed): void {
    batch.onDisk = true;
    this.spooledPoints += batch.points;
    this.emit('spooled', { seq: batch.seq, points: batch.points, spooledPoints: this.spooledPoints });
  }

  /** The batch waits on disk: only what names its parts stays in memory. */
  private release(batch: Sealed): void {
    if (batch.released || !batch.location) return;
    batch.released = true;
    batch.slices = undefined;
    batch.bodies = undefined;
    batch.payloads.clear();
    this.heldPoints -= batch.points;
  }

  /** Reads a released batch's bodies back: one file read, sliced where they were written. */
  private async reload(batch: Sealed): Promise<void> {
    const { file, ranges } = batch.location as NonNullable<Sealed['location']>;
    const bytes = await (this.spool as WriterSpool).read(file);
    batch.doc.parts.forEach((part, i) => {
      const range = ranges[i] as NonNullable<Payload['range']>;
      batch.payloads.set(part.part, {
        bytes: bytes.subarray(range.offset, range.offset + range.length),
        gzip: range.gzip,
        range,
      });
    });
    batch.released = false;
    this.heldPoints += batch.points;
  }

  private removeFile(name: string): void {
    const spool = this.spool;
    if (!spool) return;
    const removal: Promise<void> = spool
      .remove(name)
      .catch((error: unknown) => this.ctx.log.warn(`cannot delete ${name}: ${String(error)}`))
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  /** A part's JSON text (the metrics part's is decoded from its bytes). */
  private async partText(batch: Sealed, part: BatchPart): Promise<string> {
    if (part.body !== '') return part.body;
    const index = batch.doc.parts.indexOf(part);
    const body = index < 0 ? undefined : batch.bodies?.[index];
    if (body) return new TextDecoder().decode(body);
    const payload = batch.payloads.get(part.part);
    if (!payload) return '';
    let bytes = payload.bytes;
    if (payload.gzip) {
      const gunzip = this.ctx.platform.gunzip;
      if (!gunzip) throw new CairnError('cannot read a gzipped body on this platform');
      bytes = await gunzip(bytes);
    }
    return new TextDecoder().decode(bytes);
  }

  // ---------------------------------------------------------------- internals: sending

  private kick(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    void this.pump()
      .catch((error: unknown) => this.report(error instanceof Error ? error : new Error(String(error))))
      .finally(() => {
        this.pumping = false;
        if (this.queue.length > 0 && !this.stopped && !this.sending) this.kick();
      });
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const batch = this.queue[0];
      if (!batch) return;
      await batch.ready;
      if (this.stopped) return;
      if (this.options.mode === 'offline') {
        this.queue.shift();
        this.heldPoints -= batch.released ? 0 : batch.points;
        if (!batch.onDisk) {
          // The spool failed (reported): an offline batch has nowhere else to go.
          this.dropped += batch.points;
          this.droppedLogged += batch.points;
        }
        this.settle(batch);
        continue;
      }
      // Marked first: a full buffer releases every spooled batch but the one being sent.
      this.sending = batch;
      if (batch.released) await this.reload(batch);
      const parts = batch.doc.parts;
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as BatchPart;
        if (batch.settledParts.has(part.part)) continue;
        const outcome = await this.sendPart(batch, part);
        if (outcome === 'stopped') {
          this.sending = undefined;
          return;
        }
        if (outcome === 'split') i--;
      }
      this.sending = undefined;
      this.queue.shift();
      this.heldPoints -= batch.points;
      if (batch.onDisk) this.spooledPoints -= batch.points;
      // Off the path of the next batch: its send need not wait for an unlink.
      for (const name of batch.files) this.removeFile(name);
      this.acknowledgedBatches++;
      this.emit('acknowledged', { seq: batch.seq, points: batch.points, acknowledgedPoints: this.acknowledged });
      this.settle(batch);
    }
  }

  private async sendPart(batch: Sealed, part: BatchPart): Promise<'done' | 'split' | 'stopped'> {
    let spent = 0;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return 'stopped';
      if (part.part === 'end' && this.heartbeatInFlight) await this.heartbeatInFlight;
      const payload = batch.payloads.get(part.part);
      const index = batch.doc.parts.indexOf(part);
      const body = payload?.bytes ?? (part.body !== '' ? part.body : this.encodeSync(batch)[index]);
      try {
        const answer = await this.ctx.http.request<unknown>(
          {
            method: part.method,
            path: part.path,
            body: () => body as BodyInit,
            headers: { 'content-type': 'application/json', ...(payload?.gzip ? { 'content-encoding': 'gzip' } : {}) },
          },
          { maxRetries: 0, idempotencyKey: part.idempotencyKey, signal: this.stopController.signal },
        );
        this.ctx.quota.release(spent);
        this.acknowledge(batch, part, answer);
        return 'done';
      } catch (caught) {
        if (this.stopped || caught instanceof APIUserAbortError) return 'stopped';
        const error = caught as APIError;
        if (error.status === 409 && part.conflictIsSuccess) {
          this.acknowledge(batch, part, undefined);
          return 'done';
        }
        if (error.status === 413) {
          const halves = splitPart({ ...part, body: await this.partText(batch, part) });
          if (halves) {
            const parts = batch.doc.parts;
            parts.splice(parts.indexOf(part), 1, ...halves);
            batch.payloads.delete(part.part);
            this.ctx.log.info(`batch ${batch.seq} part ${part.part} was too large: sending it in halves`);
            return 'split';
          }
        }
        if (!isAPIError(error) || !isRetryableError(error)) {
          await this.deadLetter(batch, part, error);
          return 'done';
        }
        this.onDeliveryFailure(error);
        const cost = this.ctx.quota.acquire(error);
        spent += cost;
        this.retries++;
        const delay =
          cost === 0
            ? this.options.retryMaxDelayMs
            : retryDelayMs(attempt, error, {
                baseDelayMs: this.options.retryBaseDelayMs,
                maxDelayMs: this.options.retryMaxDelayMs,
                maxRetryAfterMs: this.ctx.maxRetryAfterMs,
              });
        if (!(await this.pause(delay))) return 'stopped';
      }
    }
  }

  private acknowledge(batch: Sealed, part: BatchPart, answer: unknown): void {
    batch.settledParts.add(part.part);
    this.acknowledged += part.points;
    if (part.points > 0 && (answer as { duplicate?: boolean } | undefined)?.duplicate) this.duplicates += part.points;
    if (this.outageSince !== undefined) {
      const downMs = Date.now() - this.outageSince;
      this.outageSince = undefined;
      this.throttled = false;
      this.ctx.log.info(`run ${this.key}: delivering again after ${Math.round(downMs / 1000)} s`);
      this.emit('recovered', { downMs });
    }
    if ((part.part === 'create' || part.part === 'start') && answer && typeof answer === 'object') {
      this.experimentValue = answer as Experiment;
    }
    if (part.part === 'create') {
      this.created = true;
      this.createdResolve?.();
      this.startHeartbeat();
    }
  }

  /** Reported once per outage; then the writer retries quietly until the server answers again. */
  private onDeliveryFailure(error: APIError): void {
    this.lastError = error;
    this.throttled = error.status === 429 || error.status === 503;
    if (this.outageSince !== undefined) return;
    this.outageSince = Date.now();
    const where = this.spool && !this.spoolBroken ? `kept in ${this.spool.dir}` : 'kept in memory';
    const what = this.throttled ? 'the server asks to slow down' : 'cannot deliver';
    this.report(
      new CairnError(
        `run ${this.key}: ${what} (${error.message}); batches are ${where} and retried until acknowledged`,
        { cause: error },
      ),
    );
  }

  private async deadLetter(batch: Sealed, part: BatchPart, error: APIError | Error): Promise<void> {
    const api = isAPIError(error) ? error : undefined;
    let file: string | undefined;
    if (this.spool && !this.spoolBroken) {
      let body: unknown = await this.partText(batch, part).catch(() => part.body);
      try {
        body = JSON.parse(body as string);
      } catch {
        // Kept as text.
      }
      const record = {
        experimentKey: this.key,
        writerId: this.writerId,
        seq: batch.seq,
        part: { ...part, body },
        status: api?.status,
        requestId: api?.requestId,
        problem: api?.problem,
        message: error.message,
        failedAt: Date.now(),
      };
      file = await this.spool
        .deadLetter(`${batch.seq}-${part.part}.json`, `${JSON.stringify(record)}\n`)
        .catch(() => undefined);
    }
    const apiError = api ?? new CairnError(error.message, { cause: error });
    const deadLetter = new DeadLetterError(
      `run ${this.key}: batch ${batch.seq} part ${part.part} was refused: ${error.message}${file ? `; kept in ${file}` : ''}`,
      batch.seq,
      part.part,
      file,
      apiError as APIError,
    );
    batch.settledParts.add(part.part);
    this.deadLetters.push(deadLetter);
    this.deadLetteredPoints += part.points;
    this.lastError = deadLetter;
    if (part.part === 'create') this.createdReject?.(deadLetter);
    this.emit('deadLetter', deadLetter);
    this.report(deadLetter);
  }

  /** An `error` event; with no listener, the logger. */
  private report(error: Error): void {
    this.lastError = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.ctx.log.error(error.message);
  }

  /** Sleeps between retries; false when the writer was stopped meanwhile. */
  private pause(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(this.pauseTimer);
        this.pauseTimer = undefined;
        this.wakePause = undefined;
        resolve(value);
      };
      this.wakePause = () => done(false);
      this.pauseTimer = startTimer(() => done(true), ms, this.keepAlive > 0);
    });
  }

  private settle(batch: Sealed): void {
    this.settledThrough = batch.seq;
    const ready = this.waiters.filter((w) => w.target <= this.settledThrough);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.target > this.settledThrough);
    for (const w of ready) w.resolve();
  }

  /**
   * Waits until every batch up to `target` is settled. While someone waits, the retry timers
   * keep the process alive (the wait is what the program is doing); the deadline bounds it.
   */
  private waitSettled(target: number, deadline?: number, signal?: AbortSignal): Promise<void> {
    if (this.settledThrough >= target) return Promise.resolve();
    if (this.stopped) return Promise.reject(new FlushTimeoutError(`run ${this.key}: the writer has stopped`));
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.keepAlive--;
        if (this.keepAlive === 0) (this.pauseTimer as { unref?: () => void } | undefined)?.unref?.();
      };
      const waiter: Waiter = {
        target,
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (error) => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          cleanup();
          reject(error);
        },
      };
      const onAbort = () => waiter.reject(new APIUserAbortError('flush was aborted', { cause: signal?.reason }));
      if (signal?.aborted) {
        reject(new APIUserAbortError('flush was aborted', { cause: signal.reason }));
        return;
      }
      this.keepAlive++;
      (this.pauseTimer as { ref?: () => void } | undefined)?.ref?.();
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (deadline !== undefined) {
        timer = startTimer(
          () =>
            waiter.reject(
              new FlushTimeoutError(
                `run ${this.key}: not everything was acknowledged in time${this.spool ? `; the rest is in ${this.spool.dir}` : ''}`,
              ),
            ),
          Math.max(0, deadline - Date.now()),
          true,
        );
      }
    });
  }

  private throwDeadLetters(target: number): void {
    const failed = this.deadLetters.filter((d) => d.seq <= target && !this.reportedDeadLetters.has(d));
    if (failed.length === 0) return;
    for (const d of failed) this.reportedDeadLetters.add(d);
    throw new AggregateError(failed, `run ${this.key}: the server refused ${failed.length} batch part(s)`);
  }

  /** Stops sending: an in-flight request is aborted, and the rest waits in the spool. */
  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopController.abort();
    this.wakePause?.();
    clearInterval(this.flushTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (!this.created)
      this.createdReject?.(new CairnError(`run ${this.key} stopped before its experiment was created`));
    for (const w of [...this.waiters]) w.reject(new FlushTimeoutError(`run ${this.key}: the writer has stopped`));
  }

  // ---------------------------------------------------------------- internals: heartbeat and end

  private startHeartbeat(): void {
    if (!this.primary || this.options.mode === 'offline' || this.heartbeatTimer || this.closed) return;
    this.heartbeatTimer = setInterval(() => this.beat(), this.options.heartbeatIntervalMs);
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
  }

  private beat(): void {
    if (this.heartbeatInFlight || this.closed) return;
    this.heartbeatInFlight = this.ctx.http
      .request<void>(
        { method: 'POST', path: `/experiments/${enc(this.key)}/heartbeat`, idempotent: true },
        { maxRetries: 0, timeout: 10_000 },
      )
      .catch((error: unknown) => this.ctx.log.debug(`heartbeat failed: ${String(error)}`))
      .finally(() => {
        this.heartbeatInFlight = undefined;
      });
  }

  private async finish(options: EndOptions): Promise<RunSummary> {
    const timeoutMs = options.timeoutMs ?? this.options.endTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    this.closed = true;
    clearInterval(this.flushTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    // The end travels last in the writer's stream; offline, it is spooled with the rest, and
    // `cairn sync` marks the run ended at the time it really ended.
    if (this.primary) {
      // In the server's clock, and never before the start the server has (a skewed clock would be refused).
      const endTime = Math.max(Date.now() + this.clockOffsetMs, this.experimentValue?.startTime ?? 0);
      this.pendingEnd = { status: options.status ?? 'SUCCEEDED', endTime };
    }
    this.seal();
    const endSeq = this.nextSeq - 1;
    const errors: Error[] = [];
    let timedOut = false;
    try {
      await this.waitSettled(endSeq, deadline);
    } catch (error) {
      timedOut = error instanceof FlushTimeoutError;
      if (!timedOut) errors.push(error as Error);
    }
    // What the deadline caught before its spool write is written now: nothing stays only in memory.
    if (this.spool && !this.spoolBroken) {
      for (const batch of this.queue) {
        try {
          this.writeBatchSync(batch);
        } catch (error) {
          errors.push(error as Error);
        }
      }
    }
    this.stop();
    this.ctx.platform.exitHooks?.unregister(this);
    let pendingInSpool = 0;
    let unsent = 0;
    for (const batch of this.queue) {
      if (batch.onDisk) pendingInSpool += batch.points;
      else unsent += batch.points;
    }
    if (this.options.mode === 'offline') pendingInSpool = this.spooledPoints;
    // Without a spool, what was not acknowledged is gone with the process: say so.
    if (!this.spool) {
      this.dropped += unsent;
      this.droppedLogged += unsent;
    }
    await Promise.all(this.removals);
    await this.spool?.close();
    errors.push(...this.deadLetters);
    const endAcknowledged =
      this.primary &&
      this.options.mode === 'online' &&
      this.settledThrough >= endSeq &&
      !this.deadLetters.some((d) => d.part === 'end');
    if (pendingInSpool > 0 && this.options.mode === 'online') {
      this.ctx.log.warn(
        `run ${this.key}: ${pendingInSpool} points were not acknowledged before the deadline; they are in ${this.spool?.dir}: run \`cairn sync\` to upload them`,
      );
    }
    return {
      key: this.key,
      writerId: this.writerId,
      ended: endAcknowledged,
      timedOut,
      logged: this.logged,
      sent: this.acknowledged,
      pendingInSpool,
      deadLettered: this.deadLetteredPoints,
      dropped: this.dropped,
      spoolDir: this.spool?.dir,
      errors,
      durationMs: Date.now() - this.startedAt,
    };
  }
}

/** Lets the event loop run (timers, I/O, the training loop) between pieces of encoding. */
const yieldToLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Where each part's body lies in a written file. Bodies are the odd chunks: in a gzipped file each
 * is its own gzip member, which is a complete gzip stream on its own.
 */
function bodyRanges(chunks: Uint8Array[], gzipped: boolean): NonNullable<Payload['range']>[] {
  const ranges: NonNullable<Payload['range']>[] = [];
  let offset = 0;
  chunks.forEach((chunk, i) => {
    if (i % 2 === 1) ranges.push({ offset, length: chunk.length, gzip: gzipped });
    offset += chunk.length;
  });
  return ranges;
}

function checkInteger(what: string, value: number): number {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  return value;
}

function checkTimestamp(value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new TypeError(`timestamp must be epoch milliseconds, got ${value}`);
  return Math.round(value);
}
