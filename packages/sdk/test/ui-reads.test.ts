import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, Cairn, NotFoundError } from '../src/node.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The reads and writes the web UI builds on: the experiment table as streamed CSV, the model
 * registry and artifacts of a workspace.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const client = () => new Cairn({ url: server.url, apiKey: server.apiKey });

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>)
    text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

describe('experiments.exportCsv', () => {
  it('streams the whole filtered, sorted table as CSV, beyond one page of the server', async () => {
    const cairn = client();
    const first = await cairn.experiments.create('default', 'csv', { name: 'first, "quoted"' });
    await cairn.params.log(first.key, { lr: 0.5, note: '=1+1' });
    const principal = await server.principal();
    const { project } = await server.core.experiments.get(principal, first.key);
    // More rows than one page of the export (1,000), written straight to the store.
    const bulk = 1_100;
    await server.core.store.transaction(async (tx) => {
      for (let i = 0; i < bulk; i++) {
        const key = `bulk${String(i).padStart(28, '0')}`;
        await tx.experiments.insert({
          id: key,
          projectId: project.id,
          workspaceId: project.workspaceId,
          name: `run-${i}`,
          status: 'SUCCEEDED',
          archived: false,
          startTime: 1_000 + i,
          endTime: 2_000 + i,
          createdBy: principal.userId,
          optimizationId: null,
          filePath: null,
          fileName: null,
          lastHeartbeat: null,
          hasCrashed: false,
          error: null,
          createdAt: 1_000 + i,
          updatedAt: 1_000 + i,
        });
        await tx.values.append(key, 'param', [
          { name: 'lr', type: 'number', text: String(i / 10_000), step: null, timestamp: 1_000, context: null },
        ]);
      }
    });

    const stream = await cairn.experiments.exportCsv({
      workspace: 'default',
      project: 'csv',
      sort: '-params.lr',
      columns: ['params.lr', 'params.note', 'startTime'],
    });
    expect(stream).toBeInstanceOf(ReadableStream);
    const text = await readAll(stream);
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('key,name,params.lr,params.note,startTime');
    expect(lines[1]).toBe(`${first.key},"first, ""quoted""",0.5,'=1+1,${new Date(first.startTime).toISOString()}`);
    expect(lines[2]).toBe(`bulk${String(bulk - 1).padStart(28, '0')},run-${bulk - 1},0.1099,,1970-01-01T00:00:02.099Z`);
    expect(lines.at(-2)).toBe(`bulk${'0'.repeat(28)},run-0,0,,1970-01-01T00:00:01.000Z`);
    expect(lines).toHaveLength(1 + 1 + bulk + 1);

    const filtered = await cairn.experiments.exportCsv({
      workspace: 'default',
      project: 'csv',
      filter: "name startswith 'first'",
    });
    expect(await readAll(filtered)).toBe(`key,name\r\n${first.key},"first, ""quoted"""\r\n`);
  });

  it('rejects a bad filter or an unknown project before there is a stream', async () => {
    const cairn = client();
    await expect(
      cairn.experiments.exportCsv({ workspace: 'default', project: 'csv', filter: 'params.lr <' }),
    ).rejects.toBeInstanceOf(BadRequestError);
    await expect(cairn.experiments.exportCsv({ workspace: 'default', project: 'no-such' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
