/**
 * Rules the server enforces that no JSON Schema can state: they depend on stored state (a name
 * already taken, a cursor only the server can issue), on the clock, on a grammar of their own
 * (filter and order clauses) or on several parameters at once where OpenAPI has no way to say
 * so (query parameters). Each becomes part of its operations' documented 400 response, in words
 * and machine-readable (`x-stated-rules` on the operation: the rule and a regular expression
 * matching the error body), so that clients can read it and the schemathesis suite can tell a
 * refusal the document states from one it does not (packages/server/test/support/openapi-fuzz.ts).
 *
 * Anything a schema can state belongs in the schema instead: a rule here is a last resort.
 */
export interface StatedRule {
  /** The rule, in the words the 400 response's description uses. */
  rule: string;
  /**
   * A regular expression (JavaScript and Python syntax alike) matching the error body as sent:
   * quotes inside a JSON message arrive escaped, so `.*` stands for a quoted name.
   */
  refusal: string;
  /** The status the refusal comes with: 400 unless said (a media type the query contradicts is 415). */
  status?: number;
  /** The operations it applies to (`GET /path/{param}`), or… */
  operations?: string[];
  /** …every operation taking a parameter or body property of this name, or… */
  parameter?: string;
  /** …every operation taking a JSON body. */
  jsonBody?: boolean;
}

/** Fastify's JSON parsing refuses prototype poisoning before any schema is looked at. */
const PROTOTYPE_KEYS: StatedRule = {
  rule: 'a JSON body holding an object key `__proto__` (or `constructor` with `prototype`) is refused',
  refusal: 'Body is not valid JSON but content-type is set to',
  jsonBody: true,
};

const CURSOR: StatedRule = {
  rule: '`cursor` must be a `nextCursor` this listing issued for the same query (cursors are opaque)',
  refusal: 'cursor is not one this (API|listing) issued|cursor belongs to another query',
  parameter: 'cursor',
};

export const CAIRN_RULES: StatedRule[] = [
  PROTOTYPE_KEYS,
  CURSOR,
  {
    rule: '`filter` must parse in the experiment query language (docs/api/cairn.md)',
    refusal: '"detail":"invalid filter at position \\d+',
    parameter: 'filter',
  },
  {
    rule: '`endTime` must not be before the experiment’s start time',
    refusal: 'endTime must be an integer not before startTime',
    operations: ['PATCH /api/cairn/v1/experiments/{key}', 'POST /api/cairn/v1/experiments/{key}/end'],
  },
  {
    rule: '`expiresAt` must be in the future',
    refusal: 'a key must expire in the future',
    operations: ['POST /api/cairn/v1/me/api-keys'],
  },
  {
    rule: 'each series’ `steps`, `epochs` and `timestamps`, when given, have one entry per value',
    refusal: 'series .*: \\w+ has \\d+ entries, values has \\d+',
    operations: ['POST /api/cairn/v1/experiments/{experimentKey}/metrics'],
  },
  {
    rule: '`sort` must parse in the experiment query language (docs/api/cairn.md)',
    refusal: '"detail":"invalid sort at position \\d+',
    parameter: 'sort',
  },
  {
    rule: '`columns` must list column ids of the experiment query language (docs/api/cairn.md)',
    refusal: '"detail":"invalid (columns|column id) at position \\d+',
    parameter: 'columns',
  },
  {
    rule: 'an `application/octet-stream` upload says `format=csv` or `format=parquet` (else 415)',
    refusal: 'or application/octet-stream with format=csv\\|parquet',
    status: 415,
    operations: ['PUT /api/cairn/v1/experiments/{experimentKey}/tables/{name}'],
  },
  {
    rule: 'each row has one cell per column, of the column’s type',
    refusal: 'rows\\[\\d+\\](, column .*:| has \\d+ cells, the table has \\d+ columns)',
    operations: ['PUT /api/cairn/v1/experiments/{experimentKey}/tables/{name}'],
  },
  {
    rule: 'values given as `NaN` or `Infinity` text are taken only with `allowNonFinite: true`',
    refusal: 'metric .* has a non-finite value',
    operations: ['POST /api/cairn/v1/experiments/{experimentKey}/metrics'],
  },
  {
    rule: 'an `application/vnd.cairn.metrics` body has the documented layout (a uint32 header length, a JSON header of that length, columns of exactly the lengths it announces) and points valid as in JSON: safe-integer steps and epochs, timestamps from 0 to year 9999',
    refusal:
      'invalid application/vnd\\.cairn\\.metrics body: |(step|epoch) must be an integer|invalid timestamp|metric name must',
    operations: ['POST /api/cairn/v1/experiments/{experimentKey}/metrics'],
  },
  {
    rule: 'a CSV body is UTF-8 text whose first line names the columns (valid, unique names) and whose every line has as many fields; a Parquet body is a readable, flat Parquet file of at most the accepted cells',
    refusal:
      'not a readable Parquet file|the Parquet file|Parquet column .* (is nested|has no Cairn column type)|row \\d+, column |the CSV is (not UTF-8 text|empty)|line \\d+ of the CSV|column \\d+ name must',
    operations: ['PUT /api/cairn/v1/experiments/{experimentKey}/tables/{name}'],
  },
  {
    rule: '`from` is not greater than `to`',
    refusal: 'from \\(.*\\) must not be greater than to',
    parameter: 'from',
  },
  {
    rule: 'a model version has at most 50 stages',
    refusal: 'a version has at most \\d+ stages',
    operations: ['PUT /api/cairn/v1/workspaces/{workspace}/registry/models/{model}/versions/{version}/stages/{stage}'],
  },
  {
    // uniqueItems compares whole items; no schema keyword makes one property of them unique.
    rule: 'column names are unique within a table',
    refusal: 'column name .* appears twice',
    operations: ['PUT /api/cairn/v1/experiments/{experimentKey}/tables/{name}'],
  },
  {
    rule: '`format`, when given, agrees with `Content-Type`',
    refusal: 'format=\\w+ contradicts Content-Type',
    operations: ['PUT /api/cairn/v1/experiments/{experimentKey}/tables/{name}'],
  },
  {
    rule: 'the JSON document kinds (`dependencies`, `environment`…) take JSON text',
    refusal: 'the [\\w-]+ document must be JSON text',
    operations: ['PUT /api/cairn/v1/experiments/{key}/documents/{kind}'],
  },
  {
    rule: '`metadata`, when given, is the JSON text of an object',
    refusal: 'asset metadata must be a JSON document',
    operations: ['POST /api/cairn/v1/experiments/{key}/assets'],
  },
  {
    // The names checked here are the flattened ones ("optimizer.name"), which a schema for the
    // nested body cannot bound: their length is the sum of the keys along the path.
    rule: 'nested values are at most 32 levels deep, and each flattened name (`optimizer.name`) is a valid name: no empty part, no control character, at most 1000 characters',
    refusal:
      'value .* holds an entry without a name|nested deeper than \\d+ levels|name must not contain control characters|name must be at most \\d+ characters',
    operations: ['POST /api/cairn/v1/experiments/{key}/params', 'POST /api/cairn/v1/experiments/{key}/others'],
  },
];

export const COMET_RULES: StatedRule[] = [
  PROTOTYPE_KEYS,
  {
    // comet_ml branches on the sdk_error_code of a 400, not on a 404 (spec §1.5).
    rule: 'an experiment key that names no experiment may be answered 400 with sdk_error_code 90211 rather than 404, as comet_ml expects',
    refusal: '"sdk_error_code":90211',
    parameter: 'experimentKey',
  },
  {
    rule: 'a workspace that does not exist is answered 400 with sdk_error_code 90219, as comet_ml expects',
    refusal: '"sdk_error_code":90219',
    parameter: 'workspace',
  },
  {
    rule: 'a `teamName` (the workspace comet_ml logs to) that does not exist is answered 400 with sdk_error_code 90219, as comet_ml expects',
    refusal: '"sdk_error_code":90219',
    parameter: 'teamName',
  },
  {
    rule: 'a workspace name already taken is answered 400, as Comet does',
    refusal: 'workspace .* already exists',
    operations: ['POST /api/rest/v2/write/workspace/new'],
  },
  {
    rule: 'name the artifact by `artifactId`, or by `artifactName` and `workspace`',
    refusal: 'name the artifact by artifactId, or by artifactName and workspace',
    parameter: 'artifactName',
  },
  {
    rule: 'name the panel with `templateId` or `instanceId`',
    refusal: 'name the panel with templateId or instanceId',
    parameter: 'templateId',
  },
  {
    rule: 'give `version` or `stage`, not both',
    refusal: 'give version or stage, not both',
    parameter: 'stage',
  },
  {
    rule: 'an experiment id that names no experiment may be answered 400 with sdk_error_code 90211 rather than 404, as comet_ml expects',
    refusal: '"sdk_error_code":90211',
    parameter: 'experimentId',
  },
  {
    rule: 'the experiment to read or copy from must exist (400 with sdk_error_code 90211, as comet_ml expects)',
    refusal: '"sdk_error_code":90211',
    operations: ['POST /clientlib/logger/copy-steps-from-experiment', 'POST /clientlib/logger/get/run'],
  },
  {
    rule: '`metadata`, when given, is the JSON text of an object',
    refusal: 'asset metadata must be a JSON document',
    operations: [
      'POST /api/rest/v2/write/experiment/upload-asset',
      'POST /clientlib/asset/upload',
      'POST /clientlib/visualizations/upload',
    ],
  },
  {
    rule: 'the uploaded file is a panel zip archive',
    refusal: 'invalid panel zip',
    operations: ['POST /api/rest/v2/write/template/upload'],
  },
  {
    rule: 'an experiment key already in use is answered 400 with sdk_error_code 90999',
    refusal: '"sdk_error_code":90999',
    operations: ['POST /api/rest/v2/write/experiment/create', 'POST /clientlib/logger/add/run'],
  },
  {
    rule: 'a project name already taken in the workspace is answered 400, as Comet does',
    refusal: 'project .* already exists',
    operations: ['POST /api/rest/v2/write/project/create', 'POST /api/rest/v2/write/project/update'],
  },
  {
    rule: 'a project that still has experiments is deleted only with `deleteAllExperiments`',
    refusal: 'still has \\d+ experiments; pass deleteAllExperiments',
    operations: ['POST /api/rest/v2/write/project/delete'],
  },
  {
    rule: 'a viz store, sent as JSON text, is the text of an object',
    refusal: 'a viz store must be a JSON object',
    operations: ['POST /api/rest/v2/write/viz-instance/store/set'],
  },
  {
    rule: 'the dashboard states (`reactGridTableState`, `experimentQueryState`, `dashboardChartState`…) are JSON text',
    refusal: '\\w+ must be JSON text',
    operations: [
      'POST /api/rest/v2/dashboard-templates/project/upsert',
      'POST /api/rest/v2/write/dashboard-template/create',
    ],
  },
  {
    rule: '`versionMetadata` is the JSON text of an object',
    refusal: '(versionMetadata|metadata) must be a JSON document',
    operations: [
      'POST /api/rest/v2/write/artifacts/upsert',
      'POST /api/rest/v2/write/artifacts/details',
      'POST /api/rest/v2/write/artifacts/version/labels',
    ],
  },
  {
    rule: 'an artifact that does not exist yet needs `artifactType` to be created',
    refusal: 'artifactType is required to create an artifact',
    operations: ['POST /api/rest/v2/write/artifacts/upsert'],
  },
  {
    rule: 'each project-query rule names a column and an operator and value its type takes',
    refusal: 'invalid project query: ',
    operations: ['POST /api/rest/v2/project/query'],
  },
  {
    rule: '`endTimeMillis` must not be before the start time (given or stored)',
    refusal: 'endTimeMillis must not be before startTimeMillis',
    operations: ['POST /api/rest/v2/write/experiment/set-start-end-time'],
  },
  {
    rule: 'with `isRemote=true` the body carries a `link` part and a file name is given',
    refusal: 'a remote asset needs a link part|asset file name must not be empty',
    parameter: 'isRemote',
  },
  {
    // HTTP header names are case-insensitive; no schema keyword compares keys that way.
    rule: 'a webhook names each header once, whatever its case',
    refusal: 'webhook header .* is given twice',
    operations: ['POST /api/rest/v2/webhooks/config'],
  },
  {
    // The array may repeat a stage; the limit counts distinct ones.
    rule: 'a model version has at most 50 distinct stages',
    refusal: 'a version has at most \\d+ stages',
    parameter: 'stages',
  },
  {
    rule: 'an `assetId` already used in the experiment is refused',
    refusal: 'asset .* already exists',
    parameter: 'assetId',
  },
];

export const FOUNDRY_RULES: StatedRule[] = [
  PROTOTYPE_KEYS,
  {
    rule: '`pageToken` must be a `nextPageToken` this search issued (page tokens are opaque)',
    refusal: '"errorName":"InvalidPageToken"',
    parameter: 'pageToken',
  },
  {
    // Kept out of the schema so that every malformed filter names its reason (spec §6).
    rule: '`where` is a search filter of the experiments API (docs/api/foundry.md); a malformed one is answered `InvalidExperimentSearchFilter` with the reason',
    refusal: '"errorName":"InvalidExperimentSearchFilter"',
    parameter: 'where',
  },
];

export const MLFLOW_RULES: StatedRule[] = [
  PROTOTYPE_KEYS,
  {
    rule: 'a param keeps its first value: logging the same key with another value is answered 400 `INVALID_PARAMETER_VALUE`, as MLflow does',
    refusal: 'Changing param values is not allowed',
    operations: [
      'POST /api/2.0/mlflow/runs/log-parameter',
      'POST /api/2.0/mlflow/runs/log-batch',
      'POST /api/2.0/mlflow/logged-models/{model_id}/params',
    ],
  },
  {
    rule: 'name the run by `run_id` or by its older name `run_uuid`: one of the two is required',
    refusal: "Missing value for required parameter '(run_id|run_uuid)'",
    parameter: 'run_uuid',
  },
  {
    rule: 'a name already taken is answered 400 `RESOURCE_ALREADY_EXISTS`, as MLflow does',
    refusal: '"error_code":"RESOURCE_ALREADY_EXISTS"',
    operations: [
      'POST /api/2.0/mlflow/experiments/create',
      'POST /api/2.0/mlflow/experiments/update',
      'POST /api/2.0/mlflow/registered-models/create',
      'POST /api/2.0/mlflow/registered-models/rename',
    ],
  },
  {
    rule: 'an alias the model does not have is answered 400 `INVALID_PARAMETER_VALUE`, as MLflow does',
    refusal: 'Registered model alias .* not found',
    operations: ['GET /api/2.0/mlflow/registered-models/alias', 'DELETE /api/2.0/mlflow/registered-models/alias'],
  },
  {
    rule: 'a version `source` that is not a `runs:/`, `models:/` or remote URI must lie inside the artifact directory of `run_id`',
    refusal: 'Invalid model version source',
    operations: ['POST /api/2.0/mlflow/model-versions/create'],
  },
  {
    rule: 'each param key appears once in a batch',
    refusal: 'Duplicate parameter keys have been submitted',
    operations: ['POST /api/2.0/mlflow/runs/log-batch'],
  },
  {
    rule: '`model_json` is the JSON text of an MLmodel file',
    refusal: 'Malformed model info',
    operations: ['POST /api/2.0/mlflow/runs/log-model'],
  },
  {
    rule: '`order_by` clauses follow MLflow’s grammar for the entity searched',
    refusal:
      '"message":"(Invalid order_by clause|Invalid ordering key|Invalid order_by entity type|Invalid order by key)',
    parameter: 'order_by',
  },
  {
    rule: '`filter` follows MLflow’s search grammar for the entity searched',
    refusal:
      '"error_code":"INVALID_PARAMETER_VALUE","message":"(Invalid (entity type|attribute key|dataset key|clause|comparator)|Expected (numeric|a list of quoted|a quoted string)|Only the .* comparison with a list|Parameter value is either not quoted|Cairn does not support comparator)',
    parameter: 'filter',
  },
  {
    rule: 'an experiment in the trash takes no writes until restored (400 `INVALID_STATE`, as MLflow)',
    refusal: '"error_code":"INVALID_STATE"',
    parameter: 'experiment_id',
  },
  {
    rule: '`page_token` must be a `next_page_token` this search issued (page tokens are opaque)',
    refusal: 'Invalid page token',
    parameter: 'page_token',
  },
];
