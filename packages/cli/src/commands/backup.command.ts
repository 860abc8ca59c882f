import type { Command } from 'commander';
import { backup, refuseDamaged, restoreBackup, type Verification, verifyBackup } from '../backup.js';
import { formatBytes, Progress, plural, print } from '../output.js';
import { loadServer } from '../server-package.js';

/**
 * `cairn backup <dir>`, `cairn backup --verify <dir>` and `cairn restore <dir>`: operators'
 * commands on the store named by the CAIRN_* variables, beside a running server
 * (docs/operations.md, "Backup and restore").
 */
export function registerBackupCommands(program: Command): void {
  program
    .command('backup <dir>')
    .description('a consistent snapshot of the SQLite store and its blobs, taken while the server runs')
    .option('--verify', 'check an existing backup instead: checksums, blobs, PRAGMA integrity_check')
    .action((dir: string, options: { verify?: boolean }) => (options.verify ? verify(dir) : takeBackup(dir)));

  program
    .command('restore <dir>')
    .description('a verified backup into an empty store (CAIRN_DATA_DIR, CAIRN_DATABASE_URL, CAIRN_BLOB_URL)')
    .action((dir: string) => restore(dir));
}

async function takeBackup(dir: string): Promise<void> {
  const { loadConfig } = await loadServer();
  const progress = new Progress();
  try {
    const { manifest } = await backup(loadConfig(), dir, progress);
    const database = manifest.files[0];
    print(
      `backed up the database (${formatBytes(database?.size ?? 0)}, snapshot at ${manifest.snapshotAt}) and ` +
        `${plural(manifest.blobs.count, 'blob')} (${formatBytes(manifest.blobs.bytes)}) into ${dir}`,
    );
    for (const key of manifest.blobs.absent) {
      process.stderr.write(`cairn: note: blob ${key} was gone from the store before it could be copied\n`);
    }
  } finally {
    progress.stop();
  }
}

function printNotes(verification: Verification): void {
  for (const note of verification.notes) process.stderr.write(`cairn: note: ${note}\n`);
}

async function verify(dir: string): Promise<void> {
  const progress = new Progress();
  let verification: Verification;
  try {
    verification = await verifyBackup(dir, progress);
  } finally {
    progress.stop();
  }
  printNotes(verification);
  refuseDamaged(dir, verification, '');
  const { manifest } = verification;
  print(
    `${dir} is intact: every file matches its checksum (${plural(manifest.files.length, 'file')}), the database passes ` +
      `PRAGMA integrity_check, every blob it refers to is there (snapshot at ${manifest.snapshotAt})`,
  );
}

async function restore(dir: string): Promise<void> {
  const { loadConfig } = await loadServer();
  const config = loadConfig();
  const progress = new Progress();
  let verification: Verification;
  try {
    verification = await restoreBackup(config, dir, progress);
  } finally {
    progress.stop();
  }
  printNotes(verification);
  const { manifest } = verification;
  print(
    `restored the snapshot of ${manifest.snapshotAt} and ${plural(manifest.blobs.count, 'blob')} into ${config.dataDir}`,
  );
}
