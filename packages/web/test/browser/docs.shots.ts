import { mkdir } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type BrowserEnv, startBrowserEnv } from './harness.js';
import { seedFullExperiment } from './seed-experiment.js';
import { seedRegistry } from './seed-registry.js';

const OUT = new URL('../../../../docs/ui/', import.meta.url).pathname;
let env: BrowserEnv;
const keys: string[] = [];
let fullKey = '';

/** A sweep as a team would log it: 12 runs, sections of metrics, one spike, two still running. */
async function seedSweep() {
  await env.cairn.projects.create('default', {
    name: 'vision',
    description: 'ResNet depth × learning-rate sweep on ImageNet-100',
  });
  const steps = Array.from({ length: 3000 }, (_, i) => i);
  const configs = [18, 34, 50].flatMap((depth) =>
    [0.1, 0.03, 0.01, 0.003].map((lr, i) => ({ depth, lr, optimizer: i % 2 ? 'adamw' : 'sgd' })),
  );
  for (const [run, config] of configs.entries()) {
    const name = `resnet${config.depth}-lr${config.lr}-${config.optimizer}`;
    const { key } = await env.cairn.experiments.create('default', 'vision', { name });
    keys.push(key);
    await env.cairn.params.log(key, {
      model: { depth: config.depth, width: 64 },
      optimizer: { name: config.optimizer, lr: config.lr, momentum: 0.9 },
      batch_size: config.depth === 50 ? 128 : 256,
      epochs: 30,
    });
    await env.cairn.others.log(key, { dataset: 'imagenet-100', seed: 1000 + run });
    await env.cairn.tags.add(key, [config.optimizer, config.depth === 50 ? 'large' : 'small']);
    const speed = 300 * (1 + config.lr * 10) * (config.optimizer === 'adamw' ? 1.3 : 1);
    const noise = (s: number, k: number) => Math.sin(s * 12.9898 + run * 78.233 + k) * 0.5 + 0.5;
    const loss = steps.map(
      (s) => 2.3 * Math.exp(-s / speed) + 0.15 + 0.05 * noise(s, 1) + (run === 5 && s === 2222 ? 4.2 : 0),
    );
    await env.cairn.metrics.log(key, {
      series: [
        { name: 'train/loss', steps, values: loss },
        {
          name: 'train/accuracy',
          steps,
          values: loss.map((l, s) => Math.min(0.99, 1.02 - l / 2.5 + 0.01 * noise(s, 2))),
        },
        { name: 'train/lr', steps, values: steps.map((s) => config.lr * 0.5 * (1 + Math.cos((Math.PI * s) / 3000))) },
        {
          name: 'val/loss',
          steps: steps.filter((s) => s % 100 === 0),
          values: steps.filter((s) => s % 100 === 0).map((s) => (loss[s] ?? 0) * 1.1 + 0.05),
        },
        {
          name: 'val/accuracy',
          steps: steps.filter((s) => s % 100 === 0),
          values: steps.filter((s) => s % 100 === 0).map((s) => Math.min(0.97, 0.98 - (loss[s] ?? 0) / 2.4)),
        },
        { name: 'sys.gpu.0.util', steps, values: steps.map((s) => 82 + 8 * Math.sin(s / 150 + run) + 2 * noise(s, 3)) },
      ],
    });
    if (run === 3) await env.cairn.experiments.end(key, { status: 'FAILED' });
    else if (run < 10) await env.cairn.experiments.end(key);
  }
  fullKey = await seedFullExperiment(env.cairn, 'vision', 'resnet50-final');
  await seedRegistry(env, fullKey, 'imagenet-resnet');
  await env.cairn.projects.create('default', { name: 'nlp-bert', description: 'BERT fine-tuning' });
  await env.cairn.projects.create('default', { name: 'speech', description: 'A new project, nothing logged yet' });
}

beforeAll(async () => {
  await mkdir(OUT, { recursive: true });
  env = await startBrowserEnv();
  await seedSweep();
});
afterAll(async () => {
  await env?.stop();
});

async function shoot(
  name: string,
  path: string,
  ready: (page: Page) => Promise<void>,
  themes: readonly ('light' | 'dark')[] = ['light', 'dark'],
) {
  for (const theme of themes) {
    const page = await env.signedInPage({ colorScheme: theme });
    await page.goto(`${env.url}${path}`);
    await ready(page).catch(async (error: unknown) => {
      await page.screenshot({ path: `${OUT}../../packages/web/test/browser/.failures/${name}-${theme}.png` });
      throw error;
    });
    // Let charts and fonts settle: nothing animates, but canvases draw after their data lands.
    await page.waitForTimeout(600);
    await page.screenshot({ path: `${OUT}${name}-${theme}.png` });
    await page.context().close();
  }
}

const charts = (count: number) => async (page: Page) => {
  await page.waitForFunction(
    (n) =>
      Array.from(document.querySelectorAll('[data-testid^="chart-"][data-points]')).filter(
        (el) => Number(el.getAttribute('data-points')) > 0,
      ).length >= n,
    count,
    { timeout: 60_000 },
  );
};

describe('docs screenshots', () => {
  it('takes every main page in light and dark', async () => {
    await shoot('projects', '/', async (page) => {
      await page.getByRole('link', { name: 'vision' }).first().waitFor();
    });
    await shoot(`project-table`, `/default/vision?sel=${keys.slice(0, 4).join(',')}`, charts(1));
    await shoot('charts', `/default/vision/charts?sel=${keys.join(',')}`, charts(4));
    await shoot('charts-zoomed', `/default/vision/charts?sel=${keys.join(',')}&zoom=2150..2300&mq=loss`, charts(2), [
      'light',
    ]);
    await shoot('experiment-charts', `/default/vision/${fullKey}/charts`, charts(1), ['light']);
    await shoot('experiment-params', `/default/vision/${fullKey}/parameters`, async (page) => {
      await page.getByText('optimizer').first().waitFor();
    });
    await shoot('experiment-assets', `/default/vision/${fullKey}/assets`, async (page) => {
      await page.locator('img').first().waitFor();
    });
    await shoot(
      'experiment-output',
      `/default/vision/${fullKey}/output`,
      async (page) => {
        await page.getByText('epoch 0 batch 1 ').first().waitFor();
      },
      ['dark'],
    );
    await shoot(
      'experiment-git',
      `/default/vision/${fullKey}/git`,
      async (page) => {
        await page.getByText('train.py').first().waitFor();
      },
      ['light'],
    );
    await shoot('compare', `/default/vision/compare?e=${keys.slice(0, 3).join(',')}&diff=1`, charts(1));
    await shoot('registry', '/-/registry/default/imagenet-resnet', async (page) => {
      await page.getByText('1.1.0').first().waitFor();
    });
    await shoot(
      'onboarding',
      '/default/speech',
      async (page) => {
        await page.getByText('COMET_URL_OVERRIDE').first().waitFor();
      },
      ['light'],
    );
    await shoot(
      'settings',
      '/settings',
      async (page) => {
        await page.getByRole('heading', { name: 'Settings' }).waitFor();
      },
      ['dark'],
    );
  });
});
