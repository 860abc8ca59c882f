import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { browserEnvForFile, withFailureScreenshot } from './harness.js';

let workspace: string;
const PROJECT = 'vision';
const RUNS = 30;
const keys: string[] = [];

const env = browserEnvForFile(async () => {
  workspace = (await env.cairn.me()).defaultWorkspace ?? 'default';
});

/** Thirty finished runs with parameters, metrics and tags, logged the way training code does. */
async function seed() {
  for (let i = 0; i < RUNS; i++) {
    const run = await env.cairn.startExperiment({
      workspace,
      project: PROJECT,
      name: `run-${String(i).padStart(2, '0')}`,
    });
    run.logParams({
      lr: Number((0.01 * (i + 1)).toFixed(2)),
      batch: [16, 32, 64][i % 3] ?? 16,
      optimizer: i % 2 ? 'sgd' : 'adam',
      seed: 1000 + i,
    });
    for (let step = 0; step < 5; step++) run.logMetrics({ loss: 1 / (step + 1 + i), acc: (step + i) / 40 }, { step });
    run.addTags([i % 2 ? 'baseline' : 'resnet']);
    await run.end({ status: i === 3 ? 'FAILED' : 'SUCCEEDED' });
    keys.push(run.key);
  }
}

function rows(page: Page) {
  return page.locator('[data-testid="experiments-table-scroller"] [role="row"][data-key]');
}

async function applyFilter(page: Page, filter: string) {
  const input = page.getByRole('combobox', { name: 'Filter experiments' });
  await input.fill(filter);
  await input.press('Escape');
  await input.press('Enter');
}

describe('projects home and an empty project', () => {
  it('shows the onboarding lines with this server and project filled in', async () => {
    const page = await env.signedInPage();
    await withFailureScreenshot(page, 'empty-home', async () => {
      await page.goto(`${env.url}/`);
      await page.getByRole('heading', { name: 'Projects' }).waitFor();
      await page.getByText('No projects yet').waitFor();
      expect(await page.getByTestId('onboarding-shell').textContent()).toContain(`${env.url}/clientlib/`);

      await page.goto(`${env.url}/${workspace}/fresh-project`);
      const shell = page.getByTestId('onboarding-shell');
      await expect.poll(() => shell.textContent()).toContain(`COMET_URL_OVERRIDE=${env.url}/clientlib/`);
      const code = await page.getByTestId('onboarding-code').textContent();
      expect(code).toContain(`workspace="${workspace}", project_name="fresh-project"`);
      await page.getByRole('tab', { name: 'TypeScript (@cairn/sdk)' }).click();
      const ts = await page.getByTestId('onboarding-code').textContent();
      expect(ts).toContain(`url: '${env.url}'`);
      expect(ts).toContain(`project: 'fresh-project'`);

      // The first experiment logged turns the page into the table, without a reload.
      const run = await env.cairn.startExperiment({ workspace, project: 'fresh-project', name: 'first-light' });
      await page.getByRole('link', { name: 'first-light' }).waitFor({ timeout: 15_000 });
      await run.end();
      await page.getByRole('link', { name: 'Settings' }).first().click();
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
    });
  });
});

describe('the experiments table', () => {
  let page: Page;
  beforeAll(async () => {
    await seed();
    page = await env.signedInPage();
    // Fail (with a screenshot) well before the test's own timeout.
    page.setDefaultTimeout(10_000);
  }, 120_000);

  it('lists the project on the home page and its experiments in the table', async () => {
    await withFailureScreenshot(page, 'table-data', async () => {
      await page.goto(`${env.url}/`);
      const link = page.getByRole('link', { name: PROJECT });
      await link.waitFor();
      await expect.poll(() => page.getByRole('row', { name: new RegExp(PROJECT) }).textContent()).toContain('30');
      await link.click();
      await page.waitForURL(`${env.url}/${workspace}/${PROJECT}`);
      await page.getByText(`${RUNS} experiments`).waitFor();
      await rows(page).first().waitFor();
      // Newest first by default.
      expect(await rows(page).first().getAttribute('data-key')).toBe(keys.at(-1));
      await page
        .getByRole('row', { name: /run-03/ })
        .getByText('FAILED')
        .waitFor();
      // The most common parameters and metrics are default columns.
      await page.getByRole('columnheader', { name: /param lr/ }).waitFor();
      await page.getByRole('columnheader', { name: /metric · last loss/ }).waitFor();
    });
  });

  it('filters, shows an invalid filter inline, and sorts on the server', async () => {
    await withFailureScreenshot(page, 'table-filter', async () => {
      await applyFilter(page, 'params.lr <= 0.05');
      await page.getByText('5 experiments').waitFor();
      expect(new URL(page.url()).searchParams.get('q')).toBe('params.lr <= 0.05');

      await applyFilter(page, 'params.lr <');
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/position \d+/);

      await applyFilter(page, "tags = 'baseline'");
      await page.getByText('15 experiments').waitFor();
      await page
        .getByRole('columnheader', { name: /param lr/ })
        .getByRole('button')
        .click();
      await page.waitForURL(/sort=params\.lr/);
      await expect.poll(() => rows(page).first().textContent()).toContain('run-01');
      await page
        .getByRole('columnheader', { name: /param lr/ })
        .getByRole('button')
        .click();
      await page.waitForURL(/sort=-params\.lr/);
      await expect.poll(() => rows(page).first().textContent()).toContain('run-29');
      expect(await page.getByRole('columnheader', { name: /param lr/ }).getAttribute('aria-sort')).toBe('descending');
    });
  });

  it('autocompletes column ids and operators in the query bar', async () => {
    await withFailureScreenshot(page, 'table-autocomplete', async () => {
      const input = page.getByRole('combobox', { name: 'Filter experiments' });
      await input.fill('');
      await input.pressSequentially('params.opt');
      await page.getByRole('option', { name: /params\.optimizer/ }).waitFor();
      await input.press('Enter');
      expect(await input.inputValue()).toBe('params.optimizer ');
      await page.getByRole('option', { name: /startswith/ }).waitFor();
      await input.press('Escape');
      await input.fill("tags = 'baseline'");
    });
  });

  it('adds a parameter column through the picker', async () => {
    await withFailureScreenshot(page, 'table-columns', async () => {
      await page.getByRole('button', { name: /^Columns/ }).click();
      const picker = page.getByRole('dialog', { name: 'Columns' });
      // The three most common parameters (batch, lr, optimizer) are shown by default; seed is not.
      expect(await page.getByRole('columnheader', { name: /param seed/ }).count()).toBe(0);
      await picker.getByRole('searchbox', { name: 'Search columns' }).fill('see');
      const option = picker.getByRole('checkbox', { name: /seed/ });
      // A click, not check(): the box turns checked when the URL (the view's state) has changed.
      await option.click();
      await expect.poll(() => new URL(page.url()).searchParams.get('cols')).toContain('params.seed');
      await page.keyboard.press('Escape');
      await picker.waitFor({ state: 'detached' });
      await page.getByRole('columnheader', { name: /param seed/ }).waitFor();
      // The first row under the descending lr sort is run-29.
      await expect.poll(() => rows(page).first().textContent()).toContain('1029');
    });
  });

  it('selects runs into the URL and restores the whole view from a copied link', async () => {
    await withFailureScreenshot(page, 'table-select', async () => {
      const first = rows(page).nth(0);
      const third = rows(page).nth(2);
      await first.getByRole('checkbox').click();
      await third.getByRole('checkbox').click({ modifiers: ['Shift'] });
      await page.waitForURL(/sel=/);
      const selected = new URL(page.url()).searchParams.get('sel')?.split(',') ?? [];
      expect(selected).toHaveLength(3);
      await page.getByRole('link', { name: 'Compare' }).waitFor();
      expect(await page.getByRole('link', { name: 'Compare' }).getAttribute('aria-disabled')).toBe('false');

      const copied = page.url();
      const fresh = await env.signedInPage();
      await fresh.goto(copied);
      await fresh.getByText('15 experiments').waitFor();
      expect(await fresh.getByRole('combobox', { name: 'Filter experiments' }).inputValue()).toBe("tags = 'baseline'");
      expect(await fresh.getByRole('columnheader', { name: /param lr/ }).getAttribute('aria-sort')).toBe('descending');
      await fresh.getByRole('columnheader', { name: /param seed/ }).waitFor();
      const checked = await fresh
        .locator('[role="row"][data-key][aria-selected="true"]')
        .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-key')));
      expect(checked.sort()).toEqual([...selected].sort());
      await fresh.context().close();
      await page.getByRole('button', { name: 'Clear', exact: true }).last().click();
    });
  });

  it('renames, tags, archives (checked through the SDK) and pins through the row menu', async () => {
    await withFailureScreenshot(page, 'table-edit', async () => {
      await applyFilter(page, '');
      await page.getByText(`${RUNS} experiments`).waitFor();
      const key = keys[0] ?? '';
      const row = page.locator(`[role="row"][data-key="${key}"]`);
      await page.goto(`${env.url}/${workspace}/${PROJECT}?q=${encodeURIComponent(`key = '${key}'`)}`);
      await row.waitFor();

      await row.getByRole('button', { name: /Actions for/ }).click();
      await page.getByRole('menuitem', { name: 'Rename…' }).click();
      const dialog = page.getByRole('dialog', { name: 'Rename experiment' });
      await dialog.getByLabel('Name').fill('renamed-run');
      await dialog.getByRole('button', { name: 'Save' }).click();
      await row.getByRole('link', { name: 'renamed-run' }).waitFor();
      expect((await env.cairn.experiments.get(key)).name).toBe('renamed-run');

      await row.getByRole('button', { name: /Actions for/ }).click();
      await page.getByRole('menuitem', { name: 'Tags…' }).click();
      const tags = page.getByRole('dialog', { name: 'Tags' });
      await tags.getByLabel('Add tags (comma-separated)').fill('keeper, best');
      await tags.getByRole('button', { name: 'Add' }).click();
      await tags.getByRole('button', { name: 'Remove tag resnet' }).click();
      await expect.poll(async () => (await env.cairn.experiments.get(key)).tags.sort()).toEqual(['best', 'keeper']);
      await tags.getByRole('button', { name: 'Done' }).click();

      await row.getByRole('button', { name: /Actions for/ }).click();
      await page.getByRole('menuitem', { name: 'Archive' }).click();
      await expect.poll(async () => (await env.cairn.experiments.get(key)).archived).toBe(true);
      await row.waitFor({ state: 'detached' });
      await page.getByRole('combobox', { name: 'Archived experiments' }).selectOption('true');
      await row.waitFor();
      await row.getByRole('button', { name: /Actions for/ }).click();
      await page.getByRole('menuitem', { name: 'Unarchive' }).click();
      await expect.poll(async () => (await env.cairn.experiments.get(key)).archived).toBe(false);

      // Pinned rows stay on top of any order; the pins live in the URL and in this browser.
      await page.goto(`${env.url}/${workspace}/${PROJECT}?sort=-params.lr`);
      await rows(page).first().waitFor();
      expect(await rows(page).first().getAttribute('data-key')).not.toBe(key);
      await page.getByRole('combobox', { name: 'Filter experiments' }).fill(`key = '${key}'`);
      await page.getByRole('combobox', { name: 'Filter experiments' }).press('Enter');
      await row.getByRole('button', { name: /Actions for/ }).click();
      await page.getByRole('menuitem', { name: 'Pin to top' }).click();
      await expect.poll(() => new URL(page.url()).searchParams.get('pin')).toBe(key);
      await page.goto(`${env.url}/${workspace}/${PROJECT}?sort=-params.lr`);
      await expect.poll(() => rows(page).first().getAttribute('data-key')).toBe(key);
      await rows(page).first().getByRole('img', { name: 'Pinned' }).waitFor();
    });
  });

  it('moves, selects and opens rows with the keyboard', async () => {
    await withFailureScreenshot(page, 'table-keys', async () => {
      await page.goto(`${env.url}/${workspace}/${PROJECT}`);
      await rows(page).first().waitFor();
      await page.getByRole('heading', { level: 1 }).click();
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      await page.keyboard.press('k');
      await page.keyboard.press('x');
      const focusedKey = await page.locator('[role="row"].focused').getAttribute('data-key');
      expect(focusedKey).toBe(await rows(page).nth(0).getAttribute('data-key'));
      await page.waitForURL(new RegExp(`sel=${focusedKey}`));
      await page.keyboard.press('j');
      await page.keyboard.press('x');
      await expect.poll(() => new URL(page.url()).searchParams.get('sel')?.split(',').length).toBe(2);
      await page.keyboard.press('c');
      await page.waitForURL(/\/compare\?e=/);
      await page.goBack();
      await rows(page).first().waitFor();
      await page.keyboard.press('j');
      await page.keyboard.press('Enter');
      await page.waitForURL(new RegExp(`/${workspace}/${PROJECT}/[0-9a-f]{32}$`));
    });
  });

  it('exports the current view as CSV, equal to the table answer', async () => {
    await withFailureScreenshot(page, 'table-export', async () => {
      const filter = "tags = 'baseline'";
      await page.goto(
        `${env.url}/${workspace}/${PROJECT}?q=${encodeURIComponent(filter)}&sort=-params.lr&cols=params.lr,metrics.loss.min`,
      );
      await page.getByText('15 experiments').waitFor();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Export CSV' }).click(),
      ]);
      const stream = await download.createReadStream();
      let csv = '';
      for await (const chunk of stream) csv += chunk.toString();
      const lines = csv.trim().split(/\r?\n/);
      expect(lines[0]).toBe('key,name,status,params.lr,metrics.loss.min');
      const expected: string[] = [];
      for await (const row of env.cairn.experiments({
        workspace,
        project: PROJECT,
        filter,
        sort: '-params.lr',
        columns: ['status', 'params.lr', 'metrics.loss.min'],
      })) {
        const v = row.values;
        expected.push(
          [row.key, row.name, v.status, v['params.lr'], v['metrics.loss.min']].map((x) => x ?? '').join(','),
        );
      }
      expect(lines.slice(1)).toEqual(expected);
    });
  });

  it('shows new runs, their metrics and status changes live, without a reload', async () => {
    await withFailureScreenshot(page, 'table-live', async () => {
      await page.goto(`${env.url}/${workspace}/${PROJECT}`);
      await page.getByText('● live').waitFor();
      const run = await env.cairn.startExperiment({ workspace, project: PROJECT, name: 'live-run' });
      const row = page.locator(`[role="row"][data-key="${run.key}"]`);
      await row.getByText('running').waitFor();
      // Points of a loaded row refresh its metric cells (the loss column is a default one).
      run.logMetrics({ loss: 0.777 }, { step: 0 });
      await run.flush();
      await row.getByText('0.777').waitFor();
      await run.end({ status: 'FAILED' });
      await row.getByText('FAILED').waitFor();
    });
  });
});
