import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type RunningServer, startServer } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `cairn tables upload`, run as a subprocess against a real server listening on a free port
 * (build first: `npx tsc -b`).
 */
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/cairn.js');
const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../server/test/fixtures/tables');
const ADMIN_KEY = 'CliTablesAdminKey00000000000000000000000000';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cairn(args: string[], env: Record<string, string>): Promise<Run> {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('CAIRN_')) base[name] = value;
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...base, ...env } }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('cairn tables upload', { timeout: 120_000 }, () => {
  let dir: string;
  let server: RunningServer;
  let url: string;
  let key: string;
  let env: Record<string, string>;
  const run = (...args: string[]) => cairn(args, env);
  const rows = async (name: string) => {
    const response = await fetch(`${url}/api/cairn/v1/experiments/${key}/tables/${encodeURIComponent(name)}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    return (await response.json()) as { description: string | null; columns: unknown[]; rows: unknown[][] };
  };

  beforeAll(async () => {
    if (!existsSync(resolve(dirname(BIN), '../dist/main.js'))) {
      throw new Error('the CLI is not built: run `npx tsc -b` first');
    }
    dir = await mkdtemp(join(tmpdir(), 'cairn-cli-tables-'));
    server = await startServer(
      loadConfig({
        CAIRN_DATA_DIR: join(dir, 'data'),
        CAIRN_PORT: '0',
        CAIRN_ADMIN_API_KEY: ADMIN_KEY,
        CAIRN_LOG_LEVEL: 'silent',
      }),
    );
    url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const admin = await server.core.auth.authenticate(ADMIN_KEY);
    key = (await server.core.experiments.create(admin, { workspaceName: 'default', projectName: 'cli' })).experiment.id;
    env = { CAIRN_URL: `${url}/`, CAIRN_API_KEY: ADMIN_KEY };
    await writeFile(join(dir, 'metrics.csv'), 'epoch,loss,label\n1,0.5,a\n2,0.25,"b, c"\n');
    await writeFile(
      join(dir, 'table.json'),
      JSON.stringify({
        description: 'from json',
        columns: [{ name: 'at', type: 'datetime' }],
        rows: [['2024-01-31T12:00:00Z']],
      }),
    );
    await copyFile(join(FIXTURES, 'pyarrow-mixed-zstd.parquet'), join(dir, 'mixed.parquet'));
    await writeFile(join(dir, 'bad.csv'), 'a,b\n1\n');
    await writeFile(join(dir, 'notes.txt'), 'hello');
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads CSV, Parquet and JSON files and reports what was stored', async () => {
    const csv = await run(
      'tables',
      'upload',
      key,
      'eval/metrics',
      join(dir, 'metrics.csv'),
      '--description',
      'per epoch',
    );
    expect(csv.stderr).toBe('');
    expect(csv.code).toBe(0);
    expect(csv.stdout).toMatch(
      new RegExp(
        `^created table "eval/metrics" of experiment ${key}: 2 rows, 3 columns \\(epoch integer, loss double, label string\\), \\d+ bytes stored\\n$`,
      ),
    );
    expect(await rows('eval/metrics')).toMatchObject({
      description: 'per epoch',
      rows: [
        [1, 0.5, 'a'],
        [2, 0.25, 'b, c'],
      ],
    });

    const parquet = await run('tables', 'upload', key, 'mixed', join(dir, 'mixed.parquet'));
    expect(parquet.code).toBe(0);
    expect(parquet.stdout).toContain('created table "mixed"');
    expect(parquet.stdout).toContain('3 rows, 9 columns (id integer, score double');
    expect((await rows('mixed')).rows[0]?.[2]).toBe('cat');

    const json = await run('tables', 'upload', key, 'mixed', join(dir, 'table.json'));
    expect(json.code).toBe(0);
    expect(json.stdout).toMatch(/^replaced table "mixed" of experiment \w+: 1 rows, 1 columns \(at datetime\)/);
    expect(await rows('mixed')).toMatchObject({ description: 'from json', rows: [['2024-01-31T12:00:00.000Z']] });
    const described = await run('tables', 'upload', key, 'mixed', join(dir, 'table.json'), '--description', 'flag');
    expect(described.code).toBe(0);
    expect((await rows('mixed')).description).toBe('flag');
  });

  it('answers the stored table as JSON with --json', async () => {
    const result = await run('tables', 'upload', key, 'as-json', join(dir, 'metrics.csv'), '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: 'as-json',
      description: null,
      rowCount: 2,
      columns: [
        { name: 'epoch', type: 'integer' },
        { name: 'loss', type: 'double' },
        { name: 'label', type: 'string' },
      ],
      created: true,
    });
    const again = await run('tables', 'upload', key, 'as-json', join(dir, 'metrics.csv'), '--json');
    expect(JSON.parse(again.stdout).created).toBe(false);
  });

  it('reports the server’s refusals and missing settings in one line with exit status 1', async () => {
    const cases: [string[], Record<string, string>, string][] = [
      [
        ['tables', 'upload', key, 'bad', join(dir, 'bad.csv')],
        env,
        'cairn: line 2 of the CSV has 1 fields, the header has 2 (HTTP 400)\n',
      ],
      [
        ['tables', 'upload', 'f'.repeat(32), 'x', join(dir, 'metrics.csv')],
        env,
        `cairn: experiment ${'f'.repeat(32)} not found (HTTP 404)\n`,
      ],
      [['tables', 'upload', key, 'x', join(dir, 'metrics.csv')], { CAIRN_URL: url }, 'cairn: set CAIRN_API_KEY'],
      [
        ['tables', 'upload', key, 'x', join(dir, 'metrics.csv')],
        { ...env, CAIRN_API_KEY: 'WrongKey000000000000000000000000000000000' },
        'cairn: ',
      ],
      [['tables', 'upload', key, 'x', join(dir, 'missing.csv')], env, 'cairn: cannot read '],
      [
        ['tables', 'upload', key, 'x', join(dir, 'metrics.csv')],
        { ...env, CAIRN_URL: 'http://127.0.0.1:1' },
        'cairn: cannot reach the server at http://127.0.0.1:1',
      ],
    ];
    const results = await Promise.all(cases.map(([args, environment]) => cairn(args, environment)));
    results.forEach((result, i) => {
      const [args, , message] = cases[i] as [string[], Record<string, string>, string];
      expect({ args, code: result.code, stderr: result.stderr.slice(0, message.length) }).toEqual({
        args,
        code: 1,
        stderr: message,
      });
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
    });
    expect(results[3]?.stderr).toContain('(HTTP 401)');
  });

  it('rejects wrong usage with exit status 2 before sending anything', async () => {
    const cases = [
      ['tables', 'upload', key, 'x'],
      ['tables', 'upload', key, 'x', join(dir, 'notes.txt')],
      ['tables', 'upload', key, 'x', join(dir, 'metrics.csv'), '--name', 'y'],
      ['users', 'create', 'x', '--description', 'y'],
    ];
    const results = await Promise.all(cases.map((args) => run(...args)));
    results.forEach((result) => {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('Usage:');
    });
    expect(results[0]?.stderr).toContain("missing required argument 'file'");
    expect(results[1]?.stderr).toContain('must end in .csv, .parquet or .json');
    expect(results[2]?.stderr).toContain("unknown option '--name'");
    // Nothing was uploaded by the refused commands.
    const listed = await fetch(`${url}/api/cairn/v1/experiments/${key}/tables`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const { tables } = (await listed.json()) as { tables: { name: string }[] };
    expect(tables.map((table) => table.name)).toEqual(['as-json', 'eval/metrics', 'mixed']);
  });
});
