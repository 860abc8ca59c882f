import { describe, expect, it } from 'vitest';
import { browserEnvForFile, withFailureScreenshot } from './harness.js';

const env = browserEnvForFile();

describe('signing in', () => {
  it('opens the printed one-time link, lands on the projects page, and the link works only once', async () => {
    const page = await env.anonymousPage();
    await withFailureScreenshot(page, 'sign-in-link', async () => {
      await page.goto(env.signInLink);
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      expect(new URL(page.url()).hash).toBe('');
      const cookies = await page.context().cookies();
      const session = cookies.find((cookie) => cookie.name === 'cairn_session');
      expect(session?.httpOnly).toBe(true);
      expect(session?.sameSite).toBe('Strict');
      // Nothing of the credentials is left in the page's storage.
      const stored = await page.evaluate(() => JSON.stringify({ ...window.localStorage, ...window.sessionStorage }));
      expect(stored).not.toContain(env.adminKey);

      const second = await env.anonymousPage();
      await second.goto(env.signInLink);
      await second.getByText('This sign-in link did not work').waitFor();
    });
  });

  it('signs in with an API key, keeps the deep link, and signs out', async () => {
    const page = await env.anonymousPage();
    await withFailureScreenshot(page, 'sign-in-key', async () => {
      await page.goto(`${env.url}/settings`);
      await page.waitForURL(/\/sign-in\?next=%2Fsettings/);
      await page.getByLabel('API key').fill('not-a-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').waitFor();
      await page.getByLabel('API key').fill(env.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${env.url}/settings`);
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(/\/sign-in/);
      await page.goto(`${env.url}/`);
      await page.waitForURL(/\/sign-in/);
    });
  });
});
