import type {
  ApiKey,
  Artifact,
  ArtifactSummary,
  ArtifactVersion,
  ArtifactVersionSummary,
  Asset,
  Experiment,
  LoggedValue,
  OutputLine,
  Project,
  RegistryModel,
  RegistryModelSummary,
  RegistryVersion,
  RegistryVersionSummary,
  Session,
  Workspace,
} from '@cairn/schemas/cairn';
import type { ArtifactSummaryView, ArtifactVersionView, ArtifactView } from '../../../core/artifacts.service.js';
import { MODEL_ELEMENT_TYPE } from '../../../core/assets.service.js';
import type { BatchKey } from '../../../core/batches.js';
import type {
  ApiKey as ApiKeyEntity,
  Asset as AssetEntity,
  LoggedValue as LoggedValueEntity,
  OutputLine as OutputLineEntity,
  Workspace as WorkspaceEntity,
} from '../../../core/entities.js';
import { InvalidArgumentError } from '../../../core/errors.js';
import type { ExperimentView, ValueInput } from '../../../core/experiments.service.js';
import type { ProjectView } from '../../../core/projects.service.js';
import type {
  RegistryModelDetails,
  RegistryModelSummary as RegistryModelSummaryView,
  RegistryVersionView,
} from '../../../core/registry.service.js';
import type { SessionView } from '../../../core/sessions.service.js';
import type { ClientStream } from '../../../core/store.port.js';
import { mediaTypeOf } from '../../download-headers.js';

/** Domain → wire mapping of Cairn's API: names instead of ids where people read them. */

export function wireWorkspace(workspace: WorkspaceEntity): Workspace {
  return { id: workspace.id, name: workspace.name, createdAt: workspace.createdAt };
}

export function wireSession(session: SessionView): Session {
  const { user } = session;
  return {
    user: { id: user.id, name: user.name, email: user.email, isAdmin: user.isAdmin },
    scopes: [...session.scopes].sort(),
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt,
  };
}

/** A key as its owner sees it: never its hash or its secret. */
export function wireApiKey(key: ApiKeyEntity): ApiKey {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
    expiresAt: key.expiresAt,
  };
}

export function wireProject(view: ProjectView): Project {
  const { project } = view;
  return {
    id: project.id,
    workspace: view.workspace.name,
    name: project.name,
    description: project.description,
    isPublic: project.isPublic,
    notes: project.notes,
    owner: view.ownerName,
    experimentCount: view.experimentCount,
    createdAt: project.createdAt,
    updatedAt: project.updatedAt,
  };
}

export function wireExperiment(view: ExperimentView, tags: string[]): Experiment {
  const { experiment, run } = view;
  return {
    key: experiment.id,
    name: experiment.name,
    workspace: view.workspace.name,
    project: view.project.name,
    projectId: view.project.id,
    status: run.status,
    running: run.running,
    archived: experiment.archived,
    startTime: experiment.startTime,
    endTime: run.endTime,
    durationMillis: run.durationMillis,
    createdBy: view.creatorName,
    lastHeartbeat: experiment.lastHeartbeat,
    createdAt: experiment.createdAt,
    updatedAt: experiment.updatedAt,
    tags,
  };
}

/** A logged value with its JSON type back: the store keeps the type beside the text. */
export function wireLoggedValue(value: LoggedValueEntity): LoggedValue {
  return {
    name: value.name,
    value: value.type === 'number' ? Number(value.text) : value.type === 'boolean' ? value.text === 'true' : value.text,
    type: value.type,
    step: value.step,
    timestamp: value.timestamp,
    context: value.context,
  };
}

/** Deeper nesting than any configuration has; it bounds the recursion a request can cause. */
const MAX_VALUE_DEPTH = 32;

/**
 * The values of a params/others call as named scalars. Nested objects are flattened with "."
 * (`{optimizer: {name: "adam"}}` → `optimizer.name`), arrays and empty objects are kept as their
 * JSON text, null logs an empty string. Names keep the order of the body.
 */
export function flattenValues(values: Record<string, unknown>): Pick<ValueInput, 'name' | 'value'>[] {
  const flat: Pick<ValueInput, 'name' | 'value'>[] = [];
  const visit = (name: string, value: unknown, depth: number) => {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      flat.push({ name, value });
    } else if (Array.isArray(value)) {
      flat.push({ name, value: JSON.stringify(value) });
    } else if (typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) {
        flat.push({ name, value: '{}' });
        return;
      }
      if (depth >= MAX_VALUE_DEPTH) {
        throw new InvalidArgumentError(`value "${name}" is nested deeper than ${MAX_VALUE_DEPTH} levels`);
      }
      for (const [key, nested] of entries) {
        if (key === '') throw new InvalidArgumentError(`value "${name}" holds an entry without a name`);
        visit(`${name}.${key}`, nested, depth + 1);
      }
    } else {
      throw new InvalidArgumentError(`value "${name}" must be a number, string, boolean, null, array or object`);
    }
  };
  for (const [name, value] of Object.entries(values)) visit(name, value, 1);
  return flat;
}

export function wireOutputLine(line: OutputLineEntity): OutputLine {
  return { seq: line.line, text: line.text, stderr: line.stderr, context: line.context, timestamp: line.timestamp };
}

export function wireAsset(asset: AssetEntity): Asset {
  return {
    id: asset.id,
    fileName: asset.fileName,
    size: asset.fileSize,
    type: asset.type,
    contentType: mediaTypeOf(asset.fileName),
    step: asset.step,
    epoch: asset.epoch,
    context: asset.context,
    metadata: asset.metadata,
    model: asset.type === MODEL_ELEMENT_TYPE ? asset.groupingName : null,
    remote: asset.remote,
    link: asset.remote ? asset.link : null,
    createdAt: asset.createdAt,
  };
}

export function wireRegistryVersionSummary(view: RegistryVersionView): RegistryVersionSummary {
  const { version } = view;
  return {
    version: version.version,
    stages: version.stages,
    comment: version.comment,
    experimentKey: version.experimentId,
    experimentModel: version.experimentModelName,
    createdBy: view.userName,
    createdAt: version.createdAt,
    updatedAt: version.updatedAt,
  };
}

export function wireRegistryVersion(view: RegistryVersionView): RegistryVersion {
  return {
    ...wireRegistryVersionSummary(view),
    files: view.assets.map(wireAsset),
    size: view.assets.reduce((sum, asset) => sum + asset.fileSize, 0),
  };
}

function registryModelFields(view: RegistryModelSummaryView | RegistryModelDetails) {
  const { model } = view;
  return {
    name: model.name,
    workspace: view.workspace.name,
    description: model.description,
    isPublic: model.isPublic,
    createdBy: view.userName,
    createdAt: model.createdAt,
    updatedAt: model.updatedAt,
    versionCount: view.versionCount,
  };
}

export function wireRegistryModelSummary(view: RegistryModelSummaryView): RegistryModelSummary {
  return { ...registryModelFields(view), latest: view.latest && wireRegistryVersionSummary(view.latest) };
}

/** A model with every version, highest first (the core reads them in ascending precedence). */
export function wireRegistryModel(details: RegistryModelDetails): RegistryModel {
  return {
    ...registryModelFields(details),
    notes: details.model.notes,
    versions: details.versions.map(wireRegistryVersion).reverse(),
  };
}

export function wireArtifactSummary(item: ArtifactSummaryView): ArtifactSummary {
  const { artifact } = item;
  return {
    name: artifact.name,
    type: artifact.type,
    description: artifact.description,
    tags: artifact.tags,
    isPublic: artifact.isPublic,
    emoji: artifact.emoji,
    project: item.projectName,
    experimentKey: artifact.experimentKey,
    createdBy: item.ownerName,
    versionCount: artifact.versionsCount,
    latestVersion: item.latestVersion,
    size: artifact.sizeInBytes,
    createdAt: artifact.createdAt,
    updatedAt: artifact.updatedAt,
  };
}

export function wireArtifactVersionSummary({ version, ownerName }: ArtifactVersionView): ArtifactVersionSummary {
  return {
    version: version.version,
    aliases: version.aliases,
    tags: version.tags,
    state: version.state,
    size: version.sizeInBytes,
    metadata: version.metadata,
    note: version.note,
    experimentKey: version.experimentKey,
    createdBy: ownerName,
    createdAt: version.createdAt,
    updatedAt: version.updatedAt,
  };
}

/** An artifact with every version, highest first (the core reads them in ascending precedence). */
export function wireArtifact(view: ArtifactView): Artifact {
  return {
    ...wireArtifactSummary(view),
    workspace: view.workspace.name,
    metadata: view.artifact.metadata,
    versions: view.versions.map(wireArtifactVersionSummary).reverse(),
  };
}

export function wireArtifactVersion(version: ArtifactVersionView, files: AssetEntity[]): ArtifactVersion {
  return { ...wireArtifactVersionSummary(version), files: files.map(wireAsset) };
}

/** A request's Idempotency-Key as the core's batch key on the endpoint's own stream. */
export function batchKeyOf(stream: ClientStream, headers: { 'idempotency-key'?: string }): BatchKey | undefined {
  const key = headers['idempotency-key'];
  return key === undefined ? undefined : { stream, key };
}
