import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORAGE_FULL_RETRY_AFTER_SECONDS } from '../src/core/errors.js';
import { mountSmallVolume, type SmallVolume } from './support/small-volume.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { multipart, sampleBytes } from './support/wire-bodies.js';

const API = '/api/cairn/v1';
const RETRY_AFTER = String(STORAGE_FULL_RETRY_AFTER_SECONDS);
const ASSET_BYTES = 96 * 1024;
const BATCH_POINTS = 2000;

/**
 * The disk fills up under a running server (issue #13): writes are refused with 503 and
 * Retry-After in each facade's format, reads keep working, nothing acknowledged is lost, no
 * half-written blob stays behind, and writes go in again once space is freed, without a restart.
 * The SQLite file, its WAL and the blobs share one small tmpfs; on PostgreSQL the blobs alone do
 * (the test cannot fill the shared cluster's disk).
 */
describe.each(backends)('disk full (%s)', (backend) => {
  let volume: SmallVolume;
  let t: TestContext;
  let key: string;

  beforeAll(async () => {
    volume = await mountSmallVolume(12 * 1024 * 1024);
    t = await createTestContext(backend, { store: { dir: volume.dir } });
    const principal = await t.core.auth.authenticate(t.adminKey);
    key = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'full' })).experiment.id;
  });
  afterAll(async () => {
    await t?.close();
    await volume?.release();
  });

  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });
  const logPoints = (from: number) =>
    t.app.inject({
      method: 'POST',
      url: `${API}/experiments/${key}/metrics`,
      headers: auth(),
      payload: {
        series: [
          {
            name: 'loss',
            steps: Array.from({ length: BATCH_POINTS }, (_, i) => from + i),
            values: Array.from({ length: BATCH_POINTS }, (_, i) => Math.sin(from + i)),
          },
        ],
      },
    });
  const uploadAsset = async (id: string, bytes: Buffer) => {
    const form = await multipart([
      ['id', id],
      ['file', bytes, `${id}.bin`],
    ]);
    return t.app.inject({
      method: 'POST',
      url: `${API}/experiments/${key}/assets`,
      headers: { ...auth(), ...form.headers },
      payload: form.payload,
    });
  };
  const expectStorageFull = (response: LightMyRequestResponse) => {
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['retry-after']).toBe(RETRY_AFTER);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().detail).toMatch(/storage is full/);
  };
  const partials = async () =>
    (await readdir(t.blobDir, { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.partial'));

  it('refuses writes with 503 while full, keeps reads and every acknowledged write, and takes writes again once space is freed', async () => {
    // The operator's other files take most of the volume: what is left fills within a few writes.
    await volume.fillLeaving('ballast', 2 * 1024 * 1024);

    const points: number[] = [];
    const assets = new Map<string, Buffer>();
    let assetRefused: LightMyRequestResponse | undefined;
    let pointsRefused: LightMyRequestResponse | undefined;
    const sqlite = backend === 'sqlite';
    for (let round = 0; round < 200 && !(assetRefused && (pointsRefused || !sqlite)); round++) {
      const bytes = sampleBytes(ASSET_BYTES, round);
      const uploaded = await uploadAsset(`a${round}`, bytes);
      if (uploaded.statusCode === 201) assets.set(`a${round}`, bytes);
      else {
        expectStorageFull(uploaded);
        assetRefused = uploaded;
      }
      const from = points.length;
      const logged = await logPoints(from);
      if (logged.statusCode === 200) {
        for (let i = 0; i < BATCH_POINTS; i++) points.push(from + i);
      } else {
        expectStorageFull(logged);
        pointsRefused = logged;
      }
    }
    expect(assetRefused, 'an upload was refused').toBeDefined();
    expect(assets.size).toBeGreaterThan(0);
    if (sqlite) expect(pointsRefused, 'a metric write was refused').toBeDefined();
    expect(points.length).toBeGreaterThan(0);
    // A refused upload leaves no temporary file taking the space.
    expect(await partials()).toEqual([]);

    if (sqlite) {
      // Every facade answers in its own format.
      const comet = await t.app.inject({
        method: 'POST',
        url: '/api/rest/v2/write/experiment/parameter',
        headers: { authorization: t.adminKey },
        payload: { experimentKey: key, parameterName: 'lr', parameterValue: '0.2' },
      });
      expect(comet.statusCode, comet.body).toBe(503);
      expect(comet.headers['retry-after']).toBe(RETRY_AFTER);
      expect(comet.json()).toMatchObject({ code: 503, msg: expect.stringMatching(/storage is full/) });
      const mlflow = await t.app.inject({
        method: 'POST',
        url: '/api/2.0/mlflow/runs/log-batch',
        headers: auth(),
        payload: { run_id: key, params: [{ key: 'lr', value: '0.2' }] },
      });
      expect(mlflow.statusCode, mlflow.body).toBe(503);
      expect(mlflow.headers['retry-after']).toBe(RETRY_AFTER);
      expect(mlflow.json()).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
    }

    // Reads keep working while the disk is full.
    await expectEverythingAcknowledged(points, assets);

    // Space comes back: the same server takes writes again.
    await rm(join(volume.dir, 'ballast'));
    const more = sampleBytes(ASSET_BYTES, 999);
    expect((await uploadAsset('after', more)).statusCode).toBe(201);
    assets.set('after', more);
    const from = points.length;
    expect((await logPoints(from)).statusCode).toBe(200);
    for (let i = 0; i < BATCH_POINTS; i++) points.push(from + i);
    await expectEverythingAcknowledged(points, assets);

    if (t.databaseFile) {
      const check = new SQLite(t.databaseFile, { readonly: true });
      try {
        expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        check.close();
      }
    }
  });

  async function expectEverythingAcknowledged(points: number[], assets: Map<string, Buffer>) {
    const series = await t.app.inject({
      method: 'GET',
      url: `${API}/experiments/${key}/metrics/loss?limit=${points.length + 10}`,
      headers: auth(),
    });
    expect(series.statusCode, series.body).toBe(200);
    expect(series.json().steps).toEqual(points);
    expect(series.json().values).toEqual(points.map((step) => Math.sin(step)));

    const listed = await t.app.inject({ method: 'GET', url: `${API}/experiments/${key}/assets`, headers: auth() });
    expect(listed.statusCode).toBe(200);
    expect(
      listed
        .json()
        .items.map((a: { id: string }) => a.id)
        .sort(),
    ).toEqual([...assets.keys()].sort());
    for (const [id, bytes] of assets) {
      const download = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/${key}/assets/${id}`,
        headers: auth(),
      });
      expect(download.statusCode).toBe(200);
      expect(download.rawPayload.equals(bytes), `asset ${id} reads back whole`).toBe(true);
    }
  }
});
