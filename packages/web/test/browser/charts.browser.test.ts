import type { Page, Request } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { browserEnvForFile, withFailureScreenshot } from './harness.js';

const WORKSPACE = 'default';
const PROJECT = 'charts-e2e';
const STEPS = 10_000;
const SPIKE_STEP = 7_777;
const SPIKE_VALUE = 987.654321;

const runs: { key: string; name: string }[] = [];

/** A smooth decaying loss per run; the first run has one spike the chart must never lose. */
function lossValues(run: number): number[] {
  return Array.from({ length: STEPS }, (_, step) =>
    run === 0 && step === SPIKE_STEP
      ? SPIKE_VALUE
      : 2 * Math.exp(-step / 3000) + 0.1 * run + 0.05 * Math.sin(step * 1.7),
  );
}

const env = browserEnvForFile(async () => {
  const steps = Array.from({ length: STEPS }, (_, i) => i);
  const start = Date.UTC(2026, 10, 1);
  for (let r = 0; r < 3; r++) {
    const name = `run-${r}`;
    const experiment = await env.cairn.experiments.create(WORKSPACE, PROJECT, { name });
    runs.push({ key: experiment.key, name });
    await env.cairn.metrics.log(experiment.key, {
      series: [
        {
          name: 'train/loss',
          values: lossValues(r),
          steps,
          timestamps: steps.map((s) => start + r * 1000 + s * 100),
        },
        { name: 'val/acc', values: steps.map((s) => 0.5 + 0.4 * (1 - Math.exp(-s / 2000)) + 0.01 * r), steps },
      ],
    });
  }
});

interface SeriesRequest {
  experiments: string[];
  metrics: string[];
  x?: string;
  from?: number;
  to?: number;
  buckets?: number;
}

/** Every /series/query body the page sends from now on. */
function captureSeriesRequests(page: Page): SeriesRequest[] {
  const seen: SeriesRequest[] = [];
  page.on('request', (request: Request) => {
    if (request.url().includes('/series/query') && request.method() === 'POST') {
      seen.push(JSON.parse(request.postData() ?? '{}') as SeriesRequest);
    }
  });
  return seen;
}

const chart = (page: Page, metric: string) => page.locator(`[data-testid="chart-${metric}"]`);

/** Waits until the chart has drawn, and answers its test hooks. */
async function drawnState(page: Page, metric: string) {
  const card = chart(page, metric);
  await card.and(page.locator('[data-points]')).waitFor();
  await page.waitForFunction(
    (m) => Number(document.querySelector(`[data-testid="chart-${m}"]`)?.getAttribute('data-points')) > 0,
    metric,
  );
  return {
    exact: await card.getAttribute('data-exact'),
    points: Number(await card.getAttribute('data-points')),
    lastX: Number(await card.getAttribute('data-last-x')),
  };
}

/** The plot area (uPlot's overlay) of a chart, in page pixels. */
async function plotBox(page: Page, metric: string) {
  const box = await chart(page, metric).locator('.u-over').boundingBox();
  if (!box) throw new Error(`no plot for ${metric}`);
  return box;
}

function currentZoom(page: Page): { from: number; to: number } | null {
  const zoom = new URL(page.url()).searchParams.get('zoom');
  if (!zoom) return null;
  const [from, to] = zoom.split('..').map(Number) as [number, number];
  return { from, to };
}

async function canvasImage(page: Page, metric: string): Promise<string> {
  return chart(page, metric)
    .locator('canvas')
    .evaluate((canvas) => (canvas as HTMLCanvasElement).toDataURL());
}

describe('the charts page', () => {
  it('draws the selected runs with a min/max band, zooms by drag down to exact points and shows the spike', {
    timeout: 60_000,
  }, async () => {
    const page = await env.signedInPage();
    const requests = captureSeriesRequests(page);
    await withFailureScreenshot(page, 'charts-zoom', async () => {
      await page.goto(`${env.url}/${WORKSPACE}/${PROJECT}/charts`);
      await page.getByText('Select runs to chart them.').waitFor();
      for (const run of runs) await page.getByRole('checkbox', { name: run.name }).check();
      expect(new URL(page.url()).searchParams.get('sel')?.split(',').sort()).toEqual(runs.map((r) => r.key).sort());

      const first = await drawnState(page, 'train/loss');
      expect(first.exact).toBe('false');
      expect(first.lastX).toBe(STEPS - 1);
      await expect(chart(page, 'train/loss').getByTestId('downsampled').isVisible()).resolves.toBe(true);
      expect(await chart(page, 'train/loss').locator('canvas').count()).toBe(1);
      await chart(page, 'val/acc').and(page.locator('[data-points]')).waitFor();
      // Sections by prefix, with counts.
      await page.getByRole('button', { name: /^\W*train\s*1\s*$/ }).waitFor();
      const all = runs.map((r) => r.key).sort();
      await expect
        .poll(() => requests.some((r) => r.metrics[0] === 'train/loss' && r.experiments.length === all.length))
        .toBe(true);
      const firstRequest = requests.find((r) => r.metrics[0] === 'train/loss' && r.experiments.length === all.length);
      expect(firstRequest?.experiments.sort()).toEqual(all);
      expect(firstRequest?.from).toBeUndefined();
      const buckets = firstRequest?.buckets ?? 0;
      expect(buckets).toBeGreaterThan(100);

      // Drag around the spike until the server answers exact points.
      let range = { from: 0, to: STEPS - 1 };
      for (let zoom = 0; zoom < 6; zoom++) {
        const state = await drawnState(page, 'train/loss');
        if (state.exact === 'true') break;
        const box = await plotBox(page, 'train/loss');
        const pixel = (x: number) => box.x + ((x - range.from) / (range.to - range.from)) * box.width;
        const half = (range.to - range.from) / 10;
        const before = requests.length;
        await page.mouse.move(pixel(SPIKE_STEP - half), box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(pixel(SPIKE_STEP + half), box.y + box.height / 2, { steps: 5 });
        await page.mouse.up();
        await page.waitForFunction(() => new URL(window.location.href).searchParams.has('zoom'));
        const next = currentZoom(page);
        if (!next) throw new Error('no zoom in the URL');
        expect(next.to - next.from).toBeLessThan(range.to - range.from);
        range = next;
        await expect
          .poll(() => requests.slice(before).find((r) => r.metrics[0] === 'train/loss' && r.from === range.from))
          .toMatchObject({ from: range.from, to: range.to, buckets });
        await page.waitForFunction((from) => {
          const card = document.querySelector('[data-testid="chart-train/loss"]');
          return (
            card?.querySelector('.chart-loading') === null &&
            new URL(window.location.href).searchParams.get('zoom')?.startsWith(`${from}..`)
          );
        }, range.from);
      }
      const exact = await drawnState(page, 'train/loss');
      expect(exact.exact).toBe('true');
      expect(await chart(page, 'train/loss').getByTestId('downsampled').count()).toBe(0);
      // Every run's points in range: the exact count of steps, per run.
      expect(exact.points).toBe((Math.min(range.to, STEPS - 1) - Math.max(range.from, 0) + 1) * runs.length);

      const box = await plotBox(page, 'train/loss');
      const spikeX = box.x + ((SPIKE_STEP - range.from) / (range.to - range.from)) * box.width;
      await page.mouse.move(spikeX, box.y + box.height / 2);
      const tooltip = chart(page, 'train/loss').locator('.chart-tooltip');
      await expect.poll(() => tooltip.textContent()).toContain(String(SPIKE_VALUE.toPrecision(6)));
      expect(await tooltip.textContent()).toContain(SPIKE_STEP.toLocaleString('en-US'));
      // The crosshair is synced: the other chart's cursor stands at the same step, without a tooltip.
      const otherCursor = await chart(page, 'val/acc')
        .locator('.u-cursor-x')
        .evaluate((el) => Number(/translate\((-?[\d.]+)px/.exec((el as HTMLElement).style.transform)?.[1]));
      expect(Math.abs(otherCursor - (spikeX - box.x))).toBeLessThanOrEqual(2);
      expect(await chart(page, 'val/acc').locator('.chart-tooltip').isHidden()).toBe(true);

      // Double-click clears the zoom for every chart.
      await page.mouse.dblclick(spikeX, box.y + box.height / 2);
      await page.waitForFunction(() => !new URL(window.location.href).searchParams.has('zoom'));
      await page.waitForFunction(
        () => document.querySelector('[data-testid="chart-train/loss"]')?.getAttribute('data-exact') === 'false',
      );
    });
  });

  it('changes the x axis, log scale and smoothing through the URL, and a copied URL restores the view', {
    timeout: 60_000,
  }, async () => {
    const page = await env.signedInPage();
    const requests = captureSeriesRequests(page);
    const sel = runs.map((r) => r.key).join(',');
    await withFailureScreenshot(page, 'charts-settings', async () => {
      await page.goto(`${env.url}/${WORKSPACE}/${PROJECT}/charts?sel=${sel}`);
      await drawnState(page, 'train/loss');

      await page.getByLabel('X axis').selectOption('wall');
      await expect.poll(() => requests.find((r) => r.x === 'wall' && r.metrics[0] === 'train/loss')).toBeTruthy();
      expect(new URL(page.url()).searchParams.get('x')).toBe('wall');
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="chart-train/loss"]')?.getAttribute('data-last-x')) > 1e12,
      );

      const linear = await canvasImage(page, 'train/loss');
      await page.getByLabel('Log y').check();
      expect(new URL(page.url()).searchParams.get('log')).toBe('1');
      await expect.poll(() => canvasImage(page, 'train/loss')).not.toBe(linear);

      // The spike sets the y range until outliers are ignored: then the noise is visible.
      const withOutliers = await canvasImage(page, 'train/loss');
      await page.getByLabel('Ignore outliers').check();
      expect(new URL(page.url()).searchParams.get('outliers')).toBe('1');
      await expect.poll(() => canvasImage(page, 'train/loss')).not.toBe(withOutliers);

      const unsmoothed = await canvasImage(page, 'train/loss');
      await page.getByLabel('Smoothing').fill('60');
      await page.waitForFunction(() => new URL(window.location.href).searchParams.get('smooth') === '0.6');
      await expect.poll(() => canvasImage(page, 'train/loss')).not.toBe(unsmoothed);

      // Zoom on the wall-time axis, then open the same URL in a fresh page.
      const box = await plotBox(page, 'train/loss');
      await page.mouse.move(box.x + box.width * 0.3, box.y + 20);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.6, box.y + 20, { steps: 4 });
      await page.mouse.up();
      await page.waitForFunction(() => new URL(window.location.href).searchParams.has('zoom'));
      const zoom = currentZoom(page);
      await expect
        .poll(() => requests.some((r) => r.metrics[0] === 'train/loss' && r.x === 'wall' && r.from === zoom?.from))
        .toBe(true);
      // The zoomed answer is drawn once the highest x drawn lies inside the zoom.
      await page.waitForFunction(
        (to) => Number(document.querySelector('[data-testid="chart-train/loss"]')?.getAttribute('data-last-x')) <= to,
        zoom?.to ?? 0,
      );
      await page.waitForFunction(
        () => document.querySelector('[data-testid="chart-train/loss"] .chart-loading') === null,
      );
      const shared = page.url();
      const view = await canvasImage(page, 'train/loss');

      const copy = await env.signedInPage();
      const copyRequests = captureSeriesRequests(copy);
      await copy.goto(shared);
      await drawnState(copy, 'train/loss');
      expect(await copy.getByLabel('X axis').inputValue()).toBe('wall');
      expect(await copy.getByLabel('Log y').isChecked()).toBe(true);
      expect(await copy.getByLabel('Smoothing').inputValue()).toBe('60');
      expect(copyRequests.find((r) => r.metrics[0] === 'train/loss')).toMatchObject({
        x: 'wall',
        from: zoom?.from,
        to: zoom?.to,
      });
      await expect.poll(() => canvasImage(copy, 'train/loss')).toBe(view);
    });
  });

  it('draws a point logged through the SDK within seconds, without a reload', async () => {
    const page = await env.signedInPage();
    const requests = captureSeriesRequests(page);
    const run = runs[1];
    if (!run) throw new Error('no run');
    await withFailureScreenshot(page, 'charts-live', async () => {
      // The stream answers its headers once it follows the project: a point logged after that is heard.
      const streamOpen = page.waitForResponse((response) => response.url().includes('/events'));
      await page.goto(`${env.url}/${WORKSPACE}/${PROJECT}/charts?sel=${run.key}`);
      const before = await drawnState(page, 'train/loss');
      expect(before.lastX).toBe(STEPS - 1);
      await streamOpen;
      const readsBefore = requests.length;
      await env.cairn.metrics.log(run.key, { series: [{ name: 'train/loss', values: [0.25], steps: [STEPS + 500] }] });
      await page.waitForFunction(
        (x) => Number(document.querySelector('[data-testid="chart-train/loss"]')?.getAttribute('data-last-x')) === x,
        STEPS + 500,
        { timeout: 5_000 },
      );
      // Appended in place: no chart read the series again.
      expect(requests.length).toBe(readsBefore);

      // A theme switch redraws the axes and grid in the new theme's colors, without a read.
      const light = await canvasImage(page, 'train/loss');
      await page.getByLabel('Theme').selectOption('dark');
      await expect.poll(() => canvasImage(page, 'train/loss')).not.toBe(light);
      expect(requests.length).toBe(readsBefore);
    });
  });
});
