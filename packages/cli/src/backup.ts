import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobReferences, BlobStore, Config } from '@cairn/server';
import { CommandError } from './errors.js';
import { checkedRelativePath, sha256File } from './export-format.js';
import type { Progress } from './output.js';
import { loadServer } from './server-package.js';

/**
 * `cairn backup`, `cairn backup --verify` and `cairn restore` (docs/operations.md, "Backup and
 * restore"): a consistent snapshot of the SQLite store, the blobs it refers to, and a manifest of
 * sizes and SHA-256 checksums. Not to be confused with `cairn export`, which copies one project
 * through the API into a portable format; a backup is the whole store, as it is, for disasters.
 *
 * The folder:
 *   manifest.json        written last: a folder without it is a backup that did not finish
 *   cairn.db             the database snapshot (SQLite, rollback-journal mode)
 *   blobs/<key>          each blob the snapshot refers to, under its key
 */

export const BACKUP_FORMAT = 'cairn-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const BACKUP_MANIFEST = 'manifest.json';
const DATABASE_FILE = 'cairn.db';
const BLOB_FOLDER = 'blobs';
const DOCS = 'docs/operations.md, "Backup and restore"';

export interface BackupFile {
  /** Relative to the backup folder, "/"-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  formatVersion: typeof BACKUP_FORMAT_VERSION;
  /** The version of the `cairn` that wrote it. */
  cairnVersion: string;
  /** When the backup was complete. */
  createdAt: string;
  /** Just before the snapshot's read transaction began: every write acknowledged before it is in the backup. */
  snapshotAt: string;
  database: {
    kind: 'sqlite';
    file: typeof DATABASE_FILE;
    method: 'VACUUM INTO';
    /** The newest migration the snapshot has (for the record; restore does not depend on it). */
    migration: string | null;
  };
  blobs: {
    folder: typeof BLOB_FOLDER;
    count: number;
    bytes: number;
    /**
     * Keys the snapshot refers to that were gone from the blob store when their turn to be copied
     * came: deleted after the snapshot (an experiment or asset removed meanwhile), or lost before.
     */
    absent: string[];
  };
  /** Every file of the backup but the manifest, database first, then blobs in key order. */
  files: BackupFile[];
}

export interface BackupSummary {
  dir: string;
  manifest: BackupManifest;
}

/** The SQLite file of the configured store; PostgreSQL is backed up with its own tools. */
async function sqliteFile(config: Config, command: string): Promise<string> {
  const { sqliteFileOf } = await loadServer();
  const file = sqliteFileOf(config.databaseUrl);
  if (file === undefined) {
    throw new CommandError(
      `${command} works on the SQLite store; for PostgreSQL use pg_dump -Fc and pg_restore with a copy of the blobs, as ${DOCS} describes`,
    );
  }
  return file;
}

/** Creates `dir` when missing; refuses one that holds anything. */
async function emptyFolder(dir: string, what: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) throw new CommandError(`${dir} is not empty: ${what}`);
}

async function cairnVersion(): Promise<string> {
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** A blob key as a path under blobs/: keys are made by the core from ids, but a backup never writes outside its folder. */
function blobPath(key: string): string {
  const path = checkedRelativePath(key);
  if (!path) throw new CommandError(`the database refers to the blob key "${key}", which is not a relative path`);
  return `${BLOB_FOLDER}/${path}`;
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Streams a blob into a file, hashing on the way, and makes the file durable. */
async function copyOut(blobs: BlobStore, key: string, target: string, onBytes: (n: number) => void) {
  const body = await blobs.get(key);
  if (!body) return undefined;
  await mkdir(dirname(target), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      onBytes(chunk.length);
      callback(null, chunk);
    },
  });
  await pipeline(body, tap, createWriteStream(target, { flags: 'wx' }));
  await fsync(target);
  return { size, sha256: hash.digest('hex') };
}

/**
 * Backs up the configured SQLite store into `dir` (new or empty) while the server keeps running:
 * the database snapshot first, then the blobs the snapshot refers to (read from the snapshot, not
 * the live database, so they match it), then the manifest.
 */
export async function backup(config: Config, folder: string, progress: Progress): Promise<BackupSummary> {
  const server = await loadServer();
  // Absolute, so that walking up from a blob's folder meets it.
  const dir = resolve(folder);
  const source = await sqliteFile(config, 'cairn backup');
  try {
    await stat(source);
  } catch {
    throw new CommandError(`there is no database at ${source} (CAIRN_DATA_DIR / CAIRN_DATABASE_URL)`);
  }
  await emptyFolder(dir, 'a backup goes into a new or empty folder');

  const snapshotAt = new Date();
  const database = join(dir, DATABASE_FILE);
  await server.snapshotSqlite(source, database);
  const snapshot = server.SqliteSnapshot.open(database);
  let references: BlobReferences;
  let migration: string | undefined;
  try {
    migration = snapshot.latestMigration();
    references = snapshot.blobReferences();
  } finally {
    snapshot.close();
  }
  if (migration === undefined) throw new CommandError(`${config.databaseUrl} is not a Cairn database`);

  const blobs = server.openBlobStore(config.blobUrl);
  // Sizes first, for a progress bar in bytes; an absent optional key (no git patch) is skipped.
  const wanted: { key: string; required: boolean; size: number | undefined }[] = [];
  for (const key of references.required) wanted.push({ key, required: true, size: await blobs.size(key) });
  for (const key of references.optional) {
    const size = await blobs.size(key);
    if (size !== undefined) wanted.push({ key, required: false, size });
  }
  const bar = progress.bar(
    'blobs',
    wanted.reduce((sum, blob) => sum + (blob.size ?? 0), 0),
    { bytes: true },
  );
  const copied: BackupFile[] = [];
  const absent: string[] = [];
  const folders = new Set<string>();
  for (const { key, required } of wanted) {
    const path = blobPath(key);
    const target = join(dir, ...path.split('/'));
    // Sized a moment ago, but a blob may be deleted in between: checked again by the copy itself.
    const written = await copyOut(blobs, key, target, (n) => bar.increment(n));
    if (!written) {
      if (required) absent.push(key);
      continue;
    }
    copied.push({ path, ...written });
    // Every folder on the way, so the new entries survive a crash along with the files.
    for (let folder = dirname(target); folder.startsWith(dir) && folder !== dir; folder = dirname(folder)) {
      folders.add(folder);
    }
  }
  bar.done();
  for (const folder of folders) await fsync(folder);

  const databaseFile: BackupFile = {
    path: DATABASE_FILE,
    size: (await stat(database)).size,
    sha256: await sha256File(database),
  };
  copied.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    formatVersion: BACKUP_FORMAT_VERSION,
    cairnVersion: await cairnVersion(),
    createdAt: new Date().toISOString(),
    snapshotAt: snapshotAt.toISOString(),
    database: { kind: 'sqlite', file: DATABASE_FILE, method: 'VACUUM INTO', migration },
    blobs: {
      folder: BLOB_FOLDER,
      count: copied.length,
      bytes: copied.reduce((sum, file) => sum + file.size, 0),
      absent: absent.sort(),
    },
    files: [databaseFile, ...copied],
  };
  // Written under another name and renamed: a manifest present means a backup complete.
  const temporary = join(dir, `${BACKUP_MANIFEST}.partial`);
  await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  await fsync(temporary);
  await rename(temporary, join(dir, BACKUP_MANIFEST));
  await fsync(dir);
  return { dir: folder, manifest };
}

export interface Verification {
  manifest: BackupManifest;
  /** Damage: any one makes the backup unusable. */
  problems: string[];
  /** Things to know that are not damage (blobs absent when the backup was taken). */
  notes: string[];
}

/** Reads and shape-checks manifest.json; throws on anything that is not a backup manifest. */
async function readManifest(dir: string): Promise<BackupManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, BACKUP_MANIFEST), 'utf8');
  } catch {
    throw new CommandError(`${dir} has no ${BACKUP_MANIFEST}: not a Cairn backup, or one that did not finish`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CommandError(`${dir}/${BACKUP_MANIFEST} is not JSON: ${(error as Error).message}`);
  }
  const m = value as Partial<BackupManifest> | null;
  const bad = (what: string): never => {
    throw new CommandError(`${dir}/${BACKUP_MANIFEST} is not a Cairn backup manifest: ${what}`);
  };
  if (typeof m !== 'object' || m === null || m.format !== BACKUP_FORMAT) bad(`"format" must be "${BACKUP_FORMAT}"`);
  const manifest = m as BackupManifest;
  if (manifest.formatVersion !== BACKUP_FORMAT_VERSION) {
    throw new CommandError(
      `${dir} is a backup of format version ${String(manifest.formatVersion)}; this cairn reads version ${BACKUP_FORMAT_VERSION}`,
    );
  }
  if (manifest.database?.kind !== 'sqlite' || manifest.database.file !== DATABASE_FILE) {
    bad(`"database" must name the SQLite file ${DATABASE_FILE}`);
  }
  if (!Array.isArray(manifest.blobs?.absent) || !manifest.blobs.absent.every((key) => typeof key === 'string')) {
    bad('"blobs.absent" must be a list of keys');
  }
  if (!Array.isArray(manifest.files)) bad('"files" must be a list');
  const seen = new Set<string>();
  for (const file of manifest.files) {
    const path = typeof file?.path === 'string' ? checkedRelativePath(file.path) : undefined;
    if (!path || (path !== DATABASE_FILE && !path.startsWith(`${BLOB_FOLDER}/`))) {
      bad(`${JSON.stringify(file?.path)} is not ${DATABASE_FILE} nor a path under ${BLOB_FOLDER}/`);
    }
    if (seen.has(path as string)) bad(`${path} is listed twice`);
    seen.add(path as string);
    if (!Number.isSafeInteger(file.size) || file.size < 0 || !/^[0-9a-f]{64}$/.test(String(file.sha256))) {
      bad(`${path} needs a size and a hex SHA-256`);
    }
  }
  if (!seen.has(DATABASE_FILE)) bad(`"files" does not list ${DATABASE_FILE}`);
  return manifest;
}

/**
 * Checks a backup without changing a byte of it: every file's size and SHA-256, the snapshot's
 * `PRAGMA integrity_check` (opened read-only), and that every blob the snapshot refers to is in it.
 */
export async function verifyBackup(dir: string, progress: Progress): Promise<Verification> {
  const server = await loadServer();
  const manifest = await readManifest(dir);
  const problems: string[] = [];
  const notes: string[] = [];

  const present = new Map<string, number>();
  for (const file of manifest.files) {
    try {
      const info = await stat(join(dir, ...file.path.split('/')));
      if (!info.isFile()) problems.push(`${file.path} is not a file`);
      else if (info.size !== file.size)
        problems.push(`${file.path} is ${info.size} bytes, the manifest says ${file.size}`);
      else present.set(file.path, info.size);
    } catch {
      problems.push(`${file.path} is missing`);
    }
  }
  const bar = progress.bar(
    'checksums',
    [...present.values()].reduce((a, b) => a + b, 0),
    { bytes: true },
  );
  const intact = new Set<string>();
  for (const file of manifest.files) {
    if (!present.has(file.path)) continue;
    const digest = await sha256File(join(dir, ...file.path.split('/')), (n) => bar.increment(n));
    if (digest === file.sha256) intact.add(file.path);
    else problems.push(`${file.path} does not match its checksum`);
  }
  bar.done();

  // The database is opened even when its checksum is off: the integrity check says how bad it is.
  if (present.has(DATABASE_FILE)) {
    try {
      const snapshot = server.SqliteSnapshot.open(join(dir, DATABASE_FILE));
      try {
        for (const message of snapshot.integrityProblems().slice(0, 20)) {
          problems.push(`${DATABASE_FILE} fails PRAGMA integrity_check: ${message}`);
        }
        const listed = new Set(manifest.files.map((file) => file.path));
        const absent = new Set(manifest.blobs.absent);
        for (const key of snapshot.blobReferences().required) {
          const path = checkedRelativePath(key) ? `${BLOB_FOLDER}/${key}` : undefined;
          if (path && listed.has(path)) continue;
          if (absent.has(key)) notes.push(`blob ${key} was already gone from the store when the backup was taken`);
          else problems.push(`blob ${key}, which the database refers to, is not in the backup`);
        }
      } finally {
        snapshot.close();
      }
    } catch (error) {
      problems.push(`${DATABASE_FILE} cannot be read as a SQLite database: ${(error as Error).message}`);
    }
  }
  return { manifest, problems, notes };
}

/** Throws the list of problems of a backup that is not intact. */
export function refuseDamaged(dir: string, verification: Verification, consequence: string): void {
  const { problems } = verification;
  if (problems.length === 0) return;
  throw new CommandError(
    `${dir} is not an intact backup${consequence} (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):\n  ${problems.join('\n  ')}`,
  );
}

/**
 * Restores a backup into the configured, empty store: verifies it first, puts the blobs through
 * the blob store, then copies the database in under a temporary name and renames it into place
 * last, so a database present means a restore that finished.
 */
export async function restoreBackup(config: Config, dir: string, progress: Progress): Promise<Verification> {
  const server = await loadServer();
  const target = await sqliteFile(config, 'cairn restore');
  const blobs = server.openBlobStore(config.blobUrl);
  await emptyFolder(config.dataDir, 'restore needs an empty data folder (CAIRN_DATA_DIR)');
  for (const file of [target, `${target}-wal`]) {
    if (await exists(file)) throw new CommandError(`${file} exists: restore needs a store without a database`);
  }
  const verification = await verifyBackup(dir, progress);
  refuseDamaged(dir, verification, ', nothing was restored');
  const blobFiles = verification.manifest.files.filter((file) => file.path !== DATABASE_FILE);
  // The blob store may live outside the data folder (CAIRN_BLOB_URL): asked key by key.
  for (const file of blobFiles) {
    const key = file.path.slice(BLOB_FOLDER.length + 1);
    if ((await blobs.size(key)) !== undefined) {
      throw new CommandError(`the blob store (CAIRN_BLOB_URL) already holds ${key}: restore needs an empty one`);
    }
  }

  const bar = progress.bar(
    'blobs',
    blobFiles.reduce((sum, file) => sum + file.size, 0),
    { bytes: true },
  );
  for (const file of blobFiles) {
    const key = file.path.slice(BLOB_FOLDER.length + 1);
    // Counted by a transform in the stream, not a 'data' listener: that would start the flow
    // before the blob store reads, and lose what went by in between.
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bar.increment(chunk.length);
        callback(null, chunk);
      },
    });
    const source = createReadStream(join(dir, ...file.path.split('/')));
    source.once('error', (error) => counter.destroy(error));
    const { size } = await blobs.put(key, source.pipe(counter));
    if (size !== file.size) throw new CommandError(`${file.path}: the blob store took ${size} bytes of ${file.size}`);
  }
  bar.done();

  await mkdir(dirname(target), { recursive: true });
  const temporary = `${target}.restoring`;
  await rm(temporary, { force: true });
  await copyFile(join(dir, DATABASE_FILE), temporary);
  await fsync(temporary);
  await rename(temporary, target);
  await fsync(dirname(target));
  return verification;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
