import { type Static, Type } from '@sinclair/typebox';
import { ProjectName, WorkspaceName } from '../shared/names.js';
import { Nullable } from '../shared/nullable.js';

/** Who the API key belongs to, and what it may do. */
export const Me = Type.Object({
  user: Type.Object({
    id: Type.String(),
    name: Type.String(),
    email: Nullable(Type.String()),
    isAdmin: Type.Boolean(),
  }),
  defaultWorkspace: Nullable(Type.String()),
  scopes: Type.Array(Type.String()),
});
export type Me = Static<typeof Me>;

export const Workspace = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.Integer() });
export type Workspace = Static<typeof Workspace>;

export const WorkspaceList = Type.Object({ items: Type.Array(Workspace) });
export const CreateWorkspaceBody = Type.Object({ name: WorkspaceName }, { additionalProperties: false });

export const WorkspaceParams = Type.Object({ workspace: Type.String({ minLength: 1 }) });
export const ProjectParams = Type.Object({
  workspace: Type.String({ minLength: 1 }),
  project: Type.String({ minLength: 1 }),
});

export const Project = Type.Object({
  id: Type.String(),
  workspace: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  isPublic: Type.Boolean(),
  notes: Type.String(),
  /** User name of the project's owner. */
  owner: Type.String(),
  /** Experiments whose home is the project plus those symlinked into it, archived ones included. */
  experimentCount: Type.Integer(),
  createdAt: Type.Integer(),
  /** Moves with every experiment created in the project and every change to it: its last activity. */
  updatedAt: Type.Integer(),
});
export type Project = Static<typeof Project>;

export const ProjectListQuery = Type.Object({
  /** Case-insensitive substring of the project name. */
  search: Type.Optional(Type.String()),
  cursor: Type.Optional(Type.String()),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export const ProjectList = Type.Object({
  items: Type.Array(Project),
  nextCursor: Nullable(Type.String()),
  /** Projects matching `search`, on every page. */
  total: Type.Integer(),
});
export type ProjectList = Static<typeof ProjectList>;

export const CreateProjectBody = Type.Object(
  {
    name: ProjectName,
    description: Type.Optional(Nullable(Type.String())),
    isPublic: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreateProjectBody = Static<typeof CreateProjectBody>;

export const UpdateProjectBody = Type.Object(
  {
    name: Type.Optional(ProjectName),
    description: Type.Optional(Nullable(Type.String())),
    isPublic: Type.Optional(Type.Boolean()),
    notes: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type UpdateProjectBody = Static<typeof UpdateProjectBody>;
