import { Type } from '@sinclair/typebox';

/**
 * MLflow's artifact messages (mlflow_artifacts.proto, service.proto): what the proxied artifact
 * service at `/api/2.0/mlflow-artifacts` and the tracking API's artifact routes answer.
 */

/** One entry of a folder listing; `file_size` is left out for folders. */
export const MlflowFileInfo = Type.Object({
  path: Type.String(),
  is_dir: Type.Boolean(),
  file_size: Type.Optional(Type.Integer()),
});

/** `GET /mlflow-artifacts/artifacts?path=`: base names, one level; no `files` for a missing or empty folder. */
export const MlflowArtifactList = Type.Object({ files: Type.Optional(Type.Array(MlflowFileInfo)) });

/** `GET /mlflow/artifacts/list`: paths relative to the run's root, whose URI is `root_uri`. */
export const MlflowRunArtifactList = Type.Object({
  root_uri: Type.Optional(Type.String()),
  files: Type.Optional(Type.Array(MlflowFileInfo)),
  next_page_token: Type.Optional(Type.String()),
});

/** `GET /api/3.0/mlflow/server-info`: what newer clients probe before large uploads and workspace use. */
export const MlflowServerInfo = Type.Object({
  store_type: Type.String(),
  workspaces_enabled: Type.Boolean(),
  multipart_uploads_enabled: Type.Boolean(),
  multipart_downloads_enabled: Type.Boolean(),
});

/** MLflow's error body. */
export const MlflowError = Type.Object({ error_code: Type.String(), message: Type.String() });
