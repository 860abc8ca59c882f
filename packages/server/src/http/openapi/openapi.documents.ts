import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problem } from '@cairn/schemas/cairn';
import { CometError } from '@cairn/schemas/comet';
import { FoundryError } from '@cairn/schemas/foundry';
import { MlflowError } from '@cairn/schemas/mlflow';
import { createCore } from '../../core/core.js';
import { FileBlobStore } from '../../storage/blob/file-blob.store.js';
import { SqlStore } from '../../storage/sql/sql-store.js';
import { buildApp } from '../app.js';
import { buildOpenApiDocument, type JsonObject } from './openapi.builder.js';
import { CAIRN_RULES, COMET_RULES, FOUNDRY_RULES, MLFLOW_RULES } from './stated-rules.js';

const BEARER: JsonObject = {
  type: 'http',
  scheme: 'bearer',
  description: 'An API key: `Authorization: Bearer <key>`.',
};

/** Renders every facade's document from a throwaway app (routes need a core to register). */
export async function renderOpenApiDocuments(): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-openapi-'));
  const store = await SqlStore.open(`sqlite:${join(dir, 'cairn.db')}`, { synchronous: 'normal' });
  try {
    const core = createCore({ store, blobs: new FileBlobStore(join(dir, 'blobs')), limits: { maxAssetBytes: 1 } });
    const app = await buildApp({ core, config: { bodyLimitBytes: 1, publicUrl: 'http://127.0.0.1:8080' } });
    await app.ready();
    const comet = buildOpenApiDocument(app, {
      title: 'Cairn — Comet REST API v2',
      description:
        'Comet REST v2 as served by Cairn. Every path is also served under /clientlib/rest/v2. Authenticate with `Authorization: <api key>` (or `Comet-Sdk-Api`). The /clientlib/ paths are the live-logging protocol of comet_ml (handshake, status reports, gzip batches, uploads); they take the key in the header, the body (`apiKey`) or the query (`apiKey`).',
      prefixes: ['/api/rest/v2', '/clientlib/'],
      // The REST alias root repeats every REST path.
      excludePrefixes: ['/clientlib/rest/v2'],
      errors: { schema: CometError, mediaType: 'application/json' },
      statedRules: COMET_RULES,
      securitySchemes: {
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'The API key itself.' },
        cometSdkApi: { type: 'apiKey', in: 'header', name: 'Comet-Sdk-Api', description: "The Java SDK's header." },
        apiKeyQuery: {
          type: 'apiKey',
          in: 'query',
          name: 'apiKey',
          description: 'Taken by the /clientlib/ paths only.',
        },
      },
      securityOf: (route) => {
        if (route.config.clientlibPublic || route.url === '/clientlib/isAlive/ver') return [];
        const headers: Record<string, string[]>[] = [{ apiKeyHeader: [] }, { cometSdkApi: [] }];
        if (!route.url.startsWith('/clientlib/')) return headers;
        // comet_ml may send the key in the JSON body instead (`apiKey`/`api_key`), which no security
        // scheme can name: for those routes header and query are optional, and a request with no
        // key anywhere is comet_ml's 400 with sdk_error_code 90212, as the client expects.
        const body = (route.schema as { body?: { properties?: Record<string, unknown> } } | undefined)?.body;
        const keyInBody =
          body?.properties !== undefined && ('apiKey' in body.properties || 'api_key' in body.properties);
        return [...headers, { apiKeyQuery: [] }, ...(keyInBody ? [{}] : [])];
      },
    });
    const cairn = buildOpenApiDocument(app, {
      title: 'Cairn API v1',
      description:
        "Cairn's own API: the bulk metric path, columnar series reads and the webhook delivery log. Authenticate with `Authorization: Bearer <api key>`; errors are RFC 9457 problem details.",
      prefixes: ['/api/cairn/v1'],
      errors: { schema: Problem, mediaType: 'application/problem+json' },
      statedRules: CAIRN_RULES,
      securitySchemes: {
        bearer: BEARER,
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'cairn_session',
          description: "The web UI's session; writes with it also need `X-CSRF-Token`.",
        },
      },
      securityOf: (route) => (route.config.anonymous ? [] : undefined),
    });
    const foundry = buildOpenApiDocument(app, {
      title: 'Cairn — Foundry Models v2 experiments',
      description:
        'The experiments resource of Palantir Foundry Models API v2 (preview) as served by Cairn. Authenticate with `Authorization: Bearer <api key>` holding the api:models-read scope; send `preview=true`.',
      prefixes: ['/api/v2/models'],
      errors: { schema: FoundryError, mediaType: 'application/json' },
      statedRules: FOUNDRY_RULES,
      securitySchemes: { bearer: BEARER },
    });
    const mlflow = buildOpenApiDocument(app, {
      title: "Cairn — MLflow's REST API",
      description:
        "MLflow's tracking, model-registry and proxied-artifact REST API as served by Cairn (docs/api/mlflow.md). Every /api/2.0 path is also served under /ajax-api/2.0. Authenticate with `Authorization: Bearer <api key>` (MLFLOW_TRACKING_TOKEN) or Basic credentials whose password is the key; errors are `{error_code, message}`.",
      prefixes: ['/api/2.0/mlflow', '/api/3.0/mlflow'],
      errors: { schema: MlflowError, mediaType: 'application/json' },
      statedRules: MLFLOW_RULES,
      securitySchemes: {
        bearer: BEARER,
        basic: { type: 'http', scheme: 'basic', description: 'Any user name; the password is the API key.' },
      },
      securityOf: (route) => (route.url === '/api/3.0/mlflow/server-info' ? [] : undefined),
    });
    await app.close();
    return {
      'mlflow.json': `${JSON.stringify(mlflow, null, 2)}\n`,
      'foundry.json': `${JSON.stringify(foundry, null, 2)}\n`,
      'comet.json': `${JSON.stringify(comet, null, 2)}\n`,
      'cairn.json': `${JSON.stringify(cairn, null, 2)}\n`,
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}
