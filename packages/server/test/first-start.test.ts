import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/main.js';

/** What `cairn server` prints on its first start: the admin key and a sign-in link for the web UI. */
describe('first start', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(
    env: Record<string, string> = {},
  ): Promise<{ server: RunningServer; dir: string; printed: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-first-start-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let printed = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed += chunk.toString();
      return true;
    });
    const server = await startServer(
      loadConfig({
        CAIRN_DATA_DIR: dir,
        CAIRN_PORT: '0',
        CAIRN_LOG_LEVEL: 'silent',
        CAIRN_SQLITE_SYNCHRONOUS: 'normal',
        CAIRN_PUBLIC_URL: 'https://cairn.example',
        ...env,
      }),
    );
    vi.restoreAllMocks();
    cleanups.push(() => server.stop());
    return { server, dir, printed };
  }

  it('prints a one-time sign-in link beside the generated key, and keeps it nowhere', async () => {
    const { server, dir, printed } = await start();
    const token = /\n {2}https:\/\/cairn\.example\/sign-in#token=([A-Za-z0-9_-]{43})\n/.exec(printed)?.[1];
    expect(token, printed).toBeDefined();
    const key = (await readFile(join(dir, 'admin-api-key'), 'utf8')).trim();
    expect(printed).toContain(key);

    for (const file of await readdir(dir, { recursive: true })) {
      const bytes = await readFile(join(dir, file)).catch(() => Buffer.alloc(0));
      expect(bytes.includes(token as string), file).toBe(false);
    }
    const open = () =>
      server.app.inject({ method: 'POST', url: '/api/cairn/v1/sessions', payload: { signInToken: token } });
    const first = await open();
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().user).toMatchObject({ name: 'admin', isAdmin: true });
    expect((await open()).statusCode).toBe(401);
  });

  it('prints nothing when the admin key comes from CAIRN_ADMIN_API_KEY', async () => {
    const { printed } = await start({ CAIRN_ADMIN_API_KEY: 'FirstStartAdminKey0000000000000000000000' });
    expect(printed).toBe('');
  });
});
