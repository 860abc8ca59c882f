import { randomBytes } from 'node:crypto';
import {
  BatchResponse,
  ClientlibSymlinkQuery,
  ClientlibTagsBody,
  CometError,
  CopyStepsBody,
  EmptyResponse,
  ExistingRunBody,
  MetricBatchBody,
  NewRunBody,
  NotificationBody,
  NotifyEventBody,
  OfflineMetadataBody,
  ParameterBatchBody,
  PendingRpcsQuery,
  PendingRpcsResponse,
  PlainWriteResponse,
  Points3dLimitsResponse,
  RpcBody,
  RunHandshakeResponse,
  StatusReportBody,
  StatusReportResponse,
  SymlinkResponse,
} from '@cairn/schemas/comet';
import type { FastifyRequest } from 'fastify';
import type { BatchOutcome } from '../../../../core/batches.js';
import { HEARTBEAT_INTERVAL_MILLIS } from '../../../../core/experiments.service.js';
import type { RunSession } from '../../../../core/live-runs.service.js';
import type { MetricInput } from '../../../../core/metrics.service.js';
import type { ClientStream } from '../../../../core/store.port.js';
import { principalOf } from '../../../request-context.js';
import { contentBatchKey } from '../batch-key.js';
import type { ClientlibRouteContext } from '../clientlib.plugin.js';
import { experimentKeyRule, projectNameRule } from '../comet-field-rules.js';
import { writeOk } from '../comet-reply.js';
import { experimentLink } from '../experiment-mapper.js';
import { loggedScalar } from './experiment-data.mapper.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/**
 * The monitor intervals handed to clients. comet_ml samples CPU and GPU at these intervals and
 * sends its parameter batch at most this often (and always at the end).
 */
const MONITOR_INTERVAL_MILLIS = 60_000;
const PARAMETER_UPDATE_INTERVAL_MILLIS = 60_000;

/** comet_ml's own defaults for 3D point clouds; Cairn stores them as plain assets. */
const POINTS_3D_LIMITS = {
  maxPoints: 1_000_000,
  maxPointsFileSizeInBytes: 0,
  maxBoxes: 250_000,
  maxBoxesFileSizeInBytes: 0,
};

const MIB = 1024 * 1024;

/** Run handshakes, status reports, batches, tags and the small calls of comet_ml's clientlib. */
export function registerClientlibRoutes({ app, core, publicUrl }: ClientlibRouteContext): void {
  const handshake = { clientlibHandshake: true };
  const handshakeSchema = { response: { 200: RunHandshakeResponse, ...errors } };
  const uploadLimitMb = Math.max(1, Math.floor(core.limits.maxAssetBytes / MIB));

  function handshakeReply(session: RunSession): RunHandshakeResponse {
    const { experiment, project, workspace } = session.view;
    const getAsset = `${publicUrl}/api/rest/v2/experiment/asset/get-asset`;
    return {
      // Echoed by the client in status reports and uploads; Cairn knows runs by their key.
      runId: randomBytes(16).toString('hex'),
      ws_url: null,
      project_id: project.id,
      lastOffset: session.lastOffset,
      // The client prints focusUrl + key as the run's address.
      focusUrl: experimentLink(publicUrl, workspace.name, project.name, ''),
      featureToggles: [{ name: 'sdk_use_http_messages', enabled: true }],
      upload_file_size_limit_in_mb: uploadLimitMb,
      asset_upload_file_size_limit_in_mb: uploadLimitMb,
      cometWebAssetUrl: null,
      cometWebImageUrl: null,
      cometRestApiAssetUrl: getAsset,
      cometRestApiImageUrl: getAsset,
      name: experiment.name,
      githubEnabled: false,
      s3DirectAccessEnabled: false,
    };
  }

  /** POST /clientlib/logger/add/run — a new run under the client's key (400/90999 when taken). */
  app.post(
    '/logger/add/run',
    {
      config: { ...handshake, cometFieldRules: { experimentKey: experimentKeyRule, projectName: projectNameRule } },
      schema: { body: NewRunBody, ...handshakeSchema },
    },
    async (request) => {
      const body = request.body;
      const session = await core.liveRuns.start(principalOf(request), {
        key: body.experimentKey,
        workspaceName: body.teamName ?? null,
        projectName: body.projectName ?? null,
        getOrCreate: body.getOrCreate ?? false,
      });
      return handshakeReply(session);
    },
  );

  /** POST /clientlib/logger/get/run — ExistingExperiment (400/90211 for an unknown key). */
  app.post(
    '/logger/get/run',
    { config: handshake, schema: { body: ExistingRunBody, ...handshakeSchema } },
    async (request) =>
      handshakeReply(await core.liveRuns.resume(principalOf(request), request.body.previousExperiment)),
  );

  /** POST /clientlib/logger/copy-steps-from-experiment — ExistingExperiment(step_copy=N). */
  app.post(
    '/logger/copy-steps-from-experiment',
    { config: handshake, schema: { body: CopyStepsBody, ...handshakeSchema } },
    async (request) => {
      const { copiedExperimentKey, newExperimentKey, stepToCopyTo } = request.body;
      return handshakeReply(
        await core.liveRuns.copySteps(principalOf(request), copiedExperimentKey, newExperimentKey, stepToCopyTo),
      );
    },
  );

  /**
   * POST /clientlib/status-report/update — is_alive=true at the start and every beat: the run is
   * running while beats arrive (HEARTBEAT_TIMEOUT_MILLIS); is_alive=false ends it.
   */
  app.post(
    '/status-report/update',
    { schema: { body: StatusReportBody, response: { 200: StatusReportResponse, ...errors } } },
    async (request) => {
      const { experimentKey, is_alive: alive } = request.body;
      if (alive) await core.experiments.heartbeat(principalOf(request), experimentKey);
      else await core.experiments.stop(principalOf(request), experimentKey);
      return {
        is_alive_beat_duration_millis: HEARTBEAT_INTERVAL_MILLIS,
        gpu_monitor_interval_millis: MONITOR_INTERVAL_MILLIS,
        cpu_monitor_interval_millis: MONITOR_INTERVAL_MILLIS,
        parameter_update_interval_millis: PARAMETER_UPDATE_INTERVAL_MILLIS,
        // Remote procedure calls are never queued: Cairn has no UI that would start them.
        pending_rpcs: false,
      };
    },
  );

  /** POST /clientlib/status-report/offline-metadata — `comet upload` restores the run's own times. */
  app.post(
    '/status-report/offline-metadata',
    { schema: { body: OfflineMetadataBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { experimentKey, startTimestamp, endTimestamp } = request.body;
      await core.experiments.setStartEndTime(principalOf(request), experimentKey, {
        startTimeMillis: startTimestamp,
        endTimeMillis: endTimestamp,
      });
      return writeOk('Updated');
    },
  );

  /** POST /clientlib/batch/logger/experiment/metric — gzip; one append per batch, exactly once. */
  app.post(
    '/batch/logger/experiment/metric',
    { schema: { body: MetricBatchBody, response: { 200: BatchResponse, ...errors } } },
    async (request) => {
      const { experimentKey, values } = request.body;
      const outcome = await core.metrics.logMetricBatch(principalOf(request), experimentKey, values.map(metricInput), {
        batchKey: contentBatchKey('metric', values),
        // A batch is all the client will ever send of these points (it does not resend after a
        // refusal), so an unstorable point is left out rather than costing the others.
        lenient: true,
        // comet_ml sends NaN and infinities as the strings "NaN", "Infinity", "-Infinity".
        allowNonFinite: true,
      });
      return batchReply(request, 'metric', outcome);
    },
  );

  /** POST /clientlib/batch/logger/experiment/parameter — gzip; exactly once, like metrics. */
  app.post(
    '/batch/logger/experiment/parameter',
    { schema: { body: ParameterBatchBody, response: { 200: BatchResponse, ...errors } } },
    async (request) => {
      const { experimentKey, values } = request.body;
      const outcome = await core.experiments.logValues(
        principalOf(request),
        experimentKey,
        'param',
        values.map((v) => ({
          name: v.parameterName,
          value: loggedScalar(v.parameterValue),
          step: v.step ?? null,
          timestamp: v.timestamp ?? null,
          context: v.context ?? null,
        })),
        { batchKey: contentBatchKey('parameter', values), lenient: true },
      );
      return batchReply(request, 'parameter', outcome);
    },
  );

  /** POST /clientlib/tags/add-tags-to-experiment — a set union, so a resend changes nothing. */
  app.post(
    '/tags/add-tags-to-experiment',
    { schema: { body: ClientlibTagsBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.experiments.addTags(principalOf(request), request.body.experimentKey, request.body.addedTags);
      return writeOk('Tags added');
    },
  );

  /** GET /clientlib/symlink/new?experimentKey=&projectName= — Experiment.create_symlink. */
  app.get(
    '/symlink/new',
    {
      config: { cometFieldRules: { projectName: projectNameRule } },
      schema: { querystring: ClientlibSymlinkQuery, response: { 200: SymlinkResponse, ...errors } },
    },
    async (request) => {
      const { experimentKey, projectName } = request.query;
      const view = await core.experiments.symlink(principalOf(request), experimentKey, projectName);
      return writeOk('Symlinked', {
        link: experimentLink(publicUrl, view.workspace.name, projectName, view.experiment.id),
      });
    },
  );

  /**
   * POST /clientlib/notification/experiment — the end-of-run summary Comet would e-mail. Cairn
   * sends no mail: the summary is checked against the run and written to the server log.
   */
  app.post(
    '/notification/experiment',
    { schema: { body: NotificationBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const body = request.body;
      const view = await core.experiments.get(principalOf(request), body.experiment_key);
      request.log.info(
        { experimentKey: view.experiment.id, title: body.title, status: body.status },
        'run notification received',
      );
      return writeOk('Notification received');
    },
  );

  /** GET /clientlib/rpc/get-pending-rpcs — never any: see `pending_rpcs` in the status reply. */
  app.get(
    '/rpc/get-pending-rpcs',
    { schema: { querystring: PendingRpcsQuery, response: { 200: PendingRpcsResponse, ...errors } } },
    async (request) => {
      await core.experiments.get(principalOf(request), request.query.experimentKey);
      return { remoteProcedureCalls: [] };
    },
  );

  /** POST /clientlib/rpc/register-rpc and /clientlib/rpc/save-rpc-result — accepted, nothing to run. */
  for (const path of ['/rpc/register-rpc', '/rpc/save-rpc-result']) {
    app.post(path, { schema: { body: RpcBody, response: { 200: EmptyResponse, ...errors } } }, async (request) => {
      await core.experiments.get(principalOf(request), request.body.experimentKey);
      return {};
    });
  }

  /**
   * GET /clientlib/health/ping — the reachability probe of newer clients' offline fallback: 200
   * while the database answers. Needs no key (the client sends none).
   */
  app.get(
    '/health/ping',
    { config: { clientlibPublic: true }, schema: { response: { 200: EmptyResponse } } },
    async () => {
      await core.store.ping();
      return {};
    },
  );

  /** POST /clientlib/notify/event — SDK telemetry; noted in the server log at debug level. */
  app.post(
    '/notify/event',
    { schema: { body: NotifyEventBody, response: { 200: EmptyResponse, ...errors } } },
    async (request) => {
      request.log.debug({ event: request.body.event_name, error: request.body.err_msg }, 'client event');
      return {};
    },
  );

  /** GET|POST /clientlib/asset/3d-limits — asked by newer clients right after the handshake. */
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/asset/3d-limits',
      schema: { response: { 200: Points3dLimitsResponse, ...errors } },
      handler: async () => POINTS_3D_LIMITS,
    });
  }
}

/** A batch metric as the core takes it. */
function metricInput(item: MetricBatchBody['values'][number]): MetricInput {
  const value = item.metricValue;
  return {
    name: item.metricName,
    // Python's float(True) is 1.0; anything else not a number is text for the core to judge.
    value: typeof value === 'boolean' ? Number(value) : value === null ? 'null' : value,
    step: item.step ?? null,
    // Fractions are dropped, as in the REST metric write (comet_ml's epoch may be a float).
    epoch: item.epoch == null ? null : Math.trunc(item.epoch),
    context: item.context ?? null,
    timestamp: item.timestamp ?? null,
  };
}

function batchReply(request: FastifyRequest, stream: ClientStream, outcome: BatchOutcome) {
  if (outcome.skipped.length > 0) {
    request.log.warn({ stream, skipped: outcome.skipped.slice(0, 10) }, 'batch entries left out');
  }
  const msg = !outcome.applied
    ? 'Already stored: the batch replays one received before'
    : outcome.skipped.length > 0
      ? `Stored ${outcome.stored}; left out ${outcome.skipped.length}: ${outcome.skipped[0]?.reason}`
      : `Stored ${outcome.stored}`;
  return writeOk(msg, { duplicate: !outcome.applied, stored: outcome.stored, skipped: outcome.skipped.length });
}
