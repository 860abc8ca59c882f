/**
 * @cairn/sdk in Node: the client of `index.ts` with a durable writer — batches spooled to disk
 * (fsynced) before they are sent, the tail written at exit and on SIGTERM/SIGINT, files streamed
 * from disk — and `syncSpool`, which uploads what a spool holds (the `cairn sync` command).
 */
import { CairnClient, type ClientOptions } from './client.js';
import { nodePlatform } from './platform/node.js';
import { nodeSpool } from './platform/node-spool.js';

export * from './exports.js';
export { setSignalTimeoutMs } from './platform/node.js';
export { type SyncSpoolOptions, type SyncSpoolReport, syncSpool } from './sync.js';

/** Where runs spool and `syncSpool` looks by default: `$CAIRN_SPOOL_DIR`, else `~/.cairn/spool`. */
export const defaultSpoolDir = (): string => nodeSpool.defaultRoot();

export class Cairn extends CairnClient {
  constructor(options: ClientOptions = {}) {
    super(options, nodePlatform);
  }
}
