import type { Clock } from './clock.port.js';
import type { WebhookDelivery } from './entities.js';
import type { Store } from './store.port.js';
import type { WebhookSender } from './webhook-sender.port.js';

export interface WebhookDispatchOptions {
  /** Wait after the first failed attempt; each further failure doubles it (exponential backoff). */
  backoffBaseMillis: number;
  /** Longest wait between two attempts. */
  backoffMaxMillis: number;
  /** Attempts before a delivery is given up ("failed"). */
  maxAttempts: number;
  /**
   * How often the log is checked without being woken: picks up deliveries recorded by another
   * process (the CLI, a second server on one PostgreSQL) and leases that expired.
   */
  pollIntervalMillis: number;
  /**
   * How long a claimed delivery stays reserved for its sender. Must exceed the sender's timeout:
   * a process that dies mid-send leaves the delivery to be retried once its lease runs out.
   */
  leaseMillis: number;
  /** Deliveries read from the log at a time. */
  batchSize: number;
  /** URLs sent to at once (deliveries to one URL go one at a time). */
  concurrency: number;
}

export const DEFAULT_WEBHOOK_DISPATCH_OPTIONS: WebhookDispatchOptions = {
  backoffBaseMillis: 5_000,
  backoffMaxMillis: 60 * 60_000,
  // 5 s doubling ten times: the last attempt comes about 42 minutes after the first.
  maxAttempts: 10,
  pollIntervalMillis: 5_000,
  leaseMillis: 60_000,
  batchSize: 50,
  concurrency: 8,
};

/**
 * The wait before looking again at due deliveries this process could not claim because an earlier
 * delivery to their URL is in flight elsewhere (another node): long enough not to spin on the
 * log, short beside a webhook's latency. The node sending the earlier one usually sends them first.
 */
const HELD_BACK_RETRY_MILLIS = 250;

/** Identifies the sender to receivers; they can also deduplicate on the delivery header. */
const USER_AGENT = 'Cairn-Webhooks/1';

/**
 * Delivers the webhook log. Every event is written to the log in the transaction that caused it;
 * this loop then POSTs each due delivery through the `WebhookSender`, records the outcome, and
 * schedules failures again with exponential backoff until `maxAttempts`. The log is the only
 * state, so deliveries pending at shutdown or crash are picked up by the next start. Delivery is
 * at least once: a process that dies between sending and recording sends again after the lease.
 */
export class WebhookDispatcher {
  private readonly options: WebhookDispatchOptions;
  private started = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pass: Promise<void> | undefined;
  /** Set when woken during a pass: the pass goes round once more instead of sleeping. */
  private again = false;
  private readonly abort = new AbortController();
  private onError: (error: unknown) => void = () => {};

  constructor(
    private readonly store: Store,
    private readonly sender: WebhookSender,
    private readonly clock: Clock,
    options: Partial<WebhookDispatchOptions> = {},
  ) {
    this.options = { ...DEFAULT_WEBHOOK_DISPATCH_OPTIONS, ...options };
  }

  /** Starts delivering (the composition root calls this; one-shot CLI commands never do). */
  start(hooks: { onError?: (error: unknown) => void } = {}): void {
    if (this.started || this.stopped) return;
    this.started = true;
    if (hooks.onError) this.onError = hooks.onError;
    this.schedule(0);
  }

  /** New deliveries were recorded: deliver now rather than at the next poll. */
  wake(): void {
    if (!this.started || this.stopped) return;
    if (this.pass) this.again = true;
    else this.schedule(0);
  }

  /**
   * Stops: no new attempts; sends in flight are aborted and their deliveries handed back
   * uncounted, due at once, for the next start. Resolves when the loop has let go of the store.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.pass;
  }

  /** The wait before attempt `attempts + 1`, after `attempts` failures. */
  backoff(attempts: number): number {
    const { backoffBaseMillis, backoffMaxMillis } = this.options;
    return Math.min(backoffMaxMillis, backoffBaseMillis * 2 ** Math.max(0, attempts - 1));
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), delay);
    // The loop alone must not keep a process alive: the server's listener does that.
    this.timer.unref?.();
  }

  private run(): void {
    if (this.stopped || this.pass) return;
    this.pass = (async () => {
      let delay = this.options.pollIntervalMillis;
      try {
        let heldBack = false;
        do {
          this.again = false;
          heldBack = await this.drain();
        } while (this.again && !this.stopped);
        const due = await this.store.webhooks.nextDueAt();
        if (due !== undefined) delay = Math.min(delay, Math.max(0, due - this.clock.now()));
        // Due but held back behind a delivery another process is sending: not a reason to spin.
        if (heldBack) delay = Math.max(delay, Math.min(HELD_BACK_RETRY_MILLIS, this.options.pollIntervalMillis));
      } catch (error) {
        this.onError(error);
      }
      // A wake that came after the last drain must not wait for the poll.
      if (this.again) delay = 0;
      this.pass = undefined;
      if (!this.stopped) this.schedule(delay);
    })();
  }

  /**
   * Delivers everything due now, a batch at a time. Deliveries to different URLs go out in
   * parallel; those to one URL one after another in log order, so a receiver sees a version's
   * stage changes in the order they happened (unless a failed one is retried later: the payload
   * timestamp orders them then). With dispatchers on several nodes, the store lets only the head of
   * a URL's queue be claimed, so the order holds across them. Returns whether due deliveries were
   * left unclaimed (held back, or taken by another process).
   */
  private async drain(): Promise<boolean> {
    const { batchSize, concurrency } = this.options;
    let unclaimed = false;
    while (!this.stopped) {
      const due = await this.store.webhooks.listDue(this.clock.now(), batchSize);
      let claimed = 0;
      const byUrl = new Map<string, WebhookDelivery[]>();
      for (const delivery of due) byUrl.set(delivery.url, [...(byUrl.get(delivery.url) ?? []), delivery]);
      const queues = [...byUrl.values()];
      const results: PromiseSettledResult<void>[] = [];
      for (let i = 0; i < queues.length && !this.stopped; i += concurrency) {
        const wave = queues.slice(i, i + concurrency).map(async (queue) => {
          for (const delivery of queue) {
            if (this.stopped) break;
            if (await this.deliver(delivery)) claimed++;
            else unclaimed = true;
          }
        });
        results.push(...(await Promise.allSettled(wave)));
      }
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
      // A full batch none of which could be claimed would be listed again as it is.
      if (due.length < batchSize || claimed === 0) return unclaimed;
    }
    return unclaimed;
  }

  /** Attempts the delivery once; false when this process could not claim it. */
  private async deliver(delivery: WebhookDelivery): Promise<boolean> {
    const { leaseMillis, maxAttempts } = this.options;
    if (delivery.nextAttemptAt === null) return false;
    const claimedAt = this.clock.now();
    if (!(await this.store.webhooks.claim(delivery.id, delivery.nextAttemptAt, claimedAt + leaseMillis))) return false;

    let status: number | null = null;
    let error: string | null = null;
    let final = false;
    try {
      const request = { url: delivery.url, headers: requestHeaders(delivery), body: delivery.payload };
      const result = await this.sender.send(request, this.abort.signal);
      if ('refused' in result) {
        error = result.refused;
        // The address rules change only with the server's configuration: trying the same
        // address again would be refused again, and probing a name whose answers move between
        // public and internal addresses is what DNS rebinding relies on. One attempt, then failed.
        final = true;
      } else status = result.status;
    } catch (cause) {
      if (this.stopped) {
        await this.store.webhooks.release(delivery.id, this.clock.now());
        return true;
      }
      error = errorMessage(cause);
    }
    const at = this.clock.now();
    const attempts = delivery.attempts + 1;
    if (status !== null && status >= 200 && status < 300) {
      await this.store.webhooks.recordAttempt(delivery.id, {
        attempts,
        status: 'delivered',
        lastStatus: status,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: at,
      });
      return true;
    }
    const givingUp = final || attempts >= maxAttempts;
    await this.store.webhooks.recordAttempt(delivery.id, {
      attempts,
      status: givingUp ? 'failed' : 'pending',
      lastStatus: status,
      lastError: error ?? `HTTP ${status}`,
      nextAttemptAt: givingUp ? null : at + this.backoff(attempts),
      deliveredAt: null,
    });
    return true;
  }
}

/** Cairn's headers, then the configured ones, which win (compared case-insensitively). */
function requestHeaders(delivery: WebhookDelivery): Record<string, string> {
  const headers = new Map<string, [string, string]>();
  const put = (name: string, value: string) => headers.set(name.toLowerCase(), [name, value]);
  put('content-type', 'application/json');
  put('user-agent', USER_AGENT);
  put('x-cairn-event', delivery.eventType);
  put('x-cairn-delivery', delivery.id);
  for (const [name, value] of Object.entries(delivery.headers)) put(name, value);
  return Object.fromEntries(headers.values());
}

function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // The log keeps a line, not a stack or a response body.
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}
