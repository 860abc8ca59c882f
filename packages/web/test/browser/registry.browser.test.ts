import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserEnv, startBrowserEnv, withFailureScreenshot } from './harness.js';

let env: BrowserEnv;
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

/** The Comet REST API, as comet_ml's `register_model` and the Comet API client call it. */
async function comet<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const answer = await fetch(`${env.url}/api/rest/v2/${path}`, {
    method,
    headers: { authorization: env.adminKey, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
  return (await answer.json()) as T;
}

/** Logs an artifact version through the Comet API as comet_ml's `log_artifact` does: upsert, files, close. */
async function logArtifactVersion(version: string, aliases: string[], files: Record<string, string>) {
  const { artifactVersionId } = await comet<{ artifactVersionId: string }>('POST', 'write/artifacts/upsert', {
    artifactName: 'cifar10-split',
    artifactType: 'dataset',
    experimentKey,
    version,
    alias: aliases,
    versionTags: ['clean'],
    description: 'CIFAR-10 with a held-out split',
  });
  for (const [fileName, text] of Object.entries(files)) {
    const form = new FormData();
    form.append('file', new Blob([text]), 'file');
    const query = new URLSearchParams({ experimentKey, fileName, artifactVersionId });
    const answer = await fetch(`${env.url}/api/rest/v2/write/experiment/upload-asset?${query}`, {
      method: 'POST',
      headers: { authorization: env.adminKey },
      body: form,
    });
    if (!answer.ok) throw new Error(`upload ${fileName}: ${answer.status} ${await answer.text()}`);
  }
  await comet('POST', 'write/artifacts/state', { artifactVersionId, state: 'CLOSED' });
}

beforeAll(async () => {
  env = await startBrowserEnv();
  const experiment = await env.cairn.experiments.create('default', 'vision', { name: 'resnet-final' });
  experimentKey = experiment.key;
  await env.cairn.assets.upload(experimentKey, new Blob([new Uint8Array(4096)]), { name: 'weights.bin', model: 'net' });
  await env.cairn.assets.upload(experimentKey, new Blob(['{"layers": 18}']), { name: 'config.json', model: 'net' });
  const { models } = await comet<{ models: { experimentModelId: string; modelName: string }[] }>(
    'GET',
    `experiment/model?experimentKey=${experimentKey}`,
  );
  const experimentModelId = models.find((m) => m.modelName === 'net')?.experimentModelId;
  for (const version of ['1.0.0', '1.1.0']) {
    await comet('POST', version === '1.0.0' ? 'write/registry-model' : 'write/registry-model/item', {
      experimentModelId,
      registryModelName: MODEL,
      version,
      comment: `release ${version}`,
      ...(version === '1.0.0' ? { description: 'ResNet-18 on CIFAR-10', stages: ['staging'] } : {}),
    });
  }
  await logArtifactVersion('1.0.0', ['stable'], { 'train.csv': 'a,b\n1,2\n' });
  await logArtifactVersion('1.1.0', ['latest'], { 'train.csv': 'a,b\n1,2\n3,4\n', 'val.csv': 'a,b\n5,6\n' });
}, 120_000);
afterAll(async () => {
  await env?.stop();
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
