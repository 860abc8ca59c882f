import {
  EventsHeaders,
  ExperimentEventsParams,
  type PointsEventData,
  Problem,
  ProjectEventsParams,
} from '@cairn/schemas/cairn';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../../../core/core.js';
import type { LiveDelivery, LiveEvent, LiveSubscription } from '../../../../core/live-events.port.js';
import { MediaTypes } from '../../../binary-body.js';
import { principalOf } from '../../../request-context.js';
import { type SseMessage, type SseOptions, SseStream } from '../../../sse-stream.js';
import { wireAsset, wireExperiment } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';

/**
 * Server-sent events, documented one event at a time: `event` names the change, `data` is its
 * JSON, `id` resumes the stream (Last-Event-ID), `retry` is the reconnect delay.
 */
const EventStream = MediaTypes({
  'text/event-stream': Type.Object({
    event: Type.Optional(Type.String()),
    data: Type.Optional(Type.String()),
    id: Type.Optional(Type.String()),
    retry: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
});

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

function wireValue(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function eventData(event: LiveEvent): unknown {
  const experiment = event.experimentId;
  switch (event.type) {
    case 'experiment':
      return { experiment: wireExperiment(event.view, event.tags) };
    case 'points': {
      const data: PointsEventData = event.truncated
        ? { experiment, truncated: true, series: event.series }
        : {
            experiment,
            truncated: false,
            series: event.series.map((s) => ({ ...s, values: s.values.map(wireValue) })),
          };
      return data;
    }
    case 'values':
      return { experiment, kind: event.kind, names: event.names };
    case 'heartbeat':
      return { experiment, lastHeartbeat: event.lastHeartbeat };
    case 'asset':
      return { experiment, asset: wireAsset(event.asset) };
  }
}

/** Every stream following an event shares one rendering of it. */
const rendered = new WeakMap<LiveEvent, string>();

function message(delivery: LiveDelivery): SseMessage {
  if (delivery.kind === 'reset') return { id: delivery.id, event: 'reset', data: '{}' };
  let data = rendered.get(delivery.event);
  if (data === undefined) {
    data = JSON.stringify(eventData(delivery.event));
    rendered.set(delivery.event, data);
  }
  return { id: delivery.id, event: delivery.event.type, data };
}

/**
 * Streams a subscription: `follow` subscribes (and throws "not found" before anything is sent);
 * then the response becomes the event stream, which lives until the client goes, the server
 * closes, or the client falls too far behind.
 */
async function stream(
  request: FastifyRequest,
  reply: FastifyReply,
  streams: Set<SseStream>,
  options: SseOptions,
  follow: (listener: (delivery: LiveDelivery) => void) => Promise<LiveSubscription>,
): Promise<void> {
  const sse = new SseStream(reply.raw, options);
  const subscription = await follow((delivery) => sse.send(message(delivery)));
  reply.hijack();
  streams.add(sse);
  sse.onClose(() => {
    subscription.close();
    streams.delete(sse);
  });
  // An id alone tells the client where it stands when nothing was missed.
  const first = subscription.backlog.length > 0 ? subscription.backlog.map(message) : [{ id: subscription.position }];
  sse.open({ 'x-request-id': request.id }, first);
}

export function registerEventRoutes(app: CairnApp, core: Core, options: SseOptions): void {
  const streams = new Set<SseStream>();
  // Open streams never finish on their own: end them when the server closes, or it would wait for them.
  app.addHook('preClose', async () => {
    for (const sse of streams) sse.end();
  });

  /** GET /api/cairn/v1/experiments/:experimentKey/events — one experiment's changes, live (text/event-stream). */
  app.get(
    '/experiments/:experimentKey/events',
    { schema: { params: ExperimentEventsParams, headers: EventsHeaders, response: { 200: EventStream, ...errors } } },
    (request, reply) =>
      stream(request, reply, streams, options, (listener) =>
        core.live.followExperiment(
          principalOf(request),
          request.params.experimentKey,
          request.headers['last-event-id'],
          listener,
        ),
      ),
  );

  /** GET /api/cairn/v1/workspaces/:workspace/projects/:project/events — a project's changes, live (text/event-stream). */
  app.get(
    '/workspaces/:workspace/projects/:project/events',
    { schema: { params: ProjectEventsParams, headers: EventsHeaders, response: { 200: EventStream, ...errors } } },
    (request, reply) =>
      stream(request, reply, streams, options, (listener) =>
        core.live.followProject(
          principalOf(request),
          { workspaceName: request.params.workspace, projectName: request.params.project },
          request.headers['last-event-id'],
          listener,
        ),
      ),
  );
}
