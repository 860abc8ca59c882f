import type { Command } from 'commander';
import { type ConnectionFlags, withCairn, withConnectionOptions } from '../connection.js';
import { CommandError, UsageError } from '../errors.js';
import { formatTime, print } from '../output.js';

/** Non-finite values as the API writes them: JSON has no NaN or Infinity. */
function wireValue(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** `cairn metrics get`: every point of one metric, for people, programs (--json) or sheets (--csv). */
export function registerMetricCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('metrics')
      .description('metric series (over HTTP)')
      .command('get <experiment-key> <name>')
      .description('every point of a metric, in logging order')
      .option('--json', '{ name, total, offsets, steps, values, timestamps, epochs, contexts }, columnar as the API')
      .option('--csv', 'step,epoch,timestamp,context,value with a header row'),
  ).action((key: string, name: string, options: ConnectionFlags & { json?: boolean; csv?: boolean }) =>
    getMetric(key, name, options),
  );
}

async function getMetric(
  key: string,
  name: string,
  options: ConnectionFlags & { json?: boolean; csv?: boolean },
): Promise<void> {
  if (options.json && options.csv) throw new UsageError('metrics get: --json and --csv exclude each other');
  await withCairn(options, async (cairn) => {
    const series = await cairn.series(key, name);
    if (series.total === 0) throw new CommandError(`experiment ${key} has no metric "${name}"`);
    const n = series.values.length;
    if (options.json) {
      print(JSON.stringify({ ...series, values: series.values.map(wireValue) }));
      return;
    }
    const out: string[] = [];
    if (options.csv) {
      out.push('step,epoch,timestamp,context,value');
      for (let i = 0; i < n; i++) {
        out.push(
          [
            series.steps[i] ?? '',
            series.epochs[i] ?? '',
            series.timestamps[i],
            csvField(series.contexts[i] ?? ''),
            String(series.values[i]),
          ].join(','),
        );
      }
    } else {
      // Plain aligned columns rather than a boxed table: a series may hold a million points.
      const rows = [['step', 'epoch', 'time', 'context', 'value']];
      for (let i = 0; i < n; i++) {
        rows.push([
          String(series.steps[i] ?? ''),
          String(series.epochs[i] ?? ''),
          formatTime(series.timestamps[i]),
          series.contexts[i] ?? '',
          String(series.values[i]),
        ]);
      }
      const widths = [0, 0, 0, 0];
      for (const row of rows)
        for (let c = 0; c < 4; c++) widths[c] = Math.max(widths[c] as number, (row[c] as string).length);
      for (const row of rows) out.push(row.map((v, c) => (c < 4 ? v.padEnd(widths[c] as number) : v)).join('  '));
      out.push(`${n} points of "${name}"`);
    }
    // Written in pieces: one string of a million lines would be needlessly large.
    for (let i = 0; i < out.length; i += 10_000) process.stdout.write(`${out.slice(i, i + 10_000).join('\n')}\n`);
  });
}
