import { type Static, Type } from '@sinclair/typebox';
import { Nullable, OptionalNullable, ProjectLocatorChoice, QueryBoolean } from './common.schema.js';

/** Row field names (and Comet's UI names) a projects page may be sorted by. */
export const ProjectSortName = Type.Union([
  Type.Literal('projectName'),
  Type.Literal('name'),
  Type.Literal('created_at'),
  Type.Literal('createdAt'),
  Type.Literal('lastUpdated'),
  Type.Literal('experimentCount'),
  Type.Literal('numberOfExperiments'),
]);
export type ProjectSortName = Static<typeof ProjectSortName>;

/** GET /projects/page (spec §3.2 #4): every filter optional but the workspace; an empty sort is none. */
export const ProjectsPageQuery = Type.Object({
  workspaceName: Type.String({ minLength: 1 }),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  count: Type.Optional(Type.Integer({ minimum: 0 })),
  sort: Type.Optional(Type.Union([ProjectSortName, Type.Literal('')])),
  order: Type.Optional(Type.String({ pattern: '^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$' })),
  owner: Type.Optional(QueryBoolean),
  public: Type.Optional(QueryBoolean),
  starterProject: Type.Optional(QueryBoolean),
  search: Type.Optional(Type.String()),
});
export type ProjectsPageQuery = Static<typeof ProjectsPageQuery>;

export const ProjectsPageRow = Type.Object({
  projectId: Type.String(),
  userName: Type.String(),
  projectName: Type.String(),
  projectDesc: Nullable(Type.String()),
  generalProject: Type.Boolean(),
  totalRowCount: Type.String(),
  filteredRowCount: Type.String(),
  experimentCount: Type.Integer(),
  imagePath: Nullable(Type.String()),
  isPublic: Type.Boolean(),
  teamId: Type.String(),
  created_at: Type.Integer(),
  lastUpdated: Type.Integer(),
  lastUpdatedByUser: Type.Integer(),
  isStarterProject: Type.Boolean(),
  teamName: Type.String(),
  isInProjectTeam: Type.Boolean(),
  owner: Type.Boolean(),
  canEdit: Type.Boolean(),
});

export const ProjectsPageResponse = Type.Object({
  rows: Type.Array(ProjectsPageRow),
  filteredRowCount: Type.Integer(),
  totalRowCount: Type.Integer(),
});

/** GET /project/column-names (spec §3.2 #6). */
export const ColumnNamesQuery = Type.Object({
  projectId: Type.Optional(Type.String({ minLength: 1 })),
  projectName: Type.Optional(Type.String({ minLength: 1 })),
  workspaceName: Type.Optional(Type.String({ minLength: 1 })),
  archived: Type.Optional(QueryBoolean),
});

export const ColumnType = Type.Union([
  Type.Literal('double'),
  Type.Literal('string'),
  Type.Literal('datetime'),
  Type.Literal('boolean'),
  Type.Literal('timenumber'),
]);
export type ColumnType = Static<typeof ColumnType>;

export const ColumnSource = Type.Union([
  Type.Literal('metrics'),
  Type.Literal('params'),
  Type.Literal('log_other'),
  Type.Literal('metadata'),
  Type.Literal('tag'),
  Type.Literal('env_details'),
]);
export type ColumnSource = Static<typeof ColumnSource>;

export const ColumnNamesResponse = Type.Object({
  columns: Type.Array(Type.Object({ name: Type.String(), id: Type.String(), type: ColumnType, source: ColumnSource })),
});

/**
 * A rule or a nested group (jQuery-QueryBuilder style, spec §5). One object type for both, told
 * apart by `rules`: a union would let Ajv's type coercion pick a branch and rewrite values.
 * `value` stays untyped here; the mapper checks it against the rule's type and operator.
 */
export const QueryRule = Type.Recursive(
  (This) =>
    Type.Object({
      id: OptionalNullable(Type.String()),
      field: OptionalNullable(Type.String()),
      type: OptionalNullable(Type.String()),
      operator: OptionalNullable(Type.String()),
      value: Type.Optional(Type.Unknown()),
      input: OptionalNullable(Type.String()),
      /** AND or OR, in any letter case; AND when absent. */
      condition: OptionalNullable(Type.String({ pattern: '^([Aa][Nn][Dd]|[Oo][Rr])$' })),
      rules: Type.Optional(Type.Array(This)),
      not: OptionalNullable(Type.Boolean()),
      /** The query builder's mark of a node it could not complete: a query so marked is refused. */
      valid: Type.Optional(Type.Unsafe<true | null>({ type: ['null', 'boolean'], enum: [true, null] })),
    }),
  { $id: 'CometQueryRule' },
);
export type QueryRule = Static<typeof QueryRule>;

export const ProjectQueryBody = Type.Object(
  {
    projectId: OptionalNullable(Type.String()),
    workspaceName: OptionalNullable(Type.String()),
    projectName: OptionalNullable(Type.String()),
    predicates: Type.Array(Type.Object({ source: ColumnSource, query: QueryRule })),
    archived: OptionalNullable(Type.Boolean()),
  },
  { anyOf: ProjectLocatorChoice },
);
export type ProjectQueryBody = Static<typeof ProjectQueryBody>;

export const ProjectQueryResponse = Type.Object({
  experimentKeys: Type.Array(Type.String()),
  experimentsInProject: Type.Integer(),
});
