import { apiActor, recordAudit } from './audit.service.js';
import type { BlobStore } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type { KeyValue, Project, User, Workspace } from './entities.js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  SdkErrorCode,
} from './errors.js';
import { newHexId } from './ids.js';
import { canRead, hidden, isMember, type Principal, requireScope } from './principal.js';
import type { PrincipalCache } from './principal-cache.js';
import * as rules from './rules.js';
import type { Repositories, Store } from './store.port.js';

/** A project with the names facades show next to it. */
export interface ProjectView {
  project: Project;
  workspace: Workspace;
  ownerName: string;
  experimentCount: number;
}

/** How callers name a project: by id, or by workspace and project name. */
export type ProjectRef = { projectId: string } | { workspaceName: string; projectName: string };

export type ProjectSortKey = 'name' | 'createdAt' | 'lastUpdated' | 'experimentCount';

const PAGE_SORT_KEYS: Record<ProjectSortKey, (view: ProjectView) => string | number> = {
  name: (v) => v.project.name,
  createdAt: (v) => v.project.createdAt,
  lastUpdated: (v) => v.project.updatedAt,
  experimentCount: (v) => v.experimentCount,
};

export interface ProjectPageOptions {
  offset?: number;
  /** Rows per page; undefined for all the rest. */
  count?: number;
  sort?: ProjectSortKey;
  descending?: boolean;
  /** true: only the caller's projects; false: only others'. */
  ownedByCaller?: boolean;
  isPublic?: boolean;
  /** Case-insensitive substring of the project name. */
  search?: string;
}

export class ProjectsService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly principals: PrincipalCache,
  ) {}

  async listWorkspaces(principal: Principal): Promise<Workspace[]> {
    requireScope(principal, 'read');
    return this.store.tenancy.listWorkspacesOfUser(principal.userId);
  }

  async accountDetails(principal: Principal): Promise<{ userName: string; defaultWorkspaceName: string | null }> {
    requireScope(principal, 'read');
    const workspace = principal.defaultWorkspaceId
      ? await this.store.tenancy.getWorkspace(principal.defaultWorkspaceId)
      : undefined;
    return { userName: principal.userName, defaultWorkspaceName: workspace?.name ?? null };
  }

  /** The caller's user record and default workspace name. */
  async account(principal: Principal): Promise<{ user: User; defaultWorkspaceName: string | null }> {
    requireScope(principal, 'read');
    const user = await this.store.tenancy.getUser(principal.userId);
    if (!user) throw hidden('user');
    const { defaultWorkspaceName } = await this.accountDetails(principal);
    return { user, defaultWorkspaceName };
  }

  /** Creates a workspace owned by the caller. */
  async createWorkspace(principal: Principal, name: string, requestId?: string): Promise<Workspace> {
    requireScope(principal, 'write');
    rules.workspaceName(name);
    return this.store
      .transaction(async (tx) => {
        if (await tx.tenancy.getWorkspaceByName(name)) {
          throw new AlreadyExistsError(`workspace "${name}" already exists`);
        }
        const workspace = { id: newHexId(), name, createdBy: principal.userId, createdAt: this.clock.now() };
        await tx.tenancy.insertWorkspace(workspace);
        await tx.tenancy.putMember(workspace.id, principal.userId, 'owner');
        await recordAudit(tx, this.clock, apiActor(principal, requestId), {
          action: 'workspace.create',
          targetType: 'workspace',
          targetId: workspace.id,
          targetName: name,
          workspace,
          details: { owner: principal.userName },
        });
        return workspace;
      })
      .finally(() => this.principals.clear());
  }

  /** Projects of a workspace: all of them for members, the public ones for everyone else. */
  async listProjects(principal: Principal, workspaceName: string): Promise<ProjectView[]> {
    requireScope(principal, 'read');
    const workspace = await this.store.tenancy.getWorkspaceByName(workspaceName);
    if (!workspace) throw new NotFoundError(`workspace "${workspaceName}" not found`, SdkErrorCode.nonExistingTeam);
    const projects = await this.store.projects.list(workspace.id, !isMember(principal, workspace.id));
    const owners = new Map<string, string>();
    const views: ProjectView[] = [];
    for (const project of projects) {
      if (!owners.has(project.ownerUserId)) {
        owners.set(project.ownerUserId, (await this.store.tenancy.getUser(project.ownerUserId))?.name ?? '');
      }
      views.push({
        project,
        workspace,
        ownerName: owners.get(project.ownerUserId) ?? '',
        experimentCount: project.experimentCount,
      });
    }
    return views;
  }

  /**
   * One page of a workspace's projects after filters, with the counts before and after them.
   * A workspace holds projects by the hundred, not the million: the page is cut in memory from
   * the listing, which already carries each project's experiment count.
   */
  async pageProjects(
    principal: Principal,
    workspaceName: string,
    options: ProjectPageOptions,
  ): Promise<{ views: ProjectView[]; total: number; filtered: number }> {
    const all = await this.listProjects(principal, workspaceName);
    const needle = options.search?.toLowerCase();
    const filtered = all.filter(
      ({ project }) =>
        (options.ownedByCaller === undefined || (project.ownerUserId === principal.userId) === options.ownedByCaller) &&
        (options.isPublic === undefined || project.isPublic === options.isPublic) &&
        (needle === undefined || project.name.toLowerCase().includes(needle)),
    );
    const key = PAGE_SORT_KEYS[options.sort ?? 'name'];
    const direction = options.descending ? -1 : 1;
    filtered.sort((a, b) => {
      const x = key(a);
      const y = key(b);
      const order = x < y ? -1 : x > y ? 1 : a.project.id < b.project.id ? -1 : 1;
      return order * direction;
    });
    const offset = options.offset ?? 0;
    const page = options.count === undefined ? filtered.slice(offset) : filtered.slice(offset, offset + options.count);
    return { views: page, total: all.length, filtered: filtered.length };
  }

  async getProject(principal: Principal, ref: ProjectRef): Promise<ProjectView> {
    requireScope(principal, 'read');
    const { project, workspace } = await this.findReadable(this.store, principal, ref);
    return this.view(project, workspace);
  }

  async createProject(
    principal: Principal,
    input: { workspaceName: string; projectName: string; description: string | null; isPublic: boolean },
  ): Promise<ProjectView> {
    requireScope(principal, 'write');
    rules.projectName(input.projectName);
    const project = await this.store.transaction(async (tx) => {
      const workspace = await this.writableWorkspace(tx, principal, input.workspaceName);
      if (await tx.projects.getByName(workspace.id, input.projectName)) {
        throw new AlreadyExistsError(`project "${input.projectName}" already exists in "${workspace.name}"`);
      }
      return this.insertProject(tx, principal, workspace, input.projectName, input.description, input.isPublic);
    });
    return this.getProject(principal, { projectId: project.id });
  }

  /** The project named, created (private, no description) when absent: experiment creation's rule. */
  async ensureProject(
    tx: Repositories,
    principal: Principal,
    workspaceName: string,
    projectName: string,
  ): Promise<{ project: Project; workspace: Workspace }> {
    rules.projectName(projectName);
    const workspace = await this.writableWorkspace(tx, principal, workspaceName);
    const existing = await tx.projects.getByName(workspace.id, projectName);
    if (existing?.deletedAt != null) {
      throw new FailedPreconditionError(
        `project "${projectName}" is in the trash: restore it (MLflow's experiments/restore) before logging to it`,
      );
    }
    if (existing) return { project: existing, workspace };
    return { project: await this.insertProject(tx, principal, workspace, projectName, null, false), workspace };
  }

  async updateProject(
    principal: Principal,
    ref: ProjectRef,
    patch: { name?: string; description?: string | null; isPublic?: boolean; notes?: string },
  ): Promise<ProjectView> {
    requireScope(principal, 'write');
    if (patch.name !== undefined) rules.projectName(patch.name);
    const id = await this.store.transaction(async (tx) => {
      const { project } = await this.findWritable(tx, principal, ref);
      if (patch.name !== undefined && patch.name !== project.name) {
        if (await tx.projects.getByName(project.workspaceId, patch.name)) {
          throw new AlreadyExistsError(`project "${patch.name}" already exists`);
        }
      }
      await tx.projects.update(project.id, { ...patch, updatedAt: this.clock.now() });
      return project.id;
    });
    return this.getProject(principal, { projectId: id });
  }

  async setNotes(principal: Principal, ref: ProjectRef, notes: string): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { project } = await this.findWritable(tx, principal, ref);
      await tx.projects.update(project.id, { notes, updatedAt: this.clock.now() });
    });
  }

  /** Creates a share code for the project (Comet's "share link"); members only. */
  async addShareCode(principal: Principal, ref: ProjectRef): Promise<string> {
    requireScope(principal, 'write');
    return this.store.transaction(async (tx) => {
      const { project } = await this.findWritable(tx, principal, ref);
      const code = newHexId();
      await tx.projects.addShareCode(project.id, code, principal.userId, this.clock.now());
      return code;
    });
  }

  /** Share codes are visible to members only: they grant access, so a reader must not learn them. */
  async listShareCodes(principal: Principal, ref: ProjectRef): Promise<string[]> {
    requireScope(principal, 'read');
    const { project } = await this.findWritable(this.store, principal, ref);
    return this.store.projects.listShareCodes(project.id);
  }

  async deleteShareCode(principal: Principal, ref: ProjectRef, shareCode: string): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { project } = await this.findWritable(tx, principal, ref);
      if (!(await tx.projects.deleteShareCode(project.id, shareCode))) {
        throw new NotFoundError(`share code ${shareCode} not found`);
      }
    });
  }

  /**
   * Deletes a project. Its own experiments are deleted with it when `deleteExperiments`;
   * otherwise a project that still holds experiments cannot be deleted.
   */
  async deleteProject(
    principal: Principal,
    ref: ProjectRef,
    deleteExperiments: boolean,
    requestId?: string,
  ): Promise<void> {
    requireScope(principal, 'write');
    const blobKeys = await this.store.transaction(async (tx) => {
      const { project, workspace } = await this.findWritable(tx, principal, ref);
      const owned = await tx.experiments.listOwnedByProject(project.id);
      if (owned.length > 0 && !deleteExperiments) {
        throw new FailedPreconditionError(
          `project "${project.name}" still has ${owned.length} experiments; pass deleteAllExperiments to delete them too`,
        );
      }
      const keys: string[] = [];
      for (const experimentId of owned) {
        for (const asset of await tx.assets.list(experimentId)) if (asset.blobKey) keys.push(asset.blobKey);
        for (const table of await tx.artifactTables.list(experimentId)) keys.push(table.blobKey);
        keys.push(gitPatchBlobKey(experimentId));
        await tx.experiments.delete(experimentId);
      }
      await tx.projects.delete(project.id);
      await recordAudit(tx, this.clock, apiActor(principal, requestId), {
        action: 'project.delete',
        targetType: 'project',
        targetId: project.id,
        targetName: project.name,
        workspace,
        details: { experimentsDeleted: owned.length },
      });
      return keys;
    });
    // Blobs go after the commit: a crash in between leaves unreferenced files, never dangling rows.
    for (const key of blobKeys) await this.blobs.delete(key);
  }

  /**
   * Creates a project with MLflow's experiment rules: names of up to 500 characters, an artifact
   * location and tags. A name in use, by a project in the trash too, is "already exists".
   */
  async createTracked(
    principal: Principal,
    input: { workspaceName: string; name: string; artifactLocation: string | null; tags: readonly KeyValue[] },
  ): Promise<Project> {
    requireScope(principal, 'write');
    rules.trackedProjectName(input.name);
    return this.store.transaction(async (tx) => {
      const workspace = await this.writableWorkspace(tx, principal, input.workspaceName);
      if (await tx.projects.getByName(workspace.id, input.name)) {
        throw new AlreadyExistsError(`project "${input.name}" already exists in "${workspace.name}"`);
      }
      const project = await this.insertProject(
        tx,
        principal,
        workspace,
        input.name,
        null,
        false,
        input.artifactLocation,
      );
      for (const tag of input.tags) await tx.projects.setTag(project.id, tag.key, tag.value);
      return project;
    });
  }

  /** Renames a project (MLflow's rules for the name); a project in the trash cannot be renamed. */
  async renameTracked(principal: Principal, projectId: string, name: string): Promise<void> {
    requireScope(principal, 'write');
    rules.trackedProjectName(name);
    await this.store.transaction(async (tx) => {
      const { project } = await this.findWritable(tx, principal, { projectId });
      if (project.deletedAt !== null) throw new FailedPreconditionError('Cannot rename a non-active experiment.');
      if (name === project.name) return;
      if (await tx.projects.getByName(project.workspaceId, name)) {
        throw new AlreadyExistsError(`project "${name}" already exists`);
      }
      await tx.projects.update(project.id, { name, updatedAt: this.clock.now() });
    });
  }

  /**
   * Moves a project to the trash and archives every experiment whose home it is, or (`trashed`
   * false) brings it back with all of them, as MLflow deletes and restores an experiment's runs.
   * Trashing a project already in the trash, or restoring one that is not, is "not found".
   */
  async setTrashed(principal: Principal, projectId: string, trashed: boolean, requestId?: string): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { project, workspace } = await this.findWritable(tx, principal, { projectId });
      if ((project.deletedAt !== null) === trashed) throw hidden(trashed ? 'active project' : 'project in the trash');
      const now = this.clock.now();
      await tx.projects.setDeletedAt(project.id, trashed ? now : null);
      await tx.projects.update(project.id, { updatedAt: now });
      const owned = await tx.experiments.listOwnedByProject(project.id);
      for (const experimentId of owned) {
        await tx.experiments.update(experimentId, { archived: trashed, updatedAt: now });
      }
      await recordAudit(tx, this.clock, apiActor(principal, requestId), {
        action: trashed ? 'project.trash' : 'project.restore',
        targetType: 'project',
        targetId: project.id,
        targetName: project.name,
        workspace,
        details: { experiments: owned.length },
      });
    });
  }

  /** Sets (upserts) a tag of a project that is not in the trash. */
  async setTag(principal: Principal, projectId: string, key: string, value: string): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { project } = await this.findWritable(tx, principal, { projectId });
      if (project.deletedAt !== null) {
        throw new FailedPreconditionError(`project "${project.name}" is in the trash: its tags cannot change`);
      }
      await tx.projects.setTag(project.id, key, value);
      await tx.projects.update(project.id, { updatedAt: this.clock.now() });
    });
  }

  /** Removes a tag of a project that is not in the trash; a key it does not have is "not found". */
  async deleteTag(principal: Principal, projectId: string, key: string): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { project } = await this.findWritable(tx, principal, { projectId });
      if (project.deletedAt !== null) {
        throw new FailedPreconditionError(`project "${project.name}" is in the trash: its tags cannot change`);
      }
      if (!(await tx.projects.deleteTag(project.id, key))) throw new NotFoundError(`No tag with name: ${key}`);
      await tx.projects.update(project.id, { updatedAt: this.clock.now() });
    });
  }

  /** A readable project's tags ordered by key. */
  async tags(principal: Principal, projectId: string): Promise<KeyValue[]> {
    requireScope(principal, 'read');
    const { project } = await this.findReadable(this.store, principal, { projectId });
    return this.store.projects.listTags(project.id);
  }

  /**
   * Every project of a workspace the caller belongs to, those in the trash included, each with
   * its tags: MLflow's experiment search filters and orders them itself.
   */
  async listTracked(principal: Principal, workspaceId: string): Promise<{ project: Project; tags: KeyValue[] }[]> {
    requireScope(principal, 'read');
    if (!isMember(principal, workspaceId)) return [];
    const projects = await this.store.projects.listWithTrash(workspaceId);
    const tags = await this.store.projects.listTagsOf(projects.map((p) => p.id));
    return projects.map((project) => ({ project, tags: tags.get(project.id) ?? [] }));
  }

  /** Finds a project the principal may read; anything else is "not found". */
  async findReadable(
    repos: Repositories,
    principal: Principal,
    ref: ProjectRef,
  ): Promise<{ project: Project; workspace: Workspace }> {
    const found = await this.find(repos, ref);
    if (!found || !canRead(principal, found.project)) throw hidden('project');
    return found;
  }

  async findWritable(
    repos: Repositories,
    principal: Principal,
    ref: ProjectRef,
  ): Promise<{ project: Project; workspace: Workspace }> {
    const found = await this.findReadable(repos, principal, ref);
    if (!isMember(principal, found.workspace.id)) {
      throw new NotFoundError('project not found in a workspace you belong to', SdkErrorCode.noWriteAccess);
    }
    return found;
  }

  async view(project: Project, workspace: Workspace): Promise<ProjectView> {
    const owner = await this.store.tenancy.getUser(project.ownerUserId);
    // Counted in the database: a project may hold 10^5 experiments.
    const experimentCount = await this.store.experiments.countInProject(project.id);
    return { project, workspace, ownerName: owner?.name ?? '', experimentCount };
  }

  private async find(
    repos: Repositories,
    ref: ProjectRef,
  ): Promise<{ project: Project; workspace: Workspace } | undefined> {
    if ('projectId' in ref) {
      const project = await repos.projects.get(ref.projectId);
      const workspace = project && (await repos.tenancy.getWorkspace(project.workspaceId));
      return project && workspace ? { project, workspace } : undefined;
    }
    const workspace = await repos.tenancy.getWorkspaceByName(ref.workspaceName);
    const project = workspace && (await repos.projects.getByName(workspace.id, ref.projectName));
    return project && workspace ? { project, workspace } : undefined;
  }

  private async writableWorkspace(tx: Repositories, principal: Principal, name: string): Promise<Workspace> {
    if (!name) throw new InvalidArgumentError('workspaceName is required');
    const workspace = await tx.tenancy.getWorkspaceByName(name);
    if (!workspace || !isMember(principal, workspace.id)) {
      throw new NotFoundError(`workspace "${name}" not found`, SdkErrorCode.nonExistingTeam);
    }
    return workspace;
  }

  private async insertProject(
    tx: Repositories,
    principal: Principal,
    workspace: Workspace,
    name: string,
    description: string | null,
    isPublic: boolean,
    artifactLocation: string | null = null,
  ): Promise<Project> {
    const now = this.clock.now();
    const project: Project = {
      id: newHexId(),
      workspaceId: workspace.id,
      name,
      description,
      isPublic,
      notes: '',
      ownerUserId: principal.userId,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      artifactLocation,
    };
    await tx.projects.insert(project);
    return project;
  }
}

/** Where an experiment's git patch bytes live in the blob store. */
export function gitPatchBlobKey(experimentId: string): string {
  return `experiments/${experimentId}/git-patch`;
}

export function assetBlobKey(experimentId: string, assetId: string): string {
  return `experiments/${experimentId}/assets/${assetId}`;
}
