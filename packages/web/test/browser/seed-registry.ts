import type { BrowserEnv } from './harness.js';

/** The Comet REST API, as comet_ml's `register_model` and the Comet API client call it. */
async function comet<T>(env: BrowserEnv, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const answer = await fetch(`${env.url}/api/rest/v2/${path}`, {
    method,
    headers: { authorization: env.adminKey, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
  return (await answer.json()) as T;
}

/** Logs an artifact version through the Comet API as comet_ml's `log_artifact` does: upsert, files, close. */
async function logArtifactVersion(
  env: BrowserEnv,
  experimentKey: string,
  version: string,
  aliases: string[],
  files: Record<string, string>,
) {
  const { artifactVersionId } = await comet<{ artifactVersionId: string }>(env, 'POST', 'write/artifacts/upsert', {
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
  await comet(env, 'POST', 'write/artifacts/state', { artifactVersionId, state: 'CLOSED' });
}

/**
 * A model `net` of the experiment registered as `model` 1.0.0 (stage staging) and 1.1.0, and the
 * artifact `cifar10-split` at 1.0.0 (alias stable) and 1.1.0 (alias latest), all through the Comet
 * API as comet_ml logs them.
 */
export async function seedRegistry(env: BrowserEnv, experimentKey: string, model: string): Promise<void> {
  await env.cairn.assets.upload(experimentKey, new Blob([new Uint8Array(4096)]), { name: 'weights.bin', model: 'net' });
  await env.cairn.assets.upload(experimentKey, new Blob(['{"layers": 18}']), { name: 'config.json', model: 'net' });
  const { models } = await comet<{ models: { experimentModelId: string; modelName: string }[] }>(
    env,
    'GET',
    `experiment/model?experimentKey=${experimentKey}`,
  );
  const experimentModelId = models.find((m) => m.modelName === 'net')?.experimentModelId;
  for (const version of ['1.0.0', '1.1.0']) {
    await comet(env, 'POST', version === '1.0.0' ? 'write/registry-model' : 'write/registry-model/item', {
      experimentModelId,
      registryModelName: model,
      version,
      comment: `release ${version}`,
      ...(version === '1.0.0' ? { description: 'ResNet-18 on CIFAR-10', stages: ['staging'] } : {}),
    });
  }
  await logArtifactVersion(env, experimentKey, '1.0.0', ['stable'], { 'train.csv': 'a,b\n1,2\n' });
  await logArtifactVersion(env, experimentKey, '1.1.0', ['latest'], {
    'train.csv': 'a,b\n1,2\n3,4\n',
    'val.csv': 'a,b\n5,6\n',
  });
}
