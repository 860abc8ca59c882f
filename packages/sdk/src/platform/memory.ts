import type { Platform } from './platform.js';

/** Through CompressionStream (every current browser, Deno, Node ≥ 18), where it exists. */
async function transform(
  data: Uint8Array,
  stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
): Promise<Uint8Array> {
  const out = new Blob([data]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

const hasCompressionStream = typeof CompressionStream !== 'undefined';

/**
 * The platform of the browser-safe entry: fetch and memory only. Logged data lives in memory until
 * acknowledged; there is no spool and no process to hook.
 */
export const memoryPlatform: Platform = {
  name: 'browser',
  env: () => undefined,
  gzip: hasCompressionStream ? (data) => transform(data, new CompressionStream('gzip')) : undefined,
  gunzip: hasCompressionStream ? (data) => transform(data, new DecompressionStream('gzip')) : undefined,
  spool: undefined,
  exitHooks: undefined,
  openFile: undefined,
  streamFetch: undefined,
};
