import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cairn } from '@cairn/sdk';
import { SqliteSnapshot } from '@cairn/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Server, startServer, stopServer } from '../../server/test/support/python-compat.js';
import { cairn, requireBuilt } from './support/cli.js';

/**
 * `cairn backup`, `cairn backup --verify` and `cairn restore` as an operator runs them: beside a
 * real server process that keeps ingesting, then a fresh server on the restored folder.
 */

const ADMIN_KEY = 'BackupTestAdminKey0000000000000000000000';
const WRITERS = 4;
const POINTS_PER_BATCH = 25;

interface Acked {
  /** When the server's 200 arrived (epoch ms). */
  at: number;
}
interface AckedBatch extends Acked {
  writer: number;
  steps: number[];
}
interface AckedAsset extends Acked {
  id: string;
  bytes: Buffer;
}

const pointValue = (writer: number, step: number) => writer * 1_000_000 + step;

/** A file's bytes with one byte flipped in the middle. */
async function flipByte(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, Math.floor(size / 2));
    one[0] = (one[0] ?? 0) ^ 0xff;
    await handle.write(one, 0, 1, Math.floor(size / 2));
  } finally {
    await handle.close();
  }
}

interface Manifest {
  snapshotAt: string;
  blobs: { count: number; absent: string[] };
  files: { path: string; size: number; sha256: string }[];
}

const readManifest = async (dir: string) => JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest;

describe('cairn backup and restore', { timeout: 240_000 }, () => {
  let root: string;
  let servers: Server[] = [];
  /** The backup taken during ingest, reused (as copies) by the damage tests. */
  let backupDir: string;

  const env = (dataDir: string) => ({ CAIRN_DATA_DIR: dataDir, CAIRN_LOG_LEVEL: 'warn' });
  const client = (server: Server) =>
    // No retries: a write counts as acknowledged only when its own request was answered 200. A
    // short timeout: a restored blob shorter than its recorded size would hang a download.
    new Cairn({
      url: `http://127.0.0.1:${server.port}`,
      apiKey: ADMIN_KEY,
      logLevel: 'off',
      maxRetries: 0,
      timeout: 15_000,
    });
  const serve = async (dataDir: string) => {
    const server = await startServer({ dataDir, adminKey: ADMIN_KEY });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    requireBuilt();
    root = await mkdtemp(join(tmpdir(), 'cairn-backup-'));
    backupDir = join(root, 'backup');
  });
  afterEach(async () => {
    for (const server of servers) await stopServer(server);
    servers = [];
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('backs up while writers write; a fresh server on the restore has every point acknowledged before the backup began', async () => {
    const liveDir = join(root, 'live');
    const live = await serve(liveDir);
    const api = client(live);
    await api.projects.create('default', { name: 'backup' });
    const experiment = await api.experiments.create('default', 'backup', { name: 'ingest' });
    // Some volume first, so the snapshot is more than a few pages.
    const bulk = Array.from({ length: 50_000 }, (_, i) => i);
    await api.metrics.log(experiment.key, {
      series: [{ name: 'bulk', values: bulk.map((i) => i / 7), steps: bulk, timestamps: bulk.map((i) => 1_000 + i) }],
    });
    const patch = randomBytes(2_000);
    await api.gitPatch.put(experiment.key, patch);

    const batches: AckedBatch[] = [];
    const assets: AckedAsset[] = [];
    const failures: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let batch = 0; !stop; batch++) {
        const steps = Array.from({ length: POINTS_PER_BATCH }, (_, i) => batch * POINTS_PER_BATCH + i);
        try {
          await api.metrics.log(experiment.key, {
            series: [
              {
                name: `m${w}`,
                values: steps.map((s) => pointValue(w, s)),
                steps,
                timestamps: steps.map((s) => 2_000 + s),
              },
            ],
          });
          batches.push({ writer: w, steps, at: Date.now() });
        } catch (error) {
          failures.push(`writer ${w}: ${String(error)}`);
        }
      }
    };
    const uploader = async () => {
      for (let i = 0; !stop; i++) {
        const bytes = randomBytes(16_384 + i);
        try {
          const asset = await api.assets.upload(experiment.key, new Blob([bytes]), { name: `shard-${i}.bin` });
          assets.push({ id: asset.id, bytes, at: Date.now() });
        } catch (error) {
          failures.push(`uploader: ${String(error)}`);
        }
        await new Promise((done) => setTimeout(done, 20));
      }
    };
    const running = [...Array.from({ length: WRITERS }, (_, w) => writer(w)), uploader()];
    const warmUp = Date.now() + 20_000;
    while ((batches.length < 100 || assets.length < 5) && Date.now() < warmUp && failures.length === 0) {
      await new Promise((done) => setTimeout(done, 10));
    }

    const began = Date.now();
    const backedUp = await cairn(['backup', backupDir], env(liveDir));
    const ended = Date.now();
    // Writes acknowledged after the backup process exited cannot be in it: let a few happen.
    const afterwards = batches.length;
    const settle = Date.now() + 20_000;
    while (batches.length < afterwards + 20 && Date.now() < settle && failures.length === 0) {
      await new Promise((done) => setTimeout(done, 10));
    }
    stop = true;
    await Promise.all(running);
    await stopServer(live);

    expect(backedUp.stderr).toBe('');
    expect(backedUp.code).toBe(0);
    expect(backedUp.stdout).toMatch(/^backed up the database \(.+\) and \d+ blobs \(.+\) into /);
    expect(failures).toEqual([]);
    // The writers kept being acknowledged while the backup ran.
    expect(batches.filter((b) => b.at > began && b.at < ended).length).toBeGreaterThan(0);
    const manifest = await readManifest(backupDir);
    expect(Date.parse(manifest.snapshotAt)).toBeGreaterThanOrEqual(began);
    expect(manifest.blobs.absent).toEqual([]);
    expect(manifest.files[0]?.path).toBe('cairn.db');

    const verified = await cairn(['backup', '--verify', backupDir], env(liveDir));
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('is intact');

    const restoredDir = join(root, 'restored');
    const restored = await cairn(['restore', backupDir], env(restoredDir));
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const snapshot = SqliteSnapshot.open(join(restoredDir, 'cairn.db'));
    try {
      expect(snapshot.integrityProblems()).toEqual([]);
    } finally {
      snapshot.close();
    }

    const fresh = await serve(restoredDir);
    const read = client(fresh);
    for (let w = 0; w < WRITERS; w++) {
      const series = await read.series(experiment.key, `m${w}`);
      const stored = new Map(series.steps.map((step, i) => [step, series.values[i]]));
      const mine = batches.filter((b) => b.writer === w);
      const before = mine.filter((b) => b.at < began).flatMap((b) => b.steps);
      const after = mine.filter((b) => b.at > ended).flatMap((b) => b.steps);
      expect(before.length).toBeGreaterThan(0);
      expect(before.filter((step) => stored.get(step) !== pointValue(w, step))).toEqual([]);
      expect(after.filter((step) => stored.has(step))).toEqual([]);
      // Nothing invented: every stored point is one the writer sent.
      expect(series.steps.filter((step, i) => step === null || series.values[i] !== pointValue(w, step))).toEqual([]);
    }
    expect((await read.series(experiment.key, 'bulk')).total).toBe(bulk.length);
    const acknowledged = assets.filter((a) => a.at < began);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const asset of acknowledged) {
      const response = await read.assets.download(experiment.key, asset.id);
      expect(Buffer.from(await response.arrayBuffer()).equals(asset.bytes)).toBe(true);
    }
    const restoredPatch = await read.gitPatch.download(experiment.key);
    expect(Buffer.from(await restoredPatch.arrayBuffer()).equals(patch)).toBe(true);
    // The backup holds the assets acknowledged before it began, and the patch, as blob files.
    expect(manifest.blobs.count).toBeGreaterThanOrEqual(acknowledged.length + 1);
  });

  it('verify names a corrupted blob and a missing one, and restore then refuses and writes nothing', async () => {
    const damaged = join(root, 'damaged');
    await cp(backupDir, damaged, { recursive: true });
    const blobs = (await readManifest(damaged)).files.filter((f) => f.path.startsWith('blobs/') && f.size > 0);
    expect(blobs.length).toBeGreaterThanOrEqual(2);
    const [corrupt, lost] = blobs as [Manifest['files'][number], Manifest['files'][number]];
    await flipByte(join(damaged, corrupt.path));
    await rm(join(damaged, lost.path));

    const verified = await cairn(['backup', '--verify', damaged], env(join(root, 'unused')));
    expect(verified.code).toBe(1);
    expect(verified.stdout).toBe('');
    expect(verified.stderr).toContain(`is not an intact backup (2 problems)`);
    expect(verified.stderr).toContain(`${corrupt.path} does not match its checksum`);
    expect(verified.stderr).toContain(`${lost.path} is missing`);

    const target = join(root, 'not-restored');
    const restored = await cairn(['restore', damaged], env(target));
    expect(restored.code).toBe(1);
    expect(restored.stderr).toContain('nothing was restored');
    expect(await readdir(target)).toEqual([]);
  });

  it('verify finds a blob the database refers to that the manifest does not list', async () => {
    const dir = join(root, 'unlisted');
    await cp(backupDir, dir, { recursive: true });
    const manifest = await readManifest(dir);
    const dropped = manifest.files.find((f) => f.path.startsWith(`blobs/experiments/`) && f.path.includes('/assets/'));
    expect(dropped).toBeDefined();
    const path = dropped?.path as string;
    await rm(join(dir, path));
    manifest.files = manifest.files.filter((f) => f.path !== path);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));

    const verified = await cairn(['backup', '--verify', dir], env(join(root, 'unused')));
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(
      `blob ${path.slice('blobs/'.length)}, which the database refers to, is not in the backup`,
    );
  });

  it('verify runs PRAGMA integrity_check on the snapshot, beyond its checksum', async () => {
    const dir = join(root, 'malformed');
    await cp(backupDir, dir, { recursive: true });
    const database = join(dir, 'cairn.db');
    // Garbage over the cell pointers of page 3 (a b-tree page in every Cairn database: the first
    // tables and indexes are created before any data); the manifest is then made to agree with
    // the file, so only the integrity check can tell.
    const header = Buffer.alloc(100);
    const handle = await open(database, 'r+');
    try {
      await handle.read(header, 0, 100, 0);
      const pageSize = header.readUInt16BE(16);
      await handle.write(Buffer.alloc(100, 0xa5), 0, 100, 2 * pageSize + 8);
    } finally {
      await handle.close();
    }
    const manifest = await readManifest(dir);
    const bytes = await readFile(database);
    manifest.files[0] = {
      path: 'cairn.db',
      size: (await stat(database)).size,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));

    const verified = await cairn(['backup', '--verify', dir], env(join(root, 'unused')));
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain('cairn.db fails PRAGMA integrity_check');
  });

  it('refuses a non-empty target, a non-empty data folder, PostgreSQL, and wrong usage', async () => {
    const taken = join(root, 'taken');
    await mkdir(taken, { recursive: true });
    await writeFile(join(taken, 'something'), 'x');
    const dataDir = join(root, 'small');
    expect((await cairn(['users', 'create', 'carol'], env(dataDir))).code).toBe(0);

    const full = await cairn(['backup', taken], env(dataDir));
    expect(full.code).toBe(1);
    expect(full.stderr).toBe(`cairn: ${taken} is not empty: a backup goes into a new or empty folder\n`);
    expect(await readdir(taken)).toEqual(['something']);

    const occupied = await cairn(['restore', backupDir], env(dataDir));
    expect(occupied.code).toBe(1);
    expect(occupied.stderr).toContain('restore needs an empty data folder');

    const postgres = await cairn(['backup', join(root, 'pg')], {
      ...env(dataDir),
      CAIRN_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(postgres.code).toBe(1);
    expect(postgres.stderr).toContain('pg_dump -Fc');
    expect(postgres.stderr).toContain('docs/operations.md');
    expect(existsSync(join(root, 'pg'))).toBe(false);

    const notBackup = await cairn(['backup', '--verify', taken], env(dataDir));
    expect(notBackup.code).toBe(1);
    expect(notBackup.stderr).toContain('has no manifest.json');

    expect((await cairn(['backup'], env(dataDir))).code).toBe(2);
    expect((await cairn(['restore'], env(dataDir))).code).toBe(2);
  });
});
