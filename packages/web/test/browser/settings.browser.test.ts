import { describe, expect, it } from 'vitest';
import { browserEnvForFile, withFailureScreenshot } from './harness.js';

const env = browserEnvForFile();

async function meStatus(secret: string): Promise<number> {
  const answer = await fetch(`${env.url}/api/cairn/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
  return answer.status;
}

describe('settings', () => {
  it('creates a key whose secret works once shown, and revokes it', async () => {
    const page = await env.signedInPage();
    await withFailureScreenshot(page, 'settings-keys', async () => {
      await page.goto(`${env.url}/settings`);
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
      await page.getByRole('region', { name: 'You' }).locator('.badge', { hasText: 'admin' }).waitFor();
      await page.getByLabel('Name').fill('ci-runner');
      await page.getByRole('checkbox', { name: 'write' }).uncheck();
      await page.getByRole('button', { name: 'Create key' }).click();
      const modal = page.getByRole('dialog', { name: 'Your new API key' });
      const secret = ((await modal.getByTestId('api-key-secret').textContent()) ?? '').trim();
      expect(secret.length).toBeGreaterThan(16);
      expect(await meStatus(secret)).toBe(200);
      await modal.getByRole('button', { name: 'Done' }).click();
      await modal.waitFor({ state: 'hidden' });

      const row = page.getByRole('row', { name: /ci-runner/ });
      expect(await row.textContent()).toContain('read');
      expect(await row.textContent()).not.toContain('write');
      await row.getByRole('button', { name: 'Revoke ci-runner' }).click();
      const confirm = page.getByRole('dialog', { name: /Revoke/ });
      await confirm.getByRole('button', { name: 'Revoke' }).click();
      await row.getByText('revoked').waitFor();
      expect(await meStatus(secret)).toBe(401);
      // The secret is nowhere in the page any more.
      expect(await page.content()).not.toContain(secret);
    });
  });

  it('creates a key that expires, and shows when', async () => {
    const page = await env.signedInPage();
    await withFailureScreenshot(page, 'settings-key-expiry', async () => {
      await page.goto(`${env.url}/settings`);
      await page.getByLabel('Name').fill('quarterly');
      await page.getByLabel('Expires').selectOption({ label: '90 days' });
      const before = Date.now();
      await page.getByRole('button', { name: 'Create key' }).click();
      const modal = page.getByRole('dialog', { name: 'Your new API key' });
      const secret = ((await modal.getByTestId('api-key-secret').textContent()) ?? '').trim();
      await modal.getByRole('button', { name: 'Done' }).click();

      const answer = await fetch(`${env.url}/api/cairn/v1/me/api-keys`, {
        headers: { authorization: `Bearer ${secret}` },
      });
      const keys = ((await answer.json()) as { items: { name: string; expiresAt: number | null }[] }).items;
      const expiresAt = keys.find((k) => k.name === 'quarterly')?.expiresAt ?? 0;
      expect(expiresAt).toBeGreaterThanOrEqual(before + 90 * 86_400_000 - 60_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 90 * 86_400_000);
      // The expiry cell holds a time (its exact local rendering in the title), not "never".
      const row = page.getByRole('row', { name: /quarterly/ });
      expect(await row.locator('td').nth(5).locator('time').count()).toBe(1);
    });
  });

  it('switches the theme, which sets data-theme on the document', async () => {
    const page = await env.signedInPage({ colorScheme: 'light' });
    await withFailureScreenshot(page, 'settings-theme', async () => {
      await page.goto(`${env.url}/settings`);
      const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
      expect(await theme()).toBe('light');
      await page.getByRole('radio', { name: 'Dark' }).check();
      expect(await theme()).toBe('dark');
      await page.reload();
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
      expect(await theme()).toBe('dark');
      expect(await page.getByRole('radio', { name: 'Dark' }).isChecked()).toBe(true);
      await page.getByRole('radio', { name: 'System' }).check();
      expect(await theme()).toBe('light');
      await page
        .getByRole('button', { name: /Keyboard shortcuts/ })
        .last()
        .click();
      await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    });
  });
});
