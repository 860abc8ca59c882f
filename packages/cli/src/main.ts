import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config, Core, Scope } from '@cairn/server';

/**
 * The server package (Fastify, drivers, schemas) takes about a second to load, so it is imported
 * only once the command line is known to be valid: help and usage errors answer at once.
 */
type Server = typeof import('@cairn/server');
let server: Server | undefined;
async function loadServer(): Promise<Server> {
  server ??= await import('@cairn/server');
  return server;
}

/** Kept in step with ALL_SCOPES by the CLI test. */
const SCOPES = ['read', 'write', 'admin', 'api:models-read'];

const USAGE = `cairn — self-hosted ML experiment tracking

Usage:
  cairn server                                   start the server (CAIRN_* environment variables)
  cairn users create <name> [--email E] [--admin]
  cairn workspaces create <name> --owner <user>
  cairn workspaces add-member <workspace> <user>
  cairn keys create <user> [--name N] [--scopes read,write]
  cairn keys list [--user U]
  cairn keys revoke <key-id>
  cairn models list <workspace>                   projects with their Foundry model RIDs
  cairn experiments rid <experiment-key>          an experiment's Foundry experiment and model RIDs

Scopes: ${SCOPES.join(', ')} (admin implies every other scope).
Commands other than "server" act directly on the store named by CAIRN_DATABASE_URL / CAIRN_DATA_DIR.`;

/** Wrong use of the command line: exit status 2 and the usage text. */
class UsageError extends Error {}

const OPTIONS = {
  email: { type: 'string' },
  admin: { type: 'boolean' },
  owner: { type: 'string' },
  name: { type: 'string' },
  scopes: { type: 'string' },
  user: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];
type Print = (line: string) => void;

interface Command {
  /** Positional arguments after the command words. */
  args: string[];
  options: (keyof typeof OPTIONS)[];
  /** Options that must be given, with how the usage text names them. */
  required?: [keyof typeof OPTIONS, string][];
  run(core: Core, args: string[], values: Values, print: Print): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  'users create': {
    args: ['<name>'],
    options: ['email', 'admin'],
    async run(core, [name], values, print) {
      const { userId } = await core.auth.createUser(name as string, values.email ?? null, values.admin ?? false);
      print(`created user ${name} (${userId}) with workspace "${name}"`);
    },
  },
  'workspaces create': {
    args: ['<name>'],
    options: ['owner'],
    required: [['owner', '--owner <user>']],
    async run(core, [name], values, print) {
      const { workspaceId } = await core.auth.createWorkspace(name as string, values.owner as string);
      print(`created workspace ${name} (${workspaceId})`);
    },
  },
  'workspaces add-member': {
    args: ['<workspace>', '<user>'],
    options: [],
    async run(core, [workspace, user], _values, print) {
      await core.auth.addMember(workspace as string, user as string);
      print(`added ${user} to ${workspace}`);
    },
  },
  'keys create': {
    args: ['<user>'],
    options: ['name', 'scopes'],
    async run(core, [user], values, print) {
      const scopes = (values.scopes ?? 'read,write').split(',').map((s) => s.trim()) as Scope[];
      const { key, secret } = await core.auth.createKey(user as string, values.name ?? 'cli', scopes);
      // The secret alone on stdout, so `KEY=$(cairn keys create …)` works; the rest on stderr.
      print(secret);
      process.stderr.write(`key id ${key.id}, scopes ${key.scopes.join(',')}: the secret above is shown only once\n`);
    },
  },
  'keys list': {
    args: [],
    options: ['user'],
    async run(core, _args, values, print) {
      for (const key of await core.auth.listKeys(values.user)) {
        const state = key.revokedAt === null ? 'active' : `revoked ${new Date(key.revokedAt).toISOString()}`;
        print(`${key.id}\t${key.prefix}…\t${key.name}\t${key.scopes.join(',')}\t${state}`);
      }
    },
  },
  'models list': {
    args: ['<workspace>'],
    options: [],
    async run(core, [workspaceName], _values, print) {
      const { modelRid } = await loadServer();
      const workspace = await core.store.tenancy.getWorkspaceByName(workspaceName as string);
      if (!workspace) throw new UsageError(`no workspace "${workspaceName}"`);
      for (const project of await core.store.projects.list(workspace.id, false)) {
        print(`${modelRid(project.id)}\t${project.name}\t${project.experimentCount} experiments`);
      }
    },
  },
  'experiments rid': {
    args: ['<experiment-key>'],
    options: [],
    async run(core, [key], _values, print) {
      const { experimentRid, modelRid } = await loadServer();
      const experiment = await core.store.experiments.get(key as string);
      if (!experiment) throw new UsageError(`no experiment "${key}"`);
      print(`${experimentRid(experiment.id)}\t${modelRid(experiment.projectId)}`);
    },
  },
  'keys revoke': {
    args: ['<key-id>'],
    options: [],
    async run(core, [id], _values, print) {
      await core.auth.revokeKey(id as string);
      print(`revoked ${id}`);
    },
  },
};

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}

async function main(argv: string[]): Promise<number | 'running'> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // parseArgs reports unknown options and missing option values as TypeErrors.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { positionals, values } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, sub, ...rest] = positionals;
  if (!command) throw new UsageError('missing command');

  if (command === 'server') {
    if (positionals.length > 1 || Object.keys(values).length > 0) {
      throw new UsageError('"server" takes no arguments: configure it with CAIRN_* environment variables');
    }
    const { loadConfig } = await loadServer();
    await serve(loadConfig());
    return 'running';
  }

  // Every usage check happens before the store is opened, so a typo never creates a database.
  const name = `${command} ${sub ?? ''}`.trim();
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  if (rest.length < spec.args.length) throw new UsageError(`${name}: missing ${spec.args[rest.length]}`);
  if (rest.length > spec.args.length) throw new UsageError(`${name}: unexpected argument "${rest[spec.args.length]}"`);
  for (const option of Object.keys(values) as (keyof typeof OPTIONS)[]) {
    if (!spec.options.includes(option)) throw new UsageError(`${name} does not take --${option}`);
  }
  for (const [option, usage] of spec.required ?? []) {
    if (!values[option]) throw new UsageError(`${name}: missing ${usage}`);
  }

  const { loadConfig, openCore } = await loadServer();
  const config = loadConfig();
  const core = await openCore(config);
  try {
    await bootstrap(core, config);
    await spec.run(core, rest, values, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } finally {
    await core.store.close();
  }
}

async function serve(config: Config): Promise<void> {
  const { startServer } = await loadServer();
  const running = await startServer(config);
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
}

/**
 * A CLI command may be the first thing to touch an empty store. It creates the admin user as the
 * server would, and keeps a generated admin key where the server keeps it: otherwise the key
 * would be lost and, the store no longer being empty, the server would never create another.
 */
async function bootstrap(core: Core, config: Config): Promise<void> {
  const { generatedSecret } = await core.auth.bootstrap(config.adminApiKey);
  if (!generatedSecret) return;
  const file = join(config.dataDir, 'admin-api-key');
  await writeFile(file, `${generatedSecret}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  process.stderr.write(`cairn: created the admin user and the "default" workspace; the admin API key is in ${file}\n`);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`cairn: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (server && (error instanceof server.DomainError || error instanceof server.ConfigError)) {
      process.stderr.write(`cairn: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`cairn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
