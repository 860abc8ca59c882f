import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveDelivery, LiveEvent } from '../src/core/live-events.port.js';
import { NOTIFY_PAYLOAD_MAX_BYTES, PostgresLiveEvents } from '../src/storage/sql/postgres-live-events.js';
import { SqlStore } from '../src/storage/sql/sql-store.js';
import { backends, POSTGRES_URL } from './support/test-context.js';

/** Two buses on one schema stand for two server nodes; the two-node end-to-end test runs real servers. */
describe.runIf(backends.includes('postgres'))('PostgreSQL live events', () => {
  const schema = `t_${Math.random().toString(36).slice(2, 12)}`;
  const url = `${POSTGRES_URL}?schema=${schema}`;
  let admin: pg.Client;
  let store: SqlStore;
  let nodeA: PostgresLiveEvents;
  let nodeB: PostgresLiveEvents;
  let otherSchema: PostgresLiveEvents;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.query(`create schema ${schema}_other`);
    store = await SqlStore.open(url);
    nodeA = await PostgresLiveEvents.open(url);
    nodeB = await PostgresLiveEvents.open(url);
    otherSchema = await PostgresLiveEvents.open(`${POSTGRES_URL}?schema=${schema}_other`);
  });
  afterAll(async () => {
    await Promise.all([nodeA?.close(), nodeB?.close(), otherSchema?.close()]);
    await store?.close();
    await admin?.query(`drop schema ${schema} cascade`);
    await admin?.query(`drop schema ${schema}_other cascade`);
    await admin?.end();
  });

  function collect(bus: PostgresLiveEvents, projectId: string) {
    const received: LiveDelivery[] = [];
    const subscription = bus.subscribe({ projectId }, undefined, (d) => received.push(d));
    return { received, subscription };
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(condition()).toBe(true);
  }

  it('delivers every node its own and the others’ events in one order, values and large events intact', async () => {
    const onA = collect(nodeA, 'p1');
    const onB = collect(nodeB, 'p1');
    const elsewhere = collect(otherSchema, 'p1');
    const points: LiveEvent = {
      type: 'points',
      experimentId: 'e1',
      projectId: 'p1',
      truncated: false,
      series: [
        {
          name: 'loss',
          context: null,
          offsets: [0, 1, 2],
          steps: [0, 1, null],
          values: [0.5, Number.NaN, Number.NEGATIVE_INFINITY],
          timestamps: [1, 2, 3],
          epochs: [null, null, 1],
        },
      ],
    };
    const many = 3_000;
    const large: LiveEvent = {
      type: 'values',
      experimentId: 'e1',
      projectId: 'p1',
      kind: 'parameter',
      names: Array.from({ length: many }, (_, i) => `parameter-${i}`),
    };
    expect(JSON.stringify(large).length).toBeGreaterThan(NOTIFY_PAYLOAD_MAX_BYTES);
    const heartbeat = (n: number): LiveEvent => ({
      type: 'heartbeat',
      experimentId: 'e1',
      projectId: 'p1',
      lastHeartbeat: n,
    });
    nodeA.publish(points);
    nodeA.publish(large);
    for (let n = 0; n < 20; n++) (n % 2 ? nodeA : nodeB).publish(heartbeat(n));

    await until(() => onA.received.length === 22 && onB.received.length === 22);
    const events = (received: LiveDelivery[]) => received.map((d) => (d.kind === 'event' ? d.event : d));
    // Both nodes saw one order, each publisher's events in its publish order.
    expect(events(onA.received)).toEqual(events(onB.received));
    const fromA = events(onB.received).filter((e) => 'type' in e && (e.type !== 'heartbeat' || e.lastHeartbeat % 2));
    expect(fromA.slice(0, 2)).toEqual([points, large]);
    const beats = (odd: number) =>
      events(onB.received).flatMap((e) =>
        'type' in e && e.type === 'heartbeat' && e.lastHeartbeat % 2 === odd ? [e.lastHeartbeat] : [],
      );
    expect(beats(1)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(beats(0)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    // Another schema on the same database hears nothing of it.
    expect(elsewhere.received).toEqual([]);
    for (const s of [onA, onB, elsewhere]) s.subscription.close();
  });

  it('after losing its connection, listens again and resets its followers', async () => {
    const onB = collect(nodeB, 'p2');
    const { rowCount } = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
      [`cairn_live:${schema}`],
    );
    expect(rowCount).toBe(2);
    await until(() => onB.received.some((d) => d.kind === 'reset'));
    const beat: LiveEvent = { type: 'heartbeat', experimentId: 'e2', projectId: 'p2', lastHeartbeat: 1 };
    // The publisher may still be reconnecting: publish until the event comes through.
    await until(() => {
      if (!onB.received.some((d) => d.kind === 'event')) nodeA.publish(beat);
      return onB.received.some((d) => d.kind === 'event');
    });
    expect(onB.received[0]?.kind).toBe('reset');
    onB.subscription.close();
  });
});
