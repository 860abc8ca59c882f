import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SCOPES, type Core, DomainError, loadConfig, openCore } from '@cairn/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The built `cairn` command, run as a subprocess against a temporary data directory, exactly as
 * an operator runs it (build first: `npx tsc -b`).
 */
const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../bin/cairn.js');
const ADMIN_KEY = 'CliTestAdminKey000000000000000000000000000';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The caller's environment without CAIRN_* settings, plus the given ones. */
function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('CAIRN_')) env[name] = value;
  return { ...env, ...extra };
}

function cairn(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { env: environment(env) }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

// Every command is a fresh Node process that loads the server package (about a second each).
describe('cairn CLI', { timeout: 120_000 }, () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (...args: string[]) => cairn(args, env);

  beforeAll(async () => {
    if (!existsSync(resolve(dirname(BIN), '../dist/main.js'))) {
      throw new Error('the CLI is not built: run `npx tsc -b` first');
    }
    dir = await mkdtemp(join(tmpdir(), 'cairn-cli-'));
    env = { CAIRN_DATA_DIR: join(dir, 'data'), CAIRN_ADMIN_API_KEY: ADMIN_KEY };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Opens the same store the CLI wrote, as the server would. */
  async function withCore<T>(work: (core: Core) => Promise<T>): Promise<T> {
    const core = await openCore(loadConfig({ CAIRN_DATA_DIR: env.CAIRN_DATA_DIR }));
    try {
      return await work(core);
    } finally {
      await core.store.close();
    }
  }

  it('rejects wrong usage with exit status 2 and the usage text, before touching the store', async () => {
    const cases: string[][] = [
      [],
      ['bogus'],
      ['users'],
      ['users', 'create'],
      ['users', 'create', 'a', 'b'],
      ['users', 'create', 'carol', '--owner', 'x'],
      ['users', 'create', 'carol', '--frobnicate'],
      ['workspaces', 'create', 'team'],
      ['workspaces', 'create', 'team', '--owner'],
      ['workspaces', 'add-member', 'team'],
      ['keys', 'create'],
      ['keys', 'revoke'],
      ['keys', 'list', 'extra'],
      ['server', 'now'],
      ['keys', 'create', 'alice', '--expires-in', '90x'],
      ['keys', 'create', 'alice', '--expires-at', 'next week'],
      ['keys', 'create', 'alice', '--expires-in', '1d', '--expires-at', '2030-01-01'],
      ['audit', '--limit', '0'],
      ['audit', '--since', 'yesterday'],
      ['audit', 'extra'],
    ];
    const results = await Promise.all(cases.map((args) => run(...args)));
    results.forEach((result, i) => {
      expect({ args: cases[i], code: result.code }).toEqual({ args: cases[i], code: 2 });
      expect(result.stderr).toMatch(/^cairn: .+\n/);
      expect(result.stderr).toContain('Usage:');
      expect(result.stdout).toBe('');
    });
    expect(results[0]?.stderr).toContain('missing command');
    expect(results[1]?.stderr).toContain("unknown command 'bogus'");
    expect(results[2]?.stderr).toContain('users: missing subcommand');
    expect(results[3]?.stderr).toContain("missing required argument 'name'");
    expect(results[4]?.stderr).toContain('too many arguments');
    expect(results[7]?.stderr).toContain("required option '--owner <user>' not specified");
    expect(results[6]?.stderr).toContain("'--frobnicate'");
    expect(results[14]?.stderr).toContain('--expires-in takes a span such as 90d');
    expect(results[15]?.stderr).toContain('--expires-at takes an ISO 8601 date');
    expect(results[16]?.stderr).toMatch(/--expires-in.*cannot be used with.*--expires-at/);
    expect(results[17]?.stderr).toContain('--limit takes a whole number from 1 to 1000');
    expect(results[18]?.stderr).toContain('--since takes an ISO 8601 date');
    // A typo must not create a database.
    expect(existsSync(env.CAIRN_DATA_DIR as string)).toBe(false);
  });

  it('prints the usage on --help with exit status 0', async () => {
    const result = await run('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('cairn keys create <user>');
    expect(result.stdout).toContain(`Scopes: ${ALL_SCOPES.join(', ')} (`);
  });

  it('creates users, workspaces, members and keys that authenticate with the right scopes', async () => {
    const alice = await run('users', 'create', 'alice', '--email', 'alice@example.com');
    expect(alice).toMatchObject({ code: 0 });
    expect(alice.stdout).toMatch(/^created user alice \([0-9a-f-]{36}\) with workspace "alice"\n$/);
    expect((await run('users', 'create', 'bob')).code).toBe(0);

    const team = await run('workspaces', 'create', 'team', '--owner', 'alice');
    expect(team.code).toBe(0);
    const teamId = /^created workspace team \(([0-9a-f]{32})\)\n$/.exec(team.stdout)?.[1];
    expect(teamId).toBeDefined();
    const member = await run('workspaces', 'add-member', 'team', 'bob');
    expect(member).toMatchObject({ code: 0, stdout: 'added bob to team\n' });
    // Adding a member twice is harmless.
    expect((await run('workspaces', 'add-member', 'team', 'bob')).code).toBe(0);

    const readKey = await run('keys', 'create', 'alice', '--scopes', 'read', '--name', 'notebook');
    expect(readKey.code).toBe(0);
    const secret = readKey.stdout.trim();
    expect(secret).toMatch(/^[A-Za-z0-9]{40}$/);
    const keyId = /key id ([0-9a-f]{32}), scopes read:/.exec(readKey.stderr)?.[1] as string;
    expect(keyId).toBeDefined();
    const bobKey = (await run('keys', 'create', 'bob')).stdout.trim();

    await withCore(async (core) => {
      const principal = await core.auth.authenticate(secret);
      expect(principal.userName).toBe('alice');
      expect([...principal.scopes]).toEqual(['read']);
      const aliceWorkspaces = await core.store.tenancy.listWorkspacesOfUser(principal.userId);
      expect(aliceWorkspaces.map((w) => w.name)).toEqual(['alice', 'team']);
      expect(principal.workspaceIds.has(teamId as string)).toBe(true);
      expect((await core.store.tenancy.getUserByName('alice'))?.email).toBe('alice@example.com');

      const bob = await core.auth.authenticate(bobKey);
      expect(bob.userName).toBe('bob');
      expect([...bob.scopes].sort()).toEqual(['read', 'write']);
      expect(bob.workspaceIds.has(teamId as string)).toBe(true);
      // The key's secret is never stored, only its hash.
      const listed = await core.auth.listKeys('alice');
      expect(JSON.stringify(listed)).not.toContain(secret);
    });

    const list = await run('keys', 'list', '--user', 'alice');
    expect(list.code).toBe(0);
    // Used once above (authenticate), so stamped; it never expires.
    expect(list.stdout).toMatch(
      new RegExp(
        `^${keyId}\\t${secret.slice(0, 6)}…\\tnotebook\\tread\\tactive\\tnever expires\\tused \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n$`,
      ),
    );
    const all = await run('keys', 'list');
    // Alice's, Bob's and the bootstrap admin key.
    expect(all.stdout.trim().split('\n')).toHaveLength(3);
    expect(all.stdout).toContain('bootstrap admin key\tread,write,admin,api:models-read\tactive');

    const revoked = await run('keys', 'revoke', keyId);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${keyId}\n` });
    expect((await run('keys', 'list', '--user', 'alice')).stdout).toMatch(
      new RegExp(`^${keyId}\\t.*\\trevoked \\d{4}-\\d\\d-\\d\\dT`),
    );
    await withCore(async (core) => {
      await expect(core.auth.authenticate(secret)).rejects.toBeInstanceOf(DomainError);
      await expect(core.auth.authenticate(bobKey)).resolves.toMatchObject({ userName: 'bob' });
      // The admin key from CAIRN_ADMIN_API_KEY was installed by the first command.
      await expect(core.auth.authenticate(ADMIN_KEY)).resolves.toMatchObject({ userName: 'admin', isAdmin: true });
    });

    const again = await run('keys', 'revoke', keyId);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toBe(`cairn: no active API key with id "${keyId}"\n`);
  });

  it('creates keys that expire and lists their expiry and last use', async () => {
    const before = Date.now();
    const created = await run('keys', 'create', 'alice', '--name', 'quarterly', '--expires-in', '90d');
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/, expires \d{4}-\d\d-\d\dT[\d:]+Z: the secret above is shown only once\n$/);
    const dated = await run('keys', 'create', 'alice', '--name', 'dated', '--expires-at', '2099-01-31');
    expect(dated.code).toBe(0);
    const past = await run('keys', 'create', 'alice', '--name', 'late', '--expires-at', '2001-01-01T00:00:00Z');
    expect(past).toMatchObject({
      code: 1,
      stderr: 'cairn: a key must expire in the future (expiresAt is epoch milliseconds)\n',
    });

    const listed = JSON.parse((await run('keys', 'list', '--user', 'alice', '--json')).stdout) as {
      name: string;
      expiresAt: number | null;
      lastUsedAt: number | null;
    }[];
    const quarterly = listed.find((k) => k.name === 'quarterly');
    expect(quarterly?.expiresAt).toBeGreaterThanOrEqual(before + 90 * 86_400_000);
    expect(quarterly?.expiresAt).toBeLessThan(Date.now() + 90 * 86_400_000);
    expect(listed.find((k) => k.name === 'dated')?.expiresAt).toBe(Date.parse('2099-01-31T00:00:00Z'));
    expect(listed.map((k) => k.name)).not.toContain('late');
    const lines = (await run('keys', 'list', '--user', 'alice')).stdout;
    expect(lines).toMatch(/\tdated\tread,write\tactive\texpires 2099-01-31T00:00:00Z\tnever used\n/);

    // Until its expiry the key works; its use shows in the listing.
    const secret = created.stdout.trim();
    await withCore(async (core) => {
      await expect(core.auth.authenticate(secret)).resolves.toMatchObject({ userName: 'alice' });
    });
    expect((await run('keys', 'list', '--user', 'alice')).stdout).toMatch(
      /\tquarterly\tread,write\tactive\texpires \S+\tused \d{4}-\d\d-\d\dT[\d:]+Z\n/,
    );
  });

  it('reads the audit log as a table, or as JSON filtered by time, actor and action', async () => {
    const operator = userInfo().username;
    const table = await run('audit');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Time.*Actor.*Action.*Target.*Workspace.*Details/);
    expect(table.stdout).toContain(`${operator} (cli)`);
    for (const action of [
      'store.bootstrap',
      'user.create',
      'workspace.create',
      'membership.add',
      'key.create',
      'key.revoke',
    ]) {
      expect(table.stdout).toContain(action);
    }

    const json = await run('audit', '--json', '--action', 'key.create', '--actor', operator, '--limit', '2');
    expect(json.code).toBe(0);
    const events = JSON.parse(json.stdout) as {
      id: number;
      action: string;
      actorName: string;
      source: string;
      details: { owner: string };
    }[];
    expect(events).toHaveLength(2);
    expect(events.every((e) => e.action === 'key.create' && e.actorName === operator && e.source === 'cli')).toBe(true);
    expect((events[0] as { id: number }).id).toBeGreaterThan((events[1] as { id: number }).id);
    // The newest key is the last one created in the test before.
    expect(events[0]?.details.owner).toBe('alice');

    const all = JSON.parse((await run('audit', '--json', '--since', '7d')).stdout) as { action: string }[];
    expect(all.at(-1)?.action).toBe('store.bootstrap');
    expect(JSON.parse((await run('audit', '--json', '--since', '2999-01-01')).stdout)).toEqual([]);
    const none = await run('audit', '--actor', 'nobody');
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'no audit events match\n' });
    const unknown = await run('audit', '--action', 'user.explode');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^cairn: unknown action "user.explode"; actions: store.bootstrap, /);
  });

  it('prints a one-time sign-in link for a user, with CAIRN_PUBLIC_URL as its base', async () => {
    const linked = await cairn(['users', 'sign-in-link', 'alice'], {
      ...env,
      CAIRN_PUBLIC_URL: 'https://cairn.example/',
    });
    expect(linked.code).toBe(0);
    const token = /^https:\/\/cairn\.example\/sign-in#token=([A-Za-z0-9_-]{43})\n$/.exec(linked.stdout)?.[1];
    expect(token, linked.stdout).toBeDefined();
    expect(linked.stderr).toMatch(/^valid once, until \d{4}-\d\d-\d\dT/);
    await withCore(async (core) => {
      const { session } = await core.sessions.open({ signInToken: token as string });
      expect(session.user.name).toBe('alice');
      await expect(core.sessions.open({ signInToken: token as string })).rejects.toBeInstanceOf(DomainError);
    });
    const nobody = await run('users', 'sign-in-link', 'nobody');
    expect(nobody).toMatchObject({ code: 1, stdout: '', stderr: 'cairn: user "nobody" not found\n' });
    expect((await run('users', 'sign-in-link')).code).toBe(2);
  });

  it('reports domain errors with exit status 1 and a one-line message', async () => {
    const cases: [string[], string][] = [
      [['users', 'create', 'alice'], 'cairn: user "alice" already exists\n'],
      [['users', 'create', 'bad name'], 'cairn: invalid user name "bad name"'],
      [['workspaces', 'create', 'w2', '--owner', 'nobody'], 'cairn: user "nobody" not found\n'],
      [['workspaces', 'create', 'team', '--owner', 'alice'], 'cairn: workspace "team" already exists\n'],
      [['workspaces', 'add-member', 'nowhere', 'bob'], 'cairn: workspace "nowhere" not found\n'],
      [['workspaces', 'add-member', 'team', 'nobody'], 'cairn: user "nobody" not found\n'],
      [['keys', 'create', 'nobody'], 'cairn: user "nobody" not found\n'],
      [['keys', 'create', 'alice', '--scopes', 'read,root'], 'cairn: unknown scopes: root\n'],
      [['keys', 'list', '--user', 'nobody'], 'cairn: user "nobody" not found\n'],
      [['keys', 'revoke', 'no-such-key'], 'cairn: no active API key with id "no-such-key"\n'],
    ];
    const results = await Promise.all(cases.map(([args]) => run(...args)));
    results.forEach((result, i) => {
      const [args, message] = cases[i] as [string[], string];
      expect({ args, code: result.code, stderr: result.stderr.slice(0, message.length) }).toEqual({
        args,
        code: 1,
        stderr: message,
      });
      // One line, no stack trace.
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    });
  });

  it('writes beside another process’s transaction that read before the CLI committed', async () => {
    // The server's transactions read first and write later. Had they not taken the write lock at
    // BEGIN, a commit by the CLI in between would fail them with SQLITE_BUSY_SNAPSHOT; instead
    // the CLI waits for the lock (busy_timeout) and both succeed.
    let cli: Promise<Run> | undefined;
    await withCore((core) =>
      core.store.transaction(async (tx) => {
        expect(await tx.tenancy.getUserByName('erin')).toBeUndefined();
        cli = run('users', 'create', 'erin');
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        await tx.tenancy.insertUser({
          id: randomUUID(),
          name: 'frank',
          email: null,
          isAdmin: false,
          defaultWorkspaceId: null,
          createdAt: Date.now(),
        });
      }),
    );
    expect(await cli).toMatchObject({ code: 0 });
    await withCore(async (core) => {
      expect(await core.store.tenancy.getUserByName('erin')).toBeDefined();
      expect(await core.store.tenancy.getUserByName('frank')).toBeDefined();
    });
  });

  it('prints the Foundry RIDs of projects and experiments', async () => {
    const key = await withCore(async (core) => {
      const admin = await core.auth.authenticate(ADMIN_KEY);
      const view = await core.experiments.create(admin, { workspaceName: 'default', projectName: 'rids' });
      return view.experiment;
    });
    const models = await run('models', 'list', 'default');
    expect(models.code).toBe(0);
    const uuid = `${key.projectId.slice(0, 8)}-${key.projectId.slice(8, 12)}-${key.projectId.slice(12, 16)}-${key.projectId.slice(16, 20)}-${key.projectId.slice(20)}`;
    expect(models.stdout).toContain(`ri.models.main.model.${uuid}\trids\t1 experiments`);
    const rid = await run('experiments', 'rid', key.id);
    expect(rid.stdout).toBe(`ri.models.main.experiment.${key.id}\tri.models.main.model.${uuid}\n`);
    expect((await run('experiments', 'rid', 'nope')).code).toBe(2);
  });

  it('reports bad configuration with exit status 1', async () => {
    const result = await cairn(['keys', 'list'], { ...env, CAIRN_SQLITE_SYNCHRONOUS: 'sometimes' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('cairn: CAIRN_SQLITE_SYNCHRONOUS must be "full" or "normal"\n');
  });

  it('keeps a generated admin key when a command is the first to touch the store', async () => {
    const fresh = { CAIRN_DATA_DIR: join(dir, 'fresh') };
    const result = await cairn(['users', 'create', 'dana'], fresh);
    expect(result.code).toBe(0);
    const file = join(fresh.CAIRN_DATA_DIR, 'admin-api-key');
    expect(result.stderr).toContain(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const secret = (await readFile(file, 'utf8')).trim();
    const core = await openCore(loadConfig(fresh));
    try {
      await expect(core.auth.authenticate(secret)).resolves.toMatchObject({ userName: 'admin', isAdmin: true });
    } finally {
      await core.store.close();
    }
    // Later commands find the store bootstrapped and leave the key alone.
    expect((await cairn(['keys', 'list'], fresh)).stderr).toBe('');
    expect((await readFile(file, 'utf8')).trim()).toBe(secret);
  });
});
