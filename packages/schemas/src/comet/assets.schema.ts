import { type Static, Type } from '@sinclair/typebox';
import { Nullable, QueryBoolean, WriteResponse } from './common.schema.js';

/**
 * Asset (spec §3.1). `metadata` is the JSON text the client sent, not an object. `link` is the
 * absolute get-asset URL, or the remote URI for remote assets.
 */
export const AssetRow = Type.Object({
  fileName: Type.String(),
  fileSize: Type.Integer(),
  runContext: Nullable(Type.String()),
  step: Nullable(Type.Integer()),
  link: Type.String(),
  createdAt: Type.Integer(),
  dir: Type.String(),
  canView: Type.Boolean(),
  audio: Type.Boolean(),
  video: Type.Boolean(),
  histogram: Type.Boolean(),
  image: Type.Boolean(),
  type: Type.String(),
  metadata: Nullable(Type.String()),
  assetId: Type.String(),
  remote: Type.Boolean(),
  tags: Type.Array(Type.String()),
});
export type AssetRow = Static<typeof AssetRow>;

export const AssetListQuery = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  /** `all` or absent lists everything; `unknown` also matches plain assets. */
  type: Type.Optional(Type.String({ minLength: 1 })),
});
export const AssetListResponse = Type.Object({ assets: Type.Array(AssetRow) });

export const AssetLocatorQuery = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  assetId: Type.String({ minLength: 1 }),
});

/**
 * Artifact downloads name the asset by id (and artifact version) without an experiment key.
 * `imageId` is another name for `assetId`: comet_ml builds its image links with it.
 */
export const GetAssetQuery = Type.Object({
  experimentKey: Type.Optional(Type.String({ minLength: 1 })),
  assetId: Type.Optional(Type.String({ minLength: 1 })),
  imageId: Type.Optional(Type.String({ minLength: 1 })),
  artifactVersionId: Type.Optional(Type.String({ minLength: 1 })),
});

/**
 * Query of `write/experiment/upload-asset` (spec §4.2 #29). `extension` (redundant with
 * `fileName`) and `source` (the R SDK's marker) are accepted and not stored. comet_ml also sends
 * a mis-encoded `metadata` here; it is left unvalidated and ignored (the `metadata` part is the
 * real one).
 */
export const UploadAssetQuery = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  fileName: Type.Optional(Type.String()),
  extension: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
  overwrite: Type.Optional(QueryBoolean),
  step: Type.Optional(Type.Integer()),
  epoch: Type.Optional(Type.Integer()),
  context: Type.Optional(Type.String()),
  groupingName: Type.Optional(Type.String()),
  artifactVersionId: Type.Optional(Type.String()),
  isRemote: Type.Optional(QueryBoolean),
  assetId: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
});
export type UploadAssetQuery = Static<typeof UploadAssetQuery>;

/** `api` is the absolute get-asset link; comet_ml's log_asset returns this object as is. */
export const UploadAssetResponse = WriteResponse({ assetId: Type.String(), web: Type.String(), api: Type.String() });

export const GitPatchQuery = Type.Object({ experimentKey: Type.String({ minLength: 1 }) });

/**
 * The "no patch" answer of `experiment/git/patch` (spec §1.4). comet_ml reads the body as bytes
 * and recognises it by its `{"msg"` prefix, so the key order here is part of the contract.
 */
export const GitPatchMissingResponse = Type.Object({
  msg: Type.Literal('no patch for experiment'),
  code: Type.Literal(200),
  data: Type.Null(),
  sdk_error_code: Type.Literal(0),
});

export const ExperimentModelsQuery = Type.Object({ experimentKey: Type.String({ minLength: 1 }) });

/** A registration of an experiment model in the model registry (spec §3.4 #29). */
export const ExperimentModelRegistryRecord = Type.Object({
  registryModelId: Type.String(),
  registryModelItemId: Type.String(),
  registryModelName: Type.String(),
  version: Type.String(),
  createdAt: Type.Integer(),
});

export const ExperimentModelRow = Type.Object({
  experimentModelId: Type.String(),
  experimentKey: Type.String(),
  modelName: Type.String(),
  registryRecords: Type.Array(ExperimentModelRegistryRecord),
});
export const ExperimentModelsResponse = Type.Object({ models: Type.Array(ExperimentModelRow) });

export const ExperimentModelQuery = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  modelName: Type.String({ minLength: 1 }),
});
