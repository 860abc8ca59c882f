/**
 * @cairn/sdk for browsers and other runtimes without Node's file system: the whole client, and
 * runs that hold what they log in memory until the server acknowledges it (no spool, no process
 * hooks). Node resolves the package to `node.ts` instead.
 */
import { CairnClient, type ClientOptions } from './client.js';
import { memoryPlatform } from './platform/memory.js';

export * from './exports.js';

export class Cairn extends CairnClient {
  constructor(options: ClientOptions = {}) {
    super(options, memoryPlatform);
  }
}
