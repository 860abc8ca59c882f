import { execFile } from 'node:child_process';
import { mkdtemp, open, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A folder on a file system of its own, small enough for a test to fill. */
export interface SmallVolume {
  dir: string;
  /** Bytes still free on the volume. */
  free(): Promise<number>;
  /** Writes a file that leaves `leave` bytes free (as near as the block size allows). */
  fillLeaving(name: string, leave: number): Promise<void>;
  /** Unmounts and removes the folder. */
  release(): Promise<void>;
}

/**
 * Mounts a tmpfs of `bytes` on a fresh temp folder. Needs root (or CAP_SYS_ADMIN), which the test
 * machines and CI have; where the mount is refused the error says so instead of skipping the test.
 */
export async function mountSmallVolume(bytes: number): Promise<SmallVolume> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-small-volume-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', dir]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(
      `the disk-full tests mount a ${bytes}-byte tmpfs and need root for it: ${(error as Error).message}`,
    );
  }
  const free = async () => {
    const stats = await statfs(dir);
    return stats.bavail * stats.bsize;
  };
  return {
    dir,
    free,
    async fillLeaving(name, leave) {
      const size = (await free()) - leave;
      if (size <= 0) return;
      const handle = await open(join(dir, name), 'w');
      try {
        const chunk = Buffer.alloc(Math.min(size, 1024 * 1024), 0x5a);
        for (let written = 0; written < size; written += chunk.length) {
          await handle.write(chunk, 0, Math.min(chunk.length, size - written));
        }
      } finally {
        await handle.close();
      }
    },
    async release() {
      await run('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
