import { randomBytes, randomUUID } from 'node:crypto';
import type { Asset, Experiment, Project, User, Workspace } from '../../src/core/entities.js';
import type { Store } from '../../src/core/store.port.js';

/** Entity builders for store-level tests: fresh ids every call, so tests sharing a store never collide. */

export const hex = () => randomBytes(16).toString('hex');
export const T0 = 1_700_000_000_000;

export function newUser(overrides: Partial<User> = {}): User {
  return {
    id: randomUUID(),
    name: `user-${hex().slice(0, 12)}`,
    email: null,
    isAdmin: false,
    defaultWorkspaceId: null,
    createdAt: T0,
    ...overrides,
  };
}

export function newWorkspace(createdBy: string, overrides: Partial<Workspace> = {}): Workspace {
  return { id: hex(), name: `ws-${hex().slice(0, 12)}`, createdBy, createdAt: T0, ...overrides };
}

export function newProject(workspaceId: string, ownerUserId: string, overrides: Partial<Project> = {}): Project {
  return {
    id: hex(),
    workspaceId,
    name: `project-${hex().slice(0, 8)}`,
    description: null,
    isPublic: false,
    notes: '',
    ownerUserId,
    createdAt: T0,
    updatedAt: T0,
    deletedAt: null,
    artifactLocation: null,
    ...overrides,
  };
}

export function newExperiment(project: Project, overrides: Partial<Experiment> = {}): Experiment {
  return {
    id: hex(),
    projectId: project.id,
    workspaceId: project.workspaceId,
    name: null,
    status: 'RUNNING',
    archived: false,
    startTime: T0,
    endTime: null,
    createdBy: project.ownerUserId,
    optimizationId: null,
    filePath: null,
    fileName: null,
    lastHeartbeat: null,
    hasCrashed: false,
    error: null,
    statusDetail: null,
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

export function newAsset(experimentId: string, overrides: Partial<Asset> = {}): Asset {
  return {
    id: hex(),
    experimentId,
    fileName: 'weights.bin',
    fileSize: 1234,
    type: 'asset',
    step: null,
    epoch: null,
    context: null,
    dir: 'assets',
    metadata: null,
    tags: [],
    remote: false,
    link: null,
    groupingName: null,
    artifactVersionId: null,
    blobKey: `blobs/${hex()}`,
    createdAt: T0,
    ...overrides,
  };
}

/** Inserts a user, a workspace, a project and an experiment in it; returns the experiment. */
export async function insertExperiment(store: Store, overrides: Partial<Experiment> = {}): Promise<Experiment> {
  const user = newUser();
  const workspace = newWorkspace(user.id);
  const project = newProject(workspace.id, user.id);
  const experiment = newExperiment(project, overrides);
  await store.tenancy.insertUser(user);
  await store.tenancy.insertWorkspace(workspace);
  await store.projects.insert(project);
  await store.experiments.insert(experiment);
  return experiment;
}
