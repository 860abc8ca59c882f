import { chmod, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
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

const DEFAULT_URL = 'http://127.0.0.1:8080';

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
  cairn tables upload <experimentKey> <name> <file.csv|file.parquet|file.json> [--description D]
  cairn models list <workspace>                   projects with their Foundry model RIDs
  cairn experiments rid <experiment-key>          an experiment's Foundry experiment and model RIDs

Scopes: ${SCOPES.join(', ')} (admin implies every other scope).
"tables" commands talk HTTP to a running server: CAIRN_URL (default ${DEFAULT_URL}) with CAIRN_API_KEY.
The other commands act directly on the store named by CAIRN_DATABASE_URL / CAIRN_DATA_DIR.`;

/** Wrong use of the command line: exit status 2 and the usage text. */
class UsageError extends Error {}

/** A command that failed for another reason than the store (a file, the server, a setting): exit status 1 and one line. */
class CommandError extends Error {}

const OPTIONS = {
  email: { type: 'string' },
  admin: { type: 'boolean' },
  owner: { type: 'string' },
  name: { type: 'string' },
  scopes: { type: 'string' },
  user: { type: 'string' },
  description: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];
type Print = (line: string) => void;

interface CommandShape {
  /** Positional arguments after the command words. */
  args: string[];
  options: (keyof typeof OPTIONS)[];
  /** Options that must be given, with how the usage text names them. */
  required?: [keyof typeof OPTIONS, string][];
}

/** A command on the store itself (the server may be stopped). */
interface Command extends CommandShape {
  run(core: Core, args: string[], values: Values, print: Print): Promise<void>;
}

/** A command over HTTP, for what must go through a running server's API. */
interface HttpCommand extends CommandShape {
  runOverHttp(args: string[], values: Values, print: Print): Promise<void>;
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

const HTTP_COMMANDS: Record<string, HttpCommand> = {
  'tables upload': {
    args: ['<experimentKey>', '<name>', '<file>'],
    options: ['description'],
    runOverHttp: uploadTable,
  },
};

const UPLOAD_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.parquet': 'application/vnd.apache.parquet',
  '.json': 'application/json',
};

/**
 * PUT /api/cairn/v1/experiments/{key}/tables/{name}: the file as it is (CSV, Parquet), or a JSON
 * file `{"columns": [{"name", "type"}], "rows": [[…]], "description"?}`. The server checks
 * everything; this only picks the Content-Type by extension.
 */
async function uploadTable([experimentKey, name, file]: string[], values: Values, print: Print): Promise<void> {
  const extension = extname(file as string).toLowerCase();
  const contentType = UPLOAD_TYPES[extension];
  if (!contentType) throw new UsageError(`tables upload: ${file} must end in .csv, .parquet or .json`);
  const apiKey = process.env.CAIRN_API_KEY;
  if (!apiKey) throw new CommandError('set CAIRN_API_KEY to an API key with the write scope');
  const base = (process.env.CAIRN_URL || DEFAULT_URL).replace(/\/+$/, '');

  let body: Buffer | string;
  try {
    body = await readFile(file as string);
  } catch (error) {
    throw new CommandError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const query = new URLSearchParams();
  if (extension === '.json' && values.description !== undefined) {
    // A JSON body's own description wins over the query's, so the option goes into the body.
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new CommandError(`${file} is not JSON: ${(error as Error).message}`);
    }
    body = JSON.stringify({ ...document, description: values.description });
  } else if (values.description !== undefined) {
    query.set('description', values.description);
  }
  const url = `${base}/api/cairn/v1/experiments/${encodeURIComponent(experimentKey as string)}/tables/${encodeURIComponent(name as string)}${query.size > 0 ? `?${query}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': contentType },
      body,
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new CommandError(`cannot reach the server at ${base}: ${cause}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text.slice(0, 500);
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
    } catch {
      // Not problem details (a proxy's page, say): show the start of the body as it is.
    }
    throw new CommandError(`${detail} (HTTP ${response.status})`);
  }
  const table = JSON.parse(text) as {
    name: string;
    rowCount: number;
    sizeBytes: number;
    columns: { name: string; type: string }[];
  };
  const shown = table.columns.slice(0, 10).map((c) => `${c.name} ${c.type}`);
  if (table.columns.length > shown.length) shown.push('…');
  print(
    `${response.status === 201 ? 'created' : 'replaced'} table "${table.name}" of experiment ${experimentKey}: ` +
      `${table.rowCount} rows, ${table.columns.length} columns (${shown.join(', ')}), ${table.sizeBytes} bytes stored`,
  );
}

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
  const spec: Command | HttpCommand | undefined = COMMANDS[name] ?? HTTP_COMMANDS[name];
  if (!spec) throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  if (rest.length < spec.args.length) throw new UsageError(`${name}: missing ${spec.args[rest.length]}`);
  if (rest.length > spec.args.length) throw new UsageError(`${name}: unexpected argument "${rest[spec.args.length]}"`);
  for (const option of Object.keys(values) as (keyof typeof OPTIONS)[]) {
    if (!spec.options.includes(option)) throw new UsageError(`${name} does not take --${option}`);
  }
  for (const [option, usage] of spec.required ?? []) {
    if (!values[option]) throw new UsageError(`${name}: missing ${usage}`);
  }
  if ('runOverHttp' in spec) {
    await spec.runOverHttp(rest, values, (line) => process.stdout.write(`${line}\n`));
    return 0;
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
    } else if (
      error instanceof CommandError ||
      (server && (error instanceof server.DomainError || error instanceof server.ConfigError))
    ) {
      process.stderr.write(`cairn: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`cairn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
