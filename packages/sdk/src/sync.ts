import { mkdir, readdir, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { CairnClient } from './client.js';
import { type APIError, APIUserAbortError, isAPIError } from './core/errors.js';
import type { BodyInit } from './core/http.js';
import { isRetryableError } from './core/retry.js';
import { FAILED_DIR, LOCK_FILE, nodeSpool } from './platform/node-spool.js';
import { type BatchDocument, type BatchPart, parseDocument, seqOfFileName, splitPart } from './writer/batch.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const GZIP_FROM_BYTES = 64 * 1024;

export interface SyncSpoolOptions {
  /** The client to send with (its URL, key, retries and quota). */
  client: CairnClient;
  /** The spool root: `$CAIRN_SPOOL_DIR`, else `~/.cairn/spool`. */
  dir?: string;
  /** Only this experiment's batches. */
  experimentKey?: string;
  /** Also replay directories whose writer process still runs (its lock is held). */
  force?: boolean;
  signal?: AbortSignal;
  /** Called after each batch is acknowledged and removed. */
  onBatch?: (info: {
    experimentKey: string;
    writerId: string;
    seq: number;
    points: number;
    duplicatePoints: number;
  }) => void;
}

export interface SyncSpoolReport {
  experiments: number;
  writers: number;
  /** Batches acknowledged and removed from the spool. */
  batches: number;
  /** Metric points acknowledged… */
  points: number;
  /** …of which the server already had (a batch sent before its file could be removed). */
  duplicatePoints: number;
  /** Parts the server refused for good: moved to `failed/` beside their batch. */
  deadLettered: number;
  /** Writer directories left alone: their writer still runs. */
  skipped: string[];
  /** Writers that stopped at a batch the server could not take now; run the sync again later. */
  failed: { dir: string; seq: number; error: Error }[];
}

interface WriterDir {
  experimentKey: string;
  writerId: string;
  dir: string;
  /** Files by seq, in seq order (an exit-time write may have left two files for one seq). */
  batches: { seq: number; files: string[] }[];
  creates: boolean;
  /** A lock left by a writer process that no longer runs. */
  staleLock?: boolean;
}

/**
 * Replays a spool: every batch of every writer, in seq order per writer, with the keys it was
 * first sent with, so whatever the server already stored is not stored again. Writers that
 * create their experiment (lazy and offline runs) go first. Re-running is harmless; a batch is
 * removed only once every part is acknowledged or dead-lettered.
 */
export async function syncSpool(options: SyncSpoolOptions): Promise<SyncSpoolReport> {
  const root = options.dir ?? nodeSpool.defaultRoot();
  const report: SyncSpoolReport = {
    experiments: 0,
    writers: 0,
    batches: 0,
    points: 0,
    duplicatePoints: 0,
    deadLettered: 0,
    skipped: [],
    failed: [],
  };
  const experimentKeys = options.experimentKey ? [options.experimentKey] : await listDirs(root);
  for (const experimentKey of experimentKeys) {
    const writers: WriterDir[] = [];
    for (const writerId of await listDirs(join(root, experimentKey))) {
      const dir = join(root, experimentKey, writerId);
      const lock = await lockState(dir);
      if (lock === 'live' && !options.force) {
        report.skipped.push(dir);
        continue;
      }
      writers.push({ ...(await scanWriter(experimentKey, writerId, dir)), staleLock: lock === 'stale' });
    }
    if (writers.length === 0) continue;
    report.experiments++;
    writers.sort((a, b) => Number(b.creates) - Number(a.creates));
    for (const writer of writers) {
      report.writers++;
      const complete = await replayWriter(writer, options, report);
      // The lock of a writer that died (SIGKILL) goes with its last batch.
      if (complete && writer.staleLock) await unlink(join(writer.dir, LOCK_FILE)).catch(() => {});
      await removeIfEmpty(writer.dir);
    }
    await removeIfEmpty(join(root, experimentKey));
  }
  return report;
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && e.name !== FAILED_DIR).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/**
 * `live`: a process of this host that still runs holds the writer's lock (this process too).
 * `stale`: the lock's process is gone (killed). A lock of another host cannot be checked: stale.
 */
async function lockState(dir: string): Promise<'none' | 'live' | 'stale'> {
  let lock: { pid?: unknown; host?: unknown };
  try {
    lock = JSON.parse(await readFile(join(dir, LOCK_FILE), 'utf8'));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'stale';
  }
  if (typeof lock.pid !== 'number' || lock.host !== hostname()) return 'stale';
  if (lock.pid === process.pid) return 'live';
  try {
    process.kill(lock.pid, 0);
    return 'live';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'live' : 'stale';
  }
}

async function scanWriter(experimentKey: string, writerId: string, dir: string): Promise<WriterDir> {
  const bySeq = new Map<number, string[]>();
  for (const name of await readdir(dir)) {
    const seq = seqOfFileName(name);
    if (seq === undefined) {
      // Half-written files of a writer that died mid-write: never a batch's name, never sent.
      if (name.endsWith('.tmp')) await unlink(join(dir, name)).catch(() => {});
      continue;
    }
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), name]);
  }
  const batches = [...bySeq.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([seq, files]) => ({ seq, files: files.sort() }));
  let creates = false;
  const first = batches[0];
  if (first) {
    const doc = await readBatch(dir, first.files[0] as string).catch(() => undefined);
    creates = doc?.parts.some((p) => p.part === 'create') ?? false;
  }
  return { experimentKey, writerId, dir, batches, creates };
}

async function readBatch(dir: string, name: string): Promise<BatchDocument> {
  let bytes: Uint8Array = await readFile(join(dir, name));
  if (name.endsWith('.gz')) bytes = await gunzipAsync(bytes);
  return parseDocument(new TextDecoder().decode(bytes));
}

/** Replays a writer's batches in order; false when it had to stop at one. */
async function replayWriter(writer: WriterDir, options: SyncSpoolOptions, report: SyncSpoolReport): Promise<boolean> {
  for (const batch of writer.batches) {
    let doc: BatchDocument | undefined;
    let readError: unknown;
    for (const file of batch.files) {
      try {
        doc = await readBatch(writer.dir, file);
        break;
      } catch (error) {
        readError = error;
      }
    }
    if (!doc) {
      report.failed.push({
        dir: writer.dir,
        seq: batch.seq,
        error: new Error(`unreadable batch: ${String(readError)}`),
      });
      return false;
    }
    let points = 0;
    let duplicatePoints = 0;
    try {
      for (const part of doc.parts) {
        const outcome = await sendPart(options, part);
        points += outcome.points;
        duplicatePoints += outcome.duplicatePoints;
        for (const dead of outcome.dead) {
          await deadLetter(writer, doc, dead.part, dead.error);
          report.deadLettered++;
        }
      }
    } catch (error) {
      report.failed.push({ dir: writer.dir, seq: batch.seq, error: error as Error });
      // Later batches of this writer wait: its order is kept.
      return false;
    }
    for (const file of batch.files) await unlink(join(writer.dir, file)).catch(() => {});
    report.batches++;
    report.points += points;
    report.duplicatePoints += duplicatePoints;
    options.onBatch?.({
      experimentKey: writer.experimentKey,
      writerId: writer.writerId,
      seq: batch.seq,
      points,
      duplicatePoints,
    });
  }
  return true;
}

interface PartOutcome {
  points: number;
  duplicatePoints: number;
  dead: { part: BatchPart; error: APIError }[];
}

/** Sends a part with the client's retries; 413 splits it; a refusal for good is dead-lettered; anything else throws. */
async function sendPart(options: SyncSpoolOptions, part: BatchPart): Promise<PartOutcome> {
  const compressed = part.body.length >= GZIP_FROM_BYTES ? await gzipAsync(part.body) : undefined;
  try {
    const answer = await options.client.http.request<{ duplicate?: boolean } | undefined>(
      {
        method: part.method,
        path: part.path,
        body: () => (compressed ?? part.body) as BodyInit,
        headers: { 'content-type': 'application/json', ...(compressed ? { 'content-encoding': 'gzip' } : {}) },
      },
      { idempotencyKey: part.idempotencyKey, ...(options.signal ? { signal: options.signal } : {}) },
    );
    return { points: part.points, duplicatePoints: answer?.duplicate ? part.points : 0, dead: [] };
  } catch (error) {
    if (error instanceof APIUserAbortError || !isAPIError(error)) throw error;
    if (error.status === 409 && part.conflictIsSuccess) return { points: part.points, duplicatePoints: 0, dead: [] };
    if (error.status === 413) {
      const halves = splitPart(part);
      if (halves) {
        const outcome: PartOutcome = { points: 0, duplicatePoints: 0, dead: [] };
        for (const half of halves) {
          const o = await sendPart(options, half);
          outcome.points += o.points;
          outcome.duplicatePoints += o.duplicatePoints;
          outcome.dead.push(...o.dead);
        }
        return outcome;
      }
    }
    if (isRetryableError(error)) throw error;
    return { points: 0, duplicatePoints: 0, dead: [{ part, error }] };
  }
}

async function deadLetter(writer: WriterDir, doc: BatchDocument, part: BatchPart, error: APIError): Promise<void> {
  let body: unknown = part.body;
  try {
    body = JSON.parse(part.body);
  } catch {
    // Kept as text.
  }
  const record = {
    experimentKey: writer.experimentKey,
    writerId: writer.writerId,
    seq: doc.seq,
    part: { ...part, body },
    status: error.status,
    requestId: error.requestId,
    problem: error.problem,
    message: error.message,
    failedAt: Date.now(),
  };
  const dir = join(writer.dir, FAILED_DIR);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${doc.seq}-${part.part}.json`), `${JSON.stringify(record)}\n`);
}

async function removeIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => {});
}
