import {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  Cairn,
  type ClientOptions,
  isAPIError,
} from '@cairn/sdk';
import type { Command } from 'commander';
import { CommandError } from './errors.js';
import { type Connection, resolveConnection } from './settings.js';

/** The options every command that talks to a server takes. */
export interface ConnectionFlags {
  url?: string;
  apiKey?: string;
}

/** Adds `--url` and `--api-key` to a command that talks HTTP. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the server (default: $CAIRN_URL, the saved settings, http://127.0.0.1:8080)')
    .option('--api-key <key>', 'the API key (default: $CAIRN_API_KEY, the saved settings)');
}

/**
 * Runs `work` with an SDK client for the resolved server and key. Whatever the SDK throws becomes
 * one line for people: the server's own words and status, or why it could not be reached.
 */
export async function withCairn<T>(
  flags: ConnectionFlags,
  work: (cairn: Cairn, connection: Connection) => Promise<T>,
  options: Omit<ClientOptions, 'url' | 'apiKey'> = {},
): Promise<T> {
  const connection = await resolveConnection(flags);
  if (!connection.apiKey) {
    throw new CommandError(`set CAIRN_API_KEY, pass --api-key or run "cairn login": no API key for ${connection.url}`);
  }
  const cairn = clientFor(connection.url, connection.apiKey, options);
  try {
    return await work(cairn, connection);
  } catch (error) {
    throw describeFailure(error, connection);
  }
}

/** An SDK client that reports nothing itself: the CLI says what went wrong, once. */
export function clientFor(url: string, apiKey: string, options: Omit<ClientOptions, 'url' | 'apiKey'> = {}): Cairn {
  return new Cairn({ url, apiKey, logLevel: 'off', ...options });
}

/** An SDK error as the CLI's one-line error; anything else as it is. */
export function describeFailure(error: unknown, connection: Pick<Connection, 'url' | 'keySource'>): unknown {
  if (error instanceof APIConnectionTimeoutError) {
    return new CommandError(`the server at ${connection.url} did not answer in time: ${error.message}`);
  }
  if (error instanceof APIConnectionError) {
    const cause = error.message.replace(/^connection error: /, '');
    return new CommandError(`cannot reach the server at ${connection.url}: ${cause}`);
  }
  if (isAPIError(error) && error.status !== undefined) {
    const detail = error.problem?.detail || error.problem?.title || error.body?.slice(0, 500) || error.message;
    const hint =
      error instanceof AuthenticationError && connection.keySource !== 'none'
        ? ` — the API key from ${connection.keySource === 'settings' ? 'the saved settings' : connection.keySource === 'flag' ? '--api-key' : 'CAIRN_API_KEY'} was refused`
        : '';
    return new CommandError(`${detail} (HTTP ${error.status})${hint}`);
  }
  return error;
}
