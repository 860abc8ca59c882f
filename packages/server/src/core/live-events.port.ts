import type { Asset, ValueKind } from './entities.js';
import type { ExperimentView } from './experiments.service.js';

/** Points of one (metric, context) of a logged batch, columnar, in offset order. */
export interface LivePointsSeries {
  name: string;
  context: string | null;
  offsets: number[];
  steps: (number | null)[];
  values: number[];
  timestamps: number[];
  epochs: (number | null)[];
}

/**
 * A series' part of a batch too large to carry: its `count` points are the series' points from
 * position `fromOffset` (the `offset` a paged read of the series takes), contexts mixed.
 */
export interface LivePointsRange {
  name: string;
  fromOffset: number;
  count: number;
}

/**
 * What changed, after the transaction that changed it committed. Every event names the
 * experiment and the project that holds it (its home project: symlinks do not fan out);
 * `previousProjectId` is set when the change moved the experiment out of that project.
 */
export type LiveEvent = {
  experimentId: string;
  projectId: string;
  previousProjectId?: string;
} & (
  | { type: 'experiment'; view: ExperimentView; tags: string[] }
  | { type: 'points'; truncated: false; series: LivePointsSeries[] }
  | { type: 'points'; truncated: true; series: LivePointsRange[] }
  | { type: 'values'; kind: ValueKind; names: string[] }
  | { type: 'heartbeat'; lastHeartbeat: number }
  | { type: 'asset'; asset: Asset }
);

/** Whose events a subscription follows: a project's, or only one experiment's. */
export type LiveFilter = { projectId: string } | { projectId: string; experimentId: string };

/**
 * One item of a subscription: an event with its id, or a reset, which says that events after the
 * position the subscriber resumed from are no longer held: re-read the state, then keep following.
 * A reset's id is the position it leaves the subscriber at.
 */
export type LiveDelivery = { kind: 'event'; id: string; event: LiveEvent } | { kind: 'reset'; id: string };

export interface LiveSubscription {
  /** What was missed since the position resumed from: events in order, or one reset. */
  readonly backlog: readonly LiveDelivery[];
  /** The id of the last event before this subscription's live events: where to resume if none arrives. */
  readonly position: string;
  /** Stops deliveries; idempotent. */
  close(): void;
}

/**
 * Change notifications for live views. Services publish an event once the transaction that made
 * the change has committed (never before, so a subscriber that reads on an event sees the change),
 * and publishing never fails or slows the write: a bus that cannot deliver drops the event, and
 * subscribers that resume past a gap get a reset.
 *
 * Event ids are opaque strings, ordered within a project as the events were published there; an
 * id names a position in this bus's history and carries the identity of that history (a server
 * process, or a cluster's shared log), so an id from another history always resumes with a reset.
 *
 * The in-process implementation (`InProcessLiveEvents`) serves one server (and SQLite). Server
 * nodes sharing a PostgreSQL database share events through it (`PostgresLiveEvents`: NOTIFY after
 * the commit, every node LISTENs and feeds its own subscribers and history); its ids name
 * positions in one node's history, so resuming through another node starts with a reset.
 */
export interface LiveEventBus {
  /** Delivers `event` to the matching subscribers and keeps it for resumption. Synchronous. */
  publish(event: LiveEvent): void;
  /**
   * Follows events from now on: those of the project (including experiments moved out of it by
   * the event), or those of one experiment wherever it moves. With `after` (an id this bus gave
   * out), the backlog holds the events after it that match, or a reset when some of them are no
   * longer held or the id is not this history's. `listener` is called synchronously by `publish`
   * and must not throw; it is never called for backlog items. A bus that learns it lost events
   * (a shared bus whose connection dropped) sends the listener a reset.
   */
  subscribe(
    filter: LiveFilter,
    after: string | undefined,
    listener: (delivery: LiveDelivery) => void,
  ): LiveSubscription;
  /** Lets go of what the bus holds outside the process (a database connection), when it holds any. */
  close?(): Promise<void>;
}
