import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cairn, CairnError } from '../src/index.js';
import { expectExactSteps, valueAt } from './support/expect-points.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The browser-safe entry (`default` export condition): what a bundle for the browser gets. It must
 * never import node:* (directly or through another module), and its writer must work from memory.
 */

const SDK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every module the entry imports, transitively, with its import specifiers. */
async function importGraph(entry: string): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (graph.has(file)) continue;
    const source = await readFile(file, 'utf8');
    // Type-only imports are erased: they load nothing at run time.
    const specifiers = [...source.matchAll(/^(?:import|export)\s+(?!type\s)[^'"]*?from\s+'([^']+)'/gm)].map(
      (m) => m[1] as string,
    );
    graph.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.')) pending.push(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  }
  return graph;
}

describe('the browser entry', () => {
  it('is what the package exports without the node condition, and it never loads node:*', async () => {
    const pkg = JSON.parse(await readFile(join(SDK_DIR, 'package.json'), 'utf8'));
    expect(pkg.exports['.'].default.default).toBe('./dist/index.js');
    expect(pkg.exports['.'].node.default).toBe('./dist/node.js');
    expect(pkg.dependencies ?? {}).toEqual({});

    const browser = await importGraph(join(SDK_DIR, 'src/index.ts'));
    const loaded = [...browser.values()].flat();
    expect(loaded.filter((s) => !s.startsWith('.'))).toEqual([]);
    expect([...browser.keys()].some((f) => f.includes('platform/node'))).toBe(false);
    expect([...browser.keys()].some((f) => f.endsWith('sync.ts'))).toBe(false);
    // The check itself sees node:* where it is: the Node entry.
    const node = [...(await importGraph(join(SDK_DIR, 'src/node.ts'))).values()].flat();
    expect(node).toContain('node:fs');
  });

  describe('against a server', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => {
      await server.close();
    });

    it('logs from memory (no spool, no process hooks), exactly', async () => {
      const cairn = new Cairn({ url: server.url, apiKey: server.apiKey, writer: { maxBatchPoints: 2_000 } });
      const run = await cairn.startExperiment({ workspace: 'default', project: 'browser' });
      expect(run.spoolDir).toBeUndefined();
      for (let step = 0; step < 5_000; step++) run.logMetrics({ loss: valueAt('loss', step) }, { step });
      const summary = await run.end();
      expect(summary).toMatchObject({
        ended: true,
        logged: 5_000,
        sent: 5_000,
        pendingInSpool: 0,
        spoolDir: undefined,
      });
      await expectExactSteps(server, run.key, 'loss', 5_000);
    });

    it('has no offline mode (nothing to spool to)', () => {
      const cairn = new Cairn({ url: server.url, apiKey: server.apiKey });
      expect(() => cairn.attach('5'.repeat(32), { mode: 'offline' })).toThrow(CairnError);
    });
  });
});
