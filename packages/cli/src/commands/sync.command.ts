import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultSpoolDir, type SyncSpoolReport, syncSpool } from '@cairn/sdk';
import type { Command } from 'commander';
import { type ConnectionFlags, withCairn, withConnectionOptions } from '../connection.js';
import { CommandError } from '../errors.js';
import { Progress, plural, print } from '../output.js';

interface SyncOptions extends ConnectionFlags {
  experiment?: string;
  force?: boolean;
  json?: boolean;
}

/** `cairn sync [dir]`: uploads what runs left in their spool (crashes, kills, offline runs). */
export function registerSyncCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('sync [dir]')
      .description(
        'upload the batches runs left in the spool, exactly once (default dir: $CAIRN_SPOOL_DIR, ~/.cairn/spool)',
      )
      .option('--experiment <key>', "only this experiment's batches")
      .option('--force', 'also replay writers whose process still runs')
      .option('--json', 'the report as one JSON object'),
  ).action((dir: string | undefined, options: SyncOptions) => sync(dir ?? defaultSpoolDir(), options));
}

async function sync(dir: string, options: SyncOptions): Promise<void> {
  const report = await withCairn(options, async (cairn) => {
    const progress = new Progress();
    const bar = progress.bar('batches', await countBatches(dir, options.experiment));
    try {
      return await syncSpool({
        client: cairn,
        dir,
        ...(options.experiment ? { experimentKey: options.experiment } : {}),
        ...(options.force ? { force: true } : {}),
        onBatch: () => bar.increment(),
      });
    } finally {
      progress.stop();
    }
  });
  if (options.json) {
    print(
      JSON.stringify({
        dir,
        ...report,
        failed: report.failed.map((f) => ({ dir: f.dir, seq: f.seq, error: f.error.message })),
      }),
    );
  } else {
    for (const line of describeReport(dir, report)) print(line);
  }
  const problems = report.failed.length + report.deadLettered;
  if (problems > 0) {
    throw new CommandError(
      report.failed.length > 0
        ? `${plural(report.failed.length, 'writer')} could not be synced: run "cairn sync" again once the server takes them`
        : `the server refused ${plural(report.deadLettered, 'part')} for good: kept under failed/ beside their batches`,
    );
  }
}

function describeReport(dir: string, report: SyncSpoolReport): string[] {
  const lines: string[] = [];
  if (report.batches === 0 && report.failed.length === 0 && report.deadLettered === 0) {
    lines.push(`nothing to send in ${dir}`);
  } else {
    const duplicates = report.duplicatePoints > 0 ? `, ${report.duplicatePoints} of them already stored` : '';
    lines.push(
      `sent ${plural(report.batches, 'batch', 'batches')} (${plural(report.points, 'point')}${duplicates}) of ` +
        `${plural(report.experiments, 'experiment')}, ${plural(report.writers, 'writer')}, from ${dir}`,
    );
  }
  if (report.deadLettered > 0)
    lines.push(`refused for good: ${plural(report.deadLettered, 'part')}, kept under failed/`);
  for (const skipped of report.skipped) lines.push(`skipped (its writer still runs): ${skipped}`);
  for (const failed of report.failed)
    lines.push(`failed: ${failed.dir} at batch ${failed.seq}: ${failed.error.message}`);
  return lines;
}

/** Batch files in the spool (one per seq), for the progress bar's total. */
async function countBatches(root: string, experiment: string | undefined): Promise<number> {
  const list = async (dir: string) =>
    (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && e.name !== 'failed');
  let count = 0;
  const experiments = experiment ? [experiment] : (await list(root)).map((e) => e.name);
  for (const key of experiments) {
    for (const writer of await list(join(root, key))) {
      const names = await readdir(join(root, key, writer.name)).catch(() => []);
      count += new Set(names.flatMap((name) => /^(\d+)\.json(\.gz)?$/.exec(name)?.[1] ?? [])).size;
    }
  }
  return count;
}
