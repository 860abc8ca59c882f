import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ensureVenv, ROOT, run } from './python-compat.js';

/**
 * Schemathesis against the OpenAPI documents Cairn serves, on a real server with seeded data:
 * shared by `openapi-fuzz.test.ts` (a small budget in `npm test`) and `npm run fuzz` (the same
 * test with `CAIRN_FUZZ_MAX_EXAMPLES` raised).
 */
export const SCHEMATHESIS = 'schemathesis==4.32.5';

export const DOCUMENTS = ['cairn', 'comet', 'foundry', 'mlflow'] as const;

/** Where openapi_fuzz_hooks.py lies: the check that knows the 400s a document states. */
const HOOKS_DIR = join(ROOT, 'packages/server/test/support');
export type DocumentName = (typeof DOCUMENTS)[number];

export function schemathesisVenv(): Promise<string> {
  return ensureVenv({ suite: 'openapi-fuzz', dir: join(ROOT, '.venv/schemathesis'), requirements: [SCHEMATHESIS] });
}

/** What the seeding made: ids the fuzzer is told so that lookups find something. */
export interface Seeded {
  workspace: string;
  project: string;
  projectId: string;
  experimentKey: string;
  metric: string;
  param: string;
  tag: string;
  assetId: string;
  /** An artifact table (Foundry's artifactTables). */
  table: string;
  model: string;
  mlflowExperimentId: string;
  foundryModelRid: string;
  foundryExperimentRid: string;
  throwawayKeyId: string;
  /** MLflow things the fuzzer's delete calls are pointed at, so that the seeded ones stay. */
  throwawayRunId: string;
  throwawayExperimentId: string;
  throwawayModel: string;
}

async function call(base: string, key: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined || body instanceof FormData ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`seeding: ${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/**
 * Seeds through the APIs themselves, as clients would: a project with an experiment that has
 * metrics, params, a tag, an asset and a registered model version (through MLflow), and a
 * throwaway API key (the one the fuzzer may revoke: never its own).
 */
export async function seed(base: string, key: string): Promise<Seeded> {
  const workspace = 'default';
  const project = 'fuzz-project';
  const experimentKey = 'f0220000000000000000000000000001';
  const created = (await call(base, key, 'POST', `/api/cairn/v1/workspaces/${workspace}/projects`, {
    name: project,
  })) as { id: string };
  await call(base, key, 'POST', `/api/cairn/v1/workspaces/${workspace}/projects/${project}/experiments`, {
    key: experimentKey,
    name: 'fuzz-run',
  });
  const exp = `/api/cairn/v1/experiments/${experimentKey}`;
  await call(base, key, 'POST', `${exp}/metrics`, {
    series: [{ name: 'loss', values: [1, 0.5, 0.25], steps: [0, 1, 2] }],
  });
  await call(base, key, 'POST', `${exp}/params`, { values: { lr: 0.01 } });
  await call(base, key, 'POST', `${exp}/others`, { values: { note: 'fuzz' } });
  await call(base, key, 'POST', `${exp}/tags`, { tags: ['fuzz'] });
  const form = new FormData();
  form.set('fileName', 'weights.bin');
  form.set('file', new Blob([new Uint8Array([1, 2, 3, 4])]), 'weights.bin');
  const asset = (await call(base, key, 'POST', `${exp}/assets`, form)) as { id: string };
  const table = await fetch(`${base}${exp}/tables/fuzz-table`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' },
    body: 'step,loss\n0,1\n1,0.5\n',
  });
  if (!table.ok)
    throw new Error(`seeding: PUT ${exp}/tables/fuzz-table answered ${table.status}: ${await table.text()}`);
  const projectId = created.id;
  const mlflowExperiment = (await call(
    base,
    key,
    'GET',
    `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${project}`,
  )) as { experiment: { experiment_id: string } };
  const model = 'fuzz-model';
  await call(base, key, 'POST', '/api/2.0/mlflow/registered-models/create', { name: model });
  await call(base, key, 'POST', '/api/2.0/mlflow/model-versions/create', {
    name: model,
    source: `runs:/${experimentKey}/model`,
    run_id: experimentKey,
  });
  const throwaway = (await call(base, key, 'POST', '/api/cairn/v1/me/api-keys', { name: 'fuzz-throwaway' })) as {
    key: { id: string };
  };
  const throwawayRun = (await call(base, key, 'POST', '/api/2.0/mlflow/runs/create', {
    experiment_id: mlflowExperiment.experiment.experiment_id,
  })) as { run: { info: { run_id: string } } };
  const throwawayExperiment = (await call(base, key, 'POST', '/api/2.0/mlflow/experiments/create', {
    name: 'fuzz-throwaway-experiment',
  })) as { experiment_id: string };
  const throwawayModel = 'fuzz-throwaway-model';
  await call(base, key, 'POST', '/api/2.0/mlflow/registered-models/create', { name: throwawayModel });
  return {
    workspace,
    project,
    projectId,
    experimentKey,
    metric: 'loss',
    param: 'lr',
    tag: 'fuzz',
    assetId: asset.id,
    table: 'fuzz-table',
    model,
    mlflowExperimentId: mlflowExperiment.experiment.experiment_id,
    // Foundry's RIDs for a project and an experiment (core/rids.ts): the project id as a UUID.
    foundryModelRid: `ri.models.main.model.${projectId.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5')}`,
    foundryExperimentRid: `ri.models.main.experiment.${experimentKey}`,
    throwawayKeyId: throwaway.key.id,
    throwawayRunId: throwawayRun.run.info.run_id,
    throwawayExperimentId: throwawayExperiment.experiment_id,
    throwawayModel,
  };
}

/** Parameter values per document: path, query and body fields named like the seeded things. */
function parametersOf(document: DocumentName, s: Seeded): Record<string, string> {
  switch (document) {
    case 'cairn':
      return {
        'path.workspace': s.workspace,
        'path.project': s.project,
        'path.key': s.experimentKey,
        'path.experimentKey': s.experimentKey,
        'path.model': s.model,
        'path.assetId': s.assetId,
        'path.tag': s.tag,
        'path.id': s.throwawayKeyId,
      };
    case 'comet':
      return {
        'query.workspaceName': s.workspace,
        'query.workspace': s.workspace,
        'query.projectName': s.project,
        'query.projectId': s.projectId,
        'query.experimentKey': s.experimentKey,
        'query.modelName': s.model,
        'query.assetId': s.assetId,
        'query.metricName': s.metric,
        'body.experimentKey': s.experimentKey,
        'body.projectId': s.projectId,
        'body.workspaceName': s.workspace,
        'body.projectName': s.project,
      };
    case 'foundry':
      return {
        'path.modelRid': s.foundryModelRid,
        'path.experimentRid': s.foundryExperimentRid,
        'path.seriesName': s.metric,
        'path.artifactName': s.table,
        'query.preview': 'true',
      };
    case 'mlflow':
      return {
        'query.experiment_id': s.mlflowExperimentId,
        'query.run_id': s.experimentKey,
        'query.name': s.model,
        'query.metric_key': s.metric,
        'body.experiment_id': s.mlflowExperimentId,
        'body.run_id': s.experimentKey,
        'body.name': s.model,
        // Values in a language of their own (filters, order clauses, page tokens, a model's
        // MLmodel JSON, a version's source URI) that a schema cannot state: valid ones are given.
        'query.filter': '',
        'body.filter': '',
        'query.page_token': '',
        'body.page_token': '',
        'query.start_step': '0',
        'query.end_step': '100',
        'body.source': `runs:/${s.experimentKey}/model`,
        'body.model_json': JSON.stringify({
          artifact_path: 'model',
          flavors: {},
          utc_time_created: '2026-01-01 00:00:00.000000',
          run_id: s.experimentKey,
        }),
      };
  }
}

/**
 * Per-operation values: the fuzzer's deletes (and order clauses, whose grammar differs by
 * search) aimed at throwaway things, so that the seeded run, experiment and model stay usable.
 */
function operationsOf(document: DocumentName, s: Seeded): { name: string; parameters: Record<string, unknown> }[] {
  if (document !== 'mlflow') return [];
  const base = '/api/2.0/mlflow';
  return [
    { name: `POST ${base}/runs/delete`, parameters: { 'body.run_id': s.throwawayRunId } },
    { name: `POST ${base}/experiments/delete`, parameters: { 'body.experiment_id': s.throwawayExperimentId } },
    { name: `DELETE ${base}/registered-models/delete`, parameters: { 'body.name': s.throwawayModel } },
    { name: `DELETE ${base}/model-versions/delete`, parameters: { 'body.name': s.throwawayModel } },
    { name: `POST ${base}/registered-models/rename`, parameters: { 'body.name': s.throwawayModel } },
    ...['experiments/search', 'runs/search'].flatMap((path) => [
      { name: `GET ${base}/${path}`, parameters: { 'query.order_by': [] } },
      { name: `POST ${base}/${path}`, parameters: { 'body.order_by': [] } },
    ]),
    ...['registered-models/search', 'model-versions/search'].map((path) => ({
      name: `GET ${base}/${path}`,
      parameters: { 'query.order_by': [] },
    })),
  ];
}

/** The operations of a document that answer `text/event-stream`, by schemathesis' name. */
async function eventStreamOperations(document: DocumentName): Promise<string[]> {
  const spec = JSON.parse(await readFile(join(ROOT, 'openapi', `${document}.json`), 'utf8')) as {
    paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>>;
  };
  return Object.entries(spec.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, operation]) =>
        Object.values(operation.responses ?? {}).some((response) => 'text/event-stream' in (response.content ?? {})),
      )
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
}

export interface FuzzResult {
  document: DocumentName;
  code: number | null;
  output: string;
  /** Requests schemathesis sent (from its HAR report). */
  requests: number;
}

/**
 * Runs schemathesis with every check on one document against the server at `base`. `maxExamples`
 * bounds the test cases per operation and phase; the run fails on any 5xx or check failure.
 */
export async function fuzz(options: {
  python: string;
  document: DocumentName;
  base: string;
  adminKey: string;
  seeded: Seeded;
  maxExamples: number;
  workDir: string;
  seed?: number;
}): Promise<FuzzResult> {
  const dir = join(options.workDir, options.document);
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'schemathesis.toml');
  const parameters = Object.entries(parametersOf(options.document, options.seeded))
    .map(([name, value]) => `"${name}" = ${JSON.stringify(value)}`)
    .join('\n');
  const operations = operationsOf(options.document, options.seeded)
    .map(({ name, parameters: values }) => {
      const table = Object.entries(values)
        .map(([key, value]) => `${JSON.stringify(key)} = ${JSON.stringify(value)}`)
        .join(', ');
      return `[[operations]]\ninclude-name = ${JSON.stringify(name)}\nparameters = { ${table} }\n`;
    })
    .join('\n');
  // A live event stream never ends: schemathesis reads one until it has `max-stream-events` events
  // or the request times out, and a quiet stream has none. A 2 s timeout and at most 10 cases per
  // phase still check the streams against the document, without making them most of a deep run
  // (400 cases × 10 s would be over an hour per stream).
  const streams = (await eventStreamOperations(options.document))
    .map(
      (name) =>
        `[[operations]]\ninclude-name = ${JSON.stringify(name)}\nrequest-timeout = 2\n` +
        `generation = { max-examples = ${Math.min(options.maxExamples, 10)} }\n`,
    )
    .join('\n');
  // A request refused before routing for its size (414, or 431: Node's 16 KiB limit on the
  // request line and headers, which a query string over its bounds can reach) is rejected too.
  const rejected = ['400', '401', '403', '404', '405', '406', '409', '414', '415', '422', '428', '429', '431', '5xx'];
  await writeFile(
    config,
    [
      'max-stream-events = 3',
      // In the file, not on the command line, where it would override the streams' own bound.
      `[generation]\nmax-examples = ${options.maxExamples}`,
      '[cache]\nenabled = false',
      `[checks.negative_data_rejection]\nexpected-statuses = ${JSON.stringify(rejected)}`,
      `[parameters]\n${parameters}`,
      operations,
      streams,
    ].join('\n\n'),
  );
  const har = join(dir, 'requests.har');
  const authorization = options.document === 'comet' ? options.adminKey : `Bearer ${options.adminKey}`;
  const result = await run(
    join(dirname(options.python), 'schemathesis'),
    [
      '--config-file',
      config,
      'run',
      join(ROOT, 'openapi', `${options.document}.json`),
      '--url',
      options.base,
      '--header',
      `Authorization: ${authorization}`,
      '--checks',
      'all',
      // Replaced by openapi_fuzz_hooks.py's check, which also takes the 400s the document states.
      '--exclude-checks',
      'positive_data_acceptance',
      // One worker: with two, CPython 3.11.7's ast.parse (which Hypothesis calls to describe
      // strategies) fails now and then across threads ("AST constructor recursion depth mismatch").
      '--workers',
      '1',
      '--no-color',
      '--suppress-health-check',
      'all',
      '--generation-database',
      'none',
      '--report',
      'har',
      '--report-har-path',
      har,
      '--report-dir',
      dir,
      ...(options.seed === undefined ? [] : ['--seed', String(options.seed)]),
    ],
    {
      cwd: dir,
      env: {
        ...process.env,
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONPATH: HOOKS_DIR,
        SCHEMATHESIS_HOOKS: 'openapi_fuzz_hooks',
      },
    },
  );
  const requests = await countHarEntries(har);
  return { document: options.document, code: result.code, output: result.output, requests };
}

/**
 * The entries of a HAR report, counted by streaming: a deep run's report outgrows the longest
 * string V8 can hold, so it is never read whole. Each entry has exactly one `startedDateTime` key,
 * and a key inside a JSON string would arrive with its quotes escaped.
 */
async function countHarEntries(path: string): Promise<number> {
  const key = Buffer.from('"startedDateTime"');
  let count = 0;
  let carry = Buffer.alloc(0);
  try {
    for await (const chunk of createReadStream(path)) {
      const bytes = Buffer.concat([carry, chunk as Buffer]);
      for (let at = bytes.indexOf(key); at !== -1; at = bytes.indexOf(key, at + key.length)) count++;
      // A key cut between chunks is found whole in the next one, and never counted twice.
      carry = bytes.subarray(Math.max(0, bytes.length - (key.length - 1)));
    }
  } catch {
    return 0;
  }
  return count;
}
