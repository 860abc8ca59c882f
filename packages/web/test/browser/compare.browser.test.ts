import { describe, expect, it } from 'vitest';
import { browserEnvForFile, withFailureScreenshot } from './harness.js';

const keys: string[] = [];
const PROJECT = 'sweep';

const env = browserEnvForFile(async () => {
  const runs = [
    { name: 'lr-0.1', lr: 0.1, loss: 0.9 },
    { name: 'lr-0.01', lr: 0.01, loss: 0.4 },
    { name: 'lr-0.001', lr: 0.001, loss: 0.6 },
  ];
  for (const run of runs) {
    const { key } = await env.cairn.experiments.create('default', PROJECT, { name: run.name });
    await env.cairn.params.log(key, { optimizer: { name: 'adam', lr: run.lr }, batch_size: 64 });
    await env.cairn.others.log(key, { dataset: 'cifar10', ...(run.lr === 0.1 ? { note: 'unstable' } : {}) });
    await env.cairn.metrics.log(key, {
      series: [
        { name: 'loss', steps: [0, 1, 2], values: [2, 1, run.loss] },
        { name: 'epochs', steps: [0], values: [3] },
      ],
    });
    keys.push(key);
  }
});

describe('the compare page', () => {
  it('puts experiments side by side and hides equal values with "differences only"', async () => {
    const page = await env.signedInPage();
    await withFailureScreenshot(page, 'compare', async () => {
      await page.goto(`${env.url}/default/${PROJECT}/compare?e=${keys.join(',')}`);
      await page.getByRole('heading', { name: 'Compare 3 experiments' }).waitFor();
      const heads = page.locator('thead .compare-head-name');
      await heads.getByText('lr-0.001').waitFor();
      expect(await heads.allTextContents()).toEqual(['lr-0.1', 'lr-0.01', 'lr-0.001']);
      const row = (name: string) => page.locator(`tr[data-name="${name}"]`);
      await row('optimizer.lr').waitFor();
      expect(await row('optimizer.lr').getByRole('cell').allTextContents()).toEqual(['0.1', '0.01', '0.001']);
      expect(await row('batch_size').getByRole('cell').allTextContents()).toEqual(['64', '64', '64']);
      expect(await row('note').getByRole('cell').allTextContents()).toEqual(['unstable', '—', '—']);
      expect(await row('loss').getByRole('cell').allTextContents()).toEqual(['0.9', '0.4', '0.6']);

      await page.getByRole('switch', { name: 'Differences only' }).check();
      await page.waitForURL(/diff=1/);
      await row('batch_size').waitFor({ state: 'detached' });
      expect(await row('optimizer.name').count()).toBe(0);
      expect(await row('dataset').count()).toBe(0);
      expect(await row('epochs').count()).toBe(0);
      expect(await row('optimizer.lr').count()).toBe(1);
      expect(await row('note').count()).toBe(1);
      expect(await row('loss').count()).toBe(1);

      await page.getByRole('combobox', { name: 'Metric summary' }).selectOption('max');
      await page.waitForURL(/agg=max/);
      // Every run's loss started at 2: the max is equal everywhere, so it is hidden now.
      await row('loss').waitFor({ state: 'detached' });

      // A shared link restores the view; removing a run keeps at least two.
      await page.reload();
      await page.getByRole('switch', { name: 'Differences only' }).waitFor();
      expect(await page.getByRole('switch', { name: 'Differences only' }).isChecked()).toBe(true);
      await page.getByRole('button', { name: 'Remove lr-0.001 from the comparison' }).click();
      await page.getByRole('heading', { name: 'Compare 2 experiments' }).waitFor();
      expect(await page.getByRole('button', { name: /from the comparison/ }).count()).toBe(0);
    });
  });
});
