import { describe, expect, it } from 'vitest';
import { InProcessLiveEvents } from './in-process-live-events.js';
import type { LiveDelivery, LiveEvent } from './live-events.port.js';

const beat = (projectId: string, experimentId: string, lastHeartbeat = 1): LiveEvent => ({
  type: 'heartbeat',
  projectId,
  experimentId,
  lastHeartbeat,
});

const points = (projectId: string, experimentId: string, count: number): LiveEvent => ({
  type: 'points',
  projectId,
  experimentId,
  truncated: false,
  series: [
    {
      name: 'm',
      context: null,
      offsets: Array.from({ length: count }, (_, i) => i),
      steps: Array.from({ length: count }, () => null),
      values: Array.from({ length: count }, () => 1),
      timestamps: Array.from({ length: count }, () => 0),
      epochs: Array.from({ length: count }, () => null),
    },
  ],
});

const beats = (deliveries: readonly LiveDelivery[]) =>
  deliveries.map((d) => (d.kind === 'event' && d.event.type === 'heartbeat' ? d.event.lastHeartbeat : d.kind));

describe('in-process live events', () => {
  it('delivers to the project and experiment followers it concerns, moves to both projects', () => {
    const bus = new InProcessLiveEvents();
    const project: LiveDelivery[] = [];
    const experiment: LiveDelivery[] = [];
    const other: LiveDelivery[] = [];
    bus.subscribe({ projectId: 'p' }, undefined, (d) => project.push(d));
    bus.subscribe({ projectId: 'p', experimentId: 'e' }, undefined, (d) => experiment.push(d));
    bus.subscribe({ projectId: 'q' }, undefined, (d) => other.push(d));
    bus.publish(beat('p', 'e', 1));
    bus.publish(beat('p', 'f', 2));
    // e moves from p to q: p hears of it once more, and e's follower keeps following it in q.
    bus.publish({ ...beat('q', 'e', 3), previousProjectId: 'p' });
    bus.publish(beat('q', 'e', 4));
    expect(beats(project)).toEqual([1, 2, 3]);
    expect(beats(experiment)).toEqual([1, 3, 4]);
    expect(beats(other)).toEqual([3, 4]);
  });

  it('replays what a resuming follower missed, and nothing when it missed nothing', () => {
    const bus = new InProcessLiveEvents();
    const first = bus.subscribe({ projectId: 'p' }, undefined, () => {});
    bus.publish(beat('p', 'e', 1));
    bus.publish(beat('q', 'x', 2));
    bus.publish(beat('p', 'f', 3));
    const resumed = bus.subscribe({ projectId: 'p' }, first.position, () => {});
    expect(beats(resumed.backlog)).toEqual([1, 3]);
    expect(bus.subscribe({ projectId: 'p', experimentId: 'f' }, first.position, () => {}).backlog).toHaveLength(1);
    expect(bus.subscribe({ projectId: 'p' }, resumed.position, () => {}).backlog).toEqual([]);
  });

  it('resets a follower whose missed events were dropped, not one of a project that lost none', () => {
    const bus = new InProcessLiveEvents({ maxEvents: 3, maxPoints: 100 });
    const start = bus.subscribe({ projectId: 'p' }, undefined, () => {}).position;
    bus.publish(beat('p', 'e', 1));
    const quietStart = bus.subscribe({ projectId: 'q' }, undefined, () => {}).position;
    for (let i = 2; i <= 5; i++) bus.publish(beat('p', 'e', i));
    const reset = bus.subscribe({ projectId: 'p' }, start, () => {});
    expect(reset.backlog).toEqual([{ kind: 'reset', id: reset.position }]);
    // Events 3–5 are still held: a follower that saw 2 gets exactly those.
    const afterTwo = `${start.split('-')[0]}-2`;
    expect(beats(bus.subscribe({ projectId: 'p' }, afterTwo, () => {}).backlog)).toEqual([3, 4, 5]);
    expect(bus.subscribe({ projectId: 'q' }, quietStart, () => {}).backlog).toEqual([]);
  });

  it('bounds the points it holds, and resets on ids of another process or of the future', () => {
    const bus = new InProcessLiveEvents({ maxEvents: 100, maxPoints: 50 });
    const start = bus.subscribe({ projectId: 'p' }, undefined, () => {}).position;
    bus.publish(points('p', 'e', 30));
    bus.publish(points('p', 'e', 30));
    expect(bus.subscribe({ projectId: 'p' }, start, () => {}).backlog[0]?.kind).toBe('reset');
    const [bootId] = start.split('-');
    for (const id of ['0123456789ab-0', `${bootId}-99`, `${bootId}-x`, '']) {
      expect(bus.subscribe({ projectId: 'p' }, id, () => {}).backlog[0]?.kind, id).toBe('reset');
    }
  });

  it('keeps publishing past a failing follower, and stops delivering once closed', () => {
    const bus = new InProcessLiveEvents();
    const got: LiveDelivery[] = [];
    bus.subscribe({ projectId: 'p' }, undefined, () => {
      throw new Error('broken');
    });
    const subscription = bus.subscribe({ projectId: 'p' }, undefined, (d) => got.push(d));
    bus.publish(beat('p', 'e', 1));
    subscription.close();
    subscription.close();
    bus.publish(beat('p', 'e', 2));
    expect(beats(got)).toEqual([1]);
    expect(bus.subscriberCount).toBe(1);
  });

  it('on a gap, resets every follower now and any resumption from before it', () => {
    const bus = new InProcessLiveEvents();
    bus.publish(beat('p', 'e', 1));
    const before = bus.subscribe({ projectId: 'p' }, undefined, () => {}).position;
    const project: LiveDelivery[] = [];
    const experiment: LiveDelivery[] = [];
    bus.subscribe({ projectId: 'p' }, undefined, (d) => project.push(d));
    bus.subscribe({ projectId: 'q', experimentId: 'x' }, undefined, (d) => experiment.push(d));
    bus.reset();
    expect(project).toEqual([{ kind: 'reset', id: expect.any(String) }]);
    expect(experiment).toEqual(project);
    const gap = (project[0] as LiveDelivery).id;
    bus.publish(beat('p', 'e', 2));
    const stale = bus.subscribe({ projectId: 'p' }, before, () => {});
    expect(stale.backlog).toEqual([{ kind: 'reset', id: stale.position }]);
    // From the gap on, resumption works again.
    const resumed = bus.subscribe({ projectId: 'p' }, gap, () => {});
    expect(beats(resumed.backlog)).toEqual([2]);
  });
});
