import { randomBytes } from 'node:crypto';
import type { LiveDelivery, LiveEvent, LiveEventBus, LiveFilter, LiveSubscription } from './live-events.port.js';

export interface LiveHistoryLimits {
  /** Events kept for resumption, across all projects. */
  maxEvents: number;
  /** Points kept in those events (a points event counts its points, any other event 1). */
  maxPoints: number;
}

/**
 * Tens of seconds of a busy server's events (the bulk benchmark commits ~500 batches a second;
 * larger batches are held as ranges, not points) in ~10 MB: enough for a client to reconnect
 * after a network blip without a reset, small beside the server's memory budget.
 */
export const DEFAULT_LIVE_HISTORY: LiveHistoryLimits = { maxEvents: 10_000, maxPoints: 200_000 };

interface Held {
  seq: number;
  id: string;
  event: LiveEvent;
  weight: number;
}

interface Subscriber {
  filter: LiveFilter;
  listener: (delivery: LiveDelivery) => void;
}

/**
 * The live event bus of one server process: subscribers in memory, and a bounded history of
 * recent events (oldest dropped first) for subscribers that resume. Ids are
 * `<boot id>-<sequence number>`; the boot id is random per process, so ids of an earlier process
 * resume with a reset.
 */
export class InProcessLiveEvents implements LiveEventBus {
  private readonly bootId = randomBytes(6).toString('hex');
  private seq = 0;
  /** Held events in publish order: a ring of `maxEvents` slots from `head`. */
  private readonly ring: (Held | undefined)[];
  private head = 0;
  private held = 0;
  private heldPoints = 0;
  /** Per project, the sequence number of its newest event dropped from the history. */
  private readonly droppedUpTo = new Map<string, number>();
  /** The position of the last gap (see `reset`): resuming from before it is a reset. */
  private gapAt = 0;
  private readonly byProject = new Map<string, Set<Subscriber>>();
  private readonly byExperiment = new Map<string, Set<Subscriber>>();

  constructor(private readonly limits: LiveHistoryLimits = DEFAULT_LIVE_HISTORY) {
    this.ring = new Array(limits.maxEvents);
  }

  publish(event: LiveEvent): void {
    const seq = ++this.seq;
    const held: Held = { seq, id: this.idOf(seq), event, weight: weightOf(event) };
    this.keep(held);
    const delivery: LiveDelivery = { kind: 'event', id: held.id, event };
    const targets = new Set<Subscriber>();
    for (const projectId of projectsOf(event)) for (const s of this.byProject.get(projectId) ?? []) targets.add(s);
    for (const s of this.byExperiment.get(event.experimentId) ?? []) targets.add(s);
    for (const subscriber of targets) {
      try {
        subscriber.listener(delivery);
      } catch {
        // A failing subscriber is its own problem; the others and the publisher go on.
      }
    }
  }

  subscribe(
    filter: LiveFilter,
    after: string | undefined,
    listener: (delivery: LiveDelivery) => void,
  ): LiveSubscription {
    const position = this.idOf(this.seq);
    const backlog = after === undefined ? [] : this.backlog(filter, after, position);
    const subscriber: Subscriber = { filter, listener };
    const index = 'experimentId' in filter ? this.byExperiment : this.byProject;
    const key = 'experimentId' in filter ? filter.experimentId : filter.projectId;
    let set = index.get(key);
    if (!set) {
      set = new Set();
      index.set(key, set);
    }
    set.add(subscriber);
    let open = true;
    return {
      backlog,
      position,
      close: () => {
        if (!open) return;
        open = false;
        const current = index.get(key);
        current?.delete(subscriber);
        if (current?.size === 0) index.delete(key);
      },
    };
  }

  /**
   * Declares a gap: events may have been lost (a shared bus's connection dropped). Every
   * subscriber is sent a reset now (re-read, then keep following), the history is forgotten, and
   * resuming from any position before the gap is a reset too.
   */
  reset(): void {
    const seq = ++this.seq;
    this.gapAt = seq;
    this.ring.fill(undefined);
    this.head = 0;
    this.held = 0;
    this.heldPoints = 0;
    const delivery: LiveDelivery = { kind: 'reset', id: this.idOf(seq) };
    for (const index of [this.byProject, this.byExperiment]) {
      for (const set of index.values()) {
        for (const subscriber of set) {
          try {
            subscriber.listener(delivery);
          } catch {
            // As in publish.
          }
        }
      }
    }
  }

  /** Subscribers currently following, for tests and diagnostics. */
  get subscriberCount(): number {
    let count = 0;
    for (const set of this.byProject.values()) count += set.size;
    for (const set of this.byExperiment.values()) count += set.size;
    return count;
  }

  private backlog(filter: LiveFilter, after: string, position: string): LiveDelivery[] {
    const seq = this.seqOf(after);
    const dropped = this.droppedUpTo.get(filter.projectId) ?? 0;
    if (seq === undefined || seq > this.seq || seq < dropped || seq < this.gapAt) {
      return [{ kind: 'reset', id: position }];
    }
    const missed: LiveDelivery[] = [];
    for (let i = 0; i < this.held; i++) {
      const held = this.ring[(this.head + i) % this.ring.length] as Held;
      if (held.seq > seq && matches(filter, held.event)) missed.push({ kind: 'event', id: held.id, event: held.event });
    }
    return missed;
  }

  private keep(held: Held): void {
    while (this.held > 0 && (this.held === this.ring.length || this.heldPoints + held.weight > this.limits.maxPoints)) {
      const oldest = this.ring[this.head] as Held;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.ring.length;
      this.held--;
      this.heldPoints -= oldest.weight;
      for (const projectId of projectsOf(oldest.event)) this.droppedUpTo.set(projectId, oldest.seq);
    }
    if (this.ring.length === 0) {
      for (const projectId of projectsOf(held.event)) this.droppedUpTo.set(projectId, held.seq);
      return;
    }
    this.ring[(this.head + this.held) % this.ring.length] = held;
    this.held++;
    this.heldPoints += held.weight;
  }

  private idOf(seq: number): string {
    return `${this.bootId}-${seq}`;
  }

  private seqOf(id: string): number | undefined {
    const dash = id.lastIndexOf('-');
    if (dash < 0 || id.slice(0, dash) !== this.bootId) return undefined;
    const digits = id.slice(dash + 1);
    if (!/^\d{1,15}$/.test(digits)) return undefined;
    return Number(digits);
  }
}

function projectsOf(event: LiveEvent): string[] {
  return event.previousProjectId && event.previousProjectId !== event.projectId
    ? [event.projectId, event.previousProjectId]
    : [event.projectId];
}

function matches(filter: LiveFilter, event: LiveEvent): boolean {
  if ('experimentId' in filter) return event.experimentId === filter.experimentId;
  return projectsOf(event).includes(filter.projectId);
}

function weightOf(event: LiveEvent): number {
  if (event.type !== 'points' || event.truncated) return 1;
  let points = 1;
  for (const series of event.series) points += series.values.length;
  return points;
}
