import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cairn } from '@cairn/sdk';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
// The same launcher the benchmarks use: `cairn server` as `npm start` runs it, on a free port.
import { startCairnServer } from '../../../../bench/lib/cairn-server.mjs';

export const CHROMIUM = '/usr/bin/chromium';
const FAILURES_DIR = new URL('./.failures/', import.meta.url).pathname;

export interface BrowserEnv {
  /** The server's base URL (http://127.0.0.1:<port>). */
  url: string;
  /** The admin key the first start generated. */
  adminKey: string;
  /** The one-time sign-in link printed on first start. */
  signInLink: string;
  /** An SDK client with the admin key, to seed data the way training code would. */
  cairn: Cairn;
  browser: Browser;
  /** A new browser context and page, signed in with the admin key through the session API. */
  signedInPage(options?: {
    colorScheme?: 'light' | 'dark';
    viewport?: { width: number; height: number };
  }): Promise<Page>;
  /** A fresh page without a session. */
  anonymousPage(): Promise<Page>;
  stop(): Promise<void>;
}

/**
 * A real server process on a fresh data dir (so it bootstraps and prints its sign-in link) and a
 * headless Debian Chromium. One per test file: start in beforeAll, stop in afterAll.
 */
export async function startBrowserEnv(): Promise<BrowserEnv> {
  const workDir = await mkdtemp(join(tmpdir(), 'cairn-web-'));
  const dataDir = join(workDir, 'data');
  const server = await startCairnServer({
    workDir,
    env: { CAIRN_DATA_DIR: dataDir, CAIRN_LOG_LEVEL: 'warn', CAIRN_SQLITE_SYNCHRONOUS: 'normal' },
  });
  const contexts: BrowserContext[] = [];
  let browser: Browser | undefined;
  try {
    const adminKey = (await readFile(join(dataDir, 'admin-api-key'), 'utf8')).trim();
    const log = await readFile(server.logFile, 'utf8');
    const signInLink = /(https?:\/\/\S+\/sign-in#token=\S+)/.exec(log)?.[1];
    if (!signInLink) throw new Error(`the server printed no sign-in link:\n${log}`);
    browser = await launchChromium();
    const launched = browser;
    const newContext = async (options: Parameters<Browser['newContext']>[0] = {}) => {
      const context = await launched.newContext({ viewport: { width: 1440, height: 900 }, ...options });
      contexts.push(context);
      return context;
    };
    return {
      url: server.url,
      adminKey,
      signInLink: signInLink.replace(/^https?:\/\/[^/]+/, server.url),
      cairn: new Cairn({ url: server.url, apiKey: adminKey, logLevel: 'error' }),
      browser: launched,
      async signedInPage(options = {}) {
        const context = await newContext(options);
        const answer = await context.request.post(`${server.url}/api/cairn/v1/sessions`, {
          data: { apiKey: adminKey },
        });
        if (answer.status() !== 201) throw new Error(`sign-in failed: ${answer.status()} ${await answer.text()}`);
        return context.newPage();
      },
      async anonymousPage() {
        return (await newContext()).newPage();
      },
      async stop() {
        for (const context of contexts) await context.close().catch(() => undefined);
        await launched.close().catch(() => undefined);
        await server.proc.stop();
        await rm(workDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await browser?.close().catch(() => undefined);
    await server.proc.stop();
    throw error;
  }
}

/**
 * One BrowserEnv for the calling test file: started (then `setUp`, to seed it) before its tests,
 * stopped after them. The object is filled in once started, as a `let` assigned in beforeAll would be.
 */
export function browserEnvForFile(setUp?: () => Promise<void>): BrowserEnv {
  const env = {} as BrowserEnv;
  let started = false;
  beforeAll(async () => {
    Object.assign(env, await startBrowserEnv());
    started = true;
    await setUp?.();
  }, 120_000);
  afterAll(async () => {
    if (started) await env.stop();
  });
  return env;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking'],
  });
}

/** Runs a browser step; when it throws, saves a screenshot under test/browser/.failures/ first. */
export async function withFailureScreenshot<T>(page: Page, name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const file = join(FAILURES_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw error;
  }
}
