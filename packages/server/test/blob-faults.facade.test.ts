import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../src/core/blob.port.js';
import { BlobSweeper } from '../src/core/blob-sweep.service.js';
import { systemClock } from '../src/core/clock.port.js';
import { assetBlobKey, gitPatchBlobKey } from '../src/core/projects.service.js';
import type { FileBlobStore } from '../src/storage/blob/file-blob.store.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { multipart, sampleBytes } from './support/wire-bodies.js';

const API = '/api/cairn/v1';

/** How the blob store fails: after taking half of the bytes, or after storing all of them (its answer lost). */
type Fault = 'midway' | 'after-write';

/** A blob store whose puts fail the way the test says, over a real FileBlobStore. */
function failing(files: FileBlobStore, fault: () => Fault | undefined): BlobStore {
  return {
    async put(key, body, options) {
      const mode = fault();
      if (mode === 'midway') {
        const cut = async function* () {
          let seen = 0;
          for await (const chunk of body) {
            seen += (chunk as Buffer).length;
            if (seen > 4096) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
            yield chunk;
          }
        };
        return files.put(key, Readable.from(cut()), options);
      }
      const stored = await files.put(key, body, options);
      if (mode === 'after-write') throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return stored;
    },
    get: (key, range) => files.get(key, range),
    size: (key) => files.size(key),
    delete: (key) => files.delete(key),
    list: (prefix) => files.list(prefix),
    removeAbandoned: (before) => files.removeAbandoned(before),
  };
}

describe.each(backends)('blob store faults (%s)', (backend) => {
  let t: TestContext;
  let fault: Fault | undefined;
  let files: FileBlobStore;

  beforeAll(async () => {
    t = await createTestContext(backend, {
      blobs: (inner) => {
        files = inner;
        return failing(inner, () => fault);
      },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function newExperiment(): Promise<{ key: string; projectId: string }> {
    const principal = await t.core.auth.authenticate(t.adminKey);
    const view = await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'blob-faults' });
    return { key: view.experiment.id, projectId: view.project.id };
  }
  /** Every file the blob folder holds, finished or not. */
  const residue = async () =>
    (await readdir(t.blobDir, { recursive: true, withFileTypes: true }).catch(() => []))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));

  const uploads: Record<string, (key: string, projectId: string) => Promise<LightMyRequestResponse>> = {
    cairn: async (key) => {
      const form = await multipart([['file', sampleBytes(64 * 1024), 'weights.bin']]);
      return t.request('POST', `${API}/experiments/${key}/assets`, { payload: form.payload, headers: form.headers });
    },
    comet: async (key) => {
      const form = await multipart([['file', sampleBytes(64 * 1024), 'weights.bin']]);
      return t.request('POST', `/api/rest/v2/write/experiment/upload-asset?experimentKey=${key}&fileName=weights.bin`, {
        payload: form.payload,
        headers: form.headers,
      });
    },
    mlflow: (key, projectId) =>
      t.request('PUT', `/api/2.0/mlflow-artifacts/artifacts/${projectId}/${key}/artifacts/weights.bin`, {
        payload: sampleBytes(64 * 1024),
        headers: { 'content-type': 'application/octet-stream' },
      }),
  };
  // What every facade says of an internal error: nothing of the cause, the request id to find it.
  const internalError = (r: LightMyRequestResponse) => `internal server error (request ${r.headers['x-request-id']})`;
  const errorFormats: Record<string, (response: LightMyRequestResponse) => void> = {
    cairn: (r) => expect(r.json()).toMatchObject({ type: 'about:blank', status: 500, detail: internalError(r) }),
    comet: (r) => expect(r.json()).toMatchObject({ code: 500, msg: internalError(r) }),
    mlflow: (r) => expect(r.json()).toMatchObject({ error_code: 'INTERNAL_ERROR' }),
  };

  for (const mode of ['midway', 'after-write'] as const) {
    for (const facade of Object.keys(uploads)) {
      it(`${facade}: a blob store failing ${mode} commits no asset row, answers 500 in the facade's format, leaves no bytes`, async () => {
        const { key, projectId } = await newExperiment();
        const before = await residue();
        fault = mode;
        let response: LightMyRequestResponse;
        try {
          response = await (uploads[facade] as (typeof uploads)['cairn'])(key, projectId);
        } finally {
          fault = undefined;
        }
        expect(response.statusCode, response.body).toBe(500);
        (errorFormats[facade] as (r: LightMyRequestResponse) => void)(response);
        expect((await t.rows('assets')).filter((row) => row.experiment_id === key)).toEqual([]);
        expect(await residue()).toEqual(before);

        // The same upload goes through once the store works again: the experiment was left usable.
        const retried = await (uploads[facade] as (typeof uploads)['cairn'])(key, projectId);
        expect(retried.statusCode, retried.body).toBeLessThan(300);
        expect((await t.rows('assets')).filter((row) => row.experiment_id === key)).toHaveLength(1);
      });
    }
  }

  it('the sweep deletes old blobs no row refers to and dead uploads, and keeps everything else', async () => {
    const { key } = await newExperiment();
    const kept = await uploads.cairn?.(key, '');
    expect(kept?.statusCode).toBe(201);
    const keptKey = (await t.rows('assets')).find((row) => row.experiment_id === key)?.blob_key as string;

    const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
    const age = (path: string) => utimes(path, hourAgo, hourAgo);
    const pathOf = (blobKey: string) => join(t.blobDir, ...blobKey.split('/'));
    // Bytes of an upload killed between storing them and committing its row, an hour ago.
    const orphan = assetBlobKey(key, 'orphaned0000');
    await files.put(orphan, Readable.from([Buffer.from('orphan')]));
    await age(pathOf(orphan));
    // The same, a moment ago: its row may still be on its way.
    const recent = assetBlobKey(key, 'recent000000');
    await files.put(recent, Readable.from([Buffer.from('recent')]));
    // The git patch has no row naming it: the experiment owns it.
    await files.put(gitPatchBlobKey(key), Readable.from([Buffer.from('patch')]));
    await age(pathOf(gitPatchBlobKey(key)));
    await age(pathOf(keptKey));
    // A temp file of an upload that died (the process was killed mid-body).
    const dead = `${pathOf(assetBlobKey(key, 'dead00000000'))}.0123456789ab.partial`;
    await mkdir(dirname(dead), { recursive: true });
    await writeFile(dead, 'half');
    await age(dead);
    // An upload still running in this process, stalled for an hour: never touched.
    let release: () => void = () => {};
    const slow = new Readable({ read() {} });
    slow.push(Buffer.from('first half '));
    const running = files.put(assetBlobKey(key, 'running00000'), slow);
    let runningTemp: string | undefined;
    while (!runningTemp) {
      runningTemp = (await residue()).find((path) => path.includes('running00000') && path.endsWith('.partial'));
      if (!runningTemp) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await age(runningTemp);
    release = () => {
      slow.push(Buffer.from('second half'));
      slow.push(null);
    };

    const swept = await new BlobSweeper(t.store, files, systemClock, {
      graceMillis: 10 * 60 * 1000,
      intervalMillis: 0,
    }).sweep();
    expect(swept).toEqual({ orphans: 1, abandoned: 1 });
    const left = await residue();
    expect(left).not.toContain(pathOf(orphan));
    expect(left).not.toContain(dead);
    for (const path of [pathOf(recent), pathOf(gitPatchBlobKey(key)), pathOf(keptKey), runningTemp]) {
      expect(left).toContain(path);
    }
    release();
    await running;
    const download = await t.request('GET', `${API}/experiments/${key}/assets/${kept?.json().id}`);
    expect(download.rawPayload.equals(sampleBytes(64 * 1024))).toBe(true);
  });
});
