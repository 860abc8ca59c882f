import type { Clock } from './clock.port.js';
import type { Artifact, ArtifactVersion, ArtifactVersionState, Asset, Workspace } from './entities.js';
import {
  AlreadyExistsError,
  DomainError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  SdkErrorCode,
} from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { newUuid } from './ids.js';
import { isMember, type Principal, requireScope } from './principal.js';
import * as rules from './rules.js';
import { compareSemVer, nextMinor, parseSemVer } from './semver.js';
import type { ArtifactRecord, ArtifactVersionRecord, Repositories, Store } from './store.port.js';

/** The version an upsert without one starts an artifact at. */
export const FIRST_ARTIFACT_VERSION = '1.0.0';

/** `write/artifacts/upsert` (spec §4.5 #47): a new artifact, or a new version of an existing one. */
export interface ArtifactUpsert {
  experimentKey?: string | null;
  artifactName?: string | null;
  artifactType?: string | null;
  /** Absent: the next minor release after the highest version, or 1.0.0. */
  version?: string | null;
  aliases?: readonly string[] | null;
  versionTags?: readonly string[] | null;
  /** JSON text. */
  versionMetadata?: string | null;
  note?: string | null;
  /** When given it must be the experiment's workspace: artifacts live where they are logged. */
  workspaceName?: string | null;
  /** Fields of the artifact itself (the Java SDK sends them); applied when the upsert creates it. */
  description?: string | null;
  metadata?: string | null;
  tags?: readonly string[] | null;
  isPublic?: boolean | null;
  emoji?: string | null;
}

export interface ArtifactUpsertResult {
  artifact: Artifact;
  version: ArtifactVersion;
  /** The highest version before this one; null for an artifact's first version. */
  previousVersion: string | null;
}

/** `write/artifacts/details`: null or absent fields stay as they are. */
export interface ArtifactDetailsPatch {
  artifactType?: string | null;
  metadata?: string | null;
  tags?: readonly string[] | null;
  description?: string | null;
  isPublic?: boolean | null;
  emoji?: string | null;
}

/** `write/artifacts/version/labels`: each given list replaces the current one. */
export interface ArtifactLabelsPatch {
  aliases?: readonly string[] | null;
  tags?: readonly string[] | null;
  metadata?: string | null;
}

/** How callers name an artifact: by id, or by name within a workspace. */
export interface ArtifactLocator {
  artifactId?: string | null;
  artifactName?: string | null;
  workspaceName?: string | null;
  /** Names the workspace when none is given: comet_ml's `get_artifact` sends only its own key. */
  experimentKey?: string | null;
}

/**
 * How callers name a version (spec §3.6): its id alone, or an artifact plus one of `version`,
 * `alias` or `versionOrAlias` (a version first, else an alias); none of these means the latest.
 */
export interface ArtifactVersionLocator extends ArtifactLocator {
  versionId?: string | null;
  version?: string | null;
  alias?: string | null;
  versionOrAlias?: string | null;
}

export interface ArtifactVersionView {
  version: ArtifactVersionRecord;
  ownerName: string;
}

/** An artifact with the names shown beside it and its versions in ascending semver order. */
export interface ArtifactView {
  artifact: ArtifactRecord;
  workspace: Workspace;
  projectName: string | null;
  ownerName: string;
  versions: ArtifactVersionView[];
  /** The highest version (semver precedence); null when the artifact has none. */
  latestVersion: string | null;
}

export interface ArtifactListItem {
  artifact: ArtifactRecord;
  projectName: string | null;
}

/** An artifact as a listing shows it: with its owner's name and its highest version. */
export interface ArtifactSummaryView extends ArtifactListItem {
  ownerName: string;
  /** The highest version (semver precedence); null when the artifact has none. */
  latestVersion: string | null;
}

export interface ResolvedArtifactVersion {
  view: ArtifactView;
  version: ArtifactVersionView;
}

/**
 * Artifacts: named, typed, versioned collections of files in a workspace (spec §2, §3.6, §4.5).
 * Only members of the workspace see or change them; everyone else is told they do not exist.
 * A version is OPEN while its files upload and then CLOSED or ERROR for good; its labels (aliases,
 * tags, metadata) stay editable.
 */
export class ArtifactsService {
  constructor(
    private readonly store: Store,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
  ) {}

  async upsert(principal: Principal, input: ArtifactUpsert): Promise<ArtifactUpsertResult> {
    requireScope(principal, 'write');
    const experimentKey = input.experimentKey;
    if (!experimentKey) {
      throw new InvalidArgumentError('experimentKey is required', SdkErrorCode.experimentKeyNotSpecified);
    }
    const name = rules.entryName('artifact', input.artifactName ?? '');
    const explicitVersion = input.version ? artifactVersion(input.version) : null;
    const aliases = labelList('alias', input.aliases);
    const versionTags = labelList('tag', input.versionTags);
    const versionMetadata = jsonText('versionMetadata', input.versionMetadata);

    return this.retryingOnce(() =>
      this.store.transaction(async (tx) => {
        const experiment = await this.experiments.writable(tx, principal, experimentKey);
        if (input.workspaceName) {
          const workspace = await tx.tenancy.getWorkspace(experiment.workspaceId);
          if (workspace?.name !== input.workspaceName) {
            throw new InvalidArgumentError(
              `artifacts live in the workspace of the experiment that logs them ("${workspace?.name}"), not "${input.workspaceName}"`,
            );
          }
        }
        const now = this.clock.now();
        let artifact: Artifact | undefined = await tx.artifacts.getByName(experiment.workspaceId, name);
        if (artifact) {
          // Takes the artifact's row lock: concurrent upserts of one artifact pick versions in turn.
          await tx.artifacts.touch(artifact.id, now);
        } else {
          if (!input.artifactType) throw new InvalidArgumentError('artifactType is required to create an artifact');
          artifact = {
            id: newUuid(),
            workspaceId: experiment.workspaceId,
            projectId: experiment.projectId,
            name,
            type: rules.entryName('artifact type', input.artifactType),
            description: input.description ?? null,
            metadata: jsonText('metadata', input.metadata),
            tags: labelList('tag', input.tags),
            isPublic: input.isPublic ?? false,
            emoji: input.emoji ?? null,
            createdBy: principal.userId,
            experimentKey: experiment.id,
            createdAt: now,
            updatedAt: now,
          };
          await tx.artifacts.insert(artifact);
        }
        const versions = await tx.artifacts.listVersions(artifact.id);
        const latest = highest(versions);
        if (explicitVersion !== null && versions.some((v) => v.version === explicitVersion)) {
          throw new AlreadyExistsError(
            `artifact "${name}" already has version ${explicitVersion}`,
            SdkErrorCode.artifactVersionExists,
          );
        }
        const version: ArtifactVersion = {
          id: newUuid(),
          artifactId: artifact.id,
          // The next minor release is above the highest version, so it can never exist yet.
          version: explicitVersion ?? (latest ? nextMinor(semver(latest.version)) : FIRST_ARTIFACT_VERSION),
          state: 'OPEN',
          metadata: versionMetadata,
          tags: versionTags,
          note: input.note ?? null,
          ownerUserId: principal.userId,
          experimentKey: experiment.id,
          createdAt: now,
          updatedAt: now,
        };
        await tx.artifacts.insertVersion(version);
        await tx.artifacts.setAliases(artifact.id, version.id, aliases);
        return { artifact, version, previousVersion: latest?.version ?? null };
      }),
    );
  }

  /**
   * Ends an OPEN version as CLOSED or ERROR (`write/artifacts/state`). Anything else is an invalid
   * state (90410); a version that already ended cannot change again (90401).
   */
  async setState(
    principal: Principal,
    input: { artifactVersionId: string; experimentKey?: string | null; state?: string | null },
  ): Promise<void> {
    requireScope(principal, 'write');
    const state = artifactEndState(input.state);
    await this.store.transaction(async (tx) => {
      if (input.experimentKey) await this.experiments.writable(tx, principal, input.experimentKey);
      const { version } = await this.memberVersion(tx, principal, input.artifactVersionId);
      if (!(await tx.artifacts.closeVersion(version.id, state, this.clock.now()))) {
        const current = (await tx.artifacts.getVersion(version.id))?.state ?? version.state;
        throw immutable(version.version, current);
      }
    });
  }

  async updateDetails(principal: Principal, artifactId: string, patch: ArtifactDetailsPatch): Promise<void> {
    requireScope(principal, 'write');
    const type = patch.artifactType == null ? undefined : rules.entryName('artifact type', patch.artifactType);
    const tags = patch.tags == null ? undefined : labelList('tag', patch.tags);
    const metadata = patch.metadata == null ? undefined : jsonText('metadata', patch.metadata);
    await this.store.transaction(async (tx) => {
      const artifact = await this.memberArtifact(tx, principal, artifactId);
      await tx.artifacts.update(artifact.id, {
        ...(type === undefined ? {} : { type }),
        ...(tags === undefined ? {} : { tags }),
        ...(metadata === undefined ? {} : { metadata }),
        ...(patch.description == null ? {} : { description: patch.description }),
        ...(patch.isPublic == null ? {} : { isPublic: patch.isPublic }),
        ...(patch.emoji == null ? {} : { emoji: patch.emoji }),
        updatedAt: this.clock.now(),
      });
    });
  }

  /** Replaces a version's aliases, tags or metadata; allowed in every state (labels are not contents). */
  async updateLabels(principal: Principal, versionId: string, patch: ArtifactLabelsPatch): Promise<void> {
    requireScope(principal, 'write');
    const aliases = patch.aliases == null ? undefined : labelList('alias', patch.aliases);
    const tags = patch.tags == null ? undefined : labelList('tag', patch.tags);
    const metadata = patch.metadata == null ? undefined : jsonText('versionMetadata', patch.metadata);
    await this.store.transaction(async (tx) => {
      const { artifact, version } = await this.memberVersion(tx, principal, versionId);
      const now = this.clock.now();
      // The artifact's row lock orders alias moves against upserts of the same artifact.
      await tx.artifacts.touch(artifact.id, now);
      await tx.artifacts.updateVersion(version.id, {
        ...(tags === undefined ? {} : { tags }),
        ...(metadata === undefined ? {} : { metadata }),
        updatedAt: now,
      });
      if (aliases !== undefined) await tx.artifacts.setAliases(artifact.id, version.id, aliases);
    });
  }

  /** Artifacts of a workspace by name, optionally of one type; members only. */
  async list(principal: Principal, workspaceName: string, type?: string): Promise<ArtifactListItem[]> {
    requireScope(principal, 'read');
    const artifacts = await this.store.artifacts.list((await this.memberWorkspace(principal, workspaceName)).id, type);
    const projectNames = new Map<string, string | null>();
    const items: ArtifactListItem[] = [];
    for (const artifact of artifacts) {
      items.push({ artifact, projectName: await this.projectName(artifact.projectId, projectNames) });
    }
    return items;
  }

  /**
   * `list` a page at a time, with what a listing shows beside each artifact: `search` keeps the
   * artifacts whose name contains it (ignoring case), `offset` and `limit` cut the page, `total`
   * counts the artifacts matching. Owners and latest versions are read for the page only.
   */
  async page(
    principal: Principal,
    workspaceName: string,
    query: { type?: string; search?: string; offset?: number; limit?: number },
  ): Promise<{ items: ArtifactSummaryView[]; total: number }> {
    requireScope(principal, 'read');
    const workspace = await this.memberWorkspace(principal, workspaceName);
    const artifacts = await this.store.artifacts.list(workspace.id, query.type);
    const needle = query.search?.toLowerCase();
    const matching = needle ? artifacts.filter((a) => a.name.toLowerCase().includes(needle)) : artifacts;
    const offset = query.offset ?? 0;
    const shown = matching.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
    const projectNames = new Map<string, string | null>();
    const userName = this.userNames();
    const items: ArtifactSummaryView[] = [];
    for (const artifact of shown) {
      items.push({
        artifact,
        projectName: await this.projectName(artifact.projectId, projectNames),
        ownerName: await userName(artifact.createdBy),
        latestVersion: highest(await this.store.artifacts.listVersions(artifact.id))?.version ?? null,
      });
    }
    return { items, total: matching.length };
  }

  async get(principal: Principal, locator: ArtifactLocator): Promise<ArtifactView> {
    requireScope(principal, 'read');
    return this.view(await this.findArtifact(this.store, principal, locator));
  }

  /**
   * The version a locator names. Named versions (by version, alias or "latest") must be CLOSED:
   * one still OPEN is 90402, one in ERROR 90403. A version named by its id is returned in any
   * state, because comet_ml's log_artifact reads its new version by id while it is still OPEN.
   */
  async getVersion(principal: Principal, locator: ArtifactVersionLocator): Promise<ResolvedArtifactVersion> {
    requireScope(principal, 'read');
    return this.resolve(principal, locator, true);
  }

  /** The files of a version, in any state (a client lists them while uploading too). */
  async files(
    principal: Principal,
    locator: ArtifactVersionLocator,
  ): Promise<ResolvedArtifactVersion & { files: Asset[] }> {
    requireScope(principal, 'read');
    const resolved = await this.resolve(principal, locator, false);
    return { ...resolved, files: await this.store.artifacts.listFiles(resolved.version.version.id) };
  }

  /** The files to zip for a download; the same state rule as `getVersion`. */
  async downloadFiles(
    principal: Principal,
    locator: ArtifactVersionLocator,
  ): Promise<ResolvedArtifactVersion & { files: Asset[] }> {
    requireScope(principal, 'read');
    const resolved = await this.resolve(principal, locator, true);
    return { ...resolved, files: await this.store.artifacts.listFiles(resolved.version.version.id) };
  }

  private async resolve(
    principal: Principal,
    locator: ArtifactVersionLocator,
    closedOnly: boolean,
  ): Promise<ResolvedArtifactVersion> {
    if (locator.versionId) {
      const found = await readableArtifactVersion(this.store, principal, locator.versionId);
      if (
        !found ||
        (locator.artifactId && locator.artifactId !== found.artifact.id) ||
        (locator.artifactName && locator.artifactName !== found.artifact.name)
      ) {
        throw noVersion(locator.versionId);
      }
      const view = await this.view(found.artifact);
      return { view, version: versionOf(view, found.version.id) };
    }
    const view = await this.view(await this.findArtifact(this.store, principal, locator));
    const wanted = locator.version ?? locator.alias ?? locator.versionOrAlias;
    const pick = (): ArtifactVersionView | undefined => {
      const byVersion = (text: string) => view.versions.find((v) => v.version.version === text);
      const byAlias = (text: string) => view.versions.find((v) => v.version.aliases.includes(text));
      if (locator.version) return byVersion(locator.version);
      if (locator.alias) return byAlias(locator.alias);
      if (locator.versionOrAlias) return byVersion(locator.versionOrAlias) ?? byAlias(locator.versionOrAlias);
      return view.versions.at(-1);
    };
    const chosen = pick();
    if (!chosen) throw noVersion(wanted ?? 'latest', view.artifact.name);
    if (closedOnly) requireClosed(view.artifact.name, chosen.version);
    return { view, version: chosen };
  }

  private async findArtifact(repos: Repositories, principal: Principal, locator: ArtifactLocator) {
    let artifact: ArtifactRecord | undefined;
    if (locator.artifactId) {
      artifact = await repos.artifacts.get(locator.artifactId);
    } else if (locator.artifactName) {
      let workspaceId: string | undefined;
      if (locator.workspaceName) {
        workspaceId = (await repos.tenancy.getWorkspaceByName(locator.workspaceName))?.id;
      } else if (locator.experimentKey) {
        workspaceId = (await this.experiments.readable(repos, principal, locator.experimentKey)).workspaceId;
      } else {
        throw new InvalidArgumentError('name the artifact by artifactId, or by artifactName and workspace');
      }
      artifact =
        workspaceId === undefined ? undefined : await repos.artifacts.getByName(workspaceId, locator.artifactName);
    } else {
      throw new InvalidArgumentError('name the artifact by artifactId, or by artifactName and workspace');
    }
    if (!artifact || !isMember(principal, artifact.workspaceId)) {
      throw noArtifact(locator.artifactId ?? locator.artifactName ?? '');
    }
    return artifact;
  }

  private async memberArtifact(repos: Repositories, principal: Principal, artifactId: string) {
    const artifact = await repos.artifacts.get(artifactId);
    if (!artifact || !isMember(principal, artifact.workspaceId)) throw noArtifact(artifactId);
    return artifact;
  }

  private async memberVersion(repos: Repositories, principal: Principal, versionId: string) {
    const found = await readableArtifactVersion(repos, principal, versionId);
    if (!found) throw noVersion(versionId);
    return found;
  }

  private async memberWorkspace(principal: Principal, workspaceName: string): Promise<Workspace> {
    const workspace = await this.store.tenancy.getWorkspaceByName(workspaceName);
    if (!workspace || !isMember(principal, workspace.id)) {
      throw new NotFoundError(`workspace "${workspaceName}" not found`, SdkErrorCode.nonExistingTeam);
    }
    return workspace;
  }

  /** User names by id, each looked up once per call. */
  private userNames(): (userId: string) => Promise<string> {
    const names = new Map<string, string>();
    return async (id) => {
      let name = names.get(id);
      if (name === undefined) {
        name = (await this.store.tenancy.getUser(id))?.name ?? '';
        names.set(id, name);
      }
      return name;
    };
  }

  private async view(artifact: ArtifactRecord): Promise<ArtifactView> {
    const workspace = await this.store.tenancy.getWorkspace(artifact.workspaceId);
    if (!workspace) throw noArtifact(artifact.id);
    const userName = this.userNames();
    const versions: ArtifactVersionView[] = [];
    for (const version of sortedVersions(await this.store.artifacts.listVersions(artifact.id))) {
      versions.push({ version, ownerName: await userName(version.ownerUserId) });
    }
    return {
      artifact,
      workspace,
      projectName: await this.projectName(artifact.projectId, new Map()),
      ownerName: await userName(artifact.createdBy),
      versions,
      latestVersion: versions.at(-1)?.version.version ?? null,
    };
  }

  private async projectName(projectId: string | null, cache: Map<string, string | null>): Promise<string | null> {
    if (projectId === null) return null;
    if (!cache.has(projectId)) cache.set(projectId, (await this.store.projects.get(projectId))?.name ?? null);
    return cache.get(projectId) ?? null;
  }

  /**
   * Two upserts may both find no artifact and both create it; on PostgreSQL the loser's insert
   * then fails on the unique name. Its second attempt finds the winner's artifact and proceeds.
   */
  private async retryingOnce<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DomainError) throw error;
      return work();
    }
  }
}

/**
 * The artifact version named by an upload (or by the deletion of one of its files), checked and
 * locked for the transaction: it must exist in a workspace the principal belongs to, the
 * experiment's, and be OPEN (a closed version's files are immutable, 90401).
 */
export async function lockOpenArtifactVersion(
  tx: Repositories,
  principal: Principal,
  experimentWorkspaceId: string,
  versionId: string,
  at: number,
): Promise<void> {
  const { artifact, version } = await requireOpenArtifactVersion(tx, principal, experimentWorkspaceId, versionId);
  if (!(await tx.artifacts.lockOpenVersion(version.id, at))) {
    throw immutable(version.version, (await tx.artifacts.getVersion(version.id))?.state ?? 'CLOSED', artifact.name);
  }
}

/** `lockOpenArtifactVersion` without the lock: the early check before an upload streams its bytes. */
export async function requireOpenArtifactVersion(
  repos: Repositories,
  principal: Principal,
  experimentWorkspaceId: string,
  versionId: string,
): Promise<{ artifact: ArtifactRecord; version: ArtifactVersionRecord }> {
  const found = await readableArtifactVersion(repos, principal, versionId);
  if (!found) throw noVersion(versionId);
  if (found.artifact.workspaceId !== experimentWorkspaceId) {
    throw new InvalidArgumentError('an artifact file must be uploaded by an experiment of the artifact’s workspace');
  }
  if (found.version.state !== 'OPEN') throw immutable(found.version.version, found.version.state, found.artifact.name);
  return found;
}

/** The version and its artifact when the principal belongs to the artifact's workspace. */
export async function readableArtifactVersion(
  repos: Repositories,
  principal: Principal,
  versionId: string,
): Promise<{ artifact: ArtifactRecord; version: ArtifactVersionRecord } | undefined> {
  const version = await repos.artifacts.getVersion(versionId);
  const artifact = version && (await repos.artifacts.get(version.artifactId));
  if (!version || !artifact || !isMember(principal, artifact.workspaceId)) return undefined;
  return { artifact, version };
}

function requireClosed(artifactName: string, version: ArtifactVersionRecord): void {
  if (version.state === 'OPEN') {
    throw new FailedPreconditionError(
      `version ${version.version} of artifact "${artifactName}" is still OPEN: its files are being uploaded`,
      SdkErrorCode.artifactVersionStateNotClosed,
    );
  }
  if (version.state === 'ERROR') {
    throw new FailedPreconditionError(
      `version ${version.version} of artifact "${artifactName}" is in ERROR: an upload of its files failed`,
      SdkErrorCode.artifactVersionStateNotClosedErrorOccurred,
    );
  }
}

function immutable(version: string, state: ArtifactVersionState, artifactName?: string): FailedPreconditionError {
  const of = artifactName === undefined ? '' : ` of artifact "${artifactName}"`;
  return new FailedPreconditionError(
    `version ${version}${of} is ${state}: only an OPEN version takes files or a new state`,
    SdkErrorCode.artifactVersionStateImmutable,
  );
}

function noArtifact(name: string): NotFoundError {
  return new NotFoundError(`artifact "${name}" not found`, SdkErrorCode.noArtifactFound);
}

function noVersion(wanted: string, artifactName?: string): NotFoundError {
  const of = artifactName === undefined ? '' : ` of artifact "${artifactName}"`;
  return new NotFoundError(`artifact version "${wanted}"${of} not found`, SdkErrorCode.noArtifactVersionFound);
}

function versionOf(view: ArtifactView, versionId: string): ArtifactVersionView {
  const found = view.versions.find((v) => v.version.id === versionId);
  if (!found) throw noVersion(versionId, view.artifact.name);
  return found;
}

/** The state an OPEN version may end in, spelled exactly; anything else is 90410. */
export function artifactEndState(state: string | null | undefined): 'CLOSED' | 'ERROR' {
  if (state !== 'CLOSED' && state !== 'ERROR') {
    throw new InvalidArgumentError(
      `invalid artifact version state "${state ?? ''}": CLOSED or ERROR expected`,
      SdkErrorCode.artifactVersionStateInvalid,
    );
  }
  return state;
}

/** A version an artifact is given: semver (core/semver.ts). */
export function artifactVersion(text: string): string {
  if (!parseSemVer(text)) {
    throw new InvalidArgumentError(`invalid artifact version "${text}": a semantic version such as 1.2.0 expected`);
  }
  return text;
}

function semver(text: string) {
  const parsed = parseSemVer(text);
  // Every stored version was checked on the way in.
  if (!parsed) throw new Error(`stored artifact version "${text}" is not semver`);
  return parsed;
}

/** Ascending semver precedence; versions differing only in build metadata by creation. */
function sortedVersions<T extends ArtifactVersion>(versions: readonly T[]): T[] {
  return [...versions].sort(
    (a, b) =>
      compareSemVer(semver(a.version), semver(b.version)) ||
      a.createdAt - b.createdAt ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function highest<T extends ArtifactVersion>(versions: readonly T[]): T | undefined {
  return sortedVersions(versions).at(-1);
}

/** Aliases and tags: entry names, duplicates dropped, first occurrence's order kept. */
function labelList(kind: string, values: readonly string[] | null | undefined): string[] {
  const unique = new Set<string>();
  for (const value of values ?? []) unique.add(rules.entryName(kind, value));
  return [...unique];
}

/** Metadata is JSON text, stored verbatim; empty text means none (comet_ml sends null for {}). */
function jsonText(field: string, text: string | null | undefined): string | null {
  if (text == null || text === '') return null;
  try {
    JSON.parse(text);
  } catch {
    throw new InvalidArgumentError(`${field} must be a JSON document`);
  }
  return text;
}
