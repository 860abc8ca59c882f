import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserEnvForFile, withFailureScreenshot } from './harness.js';
import { seedRegistry } from './seed-registry.js';

/** Downloads a link as the browser would (with the page's session cookie). */
async function download(page: Page, href: string | null) {
  return page.evaluate(async (url) => {
    const answer = await fetch(url);
    const bytes = new Uint8Array(await answer.arrayBuffer());
    return {
      status: answer.status,
      type: answer.headers.get('content-type') ?? '',
      size: bytes.length,
      text: new TextDecoder().decode(bytes),
    };
  }, href ?? '');
}
let experimentKey: string;
const MODEL = 'cifar-resnet';

const env = browserEnvForFile(async () => {
  const experiment = await env.cairn.experiments.create('default', 'vision', { name: 'resnet-final' });
  experimentKey = experiment.key;
  await seedRegistry(env, experimentKey, MODEL);
});

describe('the model registry', () => {
  it('lists a model registered through the Comet API, with its latest version', async () => {
    const page = await env.signedInPage();
    await withFailureScreenshot(page, 'registry-list', async () => {
      await page.goto(`${env.url}/-/registry/default`);
      const row = page.getByRole('row', { name: new RegExp(MODEL) });
      await row.waitFor();
      const cells = await row.getByRole('cell').allTextContents();
      expect(cells[0]).toContain(MODEL);
      expect(cells[1]).toBe('1.1.0');
      expect(cells[3]).toBe('2');
      await page.getByLabel('Search models').fill('nothing-like-it');
      await page.getByText('No models match.').waitFor();
      await page.waitForURL(/q=nothing-like-it/);
    });
  });

  it('shows the versions, changes a stage after confirming, and edits the notes', async () => {
    const page = await env.signedInPage();
    await withFailureScreenshot(page, 'registry-model', async () => {
      await page.goto(`${env.url}/-/registry/default/${MODEL}`);
      await page.getByRole('heading', { name: MODEL }).waitFor();
      const versions = page.getByRole('region', { name: 'Versions' });
      await versions.getByText('release 1.0.0').waitFor();
      // The source experiment links to its page.
      const link = versions.getByRole('link', { name: 'resnet-final' }).first();
      await link.waitFor();
      expect(await link.getAttribute('href')).toBe(`/default/vision/${experimentKey}`);
      // The newest version is open with its files and a zip download.
      await versions.getByRole('link', { name: 'weights.bin' }).waitFor();
      const zip = versions.getByRole('link', { name: 'Download zip' }).first();
      const zipped = await download(page, await zip.getAttribute('href'));
      expect(zipped.status).toBe(200);
      expect(zipped.type).toContain('zip');

      await page.getByLabel('Add a stage to 1.1.0').fill('production');
      await page.getByLabel('Add a stage to 1.1.0').press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Add stage' });
      await dialog.getByText('version 1.1.0').waitFor();
      await dialog.getByRole('button', { name: 'Add stage' }).click();
      await dialog.waitFor({ state: 'detached' });
      await versions.getByRole('button', { name: 'Remove stage production from 1.1.0' }).waitFor();
      const stored = await env.cairn.registry.version({ workspace: 'default', model: MODEL, version: '1.1.0' });
      expect(stored.stages).toEqual(['production']);

      // Removing asks first; cancelling changes nothing.
      await versions.getByRole('button', { name: 'Remove stage staging from 1.0.0' }).click();
      await page.getByRole('dialog', { name: 'Remove stage' }).getByRole('button', { name: 'Cancel' }).click();
      await versions.getByRole('button', { name: 'Remove stage staging from 1.0.0' }).waitFor();
      expect(
        (await env.cairn.registry.version({ workspace: 'default', model: MODEL, version: '1.0.0' })).stages,
      ).toEqual(['staging']);

      await page.getByRole('button', { name: 'Edit notes' }).click();
      await page.getByRole('textbox', { name: 'Notes' }).fill('Promoted after the ablation study.');
      await page.getByRole('button', { name: 'Save notes' }).click();
      await page.getByText('Promoted after the ablation study.').waitFor();
      expect(await env.cairn.registry.notes({ workspace: 'default', model: MODEL })).toBe(
        'Promoted after the ablation study.',
      );

      // The listing shows the latest version's new stage.
      await page.goto(`${env.url}/-/registry/default`);
      await page
        .getByRole('row', { name: new RegExp(MODEL) })
        .getByText('production')
        .waitFor();
    });
  });
});

describe('artifacts', () => {
  it('lists artifacts by type, and shows versions with aliases and the files of the chosen one', async () => {
    const page = await env.signedInPage();
    await withFailureScreenshot(page, 'artifacts', async () => {
      await page.goto(`${env.url}/-/artifacts/default`);
      const row = page.getByRole('row', { name: /cifar10-split/ });
      await row.waitFor();
      expect((await row.getByRole('cell').allTextContents()).slice(1, 4)).toEqual(['dataset', '1.1.0', '2']);
      await page.getByLabel('Artifact type').fill('model');
      await page.getByText('No artifacts match.').waitFor();
      await page.getByLabel('Artifact type').fill('dataset');
      await row.waitFor();

      await row.getByRole('link', { name: 'cifar10-split' }).click();
      await page.getByRole('heading', { name: 'cifar10-split' }).waitFor();
      const files = page.getByRole('region', { name: 'Files of 1.1.0' });
      await files.getByText('val.csv').waitFor();
      const link = files.getByRole('row', { name: /val\.csv/ }).getByRole('link', { name: 'Download' });
      expect((await download(page, await link.getAttribute('href'))).text).toBe('a,b\n5,6\n');

      const versions = page.getByRole('region', { name: 'Versions' });
      expect(
        await versions
          .getByRole('row', { name: /1\.0\.0/ })
          .getByText('stable')
          .count(),
      ).toBe(1);
      await versions.getByRole('button', { name: '1.0.0' }).click();
      await page.waitForURL(/version=1\.0\.0/);
      const older = page.getByRole('region', { name: 'Files of 1.0.0' });
      await older.getByText('train.csv').waitFor();
      expect(await older.getByText('val.csv').count()).toBe(0);
    });
  });
});
