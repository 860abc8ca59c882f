import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cairn } from '../src/node.js';
import { startTestServer, type TestServer } from './support/server.js';

const MiB = 1024 * 1024;
const SIZE = 192 * MiB;

let server: TestServer;
let file: string;

beforeAll(async () => {
  server = await startTestServer({ maxAssetBytes: SIZE });
  file = join(server.dir, 'model.bin');
  const handle = await open(file, 'w');
  const chunk = Buffer.alloc(4 * MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
  for (let written = 0; written < SIZE; written += chunk.length) await handle.write(chunk);
  await handle.close();
});
afterAll(async () => {
  await rm(file, { force: true });
  await server?.close();
});

it('streams a large asset with backpressure on Node: memory stays far below its size', async () => {
  const cairn = new Cairn({
    url: server.url,
    apiKey: server.apiKey,
    writer: { spoolDir: join(server.dir, 'spool'), exitHandlers: false },
  });
  const run = await cairn.startExperiment({ workspace: 'default', project: 'big-assets' });
  global.gc?.();
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }, 5);
  try {
    const asset = await run.logAsset(file);
    expect(asset.size).toBe(SIZE);
  } finally {
    clearInterval(sampler);
  }
  // Node 20's own fetch would hold the whole body (192 MiB) until the request ends.
  expect(peak - baseline).toBeLessThan(48 * MiB);
  await run.end();
});
