import type { BlobStore } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type { Store } from './store.port.js';

/**
 * Where blobs that a row owns live (assets, table rows, code panels). An experiment's git patch
 * sits under `experiments/` too but is owned by the experiment itself, with no row naming it.
 */
const ROW_OWNED_PREFIXES = ['experiments/', 'code-panels/'];
const NOT_ROW_OWNED = /^experiments\/[^/]+\/git-patch$/;
/** Keys asked about per store query. */
const PAGE = 1000;

export interface BlobSweepOptions {
  /**
   * How long a blob may exist without a row before it counts as orphaned, and a temporary file
   * without being written to before it counts as abandoned. Uploads store their bytes first and
   * commit their row after, so this must exceed the longest gap between the two (the rest of a
   * multipart body is read in between) and the longest stall of an upload in another process.
   */
  graceMillis: number;
  /** Time between sweeps after the first (which runs at start); 0 sweeps at start only. */
  intervalMillis: number;
}

export interface BlobSweepResult {
  /** Complete blobs no row referred to, deleted. */
  orphans: number;
  /** Temporary files of uploads that died (a killed process), deleted. */
  abandoned: number;
}

/**
 * Deletes blobs nothing refers to. Writers order their work so a crash never leaves a row without
 * its bytes, only bytes without a row: an upload killed mid-body leaves a temporary file, one
 * killed between storing its bytes and committing its row leaves an orphaned blob, and deletions
 * commit the row before removing the bytes. Safety against uploads in progress comes from the
 * grace period (see BlobSweepOptions) and from the blob store never touching its own running puts.
 */
export class BlobSweeper {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pass: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly options: BlobSweepOptions,
  ) {}

  /** One sweep, now. */
  async sweep(): Promise<BlobSweepResult> {
    const before = this.clock.now() - this.options.graceMillis;
    const abandoned = await this.blobs.removeAbandoned(before);
    let orphans = 0;
    for (const prefix of ROW_OWNED_PREFIXES) {
      let page: string[] = [];
      for await (const blob of this.blobs.list(prefix)) {
        if (blob.writtenAt >= before || NOT_ROW_OWNED.test(blob.key)) continue;
        page.push(blob.key);
        if (page.length === PAGE) {
          orphans += await this.removeUnreferenced(page);
          page = [];
        }
      }
      orphans += await this.removeUnreferenced(page);
    }
    return { orphans, abandoned };
  }

  /** Sweeps now and then every `intervalMillis` (the composition root calls this). */
  start(hooks: { onSwept?: (result: BlobSweepResult) => void; onError?: (error: unknown) => void } = {}): void {
    const run = () => {
      if (this.stopped) return;
      this.pass = this.sweep()
        .then((result) => hooks.onSwept?.(result), hooks.onError)
        .finally(() => {
          this.pass = undefined;
          if (this.stopped || this.options.intervalMillis === 0) return;
          this.timer = setTimeout(run, this.options.intervalMillis);
          // The sweep alone must not keep a process alive: the server's listener does that.
          this.timer.unref?.();
        });
    };
    run();
  }

  /** No more sweeps; resolves when the one running (if any) has let go of the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
  }

  private async removeUnreferenced(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const referenced = await this.store.referencedBlobKeys(keys);
    let removed = 0;
    for (const key of keys) {
      if (referenced.has(key)) continue;
      await this.blobs.delete(key);
      removed += 1;
    }
    return removed;
  }
}
