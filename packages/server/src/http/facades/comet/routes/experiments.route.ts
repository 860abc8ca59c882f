import {
  CometError,
  CreateExperimentBody,
  CreateExperimentResponse,
  ExperimentLifecycleQuery,
  ExperimentMetadata,
  ExperimentMetadataQuery,
  ExperimentsQuery,
  ExperimentsResponse,
  FilePathBody,
  HeartbeatResponse,
  MoveExperimentsBody,
  PlainWriteResponse,
  parseCometBoolean,
  SetStartEndTimeBody,
  SymlinkQuery,
  SymlinkResponse,
  UpdateStatusBody,
} from '@cairn/schemas/comet';
import { HEARTBEAT_INTERVAL_MILLIS } from '../../../../core/experiments.service.js';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { projectNameRule } from '../comet-field-rules.js';
import { projectRef, writeOk } from '../comet-reply.js';
import { experimentLink, requiredExperimentKey, toExperimentMetadata } from '../experiment-mapper.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/**
 * comet_ml's documented monitor intervals. Cairn does not use the samples' timing, so the
 * client's defaults are handed back unchanged; only the beat interval is the core's.
 */
const GPU_MONITOR_INTERVAL_MILLIS = 60_000;
const CPU_MONITOR_INTERVAL_MILLIS = 68_000;

/** Experiment lists and metadata (spec §3.3 #10, §3.4 #12) and the lifecycle writes (spec §4.1). */
export function registerExperimentsRoutes({ app, core, publicUrl }: CometRouteContext): void {
  /** GET /api/rest/v2/experiments?projectId= | ?workspaceName=&projectName= [&archived=] */
  app.get(
    '/experiments',
    { schema: { querystring: ExperimentsQuery, response: { 200: ExperimentsResponse, ...errors } } },
    async (request) => {
      const archived = parseCometBoolean(request.query.archived);
      const views = await core.experiments.list(principalOf(request), projectRef(request.query), archived);
      return { experiments: views.map(toExperimentMetadata) };
    },
  );

  /** GET /api/rest/v2/experiment/metadata?experimentKey= */
  app.get(
    '/experiment/metadata',
    { schema: { querystring: ExperimentMetadataQuery, response: { 200: ExperimentMetadata, ...errors } } },
    async (request) =>
      toExperimentMetadata(await core.experiments.get(principalOf(request), request.query.experimentKey)),
  );

  /** POST /api/rest/v2/write/experiment/create — creates the project too when it is missing. */
  app.post(
    '/write/experiment/create',
    {
      config: { cometFieldRules: { projectName: projectNameRule } },
      schema: { body: CreateExperimentBody, response: { 200: CreateExperimentResponse, ...errors } },
    },
    async (request) => {
      const body = request.body;
      const view = await core.experiments.create(principalOf(request), {
        workspaceName: body.workspaceName,
        projectName: body.projectName,
        experimentName: body.experimentName ?? null,
        experimentKey: body.experimentKey ?? null,
      });
      const { experiment, project, workspace } = view;
      return writeOk('Created', {
        experimentKey: experiment.id,
        workspaceName: workspace.name,
        projectName: project.name,
        link: experimentLink(publicUrl, workspace.name, project.name, experiment.id),
        name: experiment.name,
      });
    },
  );

  const lifecycle = { querystring: ExperimentLifecycleQuery, response: { 200: PlainWriteResponse, ...errors } };

  /** GET /api/rest/v2/write/experiment/stop?experimentKey= */
  app.get('/write/experiment/stop', { schema: lifecycle }, async (request) => {
    await core.experiments.stop(principalOf(request), request.query.experimentKey);
    return writeOk('Stop Requested');
  });

  /** GET /api/rest/v2/write/experiment/archive?experimentKey= */
  app.get('/write/experiment/archive', { schema: lifecycle }, async (request) => {
    await core.experiments.setArchived(principalOf(request), request.query.experimentKey, true);
    return writeOk('Archived');
  });

  /** GET /api/rest/v2/write/experiment/restore?experimentKey= */
  app.get('/write/experiment/restore', { schema: lifecycle }, async (request) => {
    await core.experiments.setArchived(principalOf(request), request.query.experimentKey, false);
    return writeOk('Restore');
  });

  /** GET /api/rest/v2/write/experiment/delete?experimentKey= */
  app.get('/write/experiment/delete', { schema: lifecycle }, async (request) => {
    await core.experiments.delete(principalOf(request), request.query.experimentKey);
    return writeOk('Deleted');
  });

  /** POST /api/rest/v2/write/experiment/move — the response is undocumented; the envelope suffices. */
  app.post(
    '/write/experiment/move',
    {
      config: { cometFieldRules: { targetProjectName: projectNameRule } },
      schema: { body: MoveExperimentsBody, response: { 200: PlainWriteResponse, ...errors } },
    },
    async (request) => {
      await core.experiments.move(principalOf(request), request.body);
      return writeOk(request.body.symlink ? 'Symlinked' : 'Moved');
    },
  );

  /** GET /api/rest/v2/write/project/symlink?experimentKey=&projectName= (also `exerimentKey`) */
  app.get(
    '/write/project/symlink',
    {
      config: { cometFieldRules: { projectName: projectNameRule } },
      schema: { querystring: SymlinkQuery, response: { 200: SymlinkResponse, ...errors } },
    },
    async (request) => {
      const key = requiredExperimentKey(request.query);
      const view = await core.experiments.symlink(principalOf(request), key, request.query.projectName);
      return writeOk('Symlinked', {
        link: experimentLink(publicUrl, view.workspace.name, request.query.projectName, view.experiment.id),
      });
    },
  );

  /** GET /api/rest/v2/write/experiment/set-status?experimentKey= — the heartbeat. */
  app.get(
    '/write/experiment/set-status',
    { schema: { querystring: ExperimentLifecycleQuery, response: { 200: HeartbeatResponse, ...errors } } },
    async (request) => {
      await core.experiments.heartbeat(principalOf(request), request.query.experimentKey);
      return writeOk('Status updated', {
        isAliveBeatDurationMillis: HEARTBEAT_INTERVAL_MILLIS,
        gpuMonitorIntervalMillis: GPU_MONITOR_INTERVAL_MILLIS,
        cpuMonitorIntervalMillis: CPU_MONITOR_INTERVAL_MILLIS,
      });
    },
  );

  /** POST /api/rest/v2/write/experiment/set-start-end-time */
  app.post(
    '/write/experiment/set-start-end-time',
    { schema: { body: SetStartEndTimeBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { experimentKey, startTimeMillis, endTimeMillis } = request.body;
      await core.experiments.setStartEndTime(principalOf(request), experimentKey, { startTimeMillis, endTimeMillis });
      return writeOk('Updated');
    },
  );

  /** POST /api/rest/v2/write/experiment/update-status */
  app.post(
    '/write/experiment/update-status',
    { schema: { body: UpdateStatusBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { experimentKey, isAlive, error, hasCrashed } = request.body;
      await core.experiments.updateStatus(principalOf(request), experimentKey, { isAlive, error, hasCrashed });
      return writeOk('Status updated');
    },
  );

  /** POST /api/rest/v2/write/experiment/file-path */
  app.post(
    '/write/experiment/file-path',
    { schema: { body: FilePathBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.experiments.setFilePath(principalOf(request), request.body.experimentKey, request.body.filePath);
      return writeOk('Saved');
    },
  );
}
