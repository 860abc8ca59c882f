import { expect } from 'vitest';
import type { TestContext } from './test-context.js';

/** Helpers of the registry and webhook suites: experiment models to register, and their zips. */

export const V2 = '/api/rest/v2';

/** Encodes string parts and one file part as multipart/form-data (as comet_ml does). */
async function multipart(file: Uint8Array, metadata: string | null) {
  const form = new FormData();
  form.append('file', new Blob([file]), 'file');
  if (metadata !== null) form.append('metadata', metadata);
  const response = new Response(form);
  return {
    payload: Buffer.from(await response.arrayBuffer()),
    headers: { 'content-type': response.headers.get('content-type') ?? '' },
  };
}

export async function createExperiment(
  t: TestContext,
  projectName: string,
  key = t.adminKey,
  workspaceName = key === t.otherKey ? 'bob' : 'default',
): Promise<string> {
  const response = await t.request('POST', `${V2}/write/experiment/create`, {
    key,
    body: { workspaceName, projectName },
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().experimentKey as string;
}

/** Uploads one file of an experiment model (a model-element asset grouped under `modelName`). */
export async function uploadModelFile(
  t: TestContext,
  experimentKey: string,
  modelName: string,
  fileName: string,
  bytes: Uint8Array,
  options: { metadata?: string | null; key?: string } = {},
): Promise<string> {
  const { payload, headers } = await multipart(bytes, options.metadata ?? null);
  const query = new URLSearchParams({ experimentKey, fileName, type: 'model-element', groupingName: modelName });
  const response = await t.request('POST', `${V2}/write/experiment/upload-asset?${query}`, {
    payload,
    headers,
    key: options.key ?? t.adminKey,
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().assetId as string;
}

/** The experimentModelId comet_ml would read from GET /experiment/model. */
export async function experimentModelId(t: TestContext, experimentKey: string, modelName: string): Promise<string> {
  const response = await t.request('GET', `${V2}/experiment/model?experimentKey=${experimentKey}`);
  expect(response.statusCode, response.body).toBe(200);
  const model = (response.json().models as { modelName: string; experimentModelId: string }[]).find(
    (m) => m.modelName === modelName,
  );
  if (!model) throw new Error(`experiment ${experimentKey} has no model ${modelName}`);
  return model.experimentModelId;
}

/** An experiment with one model holding `files`; returns its key and experiment model id. */
export async function experimentWithModel(
  t: TestContext,
  modelName: string,
  files: Record<string, Uint8Array>,
  options: { key?: string; metadata?: string | null; workspaceName?: string } = {},
): Promise<{ experimentKey: string; experimentModelId: string }> {
  const key = options.key ?? t.adminKey;
  const project = `registry-${Math.random().toString(36).slice(2, 8)}`;
  const experimentKey = await createExperiment(t, project, key, options.workspaceName);
  for (const [fileName, bytes] of Object.entries(files)) {
    await uploadModelFile(t, experimentKey, modelName, fileName, bytes, { key, metadata: options.metadata ?? null });
  }
  return { experimentKey, experimentModelId: await experimentModelId(t, experimentKey, modelName) };
}

/** POST write/registry-model (or /item): registers a version; returns the response. */
export function register(
  t: TestContext,
  body: Record<string, unknown>,
  options: { item?: boolean; key?: string } = {},
) {
  const path = options.item ? 'write/registry-model/item' : 'write/registry-model';
  return t.request('POST', `${V2}/${path}`, { body, key: options.key ?? t.adminKey });
}
