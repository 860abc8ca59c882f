/**
 * What the SDK needs from its runtime beyond fetch. The browser-safe entry (`index.ts`) uses
 * the memory platform (no disk, no process hooks); the Node entry (`node.ts`) adds the spool,
 * the exit hooks and files. Nothing under `platform/node-*` may be imported from a browser-safe
 * module: a browser bundle must never see `node:*`.
 */

/** Bytes read from a file (or made by the caller), streamed: never held whole in memory. */
export interface UploadSource {
  /** File name sent with the upload. */
  name: string;
  /** Size in bytes when known (progress reports and Content-Length need it). */
  size: number | undefined;
  /** A fresh stream of the bytes; undefined once a one-shot source was used. */
  open(): ReadableStream<Uint8Array> | undefined;
  /** Whether `open()` can be called again: a retried upload needs a second stream. */
  reopenable: boolean;
}

/** One writer's spool directory: `<root>/<experimentKey>/<writerId>/`. */
export interface WriterSpool {
  readonly dir: string;
  /**
   * Writes a batch file and makes it durable — file and directory fsynced — before resolving.
   * Written under a temporary name and renamed, so a crash never leaves half a batch under a
   * batch's name.
   */
  write(name: string, chunks: Uint8Array[]): Promise<void>;
  /** The same, synchronously: for the process 'exit' event and a full buffer. */
  writeSync(name: string, chunks: Uint8Array[]): void;
  read(name: string): Promise<Uint8Array>;
  remove(name: string): Promise<void>;
  /** Writes a refused part with its problem under `failed/`; returns the file's path. */
  deadLetter(name: string, text: string): Promise<string>;
  /** Releases the writer's lock and removes the directories left empty. */
  close(): Promise<void>;
  closeSync(): void;
}

export interface Spool {
  /** `$CAIRN_SPOOL_DIR`, else `~/.cairn/spool`. */
  defaultRoot(): string;
  /** No file system work happens until the first write. */
  open(root: string, experimentKey: string, writerId: string): WriterSpool;
}

/** What the process hooks ask of a live writer. */
export interface ExitParticipant {
  /**
   * Seals everything logged and writes whatever is not on disk yet, synchronously. `final`: the
   * process is ending, so the writer stops and releases its spool directory.
   */
  spillSync(final: boolean): void;
  /** Seals, spools and sends what it can before `deadline` (epoch ms). */
  drain(deadline: number): Promise<void>;
  /** The event loop emptied with the run still open: end it as `end()` would. */
  endForgotten(): Promise<unknown>;
}

export interface ExitHooks {
  register(participant: ExitParticipant): void;
  unregister(participant: ExitParticipant): void;
}

export interface Platform {
  readonly name: 'node' | 'browser';
  env(name: string): string | undefined;
  /** gzip in the background (Node: libuv's thread pool); undefined where unavailable. */
  gzip: ((data: Uint8Array) => Promise<Uint8Array>) | undefined;
  gunzip: ((data: Uint8Array) => Promise<Uint8Array>) | undefined;
  spool: Spool | undefined;
  exitHooks: ExitHooks | undefined;
  /** Opens a file by path for a streamed upload. */
  openFile: ((path: string) => Promise<UploadSource>) | undefined;
  /**
   * The fetch for requests with a streamed body, where the global one would hold the whole body
   * in memory (Node 20); undefined to use the client's fetch for every request.
   */
  streamFetch: typeof fetch | undefined;
}
