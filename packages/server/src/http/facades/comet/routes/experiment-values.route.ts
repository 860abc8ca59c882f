import {
  AddTagsBody,
  ExperimentDataQuery,
  LogOtherBody,
  LogParameterBody,
  PlainWriteResponse,
  SummaryResponse,
  TagsResponse,
} from '@cairn/schemas/comet';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { writeOk } from '../comet-reply.js';
import { dataErrors as errors, loggedScalar, valueSummaryRow } from './experiment-data.mapper.js';

/**
 * Parameters, others and tags of one experiment: writes (spec §4.2 #13–15) and reads
 * (§3.4 #22–24).
 */
export function registerExperimentValuesRoutes({ app, core }: CometRouteContext): void {
  const write = { response: { 200: PlainWriteResponse, ...errors } };
  const summary = { querystring: ExperimentDataQuery, response: { 200: SummaryResponse, ...errors } };

  /** POST /write/experiment/parameter */
  app.post('/write/experiment/parameter', { schema: { body: LogParameterBody, ...write } }, async (request) => {
    const body = request.body;
    await core.experiments.logValues(principalOf(request), body.experimentKey, 'param', [
      {
        name: body.parameterName,
        value: loggedScalar(body.parameterValue),
        step: body.step ?? null,
        timestamp: body.timestamp ?? null,
        context: body.context ?? null,
      },
    ]);
    return writeOk('Saved');
  });

  /** GET /experiment/parameters?experimentKey= */
  app.get('/experiment/parameters', { schema: summary }, async (request) => {
    const summaries = await core.experiments.summarizeValues(
      principalOf(request),
      request.query.experimentKey,
      'param',
    );
    return { values: summaries.map(valueSummaryRow) };
  });

  /** POST /write/experiment/log-other — the key `Name` also renames the experiment (in the core). */
  app.post('/write/experiment/log-other', { schema: { body: LogOtherBody, ...write } }, async (request) => {
    const body = request.body;
    await core.experiments.logValues(principalOf(request), body.experimentKey, 'other', [
      { name: body.key, value: loggedScalar(body.value), timestamp: body.timestamp ?? null },
    ]);
    return writeOk('Saved');
  });

  /** GET /experiment/log-other?experimentKey= */
  app.get('/experiment/log-other', { schema: summary }, async (request) => {
    const summaries = await core.experiments.summarizeValues(
      principalOf(request),
      request.query.experimentKey,
      'other',
    );
    return { values: summaries.map(valueSummaryRow) };
  });

  /** POST /write/experiment/tags — a set union with the tags already there. */
  app.post('/write/experiment/tags', { schema: { body: AddTagsBody, ...write } }, async (request) => {
    await core.experiments.addTags(principalOf(request), request.body.experimentKey, request.body.addedTags);
    return writeOk('Saved');
  });

  /** GET /experiment/tags?experimentKey= — in the order each tag was first added. */
  app.get(
    '/experiment/tags',
    { schema: { querystring: ExperimentDataQuery, response: { 200: TagsResponse, ...errors } } },
    async (request) => ({
      tags: await core.experiments.getTags(principalOf(request), request.query.experimentKey),
    }),
  );
}
