import { type Static, Type } from '@sinclair/typebox';
import { ProjectName, WorkspaceName } from '../shared/names.js';
import { Nullable, OptionalNullable, ProjectLocatorChoice, QueryBoolean, WriteResponse } from './common.schema.js';

export const WorkspacesResponse = Type.Object({ workspaceNames: Type.Array(Type.String()) });

export const AccountDetailsResponse = Type.Object({
  userName: Type.String(),
  defaultWorkspaceName: Nullable(Type.String()),
});

/** ProjectRow (spec §3.1): `public` and `isPublic` both, since clients read either. */
export const ProjectRow = Type.Object({
  projectId: Type.String(),
  projectName: Type.String(),
  ownerUserName: Type.String(),
  projectDescription: Nullable(Type.String()),
  workspaceName: Type.String(),
  workspaceId: Type.String(),
  isPublic: Type.Boolean(),
  public: Type.Boolean(),
  numberOfExperiments: Type.Integer(),
  lastUpdated: Type.Integer(),
  created_at: Type.Integer(),
  /** Cairn addition: the project as a Foundry model (docs/api/foundry.md). */
  modelRid: Type.String(),
});
export type ProjectRow = Static<typeof ProjectRow>;

export const ProjectsQuery = Type.Object({
  workspaceName: Type.String({ minLength: 1 }),
  projectName: Type.Optional(Type.String()),
});
export const ProjectsResponse = Type.Object({ projects: Type.Array(ProjectRow) });

/** A project named by id, or by workspace and name. */
export const ProjectLocatorQuery = Type.Object({
  projectId: Type.Optional(Type.String({ minLength: 1 })),
  projectName: Type.Optional(Type.String({ minLength: 1 })),
  workspaceName: Type.Optional(Type.String({ minLength: 1 })),
});
export type ProjectLocator = Static<typeof ProjectLocatorQuery>;

export const ExperimentsQuery = Type.Object({
  projectId: Type.Optional(Type.String({ minLength: 1 })),
  projectName: Type.Optional(Type.String({ minLength: 1 })),
  workspaceName: Type.Optional(Type.String({ minLength: 1 })),
  archived: Type.Optional(QueryBoolean),
});

/** `projectName` states the core's rule; its refusals keep the core's sdk_error_code (comet-errors.ts). */
export const CreateProjectBody = Type.Object({
  workspaceName: Type.String({ minLength: 1 }),
  projectName: ProjectName,
  projectDescription: OptionalNullable(Type.String()),
  isPublic: OptionalNullable(Type.Boolean()),
});
export const CreateProjectResponse = WriteResponse({ projectId: Type.String() });

export const DeleteProjectBody = Type.Object(
  {
    projectId: OptionalNullable(Type.String()),
    workspaceName: OptionalNullable(Type.String()),
    projectName: OptionalNullable(Type.String()),
    deleteAllExperiments: OptionalNullable(Type.Boolean()),
  },
  { anyOf: ProjectLocatorChoice },
);

/** `newProjectName` renames under the core's project-name rule. */
export const UpdateProjectBody = Type.Object(
  {
    projectId: OptionalNullable(Type.String()),
    workspaceName: OptionalNullable(Type.String()),
    projectName: OptionalNullable(Type.String()),
    newProjectName: OptionalNullable(ProjectName),
    newProjectDescription: OptionalNullable(Type.String()),
    isPublic: OptionalNullable(Type.Boolean()),
  },
  { anyOf: ProjectLocatorChoice },
);

export const ProjectNotesBody = Type.Object({
  projectId: Type.String({ minLength: 1 }),
  notes: Nullable(Type.String()),
});

export const CreateWorkspaceBody = Type.Object({
  name: WorkspaceName,
  plan: OptionalNullable(Type.String()),
});
export const CreateWorkspaceResponse = WriteResponse({ workspace_name: Type.String(), workspace_id: Type.String() });

export const PlainWriteResponse = WriteResponse();

export const ProjectNotesResponse = Type.Object({ notes: Type.String() });

export const ShareCodeQuery = Type.Object({
  projectId: Type.String({ minLength: 1 }),
  shareCode: Type.String({ minLength: 1 }),
});
export const ShareLinksResponse = Type.Object({ shareCodes: Type.Array(Type.String()) });
export const AddShareLinkResponse = WriteResponse({ shareCode: Type.String() });
