import cliProgress from 'cli-progress';
import Table from 'cli-table3';

/**
 * What the CLI prints besides its data: tables for people, progress bars on long work. Bars are
 * drawn only on a terminal (stderr a TTY), so scripts and tests read clean output; data goes to
 * stdout, bars and notes to stderr.
 */

export const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** A table for people: a header row and cells as text, sized to the terminal by cli-table3. */
export function renderTable(head: string[], rows: string[][]): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  table.push(...rows);
  return table.toString();
}

/** "1 experiment", "2 experiments". */
export function plural(count: number, word: string, words = `${word}s`): string {
  return `${count} ${count === 1 ? word : words}`;
}

/** An epoch-ms time as people read it (UTC, to the second); empty for none. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A number of bytes with its unit (KiB, MiB…), for progress and reports. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A table cell from any value: null as empty, objects as JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** One bar of a `Progress`. */
export interface Bar {
  increment(by?: number): void;
  setTotal(total: number): void;
  /** Removes the bar (work done). */
  done(): void;
}

const NO_BAR: Bar = { increment() {}, setTotal() {}, done() {} };

/**
 * Progress bars on stderr, one line per piece of work under way; nothing at all when stderr is
 * not a terminal. Totals in bytes are shown with units.
 */
export class Progress {
  private readonly bars: cliProgress.MultiBar | undefined;

  constructor(enabled = process.stderr.isTTY === true) {
    this.bars = enabled
      ? new cliProgress.MultiBar(
          {
            stream: process.stderr,
            clearOnComplete: true,
            hideCursor: true,
            format: (options, params, payload: { label: string; bytes: boolean }) => {
              const bar = (options.barCompleteString ?? '')
                .slice(0, Math.round(params.progress * (options.barsize ?? 30)))
                .padEnd(options.barsize ?? 30, options.barIncompleteString?.[0] ?? ' ');
              const amount = payload.bytes
                ? `${formatBytes(params.value)}/${formatBytes(params.total)}`
                : `${params.value}/${params.total}`;
              return `${payload.label.padEnd(24).slice(0, 24)} [${bar}] ${Math.floor(params.progress * 100)}% ${amount}`;
            },
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  }

  /** A new bar; `bytes` shows value and total with units. */
  bar(label: string, total: number, options: { bytes?: boolean } = {}): Bar {
    const bars = this.bars;
    if (!bars) return NO_BAR;
    const bar = bars.create(Math.max(total, 1), 0, { label, bytes: options.bytes ?? false });
    return {
      increment: (by = 1) => bar.increment(by),
      setTotal: (value) => bar.setTotal(Math.max(value, 1)),
      done: () => {
        bars.remove(bar);
      },
    };
  }

  stop(): void {
    this.bars?.stop();
  }
}
