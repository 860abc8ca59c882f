import { parseArgs } from 'node:util';
import { ALL_SCOPES, ConfigError, DomainError, loadConfig, openCore, type Scope, startServer } from '@cairn/server';

const USAGE = `cairn — self-hosted ML experiment tracking

Usage:
  cairn server                                   start the server (CAIRN_* environment variables)
  cairn users create <name> [--email E] [--admin]
  cairn workspaces create <name> --owner <user>
  cairn workspaces add-member <workspace> <user>
  cairn keys create <user> [--name N] [--scopes read,write]
  cairn keys list [--user U]
  cairn keys revoke <key-id>

Commands other than "server" act directly on the store named by CAIRN_DATABASE_URL / CAIRN_DATA_DIR.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      admin: { type: 'boolean' },
      owner: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      user: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig();

  if (command === 'server') {
    const server = await startServer(config);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        server.app.log.info({ signal }, 'shutting down');
        server.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            server.app.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
    return -1; // keep running
  }

  const core = await openCore(config);
  try {
    await core.auth.bootstrap(config.adminApiKey);
    const print = (line: string) => process.stdout.write(`${line}\n`);
    const need = (value: string | undefined, what: string): string => {
      if (!value) throw new UsageError(`missing ${what}`);
      return value;
    };
    switch (`${command} ${sub ?? ''}`.trim()) {
      case 'users create': {
        const name = need(rest[0], '<name>');
        const { userId } = await core.auth.createUser(name, values.email ?? null, values.admin ?? false);
        print(`created user ${name} (${userId}) with workspace "${name}"`);
        return 0;
      }
      case 'workspaces create': {
        const name = need(rest[0], '<name>');
        const { workspaceId } = await core.auth.createWorkspace(name, need(values.owner, '--owner <user>'));
        print(`created workspace ${name} (${workspaceId})`);
        return 0;
      }
      case 'workspaces add-member': {
        await core.auth.addMember(need(rest[0], '<workspace>'), need(rest[1], '<user>'));
        print(`added ${rest[1]} to ${rest[0]}`);
        return 0;
      }
      case 'keys create': {
        const scopes = (values.scopes ?? 'read,write').split(',').map((s) => s.trim()) as Scope[];
        const { key, secret } = await core.auth.createKey(need(rest[0], '<user>'), values.name ?? 'cli', scopes);
        print(secret);
        process.stderr.write(`key id ${key.id}, scopes ${key.scopes.join(',')}: the secret above is shown only once\n`);
        return 0;
      }
      case 'keys list': {
        for (const key of await core.auth.listKeys(values.user)) {
          const state = key.revokedAt === null ? 'active' : `revoked ${new Date(key.revokedAt).toISOString()}`;
          print(`${key.id}\t${key.prefix}…\t${key.name}\t${key.scopes.join(',')}\t${state}`);
        }
        return 0;
      }
      case 'keys revoke': {
        await core.auth.revokeKey(need(rest[0], '<key-id>'));
        print(`revoked ${rest[0]}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${positionals.join(' ')}"; scopes are ${ALL_SCOPES.join(', ')}`);
    }
  } finally {
    await core.store.close();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`cairn: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (error instanceof DomainError || error instanceof ConfigError) {
      process.stderr.write(`cairn: ${error.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`cairn: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
