import { type Static, Type } from '@sinclair/typebox';

/**
 * MLflow's tracking wire entities (service.proto), as Cairn answers them. Requests are left loose
 * on purpose (`MlflowRequest`): the facade reads them with MLflow's own rules and messages. Fields
 * MLflow leaves out when unset are optional here, never nullable.
 */

/** Any request message: every field optional, unknown ones kept for the handler to ignore. */
export const MlflowRequest = Type.Object({}, { additionalProperties: true });

/** A double as protobuf's JSON writes it: a number, or "NaN", "Infinity", "-Infinity". */
export const MlflowDouble = Type.Union([Type.Number(), Type.String()]);

export const MlflowKeyValue = Type.Object({ key: Type.String(), value: Type.String() });
export type MlflowKeyValue = Static<typeof MlflowKeyValue>;

export const MlflowExperiment = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  artifact_location: Type.String(),
  lifecycle_stage: Type.Union([Type.Literal('active'), Type.Literal('deleted')]),
  last_update_time: Type.Integer(),
  creation_time: Type.Integer(),
  tags: Type.Optional(Type.Array(MlflowKeyValue)),
});
export type MlflowExperiment = Static<typeof MlflowExperiment>;

export const MlflowRunStatus = Type.Union([
  Type.Literal('RUNNING'),
  Type.Literal('SCHEDULED'),
  Type.Literal('FINISHED'),
  Type.Literal('FAILED'),
  Type.Literal('KILLED'),
]);

export const MlflowRunInfo = Type.Object({
  run_id: Type.String(),
  run_uuid: Type.String(),
  run_name: Type.String(),
  experiment_id: Type.String(),
  user_id: Type.String(),
  status: MlflowRunStatus,
  start_time: Type.Integer(),
  end_time: Type.Optional(Type.Integer()),
  artifact_uri: Type.String(),
  lifecycle_stage: Type.Union([Type.Literal('active'), Type.Literal('deleted')]),
});
export type MlflowRunInfo = Static<typeof MlflowRunInfo>;

export const MlflowMetric = Type.Object({
  key: Type.String(),
  value: MlflowDouble,
  timestamp: Type.Integer(),
  step: Type.Integer(),
});
export type MlflowMetric = Static<typeof MlflowMetric>;

/** A metric point of bulk history reads, with its run. */
export const MlflowMetricWithRunId = Type.Object({
  key: Type.String(),
  value: MlflowDouble,
  timestamp: Type.Integer(),
  step: Type.Integer(),
  run_id: Type.String(),
});
export type MlflowMetricWithRunId = Static<typeof MlflowMetricWithRunId>;

export const MlflowRunData = Type.Object({
  metrics: Type.Array(MlflowMetric),
  params: Type.Array(MlflowKeyValue),
  tags: Type.Array(MlflowKeyValue),
});

export const MlflowDataset = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  schema: Type.Optional(Type.String()),
  profile: Type.Optional(Type.String()),
});

export const MlflowDatasetInput = Type.Object({ tags: Type.Array(MlflowKeyValue), dataset: MlflowDataset });

export const MlflowRunInputs = Type.Object({ dataset_inputs: Type.Array(MlflowDatasetInput) });

export const MlflowRun = Type.Object({
  info: MlflowRunInfo,
  data: MlflowRunData,
  inputs: MlflowRunInputs,
  /** MLflow 3: the logged models the run output, with the step of each. */
  outputs: Type.Optional(
    Type.Object({ model_outputs: Type.Array(Type.Object({ model_id: Type.String(), step: Type.Integer() })) }),
  ),
});
export type MlflowRun = Static<typeof MlflowRun>;

export const MlflowEmpty = Type.Object({});

export const CreateExperimentResponse = Type.Object({ experiment_id: Type.String() });
export const GetExperimentResponse = Type.Object({ experiment: MlflowExperiment });
export const SearchExperimentsResponse = Type.Object({
  experiments: Type.Array(MlflowExperiment),
  next_page_token: Type.Optional(Type.String()),
});
export const RunResponse = Type.Object({ run: MlflowRun });
export const SearchRunsResponse = Type.Object({
  runs: Type.Array(MlflowRun),
  next_page_token: Type.Optional(Type.String()),
});
export const UpdateRunResponse = Type.Object({ run_info: MlflowRunInfo });
export const MetricHistoryResponse = Type.Object({
  metrics: Type.Optional(Type.Array(MlflowMetric)),
  next_page_token: Type.Optional(Type.String()),
});
export const BulkMetricHistoryResponse = Type.Object({ metrics: Type.Array(MlflowMetricWithRunId) });
