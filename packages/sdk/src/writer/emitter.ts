/** A minimal typed event emitter (node:events is not in browsers). A throwing listener never breaks the writer. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<E extends keyof Events>(event: E, listener: (value: Events[E]) => void): this {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (value: never) => void);
    return this;
  }

  off<E extends keyof Events>(event: E, listener: (value: Events[E]) => void): this {
    this.listeners.get(event)?.delete(listener as (value: never) => void);
    return this;
  }

  listenerCount(event: keyof Events): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  protected emit<E extends keyof Events>(event: E, value: Events[E]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (value: Events[E]) => void)(value);
      } catch {
        // A listener's failure is its own; the writer goes on.
      }
    }
  }
}
