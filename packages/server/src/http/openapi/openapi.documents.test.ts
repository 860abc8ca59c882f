import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderOpenApiDocuments } from './openapi.documents.js';
import { CAIRN_RULES, COMET_RULES, FOUNDRY_RULES, MLFLOW_RULES, type StatedRule } from './stated-rules.js';

interface DocumentedOperation {
  'x-stated-rules'?: StatedRule[];
  responses: Record<string, { description: string }>;
}

describe('committed OpenAPI documents', () => {
  it('match the route schemas (run `npm run openapi` after changing a route)', async () => {
    for (const [file, text] of Object.entries(await renderOpenApiDocuments())) {
      const committed = await readFile(new URL(`../../../../../openapi/${file}`, import.meta.url), 'utf8');
      expect(committed, `openapi/${file} is stale: run npm run openapi`).toBe(text);
    }
  });

  it('documents the Comet routes with their schemas', async () => {
    const comet = JSON.parse((await renderOpenApiDocuments())['comet.json'] as string);
    const create = comet.paths['/api/rest/v2/write/project/create'].post;
    expect(create.requestBody.content['application/json'].schema.required).toContain('workspaceName');
    expect(create.responses['200'].content['application/json'].schema.properties).toHaveProperty('projectId');
    expect(comet.paths['/clientlib/rest/v2/workspaces']).toBeUndefined();
    const batch = comet.paths['/clientlib/batch/logger/experiment/metric'].post;
    expect(batch.requestBody.content['application/json'].schema.required).toEqual(['experimentKey', 'values']);
    expect(comet.paths['/clientlib/isAlive/ver'].get).toBeDefined();
  });

  it('documents the multipart and raw uploads that routes read themselves', async () => {
    const documents = await renderOpenApiDocuments();
    const cairn = JSON.parse(documents['cairn.json'] as string);
    const comet = JSON.parse(documents['comet.json'] as string);
    const upload = cairn.paths['/api/cairn/v1/experiments/{key}/assets'].post;
    const parts = upload.requestBody.content['multipart/form-data'].schema;
    expect(upload.requestBody.required).toBe(true);
    expect(parts.properties.file.contentMediaType).toBe('application/octet-stream');
    expect(parts.additionalProperties).toBe(false);
    expect(upload.responses).toHaveProperty('415');
    const patch = cairn.paths['/api/cairn/v1/experiments/{key}/git/patch'].put.requestBody;
    expect(Object.keys(patch.content)).toEqual(['text/x-diff', 'application/octet-stream']);
    for (const path of [
      '/api/rest/v2/write/experiment/upload-asset',
      '/api/rest/v2/write/experiment/git/patch',
      '/api/rest/v2/write/template/upload',
      '/clientlib/asset/upload',
      '/clientlib/git-patch/upload',
      '/clientlib/visualizations/upload',
    ]) {
      const body = comet.paths[path].post.requestBody;
      expect(body.content['multipart/form-data'].schema.properties, path).toHaveProperty('file');
    }
  });

  it('documents the Foundry routes apart from the others', async () => {
    const foundry = JSON.parse((await renderOpenApiDocuments())['foundry.json'] as string);
    const search = foundry.paths['/api/v2/models/{modelRid}/experiments/search'].post;
    expect(search.responses['200'].content['application/json'].schema.required).toContain('data');
    expect(Object.keys(foundry.paths).every((path) => path.startsWith('/api/v2/models'))).toBe(true);
  });

  it('states each rule no schema can state on the 400 of every operation it applies to, and on no other', async () => {
    const documents = await renderOpenApiDocuments();
    const sets: [string, StatedRule[]][] = [
      ['cairn.json', CAIRN_RULES],
      ['comet.json', COMET_RULES],
      ['foundry.json', FOUNDRY_RULES],
      ['mlflow.json', MLFLOW_RULES],
    ];
    for (const [file, rules] of sets) {
      const document = JSON.parse(documents[file] as string);
      const stated = new Map<string, number>();
      for (const [path, operations] of Object.entries(
        document.paths as Record<string, Record<string, DocumentedOperation>>,
      )) {
        for (const [method, operation] of Object.entries(operations)) {
          for (const { rule, refusal } of operation['x-stated-rules'] ?? []) {
            stated.set(rule, (stated.get(rule) ?? 0) + 1);
            expect(operation.responses['400']?.description, `${method} ${path}`).toContain(rule);
            expect(() => new RegExp(refusal)).not.toThrow();
          }
          if (!operation['x-stated-rules']) expect(operation.responses['400']?.description).toBe('400');
        }
      }
      // A rule that applies nowhere has outlived its route (or names it wrongly).
      for (const { rule } of rules) expect(stated.get(rule), `${file}: ${rule}`).toBeGreaterThan(0);
    }
    const cairn = JSON.parse(documents['cairn.json'] as string);
    const rules = (path: string, method: string) =>
      (cairn.paths[path][method]['x-stated-rules'] ?? []).map((r: StatedRule) => r.rule);
    expect(rules('/api/cairn/v1/workspaces/{workspace}/projects', 'get')).toEqual([CAIRN_RULES[1]?.rule]);
    expect(rules('/api/cairn/v1/me/api-keys', 'post')).toEqual([
      CAIRN_RULES[0]?.rule,
      '`expiresAt` must be in the future',
    ]);
    expect(rules('/api/cairn/v1/me/api-keys', 'get')).toEqual([]);
  });
});
