import type { FastifyReply } from 'fastify';
import type { Core } from '../../../core/core.js';
import type { Asset, Project } from '../../../core/entities.js';
import { NotFoundError } from '../../../core/errors.js';
import type { ExperimentView } from '../../../core/experiments.service.js';
import type { FileTreeScope } from '../../../core/file-tree.service.js';
import type { Principal } from '../../../core/principal.js';
import { BinaryBody } from '../../binary-body.js';
import { chooseByteRange } from '../../byte-range.js';
import { attachmentWithPlainName, baseName, mediaTypeOf } from '../../download-headers.js';
import type { ArtifactTarget } from './artifact-path.js';
import { MlflowApiError } from './mlflow-errors.js';
import { experimentIdOf, noSuchRun } from './mlflow-ids.js';

/** Where the files of an artifact path live in Cairn: an experiment (MLflow run), a tree scope, a path in it. */
export interface ResolvedArtifacts {
  run: ExperimentView;
  scope: FileTreeScope;
  /** The path inside the run's or the model's files; "" for their root. */
  path: string;
}

/** A run the caller may read, as an MLflow `Run with id=… not found` when it is absent or another tenant's. */
export async function readableRun(core: Core, principal: Principal, runId: string): Promise<ExperimentView> {
  try {
    return await core.experiments.get(principal, runId);
  } catch (error) {
    if (error instanceof NotFoundError) throw noSuchRun(runId);
    throw error;
  }
}

/**
 * The run (and, for a logged model, the model's files) an artifact path names. The path's
 * experiment id must be the run's experiment (its id, or "0" for the default one); anything else
 * is "not found", as is a run or model of another tenant.
 */
export async function resolveArtifacts(
  core: Core,
  principal: Principal,
  target: ArtifactTarget,
): Promise<ResolvedArtifacts> {
  if (target.kind === 'run') {
    const run = await readableRun(core, principal, target.runId);
    if (!namesExperiment(run.project, target.experimentId)) throw noSuchRun(target.runId);
    return { run, scope: {}, path: target.path };
  }
  const logged = await core.loggedModels.get(principal, target.loggedModelId);
  const run = await readableRun(core, principal, logged.experiment.id);
  if (!namesExperiment(run.project, target.experimentId)) {
    throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', `Logged model with ID '${target.loggedModelId}' not found.`);
  }
  return { run, scope: { model: logged.model.name }, path: target.path };
}

function namesExperiment(project: Project, experimentId: string): boolean {
  return experimentIdOf(project) === experimentId || project.id === experimentId;
}

/**
 * A file download as MLflow's artifact service answers it: the media type guessed from the name,
 * `Content-Disposition: attachment; filename=<base name>`, unsniffed; one byte range when asked
 * (206; 416 beyond the end).
 */
export async function sendArtifactBytes(
  core: Core,
  asset: Asset,
  rangeHeader: string | undefined,
  reply: FastifyReply,
): Promise<FastifyReply> {
  reply.header('accept-ranges', 'bytes').header('x-content-type-options', 'nosniff');
  const choice = chooseByteRange(rangeHeader, asset.fileSize);
  if (choice.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${asset.fileSize}`);
    throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Range not satisfiable for ${asset.fileSize} bytes`, 416);
  }
  const range = choice.kind === 'partial' ? choice.range : undefined;
  const body = await core.files.open(asset, range);
  // A row without its bytes is damage, not a client error: answer 500 and log it.
  if (!body) throw new Error(`the bytes of asset ${asset.id} are missing from the blob store`);
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${asset.fileSize}`);
  return reply
    .type(mediaTypeOf(asset.fileName))
    .header('content-length', range ? range.end - range.start + 1 : asset.fileSize)
    .header('content-disposition', attachmentWithPlainName(baseName(asset.fileName)))
    .send(body);
}

/**
 * A folder of a run's or a model's files as MLflow's `files[]`: paths from the root, sizes of
 * files; no `files` when the folder is empty or absent.
 */
export async function listFiles(
  core: Core,
  principal: Principal,
  runId: string,
  path: string,
  scope: FileTreeScope,
): Promise<{ files?: { path: string; is_dir: boolean; file_size?: number }[] }> {
  const entries = await core.files.list(principal, runId, path, scope);
  if (!entries) return {};
  return {
    files: entries.map((entry) => ({
      path: entry.path,
      is_dir: entry.isDir,
      ...(entry.size === undefined ? {} : { file_size: entry.size }),
    })),
  };
}

/**
 * A download's response: the file's bytes in the media type its name suggests, so any type
 * (`*` + `/*`), which is how the documents state it.
 */
export const Download = { content: { '*/*': { schema: BinaryBody } } };
