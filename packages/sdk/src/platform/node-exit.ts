import type { ExitHooks, ExitParticipant } from './platform.js';

/**
 * Process hooks shared by every open run of the process, installed while at least one is open:
 *
 * - `exit` (also after `process.exit()` and an uncaught exception): synchronous, so each run
 *   writes what is not on disk yet with writeSync + fsyncSync. Nothing asynchronous can happen
 *   there, so nothing is sent.
 * - SIGTERM / SIGINT: each run seals, spools and sends what it can within a short deadline; then,
 *   when no one else listens to the signal, the handler removes itself and raises the signal again,
 *   so the process ends by that signal with the exit status a caller expects (130, 143).
 *   When the program has its own handler, it decides when to exit.
 * - `beforeExit`: the event loop is empty while a run is still open — the script forgot `end()` —
 *   so the run is ended (flushed, marked ended), bounded by its exit deadline.
 */
export class NodeExitHooks implements ExitHooks {
  private readonly participants = new Set<ExitParticipant>();
  private installed = false;
  private finishSignal: (() => void) | undefined;

  constructor(private readonly signalTimeoutMs: () => number) {}

  private readonly onExit = () => {
    for (const p of [...this.participants]) {
      try {
        p.spillSync(true);
      } catch (error) {
        process.stderr.write(`[cairn] could not spool the last points at exit: ${String(error)}\n`);
      }
    }
  };

  private readonly onBeforeExit = () => {
    for (const p of [...this.participants]) void p.endForgotten();
  };

  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.finishSignal) {
      // A second signal while draining: the user does not want to wait.
      this.finishSignal();
      return;
    }
    const participants = [...this.participants];
    const timeoutMs = this.signalTimeoutMs();
    const deadline = Date.now() + timeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Not unref'd: this wait is bounded and is what lets the runs send before the process ends.
    const timeUp = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.finishSignal = undefined;
      clearTimeout(timer);
      // Only our handler listens: the signal will end the process once raised again.
      const reraise = process.listenerCount(signal) <= 1;
      for (const p of participants) {
        try {
          p.spillSync(reraise);
        } catch (error) {
          process.stderr.write(`[cairn] could not spool the last points: ${String(error)}\n`);
        }
      }
      process.removeListener('SIGTERM', this.onSignal);
      process.removeListener('SIGINT', this.onSignal);
      if (reraise && process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      else if (this.participants.size > 0) this.install();
    };
    this.finishSignal = finish;
    void Promise.race([Promise.allSettled(participants.map((p) => p.drain(deadline))), timeUp]).then(finish);
  };

  register(participant: ExitParticipant): void {
    this.participants.add(participant);
    this.install();
  }

  unregister(participant: ExitParticipant): void {
    this.participants.delete(participant);
    if (this.participants.size === 0) this.uninstall();
  }

  private install(): void {
    if (this.installed) {
      if (!process.listeners('SIGTERM').includes(this.onSignal)) process.on('SIGTERM', this.onSignal);
      if (!process.listeners('SIGINT').includes(this.onSignal)) process.on('SIGINT', this.onSignal);
      return;
    }
    this.installed = true;
    process.on('exit', this.onExit);
    process.on('beforeExit', this.onBeforeExit);
    process.on('SIGTERM', this.onSignal);
    process.on('SIGINT', this.onSignal);
  }

  private uninstall(): void {
    if (!this.installed) return;
    this.installed = false;
    process.removeListener('exit', this.onExit);
    process.removeListener('beforeExit', this.onBeforeExit);
    process.removeListener('SIGTERM', this.onSignal);
    process.removeListener('SIGINT', this.onSignal);
  }
}
