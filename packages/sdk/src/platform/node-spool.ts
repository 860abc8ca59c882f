import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, open, readFile, rename, rmdir, unlink, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Spool, WriterSpool } from './platform.js';

/** The writer's claim on its directory: `cairn sync` leaves a directory alone while its writer lives. */
export const LOCK_FILE = 'writer.lock';
export const FAILED_DIR = 'failed';

/** fsync of a directory makes a rename in it durable; some systems (Windows) cannot, which is fine there. */
function syncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Not supported on this platform: renames are durable by other means or not at all.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // As above.
  } finally {
    await handle?.close();
  }
}

class NodeWriterSpool implements WriterSpool {
  private prepared = false;
  private locked = false;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly root: string,
  ) {}

  /** Creates the directory and takes the lock, once. */
  private prepareSync(): void {
    if (this.prepared) return;
    mkdirSync(this.dir, { recursive: true });
    this.prepared = true;
    this.lockSync();
  }

  private lockSync(): void {
    try {
      const fd = openSync(join(this.dir, LOCK_FILE), 'w');
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: Date.now() }));
      closeSync(fd);
      this.locked = true;
    } catch {
      // A lock that cannot be written only means `cairn sync` may replay while we run: still exact.
    }
  }

  async write(name: string, chunks: Uint8Array[]): Promise<void> {
    if (this.closed) throw new Error(`spool ${this.dir} is closed`);
    this.prepareSync();
    const temp = join(this.dir, `${name}.${process.pid}.tmp`);
    const handle = await open(temp, 'w');
    try {
      for (const chunk of chunks) await handle.write(chunk);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(this.dir, name));
    await syncDir(this.dir);
  }

  writeSync(name: string, chunks: Uint8Array[]): void {
    this.prepareSync();
    const temp = join(this.dir, `${name}.${process.pid}.tmp`);
    const fd = openSync(temp, 'w');
    try {
      for (const chunk of chunks) {
        for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
      }
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(this.dir, name));
    syncDirSync(this.dir);
  }

  async read(name: string): Promise<Uint8Array> {
    return readFile(join(this.dir, name));
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.dir, name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  async deadLetter(name: string, text: string): Promise<string> {
    const dir = join(this.dir, FAILED_DIR);
    await mkdir(dir, { recursive: true });
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.prepared) return;
    if (this.locked) await unlink(join(this.dir, LOCK_FILE)).catch(() => {});
    // Only empty directories go: batches not acknowledged and dead letters stay.
    await rmdir(this.dir).catch(() => {});
    await rmdir(dirname(this.dir)).catch(() => {});
    void this.root;
  }

  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.prepared) return;
    try {
      if (this.locked) unlinkSync(join(this.dir, LOCK_FILE));
      rmdirSync(this.dir);
      rmdirSync(dirname(this.dir));
    } catch {
      // Not empty: what is left is for `cairn sync`.
    }
  }
}

/** Path segments from keys and writer ids: never a separator or a parent reference. */
export function safeSegment(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$/.test(value) || value.includes('..')) {
    throw new TypeError(`"${value}" cannot name a spool directory: letters, digits, '.', '_', '@', '-' only`);
  }
  return value;
}

export const nodeSpool: Spool = {
  defaultRoot: () => process.env.CAIRN_SPOOL_DIR || join(homedir(), '.cairn', 'spool'),
  open: (root, experimentKey, writerId) =>
    new NodeWriterSpool(join(root, safeSegment(experimentKey), safeSegment(writerId)), root),
};
