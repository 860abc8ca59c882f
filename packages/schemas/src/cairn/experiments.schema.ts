import { type Static, Type } from '@sinclair/typebox';
import { EntryName } from '../shared/names.js';
import { Nullable } from '../shared/nullable.js';
import { Millis } from '../shared/numbers.js';

export const ExperimentStatus = Type.Union([
  Type.Literal('RUNNING'),
  Type.Literal('SUCCEEDED'),
  Type.Literal('FAILED'),
]);
export type ExperimentStatus = Static<typeof ExperimentStatus>;

const NullableInteger = Nullable(Type.Integer());

export const Experiment = Type.Object({
  key: Type.String(),
  name: Nullable(Type.String()),
  workspace: Type.String(),
  project: Type.String(),
  projectId: Type.String(),
  /**
   * RUNNING while the client beats (every ≤ 10 s); a RUNNING run whose beats stopped 60 s ago
   * reads as ended: FAILED when its client reported an error, SUCCEEDED otherwise.
   */
  status: ExperimentStatus,
  running: Type.Boolean(),
  archived: Type.Boolean(),
  startTime: Type.Integer(),
  endTime: NullableInteger,
  /** end − start; now − start while running. */
  durationMillis: Type.Integer(),
  /** User name of the creator. */
  createdBy: Type.String(),
  lastHeartbeat: NullableInteger,
  createdAt: Type.Integer(),
  updatedAt: Type.Integer(),
  tags: Type.Array(Type.String()),
});
export type Experiment = Static<typeof Experiment>;

/**
 * An experiment's name as the core takes it (rules.ts `entryName`); "" and null both mean no name.
 */
const ExperimentName = Nullable(EntryName({ minLength: 0 }));

export const ExperimentKeyParams = Type.Object({ key: Type.String({ minLength: 1 }) });

export const CreateExperimentBody = Type.Object(
  {
    /** A key chosen by the client (32–50 letters and digits), e.g. to start logging before the answer. */
    key: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{32,50}$' })),
    name: Type.Optional(ExperimentName),
  },
  { additionalProperties: false },
);
export type CreateExperimentBody = Static<typeof CreateExperimentBody>;

export const UpdateExperimentBody = Type.Object(
  {
    name: Type.Optional(ExperimentName),
    /** RUNNING resumes an ended run; SUCCEEDED or FAILED ends it (at `endTime`, else now). */
    status: Type.Optional(ExperimentStatus),
    archived: Type.Optional(Type.Boolean()),
    startTime: Type.Optional(Millis()),
    endTime: Type.Optional(Nullable(Millis())),
  },
  { additionalProperties: false },
);
export type UpdateExperimentBody = Static<typeof UpdateExperimentBody>;

export const EndExperimentBody = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('SUCCEEDED'), Type.Literal('FAILED')])),
    endTime: Type.Optional(Millis()),
  },
  { additionalProperties: false },
);
export type EndExperimentBody = Static<typeof EndExperimentBody>;
