import { Command, CommanderError } from 'commander';
import {
  registerExperimentRidCommand,
  registerServerCommand,
  registerStoreCommands,
  SCOPES,
} from './commands/store.commands.js';
import { registerTableCommands } from './commands/tables.command.js';
import { CommandError, UsageError } from './errors.js';
import { loadedServer } from './server-package.js';

const OVERVIEW = `
Commands:
  cairn server                                   start the server (CAIRN_* environment variables)
  cairn users create <name> [--email E] [--admin]
  cairn workspaces create <name> --owner <user>
  cairn workspaces add-member <workspace> <user>
  cairn keys create <user> [--name N] [--scopes read,write]
  cairn keys list [--user U]
  cairn keys revoke <key-id>
  cairn models list <workspace>                   projects with their Foundry model RIDs
  cairn experiments rid <experiment-key>          an experiment's Foundry experiment and model RIDs
  cairn tables upload <experimentKey> <name> <file.csv|file.parquet|file.json> [--description D]

Scopes: ${SCOPES.join(', ')} (admin implies every other scope).
"tables" commands talk HTTP to a running server: CAIRN_URL (default http://127.0.0.1:8080) with CAIRN_API_KEY.
The other commands act directly on the store named by CAIRN_DATABASE_URL / CAIRN_DATA_DIR.
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
  const experiments = program.command('experiments').description('experiments');
  registerExperimentRidCommand(experiments);
  registerTableCommands(program);
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

main(process.argv.slice(2)).then(
  () => {},
  (error: unknown) => {
    const server = loadedServer();
    if (error instanceof UsageError) {
      process.stderr.write(`cairn: ${error.message}\n\nUsage: cairn <command> [options]\n${OVERVIEW}\n`);
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
