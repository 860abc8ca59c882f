import type { Page } from 'playwright-core';
import { describe, expect, it, vi } from 'vitest';
import { browserEnvForFile, withFailureScreenshot } from './harness.js';
import { CONFUSION, seedFullExperiment } from './seed-experiment.js';

// Several browser files may share the machine's two cores; each test's budget allows for that.
vi.setConfig({ testTimeout: 60_000 });

let key: string;
let page: Page;
const PROJECT = 'vision';

const env = browserEnvForFile(async () => {
  key = await seedFullExperiment(env.cairn, PROJECT, 'resnet-baseline');
  page = await env.signedInPage();
});

const tabUrl = (tab: string) => `${env.url}/default/${PROJECT}/${key}/${tab}`;
const panel = () => page.getByRole('tabpanel');

describe('the experiment page', () => {
  it('shows the header: name, status, git branch and commit, tags (added and removed), rename', async () => {
    await withFailureScreenshot(page, 'experiment-header', async () => {
      await page.goto(tabUrl('parameters'));
      await page.getByRole('heading', { name: 'resnet-baseline' }).waitFor();
      expect(await page.getByTestId('experiment-status').textContent()).toBe('ended');
      await page.getByText('feature/warmup').waitFor();
      await page.getByText('a9f3c2d1e0').waitFor();
      const tags = page.getByRole('list', { name: 'Tags' });
      expect(await tags.getByRole('listitem').allTextContents()).toEqual(['baseline×', 'resnet×']);

      await page.getByLabel('New tag').fill('promising');
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await tags.getByText('promising').waitFor();
      await page.getByRole('button', { name: 'Remove tag baseline' }).click();
      await tags.getByText('baseline').waitFor({ state: 'detached' });
      expect(await env.cairn.tags.list(key)).toEqual(['resnet', 'promising']);

      await page.getByRole('button', { name: 'Rename experiment' }).click();
      await page.getByLabel('Experiment name').fill('resnet-warmup');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: 'resnet-warmup' }).waitFor();
      expect((await env.cairn.experiments.get(key)).name).toBe('resnet-warmup');
    });
  });

  it('switches tabs with the number keys and keeps the tab in the URL', async () => {
    await withFailureScreenshot(page, 'experiment-tabs', async () => {
      await page.goto(tabUrl(''));
      const selected = (name: string) => page.getByRole('tab', { name, selected: true });
      await selected('Charts').waitFor();
      await page.keyboard.press('3');
      await page.waitForURL(/\/metrics$/);
      await selected('Metrics').waitFor();
      await page.keyboard.press('6');
      await page.waitForURL(/\/output$/);
      await selected('Output').waitFor();
      await page.goBack();
      await page.waitForURL(/\/metrics$/);
      await selected('Metrics').waitFor();
      // Arrow keys move along the tab list, as the ARIA tabs pattern has it.
      await selected('Metrics').focus();
      await page.keyboard.press('ArrowRight');
      await page.waitForURL(/\/others$/);
      await selected('Others').waitFor();
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Others');
    });
  });

  it('shows parameters as a tree by "." with types, collapsible and searchable', async () => {
    await withFailureScreenshot(page, 'experiment-parameters', async () => {
      await page.goto(tabUrl('parameters'));
      const lr = panel().locator('td[data-name="optimizer.lr"]');
      expect(await lr.textContent()).toBe('0.001');
      expect(await panel().locator('td[data-name="optimizer.betas.b2"]').textContent()).toBe('0.999');
      expect(await panel().locator('td[data-name="augment"]').textContent()).toBe('true');
      const toggle = panel().getByRole('button', { name: /optimizer/ });
      expect(await toggle.getAttribute('aria-expanded')).toBe('true');
      await toggle.click();
      await lr.waitFor({ state: 'detached' });
      await toggle.click();
      await lr.waitFor();
      await page.getByLabel('Search parameters').fill('batch');
      await page.waitForURL(/q=batch/);
      await lr.waitFor({ state: 'detached' });
      expect(await panel().locator('td[data-name="batch_size"]').textContent()).toBe('64');
    });
  });

  it('shows others and metric summaries with the steps of min, max and last', async () => {
    await withFailureScreenshot(page, 'experiment-metrics', async () => {
      await page.goto(tabUrl('others'));
      expect(await panel().locator('td[data-name="dataset"]').textContent()).toBe('cifar10');
      await page.goto(tabUrl('metrics'));
      const loss = panel().getByRole('row', { name: /^loss/ });
      await loss.waitFor();
      const cells = await loss.getByRole('cell').allTextContents();
      // last 2/(1+49/5) at step 49, min the same, max 2 at step 0; 50 points.
      expect(cells[1]).toContain('@ step 49');
      expect(cells[3]).toBe('2 @ step 0');
      expect(cells[4]).toBe('50');
    });
  });

  it('shows system details, GPUs and searchable packages', async () => {
    await withFailureScreenshot(page, 'experiment-system', async () => {
      await page.goto(tabUrl('system'));
      await panel().getByText('gpu-node-3').waitFor();
      await panel().getByText('NVIDIA A100-SXM4-40GB').waitFor();
      await panel().getByText('64 GiB', { exact: true }).waitFor();
      await panel().getByText('python train.py --epochs 10').waitFor();
      const packages = panel().getByRole('table', { name: 'Packages' });
      expect(await packages.getByRole('row').count()).toBe(4);
      await page.getByLabel('Search packages').fill('torch');
      await packages.getByText('numpy').waitFor({ state: 'detached' });
      expect(await packages.getByRole('row').count()).toBe(3);
    });
  });

  it('shows output lines numbered by seq, stderr marked, searched on the server', async () => {
    await withFailureScreenshot(page, 'experiment-output', async () => {
      await page.goto(tabUrl('output'));
      await panel().getByText('2,500 lines', { exact: true }).waitFor();
      const first = panel().locator('[data-seq="1"]');
      expect(await first.textContent()).toContain('epoch 0 batch 0 loss 2.0000');
      expect(await first.getAttribute('class')).not.toContain('stderr');
      // Only the lines in view are in the DOM; scrolling down loads the next pages (1,000 lines each).
      expect(await panel().locator('[data-seq]').count()).toBeLessThan(100);
      await page.waitForFunction(
        () => {
          const log = document.querySelector('[role="log"]');
          if (log) log.scrollTop = log.scrollHeight;
          return document.querySelector('[data-seq="2500"]') !== null;
        },
        null,
        { polling: 100 },
      );

      await page.getByLabel('Search output').fill('WARNING');
      await panel().getByText('50 lines', { exact: true }).waitFor();
      const seqs = await panel()
        .locator('[data-seq]')
        .evaluateAll((nodes) => nodes.slice(0, 4).map((n) => n.getAttribute('data-seq')));
      expect(seqs).toEqual(['50', '100', '150', '200']);
      const stderr = panel().locator('[data-seq="50"]');
      expect(await stderr.getAttribute('class')).toContain('stderr');
      expect(await stderr.textContent()).toContain('warning: learning rate warmup step 49');

      await page.getByLabel('Search output').fill('');
      await page.getByLabel('Stream').selectOption('stderr');
      await panel().getByText('50 lines', { exact: true }).waitFor();
      await page.getByLabel('Stream').selectOption('stdout');
      await panel().getByText('2,450 lines', { exact: true }).waitFor();
    });
  });

  it('shows the code with line numbers and the git patch as a colored diff', async () => {
    await withFailureScreenshot(page, 'experiment-code-git', async () => {
      await page.goto(tabUrl('code'));
      await panel().getByText('def train(model: nn.Module, epochs: int = 10) -> None:').waitFor();
      await page.goto(tabUrl('git'));
      await panel().getByText('git@example.com:lab/vision.git').waitFor();
      const added = panel().locator('[data-kind="add"]');
      await added.first().waitFor();
      expect(await added.allTextContents()).toEqual(['+LR = 0.001', '+WARMUP = 500', '+Trains a ResNet on CIFAR-10']);
      expect(await panel().locator('[data-kind="del"]').allTextContents()).toEqual(['-LR = 0.01', '-Old description']);
      const colors = await page.evaluate(() => {
        const styles = getComputedStyle(document.documentElement);
        const background = (selector: string) =>
          getComputedStyle(document.querySelector(selector) as Element).backgroundColor;
        const probe = document.createElement('div');
        document.body.append(probe);
        const resolve = (variable: string) => {
          probe.style.backgroundColor = styles.getPropertyValue(variable);
          return getComputedStyle(probe).backgroundColor;
        };
        return {
          add: background('[data-kind="add"]'),
          del: background('[data-kind="del"]'),
          addVar: resolve('--diff-add-bg'),
          delVar: resolve('--diff-del-bg'),
        };
      });
      expect(colors.add).toBe(colors.addVar);
      expect(colors.del).toBe(colors.delVar);
      expect(await panel().locator('[data-kind="file"]').first().textContent()).toBe(
        'diff --git a/train.py b/train.py',
      );
    });
  });

  it('runs the logged HTML in a sandboxed frame that cannot reach the app', async () => {
    await withFailureScreenshot(page, 'experiment-html', async () => {
      await page.goto(tabUrl('html'));
      const frameElement = panel().locator('iframe');
      await frameElement.waitFor();
      const sandbox = await frameElement.getAttribute('sandbox');
      expect(sandbox).toBe('allow-scripts');
      expect(await frameElement.getAttribute('srcdoc')).toBeNull();
      const frame = page.frameLocator('iframe[title="Logged HTML"]');
      // The frame's script ran (scripts are allowed) in an opaque origin: neither the app's document
      // nor this origin's storage is within its reach (the frame's sandbox and the answer's CSP
      // sandbox each see to it).
      await frame.getByText('BLOCKED / no storage').waitFor();
    });
  });

  it('shows images by step, the confusion matrix heatmap, the curve, text samples and files', async () => {
    await withFailureScreenshot(page, 'experiment-assets', async () => {
      await page.goto(tabUrl('assets'));
      const image = panel().getByRole('img', { name: 'samples/prediction.png' });
      await image.waitFor();
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('img[alt="samples/prediction.png"]');
        return img?.complete && img.naturalWidth > 0;
      });
      expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(64);
      const latest = await image.getAttribute('src');
      const slider = panel().getByRole('slider');
      await slider.focus();
      await page.keyboard.press('Home');
      await page.waitForURL(/step=0/);
      // The image of step 0 replaces the one of step 10.
      await page.waitForFunction(
        (before) => document.querySelector('img[alt="samples/prediction.png"]')?.getAttribute('src') !== before,
        latest,
      );
      await panel().getByText('step 0', { exact: true }).waitFor();
      await page.waitForFunction(() => {
        const img = document.querySelector<HTMLImageElement>('img[alt="samples/prediction.png"]');
        return img?.complete && img.naturalWidth === 64;
      });

      const cells = panel().locator('td.cm-cell');
      await cells.first().waitFor();
      expect(await cells.evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-count'))))).toEqual(
        CONFUSION.matrix.flat(),
      );
      // The largest count is the most intense cell.
      const shades = await cells.evaluateAll((nodes) => nodes.map((n) => getComputedStyle(n).backgroundColor));
      expect(new Set(shades).size).toBeGreaterThan(3);
      await panel().getByRole('img', { name: 'Curve roc-val: 5 points' }).waitFor();
      expect(await panel().locator('.curve-plot canvas').count()).toBeGreaterThan(0);
      await panel().getByText('The quick brown fox jumps over the lazy dog.').waitFor();
      const files = panel().getByRole('table', { name: 'Asset files' });
      await files.getByRole('rowgroup').filter({ hasText: 'confusion-matrix' }).waitFor();
      const href = await files
        .getByRole('row', { name: /weights\.bin/ })
        .getByRole('link')
        .getAttribute('href');
      expect(href).toMatch(new RegExp(`/api/cairn/v1/experiments/${key}/assets/`));
    });
  });

  it('lists models with their files, and pages a table', async () => {
    await withFailureScreenshot(page, 'experiment-models-tables', async () => {
      await page.goto(tabUrl('models'));
      await panel().getByText('resnet18').waitFor();
      const link = panel().getByRole('link', { name: 'Download' });
      const bytes = await page.evaluate(
        async (url) => (await (await fetch(url)).arrayBuffer()).byteLength,
        (await link.getAttribute('href')) ?? '',
      );
      expect(bytes).toBe(2048);

      await page.goto(tabUrl('tables'));
      await panel().getByText('Rows 1–500 of 1,200').waitFor();
      const firstRow = panel().locator('.data-table tbody tr').first();
      expect(await firstRow.getByRole('cell').allTextContents()).toEqual(['1', '0', 'cat', '0']);
      await panel().getByRole('button', { name: 'Next' }).click();
      await panel().getByText('Rows 501–1000 of 1,200').waitFor();
      await page.waitForURL(/offset=500/);
      await panel().getByRole('cell', { name: '501', exact: true }).first().waitFor();
    });
  });
});
