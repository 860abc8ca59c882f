import { createReadStream, openAsBlob } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Asset,
  type Cairn,
  type LogOutputBody,
  NotFoundError,
  type SeriesBatch,
  type UpdateExperimentBody,
  type ValuesResource,
} from '@cairn/sdk';
import type { Command } from 'commander';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { type ConnectionFlags, clientFor, withCairn, withConnectionOptions } from '../connection.js';
import { CommandError } from '../errors.js';
import { checkExport, inFolder } from '../export-check.js';
import { type ExperimentFile, METRIC_COLUMNS, METRIC_ROWS_PER_GROUP, type ValueEntry } from '../export-format.js';
import { formatBytes, Progress, plural, print } from '../output.js';

interface ImportOptions extends ConnectionFlags {
  workspace?: string;
  project?: string;
  newKeys?: boolean;
  json?: boolean;
}

/** `cairn import <dir>`: an export into a server, exactly as it was (docs/export-format.md). */
export function registerImportCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('import <dir>')
      .description('create a project and its experiments from an export folder, after checking every checksum')
      .option('--workspace <name>', 'the workspace to import into (default: the one it was exported from)')
      .option('--project <name>', "the project to import into (default: the exported project's name)")
      .option('--new-keys', 'give the experiments new keys and the assets new ids (to import beside the originals)')
      .option('--json', 'the summary as one JSON object'),
  ).action((dir: string, options: ImportOptions) => importProject(dir, options));
}

/** Lines of output per request, and their bytes at most. */
const OUTPUT_LINES_PER_CALL = 5_000;
const OUTPUT_BYTES_PER_CALL = 4 * 1024 * 1024;
/** Logged values per request. */
const VALUES_PER_CALL = 1_000;
/**
 * The server lists assets by upload time, then id. Uploads at least this far apart get distinct
 * times, so they are listed in the order they are uploaded — the export's — whatever their ids.
 */
const UPLOAD_SPACING_MS = 2;

async function importProject(dir: string, options: ImportOptions): Promise<void> {
  const progress = new Progress();
  let summary: Record<string, unknown>;
  try {
    // Everything is checked before the first request: a damaged export creates nothing.
    const checked = await checkExport(dir, progress);
    const workspace = options.workspace ?? checked.manifest.source.workspace;
    const project = options.project ?? checked.manifest.project.name;
    summary = await withCairn(options, async (cairn, connection) => {
      if (!(await cairn.workspaces.list()).some((w) => w.name === workspace)) {
        throw new CommandError(`no workspace "${workspace}" of yours on ${connection.url}: pass --workspace`);
      }
      if (!options.newKeys) {
        for (const { file } of checked.experiments) {
          const existing = await cairn.experiments.get(file.key).catch((error: unknown) => {
            if (error instanceof NotFoundError) return undefined;
            throw error;
          });
          if (existing) {
            throw new CommandError(
              `experiment ${file.key} already exists on ${connection.url} (${existing.workspace}/${existing.project}): ` +
                'delete it first, or import with --new-keys',
            );
          }
        }
      }
      // Each attempt of an upload may take long (a multi-GB asset): bounded by a day, not a minute.
      // The SDK streams it with backpressure, never holding it whole.
      const uploader = clientFor(connection.url, connection.apiKey as string, { timeout: 24 * 3600 * 1000 });
      const importer = new Importer(cairn, uploader, progress, options.newKeys ?? false);
      const createdProject = await importer.project(workspace, project, checked.manifest.project);
      const bar = progress.bar('experiments', checked.experiments.length);
      try {
        for (const { file, folder } of checked.experiments) {
          await importer.experiment(workspace, project, file, folder);
          bar.increment();
        }
      } catch (error) {
        // All or nothing, as far as the API allows: the experiments created so far go again.
        await importer.removeCreated();
        const note = createdProject ? ` (the project ${workspace}/${project} was created and stays)` : '';
        const reason = error instanceof Error ? error.message : String(error);
        throw new CommandError(`import stopped, the experiments it had created were removed${note}: ${reason}`);
      }
      return {
        dir,
        url: connection.url,
        workspace,
        project,
        experiments: importer.created.length,
        keys: importer.created,
        ...importer.counts,
      };
    });
  } finally {
    progress.stop();
  }
  if (options.json) print(JSON.stringify(summary));
  else {
    print(
      `imported ${plural(summary.experiments as number, 'experiment')} into ${summary.workspace}/${summary.project} ` +
        `on ${summary.url}: ${plural(summary.points as number, 'metric point')}, ` +
        `${plural(summary.assets as number, 'asset')} (${formatBytes(summary.assetBytes as number)}), ` +
        `${plural(summary.tables as number, 'table')}, ${plural(summary.outputLines as number, 'output line')}`,
    );
  }
}

class Importer {
  /** Keys of the experiments created on the target, in order. */
  readonly created: string[] = [];
  readonly counts = { points: 0, assets: 0, assetBytes: 0, tables: 0, outputLines: 0 };
  private lastUpload = 0;

  constructor(
    private readonly cairn: Cairn,
    /** The same server and key, for streamed uploads (assets, git patches). */
    private readonly uploader: Cairn,
    private readonly progress: Progress,
    private readonly newKeys: boolean,
  ) {}

  /** The target project: created with the export's settings when missing; true when created. */
  async project(
    workspace: string,
    name: string,
    settings: { description: string | null; isPublic: boolean; notes: string },
  ): Promise<boolean> {
    try {
      await this.cairn.projects.get(workspace, name);
      return false;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    await this.cairn.projects.create(workspace, {
      name,
      description: settings.description,
      isPublic: settings.isPublic,
    });
    if (settings.notes !== '') await this.cairn.projects.update(workspace, name, { notes: settings.notes });
    return true;
  }

  async removeCreated(): Promise<void> {
    for (const key of this.created) await this.cairn.experiments.delete(key).catch(() => {});
  }

  /**
   * One experiment, in an order that makes the result the export: everything logged first, then
   * its name, status, archived flag and times — an other named "Name" renames an experiment, and
   * logging must not find it ended or archived.
   */
  async experiment(workspace: string, project: string, file: ExperimentFile, folder: string): Promise<void> {
    const cairn = this.cairn;
    const created = await cairn.experiments.create(workspace, project, {
      ...(this.newKeys ? {} : { key: file.key }),
      ...(file.name !== null ? { name: file.name } : {}),
    });
    const key = created.key;
    this.created.push(key);
    if (file.tags.length > 0) await cairn.tags.add(key, file.tags);
    await logValues(cairn.params, key, file.params);
    await logValues(cairn.others, key, file.others);
    for (const [kind, content] of Object.entries(file.documents)) {
      await cairn.documents.put(key, kind as keyof ExperimentFile['documents'], content);
    }
    // A Blob over the file: streamed by fetch, not read whole.
    if (file.gitPatch) await this.uploader.gitPatch.put(key, await openAsBlob(inFolder(folder, file.gitPatch)));
    if (file.output) await this.output(key, inFolder(folder, file.output.file), file.output.lines);
    for (const asset of file.assets) await this.asset(key, folder, asset);
    for (const table of file.tables) {
      const stored = await cairn.tables.put(key, table.name, {
        format: 'parquet',
        data: await readFile(inFolder(folder, table.file)),
        ...(table.description !== null ? { description: table.description } : {}),
      });
      if (stored.rowCount !== table.rowCount) {
        throw new CommandError(
          `table "${table.name}" of ${file.key}: ${stored.rowCount} rows stored, ${table.rowCount} exported`,
        );
      }
      this.counts.tables++;
    }
    if (file.metrics) await this.metrics(key, inFolder(folder, file.metrics.file), file);
    const patch: UpdateExperimentBody = {
      name: file.name,
      status: file.status,
      archived: file.archived,
      startTime: file.startTime,
      ...(file.endTime !== null ? { endTime: file.endTime } : {}),
    };
    await cairn.experiments.update(key, patch);
  }

  /** Output lines in their order, a few thousand per request. */
  private async output(key: string, path: string, expected: number): Promise<void> {
    let batch: LogOutputBody['lines'] = [];
    let bytes = 0;
    let count = 0;
    const send = async () => {
      if (batch.length === 0) return;
      await this.cairn.output.log(key, batch);
      batch = [];
      bytes = 0;
    };
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      let entry: { text?: unknown; stderr?: unknown; context?: unknown; timestamp?: unknown };
      try {
        entry = JSON.parse(line);
      } catch {
        throw new CommandError(`line ${count + 1} of ${path} is not JSON`);
      }
      if (
        typeof entry.text !== 'string' ||
        typeof entry.stderr !== 'boolean' ||
        !(entry.context === null || typeof entry.context === 'string') ||
        !Number.isSafeInteger(entry.timestamp)
      ) {
        throw new CommandError(`line ${count + 1} of ${path} is not { text, stderr, context, timestamp }`);
      }
      batch.push({
        text: entry.text,
        stderr: entry.stderr,
        context: entry.context,
        timestamp: entry.timestamp as number,
      });
      count++;
      bytes += line.length;
      if (batch.length >= OUTPUT_LINES_PER_CALL || bytes >= OUTPUT_BYTES_PER_CALL) await send();
    }
    await send();
    if (count !== expected) throw new CommandError(`${path} holds ${count} lines, experiment.json says ${expected}`);
    this.counts.outputLines += count;
  }

  /** An asset's bytes streamed from its file, or a remote asset's link, with every field as exported. */
  private async asset(key: string, folder: string, asset: ExperimentFile['assets'][number]): Promise<void> {
    const wait = this.lastUpload + UPLOAD_SPACING_MS - Date.now();
    if (wait > 0) await sleep(wait);
    const fields = {
      name: asset.fileName,
      type: asset.type,
      ...(this.newKeys ? {} : { id: asset.id }),
      ...(asset.step !== null ? { step: asset.step } : {}),
      ...(asset.epoch !== null ? { epoch: asset.epoch } : {}),
      ...(asset.context !== null ? { context: asset.context } : {}),
      ...(asset.metadata !== null ? { metadata: asset.metadata } : {}),
      ...(asset.model !== null ? { model: asset.model } : {}),
    };
    let stored: Asset;
    if (asset.remote) {
      stored = await this.cairn.assets.logRemote(key, asset.link as string, fields);
    } else {
      const bar =
        asset.size >= 1024 * 1024
          ? this.progress.bar(`asset ${asset.id.slice(0, 12)}`, asset.size, { bytes: true })
          : undefined;
      let sent = 0;
      try {
        stored = await this.uploader.assets.upload(key, inFolder(folder, asset.file as string), {
          ...fields,
          onProgress: ({ loaded }) => {
            bar?.increment(loaded - sent);
            sent = loaded;
          },
        });
      } finally {
        bar?.done();
      }
      this.counts.assets++;
      this.counts.assetBytes += stored.size;
    }
    this.lastUpload = Date.now();
    if (stored.size !== asset.size) {
      throw new CommandError(`asset ${asset.id}: ${stored.size} bytes stored, ${asset.size} exported`);
    }
  }

  /**
   * metrics.parquet read a window of rows at a time and sent through the bulk path: a series'
   * points in their order, a new batch entry wherever the context changes, so the server gives
   * the points their logging order back.
   */
  private async metrics(key: string, path: string, file: ExperimentFile): Promise<void> {
    const buffer = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(buffer);
    const total = Number(metadata.num_rows);
    const bar =
      total >= METRIC_ROWS_PER_GROUP ? this.progress.bar(`points ${file.key.slice(0, 12)}`, total) : undefined;
    try {
      for (let start = 0; start < total; start += METRIC_ROWS_PER_GROUP) {
        const end = Math.min(start + METRIC_ROWS_PER_GROUP, total);
        let rows: unknown[][] = [];
        await parquetRead({
          file: buffer,
          metadata,
          compressors,
          columns: [...METRIC_COLUMNS],
          rowStart: start,
          rowEnd: end,
          rowFormat: 'array',
          onComplete: (read) => {
            rows = read;
          },
        });
        const series: SeriesBatch[] = [];
        let current:
          | (SeriesBatch & { steps: (number | null)[]; epochs: (number | null)[]; timestamps: number[] })
          | undefined;
        for (const [name, context, step, epoch, timestamp, value] of rows) {
          const ctx = (context ?? null) as string | null;
          if (!current || current.name !== name || (current.context ?? null) !== ctx) {
            current = { name: name as string, context: ctx, values: [], steps: [], timestamps: [], epochs: [] };
            series.push(current);
          }
          const v = value as number;
          // JSON has no NaN or ±Infinity: the bulk path takes them as strings.
          current.values.push(Number.isFinite(v) ? v : String(v));
          current.steps.push(integerOf(step));
          current.epochs.push(integerOf(epoch));
          current.timestamps.push(integerOf(timestamp) as number);
        }
        await this.cairn.metrics.log(key, { series, allowNonFinite: true });
        bar?.increment(end - start);
        this.counts.points += end - start;
      }
    } finally {
      bar?.done();
    }
  }
}

function integerOf(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new CommandError(`a metric point holds ${String(value)}: not a safe integer`);
  return n;
}

/**
 * Every logged value in its order, each with its own step, time and context. Runs of values that
 * share those go in one call; a call's values are an object, so a run also ends at a name it
 * already holds, and before a name JSON objects would reorder (an array index such as "10").
 */
async function logValues(resource: ValuesResource, key: string, values: ValueEntry[]): Promise<void> {
  let run: ValueEntry[] = [];
  const send = async () => {
    const first = run[0];
    if (!first) return;
    const body: Record<string, unknown> = {};
    // defineProperty, not assignment: a value named "__proto__" must stay a value.
    for (const v of run) Object.defineProperty(body, v.name, { value: v.value, enumerable: true, writable: true });
    await resource.log(key, body, { step: first.step, timestamp: first.timestamp, context: first.context });
    run = [];
  };
  for (const value of values) {
    const first = run[0];
    const joins =
      first !== undefined &&
      first.step === value.step &&
      first.timestamp === value.timestamp &&
      first.context === value.context &&
      run.length < VALUES_PER_CALL &&
      !run.some((v) => v.name === value.name) &&
      !isArrayIndex(value.name) &&
      !isArrayIndex(first.name);
    if (!joins) await send();
    run.push(value);
  }
  await send();
}

/** Names a JS object lists before all others, whatever order they were set in. */
function isArrayIndex(name: string): boolean {
  return /^(0|[1-9]\d*)$/.test(name) && Number(name) < 2 ** 32 - 1;
}
