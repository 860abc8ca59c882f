import { type Static, Type } from '@sinclair/typebox';
import { EntryName } from '../shared/names.js';
import { Nullable } from '../shared/nullable.js';
import { Asset } from './logged.schema.js';

/**
 * The model registry of a workspace (`/workspaces/{workspace}/registry/models`): experiment
 * models registered under a workspace-wide name as semantic versions with stages. Models and
 * versions are named, never numbered by id: `…/models/{model}/versions/{version}`.
 */

export const RegistryWorkspaceParams = Type.Object({ workspace: Type.String({ minLength: 1 }) });
export const RegistryModelParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  /** The model's name; written any way comet_ml would write it (`My Model` is `my-model`). */
  model: Type.String({ minLength: 1 }),
});
export const RegistryVersionParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  model: Type.String({ minLength: 1 }),
  /** A semantic version, e.g. `1.0.0`. */
  version: Type.String({ minLength: 1 }),
});
export const RegistryStageParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  model: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1 }),
  stage: EntryName({ maxLength: 100 }),
});
export const RegistryFileParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  model: Type.String({ minLength: 1 }),
  version: Type.String({ minLength: 1 }),
  /** The file's asset id (`files[].id`). */
  fileId: Type.String({ minLength: 1 }),
});

export const RegistryModelListQuery = Type.Object({
  /** Case-insensitive substring of the model name. */
  search: Type.Optional(Type.String({ maxLength: 1000 })),
  cursor: Type.Optional(Type.String({ maxLength: 4096 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type RegistryModelListQuery = Static<typeof RegistryModelListQuery>;

const versionFields = {
  version: Type.String(),
  /** Free-form stages ("staging", "production"), in the order they were added. */
  stages: Type.Array(Type.String()),
  comment: Nullable(Type.String()),
  /** The experiment the version was registered from (kept after the experiment is deleted). */
  experimentKey: Type.String(),
  /** The name of the experiment's model whose files the version serves. */
  experimentModel: Type.String(),
  /** User name of who registered it. */
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  /** Moves with every change: comment, stages. */
  updatedAt: Type.Integer(),
};

/** A version as a model listing shows its latest one: without its files. */
export const RegistryVersionSummary = Type.Object(versionFields);
export type RegistryVersionSummary = Static<typeof RegistryVersionSummary>;

export const RegistryVersion = Type.Object({
  ...versionFields,
  /** The experiment model's files, by upload time; empty once the experiment is deleted. */
  files: Type.Array(Asset),
  /** Bytes of the files in all. */
  size: Type.Integer(),
});
export type RegistryVersion = Static<typeof RegistryVersion>;

const modelFields = {
  name: Type.String(),
  workspace: Type.String(),
  description: Nullable(Type.String()),
  /** Public models are readable by every user; only members of the workspace change them. */
  isPublic: Type.Boolean(),
  /** User name of who registered its first version. */
  createdBy: Type.String(),
  createdAt: Type.Integer(),
  /** Moves with every change to the model or one of its versions. */
  updatedAt: Type.Integer(),
  versionCount: Type.Integer(),
};

export const RegistryModelSummary = Type.Object({
  ...modelFields,
  /** The highest version by semver precedence; null when the model has none left. */
  latest: Nullable(RegistryVersionSummary),
});
export type RegistryModelSummary = Static<typeof RegistryModelSummary>;

export const RegistryModelList = Type.Object({
  items: Type.Array(RegistryModelSummary),
  nextCursor: Nullable(Type.String()),
  /** Models matching `search`, on every page. */
  total: Type.Integer(),
});
export type RegistryModelList = Static<typeof RegistryModelList>;

export const RegistryModel = Type.Object({
  ...modelFields,
  notes: Type.String(),
  /** Every version, highest (semver precedence) first. */
  versions: Type.Array(RegistryVersion),
});
export type RegistryModel = Static<typeof RegistryModel>;

export const RegistryNotes = Type.Object({ notes: Type.String() });
export type RegistryNotes = Static<typeof RegistryNotes>;
export const RegistryNotesBody = Type.Object({ notes: Type.String() }, { additionalProperties: false });

export const UpdateRegistryVersionBody = Type.Object(
  {
    /** Null clears it. */
    comment: Type.Optional(Nullable(Type.String())),
    /** Replaces the stages; each one added or removed fires the stage webhooks. */
    stages: Type.Optional(Type.Array(EntryName({ maxLength: 100 }), { maxItems: 50 })),
  },
  { additionalProperties: false },
);
export type UpdateRegistryVersionBody = Static<typeof UpdateRegistryVersionBody>;
