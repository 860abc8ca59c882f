import { type TSchema, Type } from '@sinclair/typebox';

/** Comet's error body (spec §1.5). */
export const CometError = Type.Object(
  {
    msg: Type.String(),
    code: Type.Integer(),
    sdk_error_code: Type.Integer(),
    data: Type.Null(),
  },
  { $id: 'CometError' },
);

/** Every successful write carries this envelope (spec §1.4): the Java SDK checks `code == 200`. */
export const WriteEnvelope = {
  msg: Type.String(),
  code: Type.Literal(200),
  sdk_error_code: Type.Literal(0),
  data: Type.Null(),
};

export function WriteResponse<P extends Record<string, TSchema>>(extra: P = {} as P) {
  return Type.Object({ ...WriteEnvelope, ...extra });
}

import { Nullable } from '../shared/nullable.js';

export { Nullable };

/**
 * Query booleans arrive as true/false, TRUE/FALSE (R), True/False or 1/0; parse with
 * `parseCometBoolean`.
 */
export const QueryBoolean = Type.String({ pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$' });

export function parseCometBoolean(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  return lower === 'true' || lower === '1';
}

/** Body fields that clients may send as explicit null (treated as absent). */
export const OptionalNullable = <T extends TSchema>(schema: T) => Type.Optional(Nullable(schema));

/**
 * The ways comet-reply.ts `projectRef` names a project in a body, for the body's `anyOf`: a
 * non-empty `projectId`, or a non-empty `workspaceName` and `projectName`.
 */
export const ProjectLocatorChoice = [
  { required: ['projectId'], properties: { projectId: Type.String({ minLength: 1 }) } },
  {
    required: ['workspaceName', 'projectName'],
    properties: { workspaceName: Type.String({ minLength: 1 }), projectName: Type.String({ minLength: 1 }) },
  },
];
