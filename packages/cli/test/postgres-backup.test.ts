import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cairn } from '@cairn/sdk';
import { loadConfig, type RunningServer, startServer } from '@cairn/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../server/test/support/python-compat.js';

/**
 * The PostgreSQL backup procedure of docs/operations.md ("Backup and restore"), command for
 * command: pg_dump -Fc while the server writes, then the blob folder; createdb, pg_restore and the
 * blobs back into a fresh database and folder; a fresh server finds what was acknowledged before
 * the dump began. The databases are throwaway ones of the local cluster, dropped afterwards.
 */

const BASE_URL = process.env.CAIRN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ADMIN_KEY = 'PgBackupTestAdminKey00000000000000000000';

/** The newest PostgreSQL client tools installed (Debian keeps them per version), else those on PATH. */
function tool(name: string): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const path = join(root, version, 'bin', name);
      if (existsSync(path)) return path;
    }
  }
  return name;
}

async function sh(command: string, args: string[]): Promise<void> {
  const result = await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.output}`);
}

function databaseUrl(name: string): string {
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

describe.skipIf(process.env.CAIRN_TEST_SKIP_POSTGRES === '1')(
  'PostgreSQL backup with pg_dump',
  { timeout: 120_000 },
  () => {
    const suffix = randomBytes(5).toString('hex');
    const sourceDb = `cairn_backup_src_${suffix}`;
    const restoredDb = `cairn_backup_dst_${suffix}`;
    let root: string;
    const servers: RunningServer[] = [];

    const serve = async (database: string, blobDir: string) => {
      const server = await startServer(
        loadConfig({
          CAIRN_DATA_DIR: join(root, `data-${database}`),
          CAIRN_DATABASE_URL: databaseUrl(database),
          CAIRN_BLOB_URL: `file:${blobDir}`,
          CAIRN_PORT: '0',
          CAIRN_ADMIN_API_KEY: ADMIN_KEY,
          CAIRN_LOG_LEVEL: 'silent',
        }),
      );
      servers.push(server);
      const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
      return { server, client: new Cairn({ url, apiKey: ADMIN_KEY, logLevel: 'off', maxRetries: 0, timeout: 15_000 }) };
    };

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'cairn-pg-backup-'));
      await sh(tool('createdb'), ['--maintenance-db', BASE_URL, sourceDb]);
    });
    afterEach(async () => {
      for (const server of servers.splice(0)) await server.stop();
    });
    afterAll(async () => {
      for (const name of [sourceDb, restoredDb]) {
        await sh(tool('dropdb'), ['--if-exists', '--force', '--maintenance-db', BASE_URL, name]);
      }
      await rm(root, { recursive: true, force: true });
    });

    it('pg_dump and the blob copy taken while writers write restore into a fresh database and server', async () => {
      const blobDir = join(root, 'blobs');
      const { server, client } = await serve(sourceDb, blobDir);
      await client.projects.create('default', { name: 'pg' });
      const experiment = await client.experiments.create('default', 'pg', { name: 'dumped' });
      const assetBytes = randomBytes(200_000);
      const asset = await client.assets.upload(experiment.key, new Blob([assetBytes]), { name: 'weights.bin' });
      const patch = randomBytes(3_000);
      await client.gitPatch.put(experiment.key, patch);

      // A writer logs point after point; each acknowledged one is recorded with its time.
      const acked: { step: number; at: number }[] = [];
      const failures: string[] = [];
      let stop = false;
      const writer = (async () => {
        for (let step = 0; !stop; step++) {
          try {
            await client.metrics.log(experiment.key, {
              series: [{ name: 'loss', values: [step / 2], steps: [step], timestamps: [1_000 + step] }],
            });
            acked.push({ step, at: Date.now() });
          } catch (error) {
            failures.push(String(error));
          }
        }
      })();
      while (acked.length < 50 && failures.length === 0) await new Promise((done) => setTimeout(done, 10));

      // The documented backup, with the server running.
      const backup = join(root, 'backup');
      const began = Date.now();
      await mkdir(backup);
      await sh(tool('pg_dump'), ['-Fc', '-f', join(backup, 'cairn.dump'), databaseUrl(sourceDb)]);
      await sh('rsync', ['-a', '--exclude', '*.partial', `${blobDir}/`, `${backup}/blobs/`]);
      stop = true;
      await writer;
      expect(failures).toEqual([]);
      await server.stop();
      servers.splice(servers.indexOf(server), 1);

      // The documented restore: a new database, the dump into it, the blobs into a new folder.
      const newBlobDir = join(root, 'restored-blobs');
      await sh(tool('createdb'), ['--maintenance-db', databaseUrl(sourceDb), restoredDb]);
      await sh(tool('pg_restore'), [
        '--no-owner',
        '--single-transaction',
        '--exit-on-error',
        '-d',
        databaseUrl(restoredDb),
        join(backup, 'cairn.dump'),
      ]);
      await sh('rsync', ['-a', `${backup}/blobs/`, `${newBlobDir}/`]);
      expect((await readdir(newBlobDir, { recursive: true })).some((name) => name.endsWith('.partial'))).toBe(false);

      const restored = await serve(restoredDb, newBlobDir);
      const series = await restored.client.series(experiment.key, 'loss');
      const stored = new Map(series.steps.map((step, i) => [step, series.values[i]]));
      const before = acked.filter((a) => a.at < began);
      expect(before.length).toBeGreaterThanOrEqual(50);
      expect(before.filter((a) => stored.get(a.step) !== a.step / 2)).toEqual([]);
      const download = await restored.client.assets.download(experiment.key, asset.id);
      expect(Buffer.from(await download.arrayBuffer()).equals(assetBytes)).toBe(true);
      const restoredPatch = await restored.client.gitPatch.download(experiment.key);
      expect(Buffer.from(await restoredPatch.arrayBuffer()).equals(patch)).toBe(true);
    });
  },
);
