import { type Static, Type } from '@sinclair/typebox';
import { ExperimentKeyPattern, NoControlText, ProjectName } from '../shared/names.js';
import { SafeInteger } from '../shared/numbers.js';
import { Nullable, OptionalNullable, WriteResponse } from './common.schema.js';

/** Cairn's run status, next to Comet's `running` flag (an extension; Comet clients ignore it). */
export const ExperimentStatus = Type.Union([
  Type.Literal('RUNNING'),
  Type.Literal('SUCCEEDED'),
  Type.Literal('FAILED'),
]);

/**
 * ExperimentMetadata (spec §3.1), also the row of `GET /experiments`. Every key is always present
 * (comet_ml indexes `archived` and `experimentName` without a default). `durationMillis` is
 * end − start, and now − start while the run has no end yet; `endTimeMillis` is null then.
 */
export const ExperimentMetadata = Type.Object({
  experimentKey: Type.String(),
  experimentName: Nullable(Type.String()),
  optimizationId: Nullable(Type.String()),
  projectId: Type.String(),
  projectName: Type.String(),
  workspaceName: Type.String(),
  userName: Type.String(),
  filePath: Nullable(Type.String()),
  fileName: Nullable(Type.String()),
  throttle: Type.Boolean(),
  durationMillis: Type.Integer(),
  startTimeMillis: Type.Integer(),
  endTimeMillis: Nullable(Type.Integer()),
  archived: Type.Boolean(),
  running: Type.Boolean(),
  hasCrashed: Type.Boolean(),
  error: Nullable(Type.String()),
  status: ExperimentStatus,
  /** Cairn additions: the same experiment and its project in the Foundry API (docs/api/foundry.md). */
  experimentRid: Type.String(),
  modelRid: Type.String(),
});
export type ExperimentMetadata = Static<typeof ExperimentMetadata>;

/** The reply of `GET /experiments` (query: `ExperimentsQuery` in projects.schema.ts). */
export const ExperimentsResponse = Type.Object({ experiments: Type.Array(ExperimentMetadata) });

export const ExperimentMetadataQuery = Type.Object({ experimentKey: Type.String({ minLength: 1 }) });

/** Lifecycle writes sent as GET (stop, archive, restore, delete, set-status) name one experiment. */
export const ExperimentLifecycleQuery = Type.Object({ experimentKey: Type.String({ minLength: 1 }) });

/**
 * `projectName` states the core's rule; a refusal keeps the core's message and sdk_error_code
 * (98219 when blank, 1341241 when too long; comet-errors.ts).
 */
export const CreateExperimentBody = Type.Object({
  workspaceName: Type.String({ minLength: 1 }),
  projectName: ProjectName,
  /** Empty means no name; a name follows the entry-name rule (rules.ts `entryName`). */
  experimentName: OptionalNullable(NoControlText({ maxLength: 1000 })),
  /** A key the client chose (32–50 alphanumerics); the server picks one when absent or empty. */
  experimentKey: OptionalNullable(Type.String({ pattern: `${ExperimentKeyPattern}|^$` })),
});

/** `name` is read by the Java SDK; the others by comet_ml and cometr. */
export const CreateExperimentResponse = WriteResponse({
  experimentKey: Type.String(),
  workspaceName: Type.String(),
  projectName: Type.String(),
  link: Type.String(),
  name: Nullable(Type.String()),
});

/**
 * Moves are one transaction over every key; the cap bounds how long it holds its locks. It is
 * far above what comet_ml's `move_experiments` sends for a project page.
 */
export const MAX_MOVE_KEYS = 1000;

export const MoveExperimentsBody = Type.Object({
  targetWorkspaceName: Type.String({ minLength: 1 }),
  targetProjectName: ProjectName,
  experimentKeys: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: MAX_MOVE_KEYS }),
  symlink: Type.Boolean(),
});

/** `exerimentKey` is the misspelling in Comet's own write docs; clients copied from them send it. */
export const SymlinkQuery = Type.Object({
  experimentKey: Type.Optional(Type.String({ minLength: 1 })),
  exerimentKey: Type.Optional(Type.String({ minLength: 1 })),
  projectName: ProjectName,
});
export const SymlinkResponse = WriteResponse({ link: Type.String() });

/** The heartbeat reply: how often the client should beat and sample GPU/CPU (comet_ml defaults). */
export const HeartbeatResponse = WriteResponse({
  isAliveBeatDurationMillis: Type.Integer(),
  gpuMonitorIntervalMillis: Type.Integer(),
  cpuMonitorIntervalMillis: Type.Integer(),
});

const EpochMillis = SafeInteger({ minimum: 0 });

export const SetStartEndTimeBody = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  startTimeMillis: OptionalNullable(EpochMillis),
  endTimeMillis: OptionalNullable(EpochMillis),
});

export const UpdateStatusBody = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  isAlive: Type.Boolean(),
  error: OptionalNullable(Type.String()),
  hasCrashed: OptionalNullable(Type.Boolean()),
});

export const FilePathBody = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  /** experiments.service.ts `setFilePath`: at most 4096 characters (beyond any OS path limit), no control character. */
  filePath: NoControlText({ maxLength: 4096 }),
});
