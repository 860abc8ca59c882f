import { DEFAULT_URL } from '@cairn/sdk';
import type { Command } from 'commander';
import { clientFor, describeFailure } from '../connection.js';
import { CommandError } from '../errors.js';
import { print } from '../output.js';
import { configPath, normalizeUrl, readSettings, removeSettings, saveSettings } from '../settings.js';

/** `cairn login` and `cairn logout`: the saved server and API key. */
export function registerLoginCommands(program: Command): void {
  program
    .command('login')
    .description('check an API key against a server and save both for later commands')
    .option('--url <url>', 'the server (default: $CAIRN_URL, the saved settings, http://127.0.0.1:8080)')
    .option('--api-key <key>', 'the API key (default: read from stdin, or asked for on a terminal)')
    .action((options: { url?: string; apiKey?: string }) => login(options));
  program
    .command('logout')
    .description('forget the saved server and API key')
    .action(async () => {
      const file = configPath();
      print((await removeSettings(file)) ? `removed the saved settings (${file})` : `no saved settings (${file})`);
    });
}

async function login(options: { url?: string; apiKey?: string }): Promise<void> {
  const file = configPath();
  const saved = await readSettings(file).catch(() => undefined);
  const url = normalizeUrl(options.url || process.env.CAIRN_URL || saved?.url || DEFAULT_URL);
  const apiKey = (options.apiKey ?? (await readKey())).trim();
  if (!apiKey) throw new CommandError('no API key: pass --api-key, or give it on stdin');
  // Checked before anything is saved: a key the server refuses is never kept.
  let me: Awaited<ReturnType<ReturnType<typeof clientFor>['me']>>;
  try {
    me = await clientFor(url, apiKey).me();
  } catch (error) {
    throw describeFailure(error, { url, keySource: 'none' });
  }
  await saveSettings({ url, apiKey }, file);
  const workspace = me.defaultWorkspace ? `, default workspace "${me.defaultWorkspace}"` : '';
  print(`logged in to ${url} as ${me.user.name} (scopes ${me.scopes.join(',')}${workspace}); saved in ${file}`);
}

/** The key from a pipe (its first line), or typed at a terminal without being shown. */
async function readKey(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    stdin.setEncoding('utf8');
    for await (const chunk of stdin) text += chunk;
    return text.split(/\r?\n/)[0] ?? '';
  }
  // Raw mode (no echo) first: a key typed, or pasted, right after the prompt must not be shown.
  stdin.setRawMode(true);
  process.stderr.write('API key: ');
  return new Promise<string>((resolve, reject) => {
    let typed = '';
    stdin.setEncoding('utf8');
    stdin.resume();
    const finish = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return finish();
        if (char === '\u0003') return finish(new CommandError('login cancelled'));
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else if (char >= ' ') typed += char;
      }
    };
    stdin.on('data', onData);
  });
}
