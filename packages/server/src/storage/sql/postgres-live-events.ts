import pg from 'pg';
import {
  DEFAULT_LIVE_HISTORY,
  InProcessLiveEvents,
  type LiveHistoryLimits,
} from '../../core/in-process-live-events.js';
import type {
  LiveDelivery,
  LiveEvent,
  LiveEventBus,
  LiveFilter,
  LiveSubscription,
} from '../../core/live-events.port.js';
import { postgresConnection } from './dialect.js';

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; this leaves room for the envelope. */
export const NOTIFY_PAYLOAD_MAX_BYTES = 7_900;
/** How long an oversized event's payload is kept for the listeners to read (they read it at once). */
const OVERSIZED_KEEP_MILLIS = 5 * 60_000;
/** Events waiting for the connection; past this (a database that stopped answering) they are dropped. */
const MAX_QUEUED = 10_000;
const RECONNECT_MILLIS = 1_000;

/** What travels in a notification: an event, or the id of an oversized one's stored payload. */
type Notice = { e: unknown } | { ref: number };

/**
 * The live event bus of several server nodes on one PostgreSQL database. `publish` sends the
 * event with NOTIFY on the channel of the database schema; every node (the publisher too) LISTENs
 * on it and feeds the events, in the order notifications arrive (PostgreSQL's commit order of the
 * NOTIFYs), to its own subscribers and resumption history (an `InProcessLiveEvents`). So a client
 * following through any node sees the writes made through every node. Event ids name positions in
 * one node's history: resuming on another node starts with a reset, as the port allows.
 *
 * Payloads are capped at 8,000 bytes: a larger event (a points event of up to LIVE_POINTS_MAX
 * points, bigger batches already travel as ranges; an experiment whose project has long notes) is
 * stored in `live_event_payloads` and sent by id. Its offsets are per-experiment sequence numbers,
 * not series positions, so it could not be turned into the truncated form without a query.
 *
 * Limits: LISTEN needs a session of its own (not a pgBouncer transaction-mode pool). While the
 * connection is down this node's events are dropped and other nodes' are missed, as the port
 * allows (the changes are committed and readable); once it is back, every subscriber here gets a
 * reset, and so does any resumption from before. Events of one experiment published by two nodes reach listeners in the
 * order the NOTIFYs commit, which follows (but may not equal) the order of the writes: points
 * events carry their offsets, and experiment events their full state.
 */
export class PostgresLiveEvents implements LiveEventBus {
  private readonly local: InProcessLiveEvents;
  private client: pg.Client | undefined;
  private closed = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Sends and receives, one at a time, so events keep their order both ways. */
  private outgoing: Promise<void> = Promise.resolve();
  private queued = 0;
  private incoming: Promise<void> = Promise.resolve();
  private everConnected = false;

  private constructor(
    private readonly url: string,
    private readonly channel: string,
    history: LiveHistoryLimits,
  ) {
    this.local = new InProcessLiveEvents(history);
  }

  /** Connects and listens; fails when the database cannot be reached. */
  static async open(url: string, history: LiveHistoryLimits = DEFAULT_LIVE_HISTORY): Promise<PostgresLiveEvents> {
    const schema = new URL(url).searchParams.get('schema') ?? 'public';
    // One channel per schema: stores sharing a database (test suites, several Cairns) stay apart.
    const bus = new PostgresLiveEvents(url, `cairn_live:${schema}`, history);
    await bus.connect();
    return bus;
  }

  publish(event: LiveEvent): void {
    if (this.closed || this.queued >= MAX_QUEUED) return;
    const text = encode(event);
    this.queued++;
    this.outgoing = this.outgoing
      .then(() => this.send(text))
      .catch(() => {
        // Dropped: the change is committed and readable; the bus promises no more (see above).
      })
      .finally(() => {
        this.queued--;
      });
  }

  subscribe(
    filter: LiveFilter,
    after: string | undefined,
    listener: (delivery: LiveDelivery) => void,
  ): LiveSubscription {
    return this.local.subscribe(filter, after, listener);
  }

  /** Sends what is queued, then lets go of the connection. */
  async close(): Promise<void> {
    await this.outgoing;
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async send(text: string): Promise<void> {
    const client = this.client;
    if (!client) return;
    let notice: string = `{"e":${text}}`;
    if (Buffer.byteLength(notice) > NOTIFY_PAYLOAD_MAX_BYTES) {
      const now = Date.now();
      await client.query('delete from live_event_payloads where created_at < $1', [now - OVERSIZED_KEEP_MILLIS]);
      const stored = await client.query<{ id: number }>(
        'insert into live_event_payloads (payload, created_at) values ($1, $2) returning id',
        [text, now],
      );
      notice = JSON.stringify({ ref: Number(stored.rows[0]?.id) });
    }
    await client.query('select pg_notify($1, $2)', [this.channel, notice]);
  }

  private async connect(): Promise<void> {
    // Named after the channel, so operators (and tests) can tell these sessions in pg_stat_activity.
    const client = new pg.Client({ ...postgresConnection(this.url), keepAlive: true, application_name: this.channel });
    client.on('notification', (message) => {
      if (message.channel !== this.channel || message.payload === undefined) return;
      const payload = message.payload;
      this.incoming = this.incoming.then(() => this.receive(client, payload)).catch(() => undefined);
    });
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    await client.connect();
    await client.query(`listen ${client.escapeIdentifier(this.channel)}`);
    if (this.closed) {
      await client.end();
      return;
    }
    const reconnected = this.everConnected;
    this.everConnected = true;
    this.client = client;
    // Other nodes' events went by while no one listened here: the streams must re-read.
    if (reconnected) this.incoming = this.incoming.then(() => this.local.reset());
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch(() => this.scheduleReconnect());
    }, RECONNECT_MILLIS);
    this.reconnectTimer.unref?.();
  }

  private async receive(client: pg.Client, payload: string): Promise<void> {
    const notice = JSON.parse(payload) as Notice;
    let event: unknown;
    if ('ref' in notice) {
      const row = await client.query<{ payload: string }>('select payload from live_event_payloads where id = $1', [
        notice.ref,
      ]);
      const stored = row.rows[0]?.payload;
      if (stored === undefined) return;
      event = JSON.parse(stored);
    } else event = notice.e;
    this.local.publish(decode(event));
  }
}

/** JSON has no NaN or infinities, which metric values may be: they travel as strings. */
function encode(event: LiveEvent): string {
  if (event.type !== 'points' || event.truncated) return JSON.stringify(event);
  return JSON.stringify({
    ...event,
    series: event.series.map((s) => ({ ...s, values: s.values.map((v) => (Number.isFinite(v) ? v : String(v))) })),
  });
}

function decode(value: unknown): LiveEvent {
  const event = value as LiveEvent;
  if (event.type !== 'points' || event.truncated) return event;
  for (const series of event.series) series.values = series.values.map(Number);
  return event;
}
