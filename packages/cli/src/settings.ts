import { randomUUID } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_URL } from '@cairn/sdk';
import { CommandError } from './errors.js';

/**
 * The user's settings for talking to a server: `cairn login` saves `{ url, apiKey }` in one JSON
 * file, `cairn logout` removes it. The file holds a secret, so it is written with mode 0600 (its
 * folder, when created, 0700) and replaced atomically: a crash mid-write never leaves half a file.
 */
export interface SavedSettings {
  url: string;
  apiKey: string;
}

/** `$CAIRN_CONFIG`, else `$XDG_CONFIG_HOME/cairn/config.json`, else `~/.config/cairn/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAIRN_CONFIG) return env.CAIRN_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'cairn', 'config.json');
}

/** The saved settings; undefined when there are none. A damaged file is an error, not "none". */
export async function readSettings(file = configPath()): Promise<SavedSettings | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CommandError(`cannot read the settings in ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CommandError(`${file} is not JSON (${(error as Error).message}): run "cairn login" again`);
  }
  const { url, apiKey } = (parsed ?? {}) as Partial<Record<keyof SavedSettings, unknown>>;
  if (typeof url !== 'string' || typeof apiKey !== 'string') {
    throw new CommandError(`${file} lacks "url" or "apiKey": run "cairn login" again`);
  }
  return { url, apiKey };
}

/** Writes the settings beside the file under a temporary name, fsynced, then renames it over it. */
export async function saveSettings(settings: SavedSettings, file = configPath()): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = join(dir, `.${randomUUID()}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(settings, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // The mode given to open() passes through the umask; the key must be the user's alone.
    await chmod(temporary, 0o600);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  // The rename is durable once the folder is synced (where the platform allows opening one).
  const folder = await open(dir, 'r').catch(() => undefined);
  await folder?.sync().catch(() => {});
  await folder?.close();
}

/** Removes the settings file; false when there was none. */
export async function removeSettings(file = configPath()): Promise<boolean> {
  try {
    await rm(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Where a command's server and key come from. */
export interface Connection {
  url: string;
  apiKey: string | undefined;
  /** What supplied the key: shown when the server refuses it. */
  keySource: 'flag' | 'environment' | 'settings' | 'none';
}

/** A URL without trailing slashes, so that two spellings of one server compare equal. */
export function normalizeUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/**
 * The server: `--url`, else `$CAIRN_URL`, else the saved settings, else http://127.0.0.1:8080.
 * The key: `--api-key`, else `$CAIRN_API_KEY`, else the saved settings — the saved key only when
 * the server is the one it was saved for, so that a key is never sent to another server.
 */
export async function resolveConnection(
  flags: { url?: string | undefined; apiKey?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Connection> {
  const saved = await readSettings(configPath(env));
  const url = normalizeUrl(flags.url || env.CAIRN_URL || saved?.url || DEFAULT_URL);
  if (flags.apiKey) return { url, apiKey: flags.apiKey, keySource: 'flag' };
  if (env.CAIRN_API_KEY) return { url, apiKey: env.CAIRN_API_KEY, keySource: 'environment' };
  if (saved && normalizeUrl(saved.url) === url) return { url, apiKey: saved.apiKey, keySource: 'settings' };
  return { url, apiKey: undefined, keySource: 'none' };
}
