import {
  CloudDetailsBody,
  CloudDetailsResponse,
  CodeResponse,
  DependenciesBody,
  ExperimentDataQuery,
  GitMetadataBody,
  GitMetadataResponse,
  GraphResponse,
  HtmlResponse,
  LogGraphBody,
  LogHtmlBody,
  LogOutputBody,
  OutputResponse,
  PlainWriteResponse,
  SetCodeBody,
  SystemDetailsBody,
  SystemDetailsResponse,
} from '@cairn/schemas/comet';
import {
  mergeDependencies,
  mergeSystemDetails,
  parseSystemDetails,
  type SystemDetailsPatch,
} from '../../../../core/experiment-documents.js';
import { principalOf } from '../../../request-context.js';
import { contentBatchKey, isLiveExperimentCall } from '../batch-key.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { writeOk } from '../comet-reply.js';
import { dataErrors as errors, infoText, joinOutput, systemDetailsOut } from './experiment-data.mapper.js';

interface GitMetadata {
  user: string | null;
  root: string | null;
  branch: string | null;
  parent: string | null;
  origin: string | null;
}

interface CloudDetails {
  provider: string | null;
  metadata: Record<string, unknown> | null;
}

/**
 * Single-valued experiment content — HTML, code, graph, output, git metadata, system details,
 * cloud details, dependencies: writes (spec §4.2 #16–20, #22–24) and reads (§3.4 #13, #15–19, #25).
 * Text documents never logged read as "" (not null): clients display or concatenate them.
 */
export function registerExperimentDocumentsRoutes({ app, core }: CometRouteContext): void {
  const write = { response: { 200: PlainWriteResponse, ...errors } };
  const read = <T>(response: T) => ({ querystring: ExperimentDataQuery, response: { 200: response, ...errors } });

  /** POST /write/experiment/html — `override` replaces, otherwise the HTML is appended. */
  app.post('/write/experiment/html', { schema: { body: LogHtmlBody, ...write } }, async (request) => {
    const body = request.body;
    await core.experiments.logHtml(principalOf(request), body.experimentKey, body.html, body.override ?? false);
    return writeOk('Saved');
  });

  /** GET /experiment/html?experimentKey= */
  app.get('/experiment/html', { schema: read(HtmlResponse) }, async (request) => ({
    html: (await core.experiments.getDocument(principalOf(request), request.query.experimentKey, 'html')) ?? '',
  }));

  /** POST /write/experiment/code — replaces the code. */
  app.post('/write/experiment/code', { schema: { body: SetCodeBody, ...write } }, async (request) => {
    await core.experiments.setDocument(principalOf(request), request.body.experimentKey, 'code', request.body.code);
    return writeOk('Saved');
  });

  /** GET /experiment/code?experimentKey= */
  app.get('/experiment/code', { schema: read(CodeResponse) }, async (request) => ({
    code: (await core.experiments.getDocument(principalOf(request), request.query.experimentKey, 'code')) ?? '',
  }));

  /** POST /write/experiment/graph — replaces the model graph. */
  app.post('/write/experiment/graph', { schema: { body: LogGraphBody, ...write } }, async (request) => {
    await core.experiments.setDocument(principalOf(request), request.body.experimentKey, 'graph', request.body.graph);
    return writeOk('Saved');
  });

  /** GET /experiment/graph?experimentKey= */
  app.get('/experiment/graph', { schema: read(GraphResponse) }, async (request) => ({
    graph: (await core.experiments.getDocument(principalOf(request), request.query.experimentKey, 'graph')) ?? '',
  }));

  /**
   * POST /write/experiment/output — comet_ml posts it to /clientlib/rest/v2, often gzipped. A live
   * Experiment's resent post is acknowledged and not appended again (see isLiveExperimentCall).
   */
  app.post('/write/experiment/output', { schema: { body: LogOutputBody, ...write } }, async (request) => {
    const body = request.body;
    const context = body.runContext ?? body.context ?? null;
    const appended = await core.experiments.logOutput(
      principalOf(request),
      body.experimentKey,
      body.outputLines.map((line) => ({
        text: line.output,
        stderr: line.stderr ?? false,
        context,
        timestamp: line.localTimestamp ?? null,
        clientOffset: line.offset ?? null,
      })),
      isLiveExperimentCall(request.headers) ? contentBatchKey('output', body) : undefined,
    );
    return writeOk(appended ? 'Saved' : 'Already stored: the post replays one received before');
  });

  /** GET /experiment/output?experimentKey= — stdout and stderr together, in logging order. */
  app.get('/experiment/output', { schema: read(OutputResponse) }, async (request) => ({
    output: joinOutput(await core.experiments.getOutput(principalOf(request), request.query.experimentKey)),
  }));

  /** POST /write/experiment/git/metadata — replaces all five fields (absent ones become null). */
  app.post('/write/experiment/git/metadata', { schema: { body: GitMetadataBody, ...write } }, async (request) => {
    const body = request.body;
    await core.experiments.setDocument(
      principalOf(request),
      body.experimentKey,
      'git-metadata',
      JSON.stringify(completeGitMetadata(body)),
    );
    return writeOk('Saved');
  });

  /** GET /experiment/git/metadata?experimentKey= — every key present, null when unset. */
  app.get('/experiment/git/metadata', { schema: read(GitMetadataResponse) }, async (request) => {
    const json = await core.experiments.getDocument(principalOf(request), request.query.experimentKey, 'git-metadata');
    return completeGitMetadata(json ? (JSON.parse(json) as Partial<GitMetadata>) : {});
  });

  /**
   * POST /write/experiment/system-details — a merge: comet_ml sends one field per call (to
   * /clientlib/rest/v2), so only the fields present change.
   */
  app.post('/write/experiment/system-details', { schema: { body: SystemDetailsBody, ...write } }, async (request) => {
    const { experimentKey, logAdditionalSystemInfoList, ...fields } = request.body;
    const { gpuStaticInfoList } = fields;
    const patch: SystemDetailsPatch = {
      ...fields,
      gpuStaticInfoList: gpuStaticInfoList?.map((gpu) => ({
        gpuIndex: gpu.gpuIndex ?? null,
        name: gpu.name ?? null,
        uuid: gpu.uuid ?? null,
        totalMemory: gpu.totalMemory ?? null,
        powerLimit: gpu.powerLimit ?? null,
      })),
      logAdditionalSystemInfoList: logAdditionalSystemInfoList?.map((e) => ({ key: e.key, value: infoText(e.value) })),
    };
    await core.experiments.updateDocument(principalOf(request), experimentKey, 'system-details', (current) =>
      mergeSystemDetails(current, patch),
    );
    return writeOk('Saved');
  });

  /** GET /experiment/system-details?experimentKey= — every key present; `systemMetricNames` from the series. */
  app.get('/experiment/system-details', { schema: read(SystemDetailsResponse) }, async (request) => {
    const principal = principalOf(request);
    const key = request.query.experimentKey;
    const json = await core.experiments.getDocument(principal, key, 'system-details');
    const systemMetricNames = await core.metrics.systemMetricNames(principal, key);
    return systemDetailsOut(key, parseSystemDetails(json), systemMetricNames);
  });

  /** POST /write/experiment/cloud-details — replaces provider and metadata. */
  app.post('/write/experiment/cloud-details', { schema: { body: CloudDetailsBody, ...write } }, async (request) => {
    const body = request.body;
    const details: CloudDetails = { provider: body.provider ?? null, metadata: body.metadata ?? null };
    await core.experiments.setDocument(
      principalOf(request),
      body.experimentKey,
      'cloud-details',
      JSON.stringify(details),
    );
    return writeOk('Saved');
  });

  /** GET /experiment/cloud-details?experimentKey= — all three keys null when never set (spec §3.4 #19). */
  app.get('/experiment/cloud-details', { schema: read(CloudDetailsResponse) }, async (request) => {
    const key = request.query.experimentKey;
    const json = await core.experiments.getDocument(principalOf(request), key, 'cloud-details');
    if (!json) return { experimentKey: null, provider: null, metadata: null };
    const stored = JSON.parse(json) as CloudDetails;
    return { experimentKey: key, provider: stored.provider, metadata: stored.metadata };
  });

  /** PUT /write/experiment/dependencies — upserted by name into the experiment's list. */
  app.put('/write/experiment/dependencies', { schema: { body: DependenciesBody, ...write } }, async (request) => {
    const body = request.body;
    const added = body.logDependencies.map((d) => ({ name: d.name, version: d.version ?? null }));
    await core.experiments.updateDocument(principalOf(request), body.experimentKey, 'dependencies', (current) =>
      mergeDependencies(current, added),
    );
    return writeOk('Saved');
  });
}

/** All five git fields, null where not given: writes store them so, reads always answer so. */
function completeGitMetadata(fields: { [K in keyof GitMetadata]?: GitMetadata[K] | undefined }): GitMetadata {
  return {
    user: fields.user ?? null,
    root: fields.root ?? null,
    branch: fields.branch ?? null,
    parent: fields.parent ?? null,
    origin: fields.origin ?? null,
  };
}
