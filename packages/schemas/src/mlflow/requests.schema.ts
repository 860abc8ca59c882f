import { type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox';

/**
 * MLflow's request messages (service.proto, model_registry.proto) as the facade accepts them:
 * what MLflow's server requires and what Cairn enforces. GET routes take them as query strings
 * (coerced: repeated keys for lists), other methods as JSON bodies (validated as sent). Unknown
 * fields are allowed and ignored, as MLflow's server does. The facade maps validation failures
 * to MLflow's own messages (`Missing value for required parameter 'x'.`).
 */

/**
 * A message: the given fields, unknown ones allowed, except `__proto__`, which the server's JSON
 * parser refuses (prototype poisoning) before any route sees the body.
 */
function message<P extends TProperties>(properties: P, options: Record<string, unknown> = {}): TObject<P> {
  return Type.Object(properties, {
    additionalProperties: true,
    propertyNames: { pattern: '^(?!__proto__$)' },
    ...options,
  });
}

/** A required text field: "" counts as missing for MLflow. */
const Required = Type.String({ minLength: 1 });
/** An id: a string, or a number as old clients send experiment ids. */
const Id = Type.Union([Type.String({ minLength: 1 }), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]);
const OptionalId = Type.Union([Type.String(), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]);
/** An int64: a JSON number or, as protobuf's JSON writes it, a decimal string (safe integers). */
const Int64 = Type.Union([
  Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }),
  Type.String({ pattern: '^-?[0-9]{1,15}$' }),
]);
/** A time in epoch milliseconds: not negative. */
const Timestamp = Type.Union([
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  Type.String({ pattern: '^[0-9]{1,15}$' }),
]);
/** A run's name (core/rules.ts `entryName`): at most 1000 characters, no control character. */
const RunName = Type.String({ maxLength: 1000, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });
/** A double: a number, a numeric string, or protobuf's names of the non-finite values. */
const Double = Type.Union([
  Type.Number(),
  Type.String({ pattern: '^-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?$' }),
  Type.Literal('NaN'),
  Type.Literal('Infinity'),
  Type.Literal('-Infinity'),
]);
const Bool = Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false')]);
/** A `max_results` in [1, max]: a number, or its decimal string in a query. */
function maxResults(max: number): TSchema {
  // The string form is stated below the limit's number of digits, so that it cannot exceed it.
  const digits = String(max).length - 1;
  return Type.Union([
    Type.Integer({ minimum: 1, maximum: max }),
    Type.String({ pattern: `^[1-9][0-9]{0,${digits - 1}}$` }),
  ]);
}
/** A count from 1: a number, or a decimal string. */
const PositiveInt = Type.Union([
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  Type.String({ pattern: '^[1-9][0-9]{0,14}$' }),
]);
/** An order clause (`<field> [ASC|DESC]`, parsed by the route): never empty. */
const OrderClause = Type.String({ minLength: 1 });
/** An enum by name or by its proto number. */
function protoEnum(values: Record<string, number>): TSchema {
  return Type.Union([
    ...Object.keys(values).map((name) => Type.Literal(name)),
    ...Object.values(values).map((number) => Type.Literal(number)),
    ...Object.values(values).map((number) => Type.Literal(String(number))),
  ]);
}
function list<T extends TSchema>(item: T, options: Record<string, unknown> = {}) {
  return Type.Array(item, options);
}

/** Cairn's limits on run data (core/runs.service.ts) and experiment tags (MLflow's). */
const MAX_KEY = 250;
/**
 * A metric, param or run tag name (core/runs.service.ts `checkKey`): alphanumerics, `_`, `-`,
 * `.`, spaces and `/` between non-empty segments, none of them `.`, not starting with `..`.
 */
const RunKey = Type.String({
  minLength: 1,
  maxLength: MAX_KEY,
  pattern: '^(?!\\.\\.)(?!\\.(/|$))[A-Za-z0-9_. -]+(/(?!\\.(/|$))[A-Za-z0-9_. -]+)*$',
});
/** An experiment tag (MLflow's limits, checked by the facade). */
const ExperimentTag = message({
  key: Type.String({ minLength: 1, maxLength: MAX_KEY }),
  value: Type.Optional(Type.String({ maxLength: 5000 })),
});
/** A run tag or param: a run key, the value within the limit. */
const RunTag = (maxValue: number) =>
  message({ key: RunKey, value: Type.Optional(Type.String({ maxLength: maxValue })) });
/** A logged model's tag or param. */
const ModelTag = message({ key: Required, value: Type.Optional(Type.String()) });
/** A dataset input's tag: like a logged model's, MLflow asks only that its key be given. */
const InputTag = ModelTag;
/** A name as MLflow takes experiment names (core/rules.ts): 1–500 characters, not blank, no '/' or control character. */
const ExperimentName = Type.String({
  maxLength: 500,
  pattern: '^[^/\\u0000-\\u001f\\u007f]*[^/\\u0000-\\u001f\\u007f\\s\\ufeff][^/\\u0000-\\u001f\\u007f]*$',
});

const VIEW_TYPE = { ACTIVE_ONLY: 1, DELETED_ONLY: 2, ALL: 3 };
const RUN_STATUS = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };
const LOGGED_MODEL_STATUS = {
  LOGGED_MODEL_PENDING: 1,
  LOGGED_MODEL_READY: 2,
  LOGGED_MODEL_UPLOAD_FAILED: 3,
};

/**
 * `run_id`, or its deprecated name `run_uuid`: one of them (old clients and MLflow's UI send
 * `run_uuid` alone). Query parameters cannot state "one of", so as parameters both are optional
 * and the rule is stated in words (http/openapi/stated-rules.ts); JSON bodies keep the `anyOf`.
 */
const runIdOrUuid = { anyOf: [{ required: ['run_id'] }, { required: ['run_uuid'] }] };
const RunIdFields = { run_id: Type.Optional(Required), run_uuid: Type.Optional(Required) };

// Experiments.
export const CreateExperimentRequest = message({
  name: ExperimentName,
  // A runs:/ URI names a run's files, not a place for an experiment's.
  artifact_location: Type.Optional(Type.String({ pattern: '^(?!runs:)' })),
  tags: Type.Optional(list(ExperimentTag)),
});
export const ExperimentIdRequest = message({ experiment_id: Id });
/** Experiment "0" is the Default experiment: it is not deleted, and its name is its own. */
const NotDefaultId = Type.Union([
  Type.String({ minLength: 1, pattern: '^(?!0$)' }),
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
]);
export const DeleteExperimentRequest = message({ experiment_id: NotDefaultId });
export const GetExperimentByNameRequest = message({ experiment_name: Required });
/** The name "Default" belongs to experiment "0". */
export const UpdateExperimentRequest = message({
  experiment_id: NotDefaultId,
  new_name: Type.String({ ...ExperimentName, pattern: `^(?!Default$)${ExperimentName.pattern?.slice(1)}` }),
});
export const SetExperimentTagRequest = message({
  experiment_id: Id,
  key: Type.String({ minLength: 1, maxLength: MAX_KEY }),
  value: Type.Optional(Type.String({ maxLength: 5000 })),
});
export const DeleteExperimentTagRequest = message({ experiment_id: Id, key: Required });
export const SearchExperimentsRequest = message({
  max_results: Type.Optional(maxResults(50_000)),
  page_token: Type.Optional(Type.String()),
  filter: Type.Optional(Type.String()),
  order_by: Type.Optional(list(OrderClause)),
  view_type: Type.Optional(protoEnum(VIEW_TYPE)),
});

// Runs.
export const CreateRunRequest = message({
  experiment_id: Type.Optional(OptionalId),
  user_id: Type.Optional(Type.String()),
  run_name: Type.Optional(RunName),
  start_time: Type.Optional(Timestamp),
  tags: Type.Optional(list(RunTag(8000))),
});
export const RunIdRequest = message(RunIdFields, runIdOrUuid);
export const UpdateRunRequest = message(
  {
    ...RunIdFields,
    status: Type.Optional(protoEnum(RUN_STATUS)),
    end_time: Type.Optional(Int64),
    run_name: Type.Optional(RunName),
  },
  runIdOrUuid,
);
export const RunOnlyRequest = message({ run_id: Required });
/** A metric point's time (core): epoch milliseconds from 1970 to the end of year 9999. */
const MetricTimestamp = Type.Union([
  Type.Integer({ minimum: 0, maximum: 253_402_300_799_999 }),
  Type.String({ pattern: '^[0-9]{1,12}$' }),
]);
const MetricFields = {
  key: RunKey,
  value: Double,
  timestamp: MetricTimestamp,
  step: Type.Optional(Int64),
};
export const LogMetricRequest = message({ ...RunIdFields, ...MetricFields }, runIdOrUuid);
export const LogParamRequest = message(
  { ...RunIdFields, key: RunKey, value: Type.Optional(Type.String({ maxLength: 6000 })) },
  runIdOrUuid,
);
export const SetRunTagRequest = message(
  { ...RunIdFields, key: RunKey, value: Type.Optional(Type.String({ maxLength: 8000 })) },
  runIdOrUuid,
);
export const DeleteRunTagRequest = message({ run_id: Required, key: Required });
export const LogBatchRequest = message({
  run_id: Required,
  metrics: Type.Optional(list(message(MetricFields), { maxItems: 1000 })),
  params: Type.Optional(list(RunTag(6000), { maxItems: 100 })),
  tags: Type.Optional(list(RunTag(8000), { maxItems: 100 })),
});
export const LogInputsRequest = message({
  run_id: Required,
  datasets: Type.Optional(
    list(
      message({
        tags: Type.Optional(list(InputTag)),
        dataset: message({
          name: Required,
          digest: Required,
          source_type: Required,
          source: Required,
          schema: Type.Optional(Type.String()),
          profile: Type.Optional(Type.String()),
        }),
      }),
    ),
  ),
});
export const LogModelRequest = message({ ...RunIdFields, model_json: Required }, runIdOrUuid);
export const SearchRunsRequest = message({
  experiment_ids: Type.Optional(list(Id)),
  filter: Type.Optional(Type.String()),
  run_view_type: Type.Optional(protoEnum(VIEW_TYPE)),
  max_results: Type.Optional(maxResults(50_000)),
  order_by: Type.Optional(list(OrderClause)),
  page_token: Type.Optional(Type.String()),
});

// Metrics.
export const MetricHistoryRequest = message(
  {
    ...RunIdFields,
    metric_key: Required,
    max_results: Type.Optional(PositiveInt),
    page_token: Type.Optional(Type.String()),
  },
  runIdOrUuid,
);
/** A step range is given whole or not at all. */
export const MetricHistoryBulkIntervalRequest = message(
  {
    run_ids: list(Required, { minItems: 1, maxItems: 100 }),
    metric_key: Required,
    start_step: Type.Optional(Int64),
    end_step: Type.Optional(Int64),
    max_results: Type.Optional(maxResults(2500)),
  },
  {
    anyOf: [
      { required: ['start_step', 'end_step'] },
      { not: { anyOf: [{ required: ['start_step'] }, { required: ['end_step'] }] } },
    ],
  },
);
export const MetricHistoryBulkRequest = message({
  run_id: list(Required, { minItems: 1, maxItems: 100 }),
  metric_key: Required,
  max_results: Type.Optional(PositiveInt),
});

// Artifacts.
/**
 * A path below an artifact root, as MLflow's `validate_path_is_safe` allows it (checked once
 * more percent-decoded, so no percent-encoded ASCII): relative, no `..` segment, no `#`, no
 * control character. Refused with MLflow's `Invalid path`.
 */
export const ArtifactPath = Type.String({
  pattern:
    '^(?![/\\\\])(?![A-Za-z]:)(?!(.*[/\\\\])?\\.\\.([/\\\\]|$))(?!.*%[0-7][0-9A-Fa-f])[^\\u0000-\\u001f\\u007f#]*$',
  'x-mlflow-error': 'Invalid path',
});
export const ArtifactPathParams = Type.Object({ '*': Type.String({ ...ArtifactPath, minLength: 1 }) });
export const ListArtifactsRequest = message({ ...RunIdFields, path: Type.Optional(ArtifactPath) }, runIdOrUuid);
export const GetArtifactRequest = message(
  { ...RunIdFields, path: Type.String({ ...ArtifactPath, minLength: 1 }) },
  runIdOrUuid,
);
/** upload-artifact names the run `run_uuid` first. */
export const UploadArtifactRequest = message(
  { ...RunIdFields, path: Type.String({ ...ArtifactPath, minLength: 1 }) },
  { anyOf: [{ required: ['run_uuid'] }, { required: ['run_id'] }] },
);
export const ArtifactServiceListRequest = message({ path: Type.Optional(ArtifactPath) });

// Logged models.
export const CreateLoggedModelRequest = message({
  experiment_id: Id,
  source_run_id: Required,
  name: Type.Optional(Type.String()),
  model_type: Type.Optional(Type.String()),
  tags: Type.Optional(list(ModelTag)),
  params: Type.Optional(list(ModelTag)),
});
export const SearchLoggedModelsRequest = message({
  experiment_ids: list(Id, { minItems: 1 }),
  filter: Type.Optional(Type.String()),
  max_results: Type.Optional(maxResults(50)),
  page_token: Type.Optional(Type.String()),
});
export const FinalizeLoggedModelRequest = message({ status: protoEnum(LOGGED_MODEL_STATUS) });
export const LoggedModelTagsRequest = message({ tags: Type.Optional(list(ModelTag)) });
export const LoggedModelParamsRequest = message({ params: Type.Optional(list(ModelTag)) });
export const LogOutputsRequest = message(
  { ...RunIdFields, models: list(message({ model_id: Required, step: Type.Optional(Int64) }), { minItems: 1 }) },
  runIdOrUuid,
);
export const LoggedModelFilesRequest = message({ artifact_directory_path: Type.Optional(ArtifactPath) });
export const LoggedModelFileRequest = message({ artifact_file_path: Type.String({ ...ArtifactPath, minLength: 1 }) });

// Model registry: limits of core/model-registry.service.ts.
/** MLflow's model names: not blank, no '/' or ':' or control character, not `.` or `..`. */
const ModelName = Type.String({
  maxLength: 256,
  pattern:
    '^(?!\\.\\.?$)[^/:\\u0000-\\u001f\\u007f]*[^/:\\u0000-\\u001f\\u007f\\s\\ufeff][^/:\\u0000-\\u001f\\u007f]*$',
});
/** A version number: an integer, in a string or a number. */
const Version = Type.Union([
  Type.String({ pattern: '^[0-9]{1,15}$' }),
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
]);
/** Registry tag keys (core/model-registry.service.ts): alphanumerics, `_`, `-`, `.`, spaces, `/`, `:`. */
const RegistryTagKey = Type.String({ minLength: 1, maxLength: 250, pattern: '^[A-Za-z0-9_./ :-]+$' });
const RegistryTag = message({ key: RegistryTagKey, value: Type.Optional(Type.String({ maxLength: 100_000 })) });
/** Aliases: alphanumerics, `_` and `-`; a settable one is not `latest` (any case) nor `v<number>`. */
const Alias = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_-]+$' });
const SettableAlias = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^(?![lL][aA][tT][eE][sS][tT]$)(?![vV][0-9]+$)[A-Za-z0-9_-]+$',
});
const ActiveStage = '^([sS][tT][aA][gG][iI][nN][gG]|[pP][rR][oO][dD][uU][cC][tT][iI][oO][nN])$';
/** MLflow's stages, in any case. */
const Stage = Type.String({
  pattern:
    '^([nN][oO][nN][eE]|[sS][tT][aA][gG][iI][nN][gG]|[pP][rR][oO][dD][uU][cC][tT][iI][oO][nN]|[aA][rR][cC][hH][iI][vV][eE][dD])$',
});
export const CreateRegisteredModelRequest = message({
  name: ModelName,
  description: Type.Optional(Type.String()),
  tags: Type.Optional(list(RegistryTag)),
});
export const RenameRegisteredModelRequest = message({ name: ModelName, new_name: ModelName });
export const UpdateRegisteredModelRequest = message({ name: ModelName, description: Type.Optional(Type.String()) });
export const RegisteredModelNameRequest = message({ name: ModelName });
export const SearchRegisteredModelsRequest = message({
  filter: Type.Optional(Type.String()),
  max_results: Type.Optional(maxResults(1000)),
  order_by: Type.Optional(list(OrderClause)),
  page_token: Type.Optional(Type.String()),
});
export const GetLatestVersionsRequest = message({ name: ModelName, stages: Type.Optional(list(Stage)) });
export const SetRegisteredModelTagRequest = message({
  name: ModelName,
  key: RegistryTagKey,
  value: Type.Optional(Type.String({ maxLength: 100_000 })),
});
export const DeleteRegisteredModelTagRequest = message({ name: ModelName, key: Required });
export const SetAliasRequest = message({ name: ModelName, alias: SettableAlias, version: Version });
export const AliasRequest = message({ name: ModelName, alias: Alias });
export const CreateModelVersionRequest = message({
  name: ModelName,
  source: Required,
  run_id: Type.Optional(Type.String()),
  model_id: Type.Optional(Type.String()),
  run_link: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  tags: Type.Optional(list(RegistryTag)),
});
export const ModelVersionRequest = message({ name: ModelName, version: Version });
export const UpdateModelVersionRequest = message({
  name: ModelName,
  version: Version,
  description: Type.Optional(Type.String()),
});
/** Archiving the other versions is for a move to an active stage (Staging, Production). */
export const TransitionStageRequest = message(
  { name: ModelName, version: Version, stage: Stage, archive_existing_versions: Type.Optional(Bool) },
  {
    if: {
      properties: { archive_existing_versions: { enum: [true, 'true'] } },
      required: ['archive_existing_versions'],
    },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then.
    then: { properties: { stage: { pattern: ActiveStage } } },
  },
);
export const SearchModelVersionsRequest = message({
  filter: Type.Optional(Type.String()),
  max_results: Type.Optional(maxResults(200_000)),
  order_by: Type.Optional(list(OrderClause)),
  page_token: Type.Optional(Type.String()),
});
export const ModelVersionArtifactRequest = message({ name: ModelName, version: Version, path: Required });
export const SetModelVersionTagRequest = message({
  name: ModelName,
  version: Version,
  key: RegistryTagKey,
  value: Type.Optional(Type.String({ maxLength: 100_000 })),
});
export const DeleteModelVersionTagRequest = message({ name: ModelName, version: Version, key: Required });
