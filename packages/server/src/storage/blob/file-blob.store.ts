import { randomBytes } from 'node:crypto';
import { createWriteStream, type Dirent, type WriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, ByteRange, StoredBlob } from '../../core/blob.port.js';
import { StorageFullError, TooLargeError } from '../../core/errors.js';

/** The suffix of the temporary file a `put` streams into before renaming it into place. */
const PARTIAL_SUFFIX = '.partial';

/** errno codes of a volume with no room left: no space, or the user's disk quota. */
const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Blobs as files under one folder. Writes stream into a temporary file that is fsynced and then
 * renamed into place, so a reader never sees a partial object and a crash leaves none behind
 * (only a `.partial` file, which `removeAbandoned` clears).
 */
export class FileBlobStore implements BlobStore {
  private readonly root: string;
  /** Temporary files of this process's `put`s in progress: never abandoned, however slow. */
  private readonly writing = new Set<string>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  async put(key: string, body: Readable, options: { maxBytes?: number } = {}): Promise<{ size: number }> {
    const target = this.pathOf(key);
    const temporary = `${target}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`;
    let size = 0;
    const limit = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > limit) callback(new TooLargeError(`upload exceeds the limit of ${limit} bytes`));
        else callback(null, chunk);
      },
    });
    this.writing.add(temporary);
    let file: WriteStream | undefined;
    try {
      await mkdir(dirname(target), { recursive: true });
      file = createWriteStream(temporary);
      await pipeline(body, counter, file);
      const handle = await open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
      await syncDirectory(dirname(target));
    } catch (error) {
      // The write stream opens its file asynchronously: a failed pipeline may reject before the
      // open completes, and removing the file then would leave it to be created afterwards.
      // (events.once would reject on the stream's own 'error', so the close is awaited by hand.)
      const opened = file;
      if (opened && !opened.closed) await new Promise<void>((done) => opened.once('close', () => done()));
      // Removing a file needs no free space, so a full disk gets its room back at once.
      await rm(temporary, { force: true });
      if (NO_SPACE.has((error as NodeJS.ErrnoException).code ?? '')) {
        const full = new StorageFullError("the blob store's storage is full; retry later");
        full.cause = error;
        throw full;
      }
      throw error;
    } finally {
      this.writing.delete(temporary);
    }
    return { size };
  }

  async get(key: string, range?: ByteRange): Promise<Readable | undefined> {
    // Opened before streaming, so a reader keeps the bytes it found even if the object is deleted
    // or replaced (renamed over) while it reads; the stream closes the handle when done.
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(key))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<StoredBlob> {
    for (const { path, writtenAt } of await this.files()) {
      if (path.endsWith(PARTIAL_SUFFIX)) continue;
      const key = relative(this.root, path).split(sep).join('/');
      if (key.startsWith(prefix)) yield { key, writtenAt };
    }
  }

  async removeAbandoned(before: number): Promise<number> {
    let removed = 0;
    for (const { path, writtenAt } of await this.files()) {
      if (!path.endsWith(PARTIAL_SUFFIX) || this.writing.has(path) || writtenAt >= before) continue;
      await rm(path, { force: true });
      removed += 1;
    }
    return removed;
  }

  /** Every file under the root with its modification time; files that vanish meanwhile are skipped. */
  private async files(): Promise<{ path: string; writtenAt: number }[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const files: { path: string; writtenAt: number }[] = [];
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const path = join(entry.parentPath, entry.name);
      try {
        files.push({ path, writtenAt: (await stat(path)).mtimeMs });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return files;
  }

  private pathOf(key: string): string {
    const path = resolve(join(this.root, key));
    // Keys are built by the core from ids, but never let one escape the root.
    if (!path.startsWith(this.root + sep)) throw new Error(`invalid blob key ${key}`);
    return path;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
