import { type Static, Type } from '@sinclair/typebox';
import { EntryName, SEMVER_PATTERN } from '../shared/names.js';
import { Nullable, OptionalNullable, WriteResponse } from './common.schema.js';

/** An artifact version's state; the Java SDK reads it as an enum by name. */
export const ArtifactVersionStateName = Type.Union([
  Type.Literal('OPEN'),
  Type.Literal('CLOSED'),
  Type.Literal('ERROR'),
]);

/** `artifacts/get-all` (spec §3.6 #41). */
export const ArtifactListQuery = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  type: Type.Optional(Type.String({ minLength: 1 })),
});

/** `artifacts/get` (spec §3.6 #42): `artifact_id` (comet_ml) or `artifactId`, or workspace + name. */
export const ArtifactQuery = Type.Object({
  workspace: Type.Optional(Type.String({ minLength: 1 })),
  artifactName: Type.Optional(Type.String({ minLength: 1 })),
  artifact_id: Type.Optional(Type.String({ minLength: 1 })),
  artifactId: Type.Optional(Type.String({ minLength: 1 })),
});

/**
 * The alternative locators of one artifact version (spec §3.6 #40, #43, #44): `versionId` alone,
 * or an artifact (`artifactId`/`artifact_id`, or `artifactName` with `workspace`, or with
 * `experimentKey` naming the workspace) plus `version`, `alias` or `versionOrAlias`; none of
 * those three means the latest version. `project` and `consumerExperimentKey` are accepted and
 * change nothing: artifact names are unique per workspace, and consumption is not recorded.
 */
export const ArtifactVersionQuery = Type.Object({
  workspace: Type.Optional(Type.String({ minLength: 1 })),
  project: Type.Optional(Type.String()),
  artifactName: Type.Optional(Type.String({ minLength: 1 })),
  artifactId: Type.Optional(Type.String({ minLength: 1 })),
  artifact_id: Type.Optional(Type.String({ minLength: 1 })),
  versionId: Type.Optional(Type.String({ minLength: 1 })),
  version: Type.Optional(Type.String({ minLength: 1 })),
  alias: Type.Optional(Type.String({ minLength: 1 })),
  versionOrAlias: Type.Optional(Type.String({ minLength: 1 })),
  experimentKey: Type.Optional(Type.String({ minLength: 1 })),
  consumerExperimentKey: Type.Optional(Type.String()),
});
export type ArtifactVersionQuery = Static<typeof ArtifactVersionQuery>;

export const ArtifactListItem = Type.Object({
  artifactId: Type.String(),
  /** Name of the project of the experiment that logged the first version. */
  project: Nullable(Type.String()),
  type: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  versionsCount: Type.Integer(),
  tags: Type.Array(Type.String()),
  isPublic: Type.Boolean(),
  emoji: Nullable(Type.String()),
  /** Bytes of the files of every version. */
  sizeInBytes: Type.Integer(),
});
export const ArtifactListResponse = Type.Object({ artifacts: Type.Array(ArtifactListItem) });

/** A version as `artifacts/get` lists it. `metadata` is JSON text; `createdFrom` the logging experiment's key. */
export const ArtifactVersionSummary = Type.Object({
  artifactVersionId: Type.String(),
  version: Type.String(),
  owner: Type.String(),
  metadata: Nullable(Type.String()),
  createdFrom: Type.String(),
  sizeInBytes: Type.Integer(),
  state: ArtifactVersionStateName,
  added: Type.Integer(),
  alias: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
});

export const ArtifactDetailsResponse = Type.Object({
  artifactId: Type.String(),
  project: Nullable(Type.String()),
  type: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  /** The highest version by semver precedence. */
  latestVersion: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  isPublic: Type.Boolean(),
  emoji: Nullable(Type.String()),
  sizeInBytes: Type.Integer(),
  /** In ascending semver order. */
  versions: Type.Array(ArtifactVersionSummary),
});

/** The artifact inside a version's details (the Java SDK's ArtifactDto). */
export const ArtifactOfVersion = Type.Object({
  artifactId: Type.String(),
  artifactName: Type.String(),
  projectId: Nullable(Type.String()),
  workspaceId: Type.String(),
  workspaceName: Type.String(),
  /** Key of the experiment that logged the artifact's first version. */
  experimentKey: Type.String(),
  description: Nullable(Type.String()),
  /** The artifact's latest version. */
  version: Nullable(Type.String()),
  metadata: Nullable(Type.String()),
  artifactType: Type.String(),
  isPublic: Type.Boolean(),
  owner: Type.String(),
  /** Bytes of the files of every version. */
  s3FileSize: Type.Integer(),
  emoji: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
});

/** `artifacts/version` (spec §3.6 #43); `experimentKey` is the experiment that logged the version. */
export const ArtifactVersionResponse = Type.Object({
  artifactVersionId: Type.String(),
  artifactVersion: Type.String(),
  owner: Type.String(),
  createdFrom: Type.String(),
  sizeInBytes: Type.Integer(),
  metadata: Nullable(Type.String()),
  note: Nullable(Type.String()),
  added: Type.Integer(),
  state: ArtifactVersionStateName,
  tags: Type.Array(Type.String()),
  alias: Type.Array(Type.String()),
  experimentKey: Type.String(),
  artifact: ArtifactOfVersion,
});

/**
 * A file of a version (spec §3.6 #44). `link` is the remote URI of a remote file and null
 * otherwise, as comet_ml documents it; local files download through get-asset with
 * `artifactVersionId`.
 */
export const ArtifactFile = Type.Object({
  artifactId: Type.String(),
  artifactVersionId: Type.String(),
  assetId: Type.String(),
  fileName: Type.String(),
  fileSize: Type.Integer(),
  link: Nullable(Type.String()),
  dir: Type.String(),
  type: Type.String(),
  metadata: Nullable(Type.String()),
  remote: Type.Boolean(),
});
export const ArtifactFilesResponse = Type.Object({ files: Type.Array(ArtifactFile) });

/**
 * `write/artifacts/upsert` (spec §4.5 #47). `versionMetadata` and `metadata` are JSON text.
 * `workspaceName`, `description`, `metadata`, `tags`, `isPublic` and `emoji` (sent by the Java
 * SDK) apply when the upsert creates the artifact; other fields it may send are ignored.
 * `artifactName` and `experimentKey` (always sent by comet_ml and the Java SDK) are required; a
 * missing key stays 90998 (comet-errors.ts). `version`, when not empty, is semver (the next
 * version is chosen otherwise). `artifactType` is required only to create the artifact.
 */
export const UpsertArtifactBody = Type.Object({
  artifactName: EntryName(),
  artifactType: OptionalNullable(Type.String()),
  experimentKey: Type.String({ minLength: 1 }),
  versionMetadata: OptionalNullable(Type.String()),
  version: OptionalNullable(Type.String({ maxLength: 128, pattern: `^$|${SEMVER_PATTERN}` })),
  alias: OptionalNullable(Type.Array(EntryName())),
  versionTags: OptionalNullable(Type.Array(EntryName())),
  note: OptionalNullable(Type.String()),
  workspaceName: OptionalNullable(Type.String()),
  description: OptionalNullable(Type.String()),
  metadata: OptionalNullable(Type.String()),
  tags: OptionalNullable(Type.Array(EntryName())),
  isPublic: OptionalNullable(Type.Boolean()),
  emoji: OptionalNullable(Type.String()),
});
export const UpsertArtifactResponse = WriteResponse({
  artifactId: Type.String(),
  artifactVersionId: Type.String(),
  currentVersion: Type.String(),
  /** The highest version before this one; null for the first. */
  previousVersion: Nullable(Type.String()),
});

/**
 * `write/artifacts/state` (spec §4.5 #48): an OPEN version ends CLOSED or ERROR (names as they
 * are spelled); any other state, missing or null included, stays 90410 (comet-errors.ts).
 */
export const ArtifactStateBody = Type.Object({
  artifactVersionId: Type.String({ minLength: 1 }),
  experimentKey: OptionalNullable(Type.String()),
  state: Type.Union([Type.Literal('CLOSED'), Type.Literal('ERROR')]),
});

/**
 * `write/artifacts/details` (spec §4.5 #49). `versionMetadata` sets the artifact's own metadata;
 * `version` is accepted and ignored (an artifact's details have no version).
 */
export const ArtifactDetailsBody = Type.Object({
  artifactId: Type.String({ minLength: 1 }),
  artifactType: OptionalNullable(EntryName()),
  versionMetadata: OptionalNullable(Type.String()),
  version: OptionalNullable(Type.String()),
  tags: OptionalNullable(Type.Array(EntryName())),
  description: OptionalNullable(Type.String()),
  isPublic: OptionalNullable(Type.Boolean()),
  emoji: OptionalNullable(Type.String()),
});

/** `write/artifacts/version/labels` (spec §4.5 #50): each given field replaces the current value. */
export const ArtifactLabelsBody = Type.Object({
  artifactVersionId: Type.String({ minLength: 1 }),
  alias: OptionalNullable(Type.Array(EntryName())),
  versionMetadata: OptionalNullable(Type.String()),
  versionTags: OptionalNullable(Type.Array(EntryName())),
});
