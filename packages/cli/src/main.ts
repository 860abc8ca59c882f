import { Command, CommanderError } from 'commander';
import { registerBackupCommands } from './commands/backup.command.js';
import { registerExperimentCommands } from './commands/experiments.command.js';
import { registerExportCommand } from './commands/export.command.js';
import { registerImportCommand } from './commands/import.command.js';
import { registerLoginCommands } from './commands/login.command.js';
import { registerMetricCommands } from './commands/metrics.command.js';
import {
  registerExperimentRidCommand,
  registerServerCommand,
  registerStoreCommands,
  SCOPES,
} from './commands/store.commands.js';
import { registerSyncCommand } from './commands/sync.command.js';
import { registerTableCommands } from './commands/tables.command.js';
import { CommandError, UsageError } from './errors.js';
import { loadedServer } from './server-package.js';

const OVERVIEW = `
Commands for users (over HTTP, through a running server):
  cairn login [--url URL] [--api-key KEY]         check a key (GET /me) and save server and key
  cairn logout                                    forget them
  cairn experiments list <workspace>/<project> [--filter F] [--sort S] [--columns a,b] [--archived [all]] [--limit N] [--json]
  cairn experiments show <experiment-key> [--json]
  cairn metrics get <experiment-key> <name> [--json|--csv]
  cairn tables upload <experiment-key> <name> <file.csv|file.parquet|file.json> [--description D]
  cairn sync [dir] [--json]                       upload what runs left in the spool, exactly once
  cairn export <workspace>/<project> <dir>        a project into a folder (docs/export-format.md)
  cairn import <dir> [--workspace W] [--project P] [--new-keys]

Commands for operators (directly on the store named by CAIRN_DATABASE_URL / CAIRN_DATA_DIR):
  cairn server                                    start the server (CAIRN_* environment variables)
  cairn users create <name> [--email E] [--admin]
  cairn users sign-in-link <user>                 a one-time link into the web UI (24 hours)
  cairn workspaces create <name> --owner <user>
  cairn workspaces add-member <workspace> <user>
  cairn keys create <user> [--name N] [--scopes read,write] [--expires-in 90d | --expires-at DATE]
  cairn keys list [--user U] [--json]
  cairn keys revoke <key-id>
  cairn audit [--since 7d|DATE] [--actor A] [--action A] [--limit N] [--json]   the audit log
  cairn models list <workspace>                   projects with their Foundry model RIDs
  cairn experiments rid <experiment-key>          an experiment's Foundry experiment and model RIDs
  cairn backup <dir>                              snapshot the SQLite store and its blobs, while it runs
  cairn backup --verify <dir>                     check a backup: checksums, blobs, integrity_check
  cairn restore <dir>                             a verified backup into an empty data folder

Scopes: ${SCOPES.join(', ')} (admin implies every other scope).
Server and key of the HTTP commands: --url/--api-key, else CAIRN_URL/CAIRN_API_KEY, else the
settings saved by "cairn login" ($CAIRN_CONFIG, else $XDG_CONFIG_HOME/cairn/config.json, else
~/.config/cairn/config.json; its key only for its own server), else http://127.0.0.1:8080.
Run "cairn <command> --help" for a command's options.`;

/** The whole command line; commands add themselves from their own modules. */
function buildProgram(): Command {
  const program = new Command('cairn')
    .description('cairn — self-hosted ML experiment tracking')
    // Errors become exceptions (mapped to exit statuses below), and commander prints none itself.
    .exitOverride()
    .configureOutput({ outputError: () => {}, writeErr: () => {} })
    .addHelpText('after', OVERVIEW);
  registerServerCommand(program);
  registerStoreCommands(program);
  registerBackupCommands(program);
  registerLoginCommands(program);
  const experiments = program.command('experiments').description('experiments');
  registerExperimentCommands(experiments);
  registerExperimentRidCommand(experiments);
  registerMetricCommands(program);
  registerTableCommands(program);
  registerSyncCommand(program);
  registerExportCommand(program);
  registerImportCommand(program);
  return program;
}

/** A commander usage error, in the CLI's own words: "cairn: <what>". */
function usageMessage(error: CommanderError, argv: string[]): string {
  if (error.code === 'commander.help') {
    // Nothing at all, or a command group without its subcommand.
    return argv.length === 0 ? 'missing command' : `${argv.join(' ')}: missing subcommand`;
  }
  return error.message.replace(/^error: /, '');
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help asked for (--help) is printed on stdout and exits 0; help shown for an error is not.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return;
    throw new UsageError(usageMessage(error, argv));
  }
}

/** A file system or network error of Node ("EACCES: permission denied, open …"): its message says it all. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

// `cairn metrics get … | head`: a reader that stops early is no error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

main(process.argv.slice(2)).then(
  () => {},
  (error: unknown) => {
    const server = loadedServer();
    if (error instanceof UsageError) {
      process.stderr.write(`cairn: ${error.message}\n\nUsage: cairn <command> [options]\n${OVERVIEW}\n`);
      process.exitCode = 2;
    } else if (
      error instanceof CommandError ||
      isSystemError(error) ||
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
