import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../shared/nullable.js';
import { Asset } from './logged.schema.js';

/**
 * Artifacts of a workspace (`/workspaces/{workspace}/artifacts`): named, typed, versioned
 * collections of files, logged by experiments (through comet_ml). Read by name and version (or
 * alias): `…/artifacts/{artifact}/versions/{version}`. Only members of the workspace see them.
 */

export const ArtifactWorkspaceParams = Type.Object({ workspace: Type.String({ minLength: 1 }) });
export const ArtifactParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  artifact: Type.String({ minLength: 1 }),
});
export const ArtifactVersionParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  artifact: Type.String({ minLength: 1 }),
  /** A version (`1.2.0`), else an alias naming one (`latest`, `production`). */
  version: Type.String({ minLength: 1 }),
});
export const ArtifactFileParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  artifact: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1 }),
  /** The file's asset id (`files[].id`). */
  fileId: Type.String({ minLength: 1 }),
});

export const ArtifactListQuery = Type.Object({
  /** Only artifacts of this type (exactly). */
  type: Type.Optional(Type.String({ maxLength: 1000 })),
  /** Case-insensitive substring of the artifact name. */
  search: Type.Optional(Type.String({ maxLength: 1000 })),
  cursor: Type.Optional(Type.String({ maxLength: 4096 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type ArtifactListQuery = Static<typeof ArtifactListQuery>;

const ARTIFACT_VERSION_STATES = ['OPEN', 'CLOSED', 'ERROR'] as const;

const artifactFields = {
  name: Type.String(),
  type: Type.String(),
  description: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  isPublic: Type.Boolean(),
  emoji: Nullable(Type.String()),
  /** The project of the experiment that logged its first version; null once that project is gone. */
  project: Nullable(Type.String()),
  /** The experiment that logged its first version. */
  experimentKey: Type.String(),
  /** User name of who logged its first version. */
  createdBy: Type.String(),
  versionCount: Type.Integer(),
  /** The highest version by semver precedence; null when it has none. */
  latestVersion: Nullable(Type.String()),
  /** Bytes of the files of all its versions (remote files count 0). */
  size: Type.Integer(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
};

export const ArtifactSummary = Type.Object(artifactFields);
export type ArtifactSummary = Static<typeof ArtifactSummary>;

export const ArtifactList = Type.Object({
  items: Type.Array(ArtifactSummary),
  nextCursor: Nullable(Type.String()),
  /** Artifacts matching `type` and `search`, on every page. */
  total: Type.Integer(),
});
export type ArtifactList = Static<typeof ArtifactList>;

const versionFields = {
  version: Type.String(),
  /** Aliases naming this version, in byte order (an alias names one version of an artifact). */
  aliases: Type.Array(Type.String()),
  tags: Type.Array(Type.String()),
  /** OPEN while its files upload, then CLOSED (complete) or ERROR (an upload failed) for good. */
  state: Type.Unsafe<(typeof ARTIFACT_VERSION_STATES)[number]>({
    type: 'string',
    enum: [...ARTIFACT_VERSION_STATES],
  }),
  /** Bytes of its files (remote files count 0). */
  size: Type.Integer(),
  /** JSON text, as logged. */
  metadata: Nullable(Type.String()),
  note: Nullable(Type.String()),
  /** The experiment that logged this version. */
  experimentKey: Type.String(),
  /** User name of who logged it. */
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
};

export const ArtifactVersionSummary = Type.Object(versionFields);
export type ArtifactVersionSummary = Static<typeof ArtifactVersionSummary>;

export const Artifact = Type.Object({
  ...artifactFields,
  workspace: Type.String(),
  /** JSON text, as logged. */
  metadata: Nullable(Type.String()),
  /** Every version, highest (semver precedence) first. */
  versions: Type.Array(ArtifactVersionSummary),
});
export type Artifact = Static<typeof Artifact>;

export const ArtifactVersion = Type.Object({
  ...versionFields,
  /** Its files, by upload time (`remote` ones are links, without bytes here). */
  files: Type.Array(Asset),
});
export type ArtifactVersion = Static<typeof ArtifactVersion>;
