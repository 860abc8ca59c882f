import { type Static, Type } from '@sinclair/typebox';
import { FilePart, JsonTextPart, MAX_FIELD_PARTS, PartName, RemoteLink } from '../shared/multipart.js';
import { EntryName } from '../shared/names.js';
import { SafeInteger } from '../shared/numbers.js';
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
 * A file name, asset type or model name of an upload (rules.ts `entryName`); empty is as good as
 * left out.
 */
export const UploadName = EntryName({ minLength: 0 });

/**
 * Query of `write/experiment/upload-asset` (spec §4.2 #29). `extension` (redundant with
 * `fileName`) and `source` (the R SDK's marker) are accepted and not stored. comet_ml also sends
 * a mis-encoded `metadata` here; it is left unvalidated and ignored (the `metadata` part is the
 * real one).
 */
export const UploadAssetQuery = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  /** Empty or left out: the file part's name. */
  fileName: Type.Optional(UploadName),
  extension: Type.Optional(Type.String()),
  type: Type.Optional(UploadName),
  overwrite: Type.Optional(QueryBoolean),
  step: Type.Optional(SafeInteger()),
  epoch: Type.Optional(SafeInteger()),
  context: Type.Optional(Type.String()),
  groupingName: Type.Optional(UploadName),
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

/**
 * The parts of comet_ml's asset uploads (REST `write/experiment/upload-asset`, clientlib
 * `asset/upload` and `visualizations/upload`); documentation only, the routes read the parts as a
 * stream. The bytes in `file`, or a remote asset's `link` (with `isRemote=true`) and no `file`;
 * `metadata` before or after the file. An empty part is as good as none.
 */
export const AssetUploadParts = Type.Object(
  {
    file: Type.Optional(FilePart('The bytes; comet_ml names the part "file", the real file name is in the query')),
    metadata: Type.Optional(JsonTextPart('The asset metadata, JSON text')),
    link: Type.Optional(Type.Union([Type.Literal(''), RemoteLink])),
  },
  {
    propertyNames: PartName,
    oneOf: [
      { required: ['file'], properties: { link: Type.Literal('') }, maxProperties: MAX_FIELD_PARTS + 1 },
      {
        required: ['link'],
        properties: { link: RemoteLink },
        not: { required: ['file'] },
        maxProperties: MAX_FIELD_PARTS,
      },
    ],
  },
);

/** The git patch upload (REST `write/experiment/git/patch`, clientlib `git-patch/upload`). */
export const GitPatchUploadParts = Type.Object(
  { file: FilePart('The patch as stored and served back: comet_ml uploads a zip holding git_diff.patch') },
  { propertyNames: PartName, maxProperties: MAX_FIELD_PARTS + 1 },
);
