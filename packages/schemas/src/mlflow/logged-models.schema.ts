import { Type } from '@sinclair/typebox';
import { MlflowKeyValue } from './tracking.schema.js';

/** MLflow 3's logged models (service.proto `LoggedModel`), as `/api/2.0/mlflow/logged-models` answers them. */

export const MlflowLoggedModelInfo = Type.Object({
  model_id: Type.String(),
  experiment_id: Type.String(),
  name: Type.String(),
  creation_timestamp_ms: Type.Integer(),
  last_updated_timestamp_ms: Type.Integer(),
  artifact_uri: Type.String(),
  status: Type.String(),
  model_type: Type.Optional(Type.String()),
  source_run_id: Type.String(),
  tags: Type.Optional(Type.Array(MlflowKeyValue)),
});

export const MlflowLoggedModel = Type.Object({
  info: MlflowLoggedModelInfo,
  data: Type.Object({ params: Type.Optional(Type.Array(MlflowKeyValue)) }),
});

/** create, get and finalize answer `{model}`. */
export const MlflowLoggedModelResponse = Type.Object({ model: MlflowLoggedModel });

export const MlflowLoggedModelSearchResponse = Type.Object({
  models: Type.Optional(Type.Array(MlflowLoggedModel)),
  next_page_token: Type.Optional(Type.String()),
});

/** A run's `outputs.model_outputs[]` entry. */
export const MlflowModelOutput = Type.Object({ model_id: Type.String(), step: Type.Integer() });
