import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENTS, type FuzzResult, fuzz, type Seeded, schemathesisVenv, seed } from './support/openapi-fuzz.js';
import { type Server, startServer, stopServer } from './support/python-compat.js';

/**
 * Every OpenAPI document Cairn serves, fuzzed by schemathesis with all of its checks against a
 * real server process (SQLite) holding seeded data, the seeded ids handed to schemathesis as
 * fixed parameter values (its config's `[parameters]`) so that lookups find something. Any 5xx,
 * response outside its documented status, media type or schema, schema-valid request refused,
 * invalid one accepted, or undeclared method not answered 405 with `Allow` fails the run, with
 * schemathesis' reproduction (curl) printed.
 *
 * `npm test` runs it at a small budget (5 test cases per operation and phase) with a fixed seed,
 * so that a red run is a regression, never a new draw. `npm run fuzz` is the deep run:
 * CAIRN_FUZZ_MAX_EXAMPLES cases (400 by default) with a fresh seed each time unless
 * CAIRN_FUZZ_SEED is set; it prints the requests sent per document.
 */
const MAX_EXAMPLES = Number(process.env.CAIRN_FUZZ_MAX_EXAMPLES ?? '5');
const DEEP = MAX_EXAMPLES > 5;
const SEED = process.env.CAIRN_FUZZ_SEED !== undefined ? Number(process.env.CAIRN_FUZZ_SEED) : DEEP ? undefined : 1;
const adminKey = 'FuzzAdminKey0000000000000000000000000000';

describe('the OpenAPI documents under schemathesis', () => {
  let python: string | undefined;
  let server: Server | undefined;
  let dataDir: string | undefined;
  let workDir: string | undefined;
  let seeded: Seeded | undefined;
  const results: FuzzResult[] = [];

  beforeAll(async () => {
    python = await schemathesisVenv();
    dataDir = await mkdtemp(join(tmpdir(), 'cairn-fuzz-data-'));
    workDir = await mkdtemp(join(tmpdir(), 'cairn-fuzz-run-'));
    server = await startServer({ dataDir, adminKey });
    seeded = await seed(`http://127.0.0.1:${server.port}`, adminKey);
  }, 600_000);

  afterAll(async () => {
    await stopServer(server);
    for (const dir of [dataDir, workDir]) if (dir) await rm(dir, { recursive: true, force: true });
    if (results.length > 0) {
      const total = results.reduce((sum, r) => sum + r.requests, 0);
      const lines = results.map((r) => `  ${r.document}: ${r.requests} requests, exit ${r.code}`);
      process.stdout.write(
        `schemathesis (max ${MAX_EXAMPLES} examples):\n${lines.join('\n')}\n  total: ${total} requests\n`,
      );
    }
  }, 30_000);

  it.each(DOCUMENTS)(
    '%s.json: no 5xx and no check failure',
    async (document) => {
      if (!python || !server || !seeded || !workDir) throw new Error('the server did not start');
      const result = await fuzz({
        python,
        document,
        base: `http://127.0.0.1:${server.port}`,
        adminKey,
        seeded,
        maxExamples: MAX_EXAMPLES,
        workDir,
        ...(SEED === undefined ? {} : { seed: SEED }),
      });
      results.push(result);
      const report = `schemathesis on ${document}.json exited ${result.code}:\n${result.output}\n--- server log ---\n${server.output()}`;
      expect(result.code, report).toBe(0);
      // A run that sent nothing proves nothing (a broken document, an unreachable server).
      expect(result.requests, report).toBeGreaterThan(0);
    },
    DEEP ? 6 * 3_600_000 : 600_000,
  );
});
