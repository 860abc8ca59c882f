import { chmod, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { ApiKey, AuditActor, Config, Core, Scope } from '@cairn/server';
import { type Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { cell, formatTime, renderTable } from '../output.js';
import { loadServer } from '../server-package.js';
import { parseDuration, parseInstant, parseSince } from '../time-options.js';

/** Kept in step with ALL_SCOPES by the CLI test. */
export const SCOPES = ['read', 'write', 'admin', 'api:models-read'];

type Print = (line: string) => void;
const print: Print = (line) => process.stdout.write(`${line}\n`);

/**
 * Who the audit log names for an operator's command: the operating-system user running it (an
 * operator acts with the store's credentials, not as a Cairn user).
 */
function operator(): AuditActor {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry for the uid (some containers).
    name = process.env.USER || process.env.LOGNAME || `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return { userId: null, name, source: 'cli', requestId: null };
}

/**
 * Opens the store named by the CAIRN_* variables (the server's own configuration), runs `work`,
 * and closes it. Operators' commands act on the store directly, so they work while the server is
 * stopped (and beside a running one).
 */
async function onStore(work: (core: Core, config: Config) => Promise<void>): Promise<void> {
  const { loadConfig, openCore } = await loadServer();
  const config = loadConfig();
  const core = await openCore(config);
  try {
    await bootstrap(core, config);
    await work(core, config);
  } finally {
    await core.store.close();
  }
}

/**
 * A CLI command may be the first thing to touch an empty store. It creates the admin user as the
 * server would, and keeps a generated admin key where the server keeps it: otherwise the key
 * would be lost and, the store no longer being empty, the server would never create another.
 */
async function bootstrap(core: Core, config: Config): Promise<void> {
  const { generatedSecret } = await core.auth.bootstrap(config.adminApiKey, operator());
  if (!generatedSecret) return;
  const file = join(config.dataDir, 'admin-api-key');
  await writeFile(file, `${generatedSecret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  process.stderr.write(`cairn: created the admin user and the "default" workspace; the admin API key is in ${file}\n`);
}

/** `cairn server`: runs until SIGTERM or SIGINT, then drains and exits 0. */
export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('start the server (configured by CAIRN_* environment variables)')
    .action(async () => {
      const { loadConfig, startServer } = await loadServer();
      const running = await startServer(loadConfig());
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => {
          running.app.log.info({ signal }, 'shutting down');
          running.stop().then(
            () => process.exit(0),
            (error: unknown) => {
              running.app.log.error({ err: error }, 'shutdown failed');
              process.exit(1);
            },
          );
        });
      }
    });
}

/** Operators' commands on the store: users, workspaces, API keys, Foundry RIDs. */
export function registerStoreCommands(program: Command): void {
  const users = program.command('users').description('manage users (on the store)');
  users
    .command('create <name>')
    .description("create a user and the user's own workspace <name>")
    .option('--email <email>', 'e-mail address')
    .option('--admin', 'make the user an administrator')
    .action((name: string, options: { email?: string; admin?: boolean }) =>
      onStore(async (core) => {
        const { userId } = await core.auth.createUser(name, options.email ?? null, options.admin ?? false, operator());
        print(`created user ${name} (${userId}) with workspace "${name}"`);
      }),
    );

  users
    .command('sign-in-link <user>')
    .description('print a one-time link that signs <user> in to the web UI (valid 24 hours)')
    .action((name: string) =>
      onStore(async (core, config) => {
        const { signInLink } = await loadServer();
        const { token, expiresAt } = await core.sessions.createSignInToken(name, operator());
        // The link alone on stdout, so it can be piped; the note on stderr.
        print(signInLink(config.publicUrl, token));
        process.stderr.write(`valid once, until ${new Date(expiresAt).toISOString()}; its host is CAIRN_PUBLIC_URL\n`);
      }),
    );

  const workspaces = program.command('workspaces').description('manage workspaces (on the store)');
  workspaces
    .command('create <name>')
    .description('create a workspace')
    .requiredOption('--owner <user>', 'the user who owns it')
    .action((name: string, options: { owner: string }) =>
      onStore(async (core) => {
        const { workspaceId } = await core.auth.createWorkspace(name, options.owner, operator());
        print(`created workspace ${name} (${workspaceId})`);
      }),
    );
  workspaces
    .command('add-member <workspace> <user>')
    .description('make a user a member of a workspace')
    .action((workspace: string, user: string) =>
      onStore(async (core) => {
        await core.auth.addMember(workspace, user, operator());
        print(`added ${user} to ${workspace}`);
      }),
    );

  const keys = program.command('keys').description('manage API keys (on the store)');
  keys
    .command('create <user>')
    .description('create an API key; prints the secret once, on stdout')
    .option('--name <name>', 'a label for the key', 'cli')
    .option('--scopes <scopes>', `comma-separated: ${SCOPES.join(', ')}`, 'read,write')
    .addOption(
      new Option('--expires-in <span>', 'the key stops working after this span: 90d, 12h, 30m, 2w').conflicts(
        'expiresAt',
      ),
    )
    .option('--expires-at <when>', 'the key stops working at this ISO 8601 date (UTC midnight) or date and time')
    .action((user: string, options: { name: string; scopes: string; expiresIn?: string; expiresAt?: string }) => {
      // Parsed before the store opens: a malformed expiry is a usage error (exit 2), not a failure.
      const expiresAt =
        options.expiresIn !== undefined
          ? Date.now() + parseDuration(options.expiresIn, '--expires-in')
          : options.expiresAt !== undefined
            ? parseInstant(options.expiresAt, '--expires-at')
            : null;
      return onStore(async (core) => {
        const scopes = options.scopes.split(',').map((s) => s.trim()) as Scope[];
        const { key, secret } = await core.auth.createKey(user, options.name, scopes, { expiresAt }, operator());
        // The secret alone on stdout, so `KEY=$(cairn keys create …)` works; the rest on stderr.
        print(secret);
        const expiry = key.expiresAt === null ? '' : `, expires ${formatTime(key.expiresAt)}`;
        process.stderr.write(
          `key id ${key.id}, scopes ${key.scopes.join(',')}${expiry}: the secret above is shown only once\n`,
        );
      });
    });
  keys
    .command('list')
    .description('list API keys: id, prefix, name, scopes, state, expiry, last use (tab-separated)')
    .option('--user <user>', "only this user's keys")
    .option('--json', 'one JSON array, for programs')
    .action((options: { user?: string; json?: boolean }) =>
      onStore(async (core) => {
        const listed = await core.auth.listKeys(options.user);
        if (options.json) {
          print(JSON.stringify(listed, null, 2));
          return;
        }
        const now = Date.now();
        for (const key of listed) {
          const expires = key.expiresAt === null ? 'never expires' : `expires ${formatTime(key.expiresAt)}`;
          const used = key.lastUsedAt === null ? 'never used' : `used ${formatTime(key.lastUsedAt)}`;
          print(
            `${key.id}\t${key.prefix}…\t${key.name}\t${key.scopes.join(',')}\t${keyState(key, now)}\t${expires}\t${used}`,
          );
        }
      }),
    );
  keys
    .command('revoke <key-id>')
    .description('revoke an API key')
    .action((id: string) =>
      onStore(async (core) => {
        await core.auth.revokeKey(id, operator());
        print(`revoked ${id}`);
      }),
    );

  program
    .command('audit')
    .description('the audit log of administrative actions, newest first (on the store)')
    .option('--since <when>', 'events from this ISO 8601 date or date and time, or this span back (7d, 24h)')
    .option('--actor <name>', 'events by this user (or operating-system user, for cairn commands)')
    .option('--action <action>', 'events of this action (user.create, key.revoke, project.delete…)')
    .option('--limit <n>', 'at most this many events (1 to 1000)', '100')
    .option('--json', 'one JSON array, for programs')
    .action((options: { since?: string; actor?: string; action?: string; limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!/^\d+$/.test(options.limit) || limit < 1 || limit > 1000) {
        throw new UsageError(`--limit takes a whole number from 1 to 1000, not "${options.limit}"`);
      }
      const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
      return onStore(async (core) => {
        const { events } = await core.audit.listAsOperator({
          limit,
          ...(since === undefined ? {} : { since }),
          ...(options.actor === undefined ? {} : { actor: options.actor }),
          ...(options.action === undefined ? {} : { action: options.action }),
        });
        if (options.json) {
          print(JSON.stringify(events, null, 2));
          return;
        }
        if (events.length === 0) {
          process.stderr.write('no audit events match\n');
          return;
        }
        print(
          renderTable(
            ['Time', 'Actor', 'Action', 'Target', 'Workspace', 'Details'],
            events.map((event) => [
              formatTime(event.at),
              `${event.actorName} (${event.source})`,
              event.action,
              `${event.targetType} ${event.targetName ?? event.targetId}`,
              event.workspaceName ?? '',
              cell(event.details),
            ]),
          ),
        );
      });
    });

  program
    .command('models')
    .description('Foundry model RIDs (on the store)')
    .command('list <workspace>')
    .description("each project's Foundry model RID")
    .action((workspaceName: string) =>
      onStore(async (core) => {
        const { modelRid } = await loadServer();
        const workspace = await core.store.tenancy.getWorkspaceByName(workspaceName);
        if (!workspace) throw new UsageError(`no workspace "${workspaceName}"`);
        for (const project of await core.store.projects.list(workspace.id, false)) {
          print(`${modelRid(project.id)}\t${project.name}\t${project.experimentCount} experiments`);
        }
      }),
    );
}

/** A key's state for `cairn keys list`: active, revoked or expired, with the moment. */
function keyState(key: ApiKey, now: number): string {
  if (key.revokedAt !== null) return `revoked ${new Date(key.revokedAt).toISOString()}`;
  if (key.expiresAt !== null && key.expiresAt <= now) return `expired ${new Date(key.expiresAt).toISOString()}`;
  return 'active';
}

/** `cairn experiments rid <key>`: on the store, beside the HTTP `experiments` commands. */
export function registerExperimentRidCommand(experiments: Command): void {
  experiments
    .command('rid <experiment-key>')
    .description("an experiment's Foundry experiment and model RIDs (on the store)")
    .action((key: string) =>
      onStore(async (core) => {
        const { experimentRid, modelRid } = await loadServer();
        const experiment = await core.store.experiments.get(key);
        if (!experiment) throw new UsageError(`no experiment "${key}"`);
        print(`${experimentRid(experiment.id)}\t${modelRid(experiment.projectId)}`);
      }),
    );
}
