import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Cairn } from '@cairn/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cairn, requireBuilt, startTestServer, type TestServer } from './support/cli.js';

/**
 * The user's commands as subprocesses against a real server: login/logout and where settings come
 * from, the experiment table, one experiment, and every point of a metric.
 */

const ADMIN_KEY = 'UserCommandsAdminKey00000000000000000000';
const T0 = 1_764_783_600_000;

describe('cairn login and logout', { timeout: 120_000 }, () => {
  let dir: string;
  let server: TestServer;
  let other: TestServer;

  beforeAll(async () => {
    requireBuilt();
    dir = await mkdtemp(join(tmpdir(), 'cairn-cli-login-'));
    [server, other] = await Promise.all([
      startTestServer(ADMIN_KEY),
      startTestServer('OtherServerAdminKey0000000000000000000000'),
    ]);
    await new Cairn({ url: server.url, apiKey: ADMIN_KEY, logLevel: 'off' }).projects.create('default', {
      name: 'mine',
    });
  });
  afterAll(async () => {
    await Promise.all([server?.close(), other?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('verifies the key, saves url and key with mode 0600 in a 0700 folder, and logout removes them', async () => {
    const config = join(dir, 'a', 'cairn', 'config.json');
    const env = { CAIRN_CONFIG: config };
    const login = await cairn(['login', '--url', `${server.url}/`, '--api-key', ADMIN_KEY], env);
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toBe(
      `logged in to ${server.url} as admin (scopes admin,api:models-read,read,write, default workspace "default"); saved in ${config}\n`,
    );
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ url: server.url, apiKey: ADMIN_KEY });
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(config))).mode & 0o777).toBe(0o700);
    // Written under a temporary name and renamed: nothing else is left in the folder.
    expect(await readdir(dirname(config))).toEqual(['config.json']);

    // The saved settings serve later commands.
    const listed = await cairn(['experiments', 'list', 'default/mine', '--json'], env);
    expect(listed).toMatchObject({ code: 0, stdout: '', stderr: '' });

    const logout = await cairn(['logout'], env);
    expect(logout).toMatchObject({ code: 0, stdout: `removed the saved settings (${config})\n` });
    await expect(stat(config)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await cairn(['logout'], env)).stdout).toBe(`no saved settings (${config})\n`);
    const after = await cairn(['experiments', 'list', 'default/mine'], { ...env, CAIRN_URL: server.url });
    expect(after.code).toBe(1);
    expect(after.stderr).toBe(
      `cairn: set CAIRN_API_KEY, pass --api-key or run "cairn login": no API key for ${server.url}\n`,
    );
  });

  it('reads the key from stdin when --api-key is missing, with CAIRN_URL as the server', async () => {
    const config = join(dir, 'stdin', 'config.json');
    const login = await cairn(['login'], { CAIRN_CONFIG: config, CAIRN_URL: server.url }, `${ADMIN_KEY}\n`);
    expect(login.code).toBe(0);
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ url: server.url, apiKey: ADMIN_KEY });
    const empty = await cairn(['login', '--url', server.url], { CAIRN_CONFIG: join(dir, 'empty.json') }, '');
    expect(empty).toMatchObject({ code: 1, stdout: '' });
    expect(empty.stderr).toBe('cairn: no API key: pass --api-key, or give it on stdin\n');
  });

  it('asks for the key on a terminal without echoing it', async () => {
    // A pseudo-terminal from Python's pty module: the CLI sees a TTY on stdin and stderr.
    const config = join(dir, 'tty', 'config.json');
    const script = [
      'import os, pty, sys',
      'pid, fd = pty.fork()',
      'if pid == 0:',
      '    os.execv(sys.argv[1], sys.argv[1:])',
      'out = b""',
      'while b"API key: " not in out:',
      '    out += os.read(fd, 1024)',
      'os.write(fd, sys.stdin.readline().strip().encode() + b"\\r")',
      'while True:',
      '    try:',
      '        chunk = os.read(fd, 1024)',
      '    except OSError:',
      '        break',
      '    if not chunk:',
      '        break',
      '    out += chunk',
      '_, status = os.waitpid(pid, 0)',
      'sys.stdout.write(out.decode())',
      'sys.exit(os.WEXITSTATUS(status))',
    ].join('\n');
    const { spawn } = await import('node:child_process');
    const child = spawn('python3', ['-c', script, process.execPath, BIN, 'login', '--url', server.url], {
      env: { ...process.env, CAIRN_CONFIG: config, CAIRN_URL: '', CAIRN_API_KEY: '' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stdin.end(`${ADMIN_KEY}\n`);
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(output).toContain('API key: ');
    expect(output).toContain(`logged in to ${server.url} as admin`);
    // The key itself never appears on the terminal.
    expect(output).not.toContain(ADMIN_KEY);
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({ url: server.url, apiKey: ADMIN_KEY });
  });

  it('refuses a wrong key (status 1) and saves nothing, also over earlier settings', async () => {
    const config = join(dir, 'wrong', 'config.json');
    const wrong = await cairn(['login', '--url', server.url, '--api-key', 'WrongKey0000000000000000000000000000000'], {
      CAIRN_CONFIG: config,
    });
    expect(wrong).toMatchObject({ code: 1, stdout: '' });
    expect(wrong.stderr).toMatch(/^cairn: .+ \(HTTP 401\)\n$/);
    await expect(stat(config)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readdir(dirname(config))).rejects.toMatchObject({ code: 'ENOENT' });

    await writeFile(join(dir, 'kept.json'), JSON.stringify({ url: server.url, apiKey: ADMIN_KEY }));
    const over = await cairn(['login', '--api-key', 'WrongKey0000000000000000000000000000000'], {
      CAIRN_CONFIG: join(dir, 'kept.json'),
    });
    expect(over.code).toBe(1);
    expect(JSON.parse(await readFile(join(dir, 'kept.json'), 'utf8'))).toEqual({ url: server.url, apiKey: ADMIN_KEY });
    const unreachable = await cairn(['login', '--url', 'http://127.0.0.1:1', '--api-key', ADMIN_KEY], {
      CAIRN_CONFIG: config,
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^cairn: cannot reach the server at http:\/\/127\.0\.0\.1:1: /);
  });

  it('takes flags over environment over saved settings over the default, and a saved key only for its server', async () => {
    const config = join(dir, 'precedence.json');
    await writeFile(config, JSON.stringify({ url: server.url, apiKey: ADMIN_KEY }), { mode: 0o600 });
    const run = (args: string[], env: Record<string, string> = {}) =>
      cairn(['experiments', 'list', 'default/mine', '--json', ...args], { CAIRN_CONFIG: config, ...env });
    const wrongKey = 'WrongKey0000000000000000000000000000000';

    // Saved settings alone.
    expect((await run([])).code).toBe(0);
    // The environment's key wins over the saved one…
    const envKey = await run([], { CAIRN_API_KEY: wrongKey });
    expect(envKey.code).toBe(1);
    expect(envKey.stderr).toMatch(/\(HTTP 401\) — the API key from CAIRN_API_KEY was refused\n$/);
    // …and the flag over the environment's.
    expect((await run(['--api-key', ADMIN_KEY], { CAIRN_API_KEY: wrongKey })).code).toBe(0);
    const flagKey = await run(['--api-key', wrongKey]);
    expect(flagKey.stderr).toMatch(/the API key from --api-key was refused\n$/);
    // CAIRN_URL wins over the saved server, and the saved key is not sent to another server.
    const elsewhere = await run([], { CAIRN_URL: other.url });
    expect(elsewhere.stderr).toBe(
      `cairn: set CAIRN_API_KEY, pass --api-key or run "cairn login": no API key for ${other.url}\n`,
    );
    // The same server spelled with a trailing slash is the same server.
    expect((await run([], { CAIRN_URL: `${server.url}/` })).code).toBe(0);
    // --url wins over CAIRN_URL.
    expect((await run(['--url', server.url], { CAIRN_URL: 'http://127.0.0.1:1' })).code).toBe(0);
    const flagUrl = await run(['--url', 'http://127.0.0.1:1', '--api-key', ADMIN_KEY], { CAIRN_URL: server.url });
    expect(flagUrl.stderr).toMatch(/^cairn: cannot reach the server at http:\/\/127\.0\.0\.1:1: /);
    // Nothing anywhere: the default server.
    const none = await cairn(['experiments', 'list', 'default/mine'], { CAIRN_CONFIG: join(dir, 'none.json') });
    expect(none.stderr).toBe(
      'cairn: set CAIRN_API_KEY, pass --api-key or run "cairn login": no API key for http://127.0.0.1:8080\n',
    );
    // XDG_CONFIG_HOME when CAIRN_CONFIG is not set.
    const xdg = join(dir, 'xdg');
    expect((await cairn(['login', '--url', server.url, '--api-key', ADMIN_KEY], { XDG_CONFIG_HOME: xdg })).code).toBe(
      0,
    );
    expect(JSON.parse(await readFile(join(xdg, 'cairn', 'config.json'), 'utf8')).url).toBe(server.url);
    // A damaged settings file is reported, not taken for "no settings".
    await writeFile(join(dir, 'damaged.json'), '{"url":');
    const damaged = await cairn(['experiments', 'list', 'default/mine'], { CAIRN_CONFIG: join(dir, 'damaged.json') });
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/^cairn: .*damaged\.json is not JSON .*: run "cairn login" again\n$/);
  });
});

describe('cairn experiments and metrics', { timeout: 120_000 }, () => {
  let dir: string;
  let server: TestServer;
  let env: Record<string, string>;
  const keys: string[] = [];
  const run = (...args: string[]) => cairn(args, env);

  beforeAll(async () => {
    requireBuilt();
    dir = await mkdtemp(join(tmpdir(), 'cairn-cli-read-'));
    server = await startTestServer(ADMIN_KEY);
    env = { CAIRN_URL: server.url, CAIRN_API_KEY: ADMIN_KEY, CAIRN_CONFIG: join(dir, 'no-config.json') };
    const client = new Cairn({ url: server.url, apiKey: ADMIN_KEY, logLevel: 'off' });
    for (const [i, lr] of [0.1, 0.01, 0.001].entries()) {
      const e = await client.experiments.create('default', 'table', {
        key: `exp${i}${'0'.repeat(29)}`,
        name: `run-${i}`,
      });
      keys.push(e.key);
      await client.params.log(e.key, { lr, optimizer: 'adam' }, { timestamp: T0 });
      await client.tags.add(e.key, i === 0 ? ['baseline'] : ['sweep', `lr-${lr}`]);
      await client.metrics.log(e.key, {
        allowNonFinite: true,
        series: [
          {
            name: 'loss',
            values: [1, i === 1 ? 'NaN' : 0.5, 0.25 * (i + 1)],
            steps: [0, 1, 2],
            epochs: [0, 0, null],
            timestamps: [T0, T0 + 1, T0 + 2],
          },
          { name: 'loss', context: 'val, "quoted"', values: ['-Infinity'], steps: [3], timestamps: [T0 + 3] },
        ],
      });
      await client.experiments.update(e.key, {
        startTime: T0 + i * 1000,
        status: 'SUCCEEDED',
        endTime: T0 + i * 1000 + 65_000,
      });
    }
    await client.experiments.update(keys[2] as string, { archived: true });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the experiment table as JSON lines with exact values: filter, sort, columns, archived, limit', async () => {
    const columns = 'params.lr,metrics.loss.max,metrics.loss.count,tags,startTime,duration';
    const listed = await run(
      'experiments',
      'list',
      'default/table',
      '--columns',
      columns,
      '--sort',
      'params.lr',
      '--json',
    );
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const rows = listed.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(rows).toEqual([
      {
        key: keys[1],
        name: 'run-1',
        values: {
          'params.lr': 0.01,
          'metrics.loss.max': 1,
          'metrics.loss.count': 4,
          tags: ['sweep', 'lr-0.01'],
          startTime: T0 + 1000,
          duration: 65_000,
        },
      },
      {
        key: keys[0],
        name: 'run-0',
        values: {
          'params.lr': 0.1,
          'metrics.loss.max': 1,
          'metrics.loss.count': 4,
          tags: ['baseline'],
          startTime: T0,
          duration: 65_000,
        },
      },
    ]);
    const filtered = await run('experiments', 'list', 'default/table', '--filter', "tags contains 'sweep'", '--json');
    expect(
      filtered.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([{ key: keys[1], name: 'run-1', values: {} }]);
    const archived = await run('experiments', 'list', 'default/table', '--archived', '--json', '--columns', 'archived');
    expect(JSON.parse(archived.stdout)).toEqual({ key: keys[2], name: 'run-2', values: { archived: true } });
    const all = await run('experiments', 'list', 'default/table', '--archived', 'all', '--json', '--sort', 'name');
    expect(
      all.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).name),
    ).toEqual(['run-0', 'run-1', 'run-2']);
    const limited = await run('experiments', 'list', 'default/table', '--archived', 'all', '--limit', '2', '--json');
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(2);
  });

  it('prints the experiment table for people', async () => {
    const listed = await run('experiments', 'list', 'default/table', '--columns', 'params.lr,startTime,duration,tags');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('2 of 2 experiments in default/table');
    expect(listed.stdout).toMatch(/│ key\s+│ name\s+│ params\.lr\s+│ startTime\s+│ duration\s+│ tags\s+│/);
    expect(listed.stdout).toContain(`│ ${keys[0]} │ run-0 │ 0.1 `);
    expect(listed.stdout).toContain('2025-12-03T17:40:00Z');
    expect(listed.stdout).toContain('1m 05s');
    expect(listed.stdout).toContain('sweep, lr-0.01');
    // Usage errors: status 2 before anything is sent.
    for (const args of [
      ['experiments', 'list', 'table'],
      ['experiments', 'list', 'default/table', '--limit', '0'],
      ['experiments', 'list', 'default/table', '--archived', 'sometimes'],
    ]) {
      const result = await run(...args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
    }
    const bad = await run('experiments', 'list', 'default/table', '--filter', 'params.lr <');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^cairn: invalid filter at position \d+: .+ \(HTTP 400\)\n$/);
  });

  it('shows one experiment as JSON with exact values, and for people', async () => {
    const shown = await run('experiments', 'show', keys[1] as string, '--json');
    expect(shown.code).toBe(0);
    const body = JSON.parse(shown.stdout);
    expect(body.experiment).toMatchObject({
      key: keys[1],
      name: 'run-1',
      workspace: 'default',
      project: 'table',
      status: 'SUCCEEDED',
      archived: false,
      startTime: T0 + 1000,
      endTime: T0 + 66_000,
      durationMillis: 65_000,
      tags: ['sweep', 'lr-0.01'],
    });
    expect(body.params).toEqual([
      { name: 'lr', value: 0.01, type: 'number', step: null, timestamp: T0, context: null },
      { name: 'optimizer', value: 'adam', type: 'string', step: null, timestamp: T0, context: null },
    ]);
    expect(body.others).toEqual([]);
    expect(body.metrics).toEqual([
      {
        name: 'loss',
        count: 4,
        min: { value: '-Infinity', step: 3, timestamp: T0 + 3, context: 'val, "quoted"', offset: expect.any(Number) },
        max: { value: 1, step: 0, timestamp: T0, context: null, offset: expect.any(Number) },
        last: { value: '-Infinity', step: 3, timestamp: T0 + 3, context: 'val, "quoted"', offset: expect.any(Number) },
      },
    ]);
    const human = await run('experiments', 'show', keys[1] as string);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^key\\s+${keys[1]}\\nname\\s+run-1\\n`));
    expect(human.stdout).toContain('status      SUCCEEDED\n');
    expect(human.stdout).toContain('tags        sweep, lr-0.01\n');
    expect(human.stdout).toMatch(/Parameters\n.*\n.*│ name\s+│ value\s+│/);
    expect(human.stdout).toMatch(/│ loss\s+│ 4\s+│ -Infinity\s+│ -Infinity\s+│ 1\s+│/);
    const missing = await run('experiments', 'show', 'f'.repeat(32));
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toBe(`cairn: experiment ${'f'.repeat(32)} not found (HTTP 404)\n`);
  });

  it('gets every point of a metric as JSON, CSV and for people', async () => {
    const json = await run('metrics', 'get', keys[1] as string, 'loss', '--json');
    expect(json.code).toBe(0);
    const { offsets, ...points } = JSON.parse(json.stdout);
    // Offsets number the points in logging order (the server's own sequence, with gaps between series).
    expect(offsets).toHaveLength(4);
    expect([...offsets].sort((x: number, y: number) => x - y)).toEqual(offsets);
    expect(points).toEqual({
      name: 'loss',
      total: 4,
      steps: [0, 1, 2, 3],
      values: [1, 'NaN', 0.5, '-Infinity'],
      timestamps: [T0, T0 + 1, T0 + 2, T0 + 3],
      epochs: [0, 0, null, null],
      contexts: [null, null, null, 'val, "quoted"'],
    });
    const csv = await run('metrics', 'get', keys[1] as string, 'loss', '--csv');
    expect(csv.stdout).toBe(
      [
        'step,epoch,timestamp,context,value',
        `0,0,${T0},,1`,
        `1,0,${T0 + 1},,NaN`,
        `2,,${T0 + 2},,0.5`,
        `3,,${T0 + 3},"val, ""quoted""",-Infinity`,
        '',
      ].join('\n'),
    );
    const human = await run('metrics', 'get', keys[1] as string, 'loss');
    expect(human.stdout.split('\n')).toEqual([
      'step  epoch  time                  context        value',
      '0     0      2025-12-03T17:40:00Z                 1',
      '1     0      2025-12-03T17:40:00Z                 NaN',
      '2            2025-12-03T17:40:00Z                 0.5',
      '3            2025-12-03T17:40:00Z  val, "quoted"  -Infinity',
      '4 points of "loss"',
      '',
    ]);
    const none = await run('metrics', 'get', keys[1] as string, 'nope');
    expect(none).toMatchObject({ code: 1, stderr: `cairn: experiment ${keys[1]} has no metric "nope"\n` });
    expect((await run('metrics', 'get', keys[1] as string, 'loss', '--json', '--csv')).code).toBe(2);
  });
});
