import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { type Cairn, type DocumentKind, NotFoundError } from '@cairn/sdk';
import type { Command } from 'commander';
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import { type ConnectionFlags, withCairn, withConnectionOptions } from '../connection.js';
import { CommandError } from '../errors.js';
import {
  type AssetEntry,
  byteOrder,
  EXPERIMENT_KEY,
  type ExperimentFile,
  FORMAT,
  formatSums,
  jsonText,
  MANIFEST_FILE,
  type Manifest,
  METRIC_ROWS_PER_GROUP,
  METRICS_SCHEMA,
  type OutputEntry,
  SUMS_FILE,
  safeSegment,
  sha256File,
  VERSION,
} from '../export-format.js';
import { type Bar, formatBytes, Progress, plural, print } from '../output.js';
import { parseProjectRef } from './experiments.command.js';

/** `cairn export <workspace>/<project> <dir>`: a project into a folder (docs/export-format.md). */
export function registerExportCommand(program: Command): void {
  withConnectionOptions(
    program
      .command('export <workspace/project> <dir>')
      .description('write a project and everything logged to it into a new folder (docs/export-format.md)')
      .option('--json', 'the summary as one JSON object'),
  ).action((ref: string, dir: string, options: ConnectionFlags & { json?: boolean }) =>
    exportProject(ref, dir, options),
  );
}

interface ExportSummary {
  dir: string;
  experiments: number;
  points: number;
  assets: number;
  assetBytes: number;
  tables: number;
  outputLines: number;
  files: number;
}

async function exportProject(ref: string, dir: string, options: ConnectionFlags & { json?: boolean }): Promise<void> {
  const { workspace, project } = parseProjectRef(ref);
  const existed = await prepareFolder(dir);
  let summary: ExportSummary;
  try {
    summary = await withCairn(options, (cairn, connection) =>
      new Exporter(cairn, dir).run(workspace, project, connection.url),
    );
  } catch (error) {
    // Half an export is no export: without its SHA256SUMS no import would take it anyway.
    if (existed) for (const entry of await readdir(dir)) await rm(join(dir, entry), { recursive: true, force: true });
    else await rm(dir, { recursive: true, force: true });
    throw error;
  }
  if (options.json) print(JSON.stringify(summary));
  else {
    print(
      `exported ${plural(summary.experiments, 'experiment')} of ${workspace}/${project} to ${dir}: ` +
        `${plural(summary.points, 'metric point')}, ${plural(summary.assets, 'asset')} (${formatBytes(summary.assetBytes)}), ` +
        `${plural(summary.tables, 'table')}, ${plural(summary.outputLines, 'output line')}; ` +
        `${plural(summary.files, 'file')}, checksums in ${SUMS_FILE}`,
    );
  }
}

/** Creates the folder, or accepts an empty one; true when it existed. */
async function prepareFolder(dir: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new CommandError(`cannot export into ${dir}: ${(error as Error).message}`);
    await mkdir(dir, { recursive: true });
    return false;
  }
  if (entries.length > 0) throw new CommandError(`${dir} is not empty: export into a new or empty folder`);
  return true;
}

/** Reads a project through the SDK and writes the export's files, streaming whatever may be large. */
class Exporter {
  private readonly progress = new Progress();
  /** Relative paths of the files written, for SHA256SUMS. */
  private readonly written: string[] = [];
  private readonly summary: ExportSummary;

  constructor(
    private readonly cairn: Cairn,
    private readonly dir: string,
  ) {
    this.summary = { dir, experiments: 0, points: 0, assets: 0, assetBytes: 0, tables: 0, outputLines: 0, files: 0 };
  }

  async run(workspace: string, projectName: string, url: string): Promise<ExportSummary> {
    try {
      const cairn = this.cairn;
      const me = await cairn.me();
      const project = await cairn.projects.get(workspace, projectName);
      const keys: string[] = [];
      const listing = cairn.experiments({
        workspace,
        project: project.name,
        archived: 'all',
        sort: 'startTime',
        count: false,
        limit: 1000,
      });
      for await (const row of listing) keys.push(row.key);
      const bar = this.progress.bar('experiments', keys.length);
      const exported: string[] = [];
      for (const key of keys) {
        if (await this.experiment(key, workspace, project.name)) exported.push(key);
        bar.increment();
      }
      const manifest: Manifest = {
        format: FORMAT,
        version: VERSION,
        exportedAt: new Date().toISOString(),
        source: { url, workspace, project: project.name, user: me.user.name },
        project: {
          name: project.name,
          description: project.description,
          isPublic: project.isPublic,
          notes: project.notes,
        },
        experiments: exported,
      };
      await this.writeText(MANIFEST_FILE, jsonText(manifest));
      await this.writeSums();
      this.summary.experiments = exported.length;
      return this.summary;
    } finally {
      this.progress.stop();
    }
  }

  /** One experiment's folder; false for an experiment only symlinked into the project (not its home). */
  private async experiment(key: string, workspace: string, project: string): Promise<boolean> {
    const cairn = this.cairn;
    if (!EXPERIMENT_KEY.test(key)) throw new CommandError(`experiment key "${key}" cannot name a folder`);
    const experiment = await cairn.experiments.get(key);
    if (experiment.workspace !== workspace || experiment.project !== project) return false;
    const base = `experiments/${key}`;
    await mkdir(join(this.dir, base), { recursive: true });
    const [params, others, documentList, assets, tables] = await Promise.all([
      cairn.params.list(key, { history: true }),
      cairn.others.list(key, { history: true }),
      cairn.documents.list(key),
      cairn.assets.list(key),
      cairn.tables.list(key),
    ]);
    const documents: Partial<Record<DocumentKind, string>> = {};
    for (const { kind } of documentList) documents[kind] = (await cairn.documents.get(key, kind)).content;

    const file: ExperimentFile = {
      key,
      name: experiment.name,
      status: experiment.status,
      archived: experiment.archived,
      startTime: experiment.startTime,
      endTime: experiment.endTime,
      createdBy: experiment.createdBy,
      tags: experiment.tags,
      params: params.map(valueEntry),
      others: others.map(valueEntry),
      documents,
      gitPatch: await this.gitPatch(key, base),
      assets: [],
      tables: [],
      metrics: await this.metrics(key, base),
      output: await this.output(key, base),
    };
    for (const asset of assets) {
      const entry: AssetEntry = {
        id: asset.id,
        fileName: asset.fileName,
        type: asset.type,
        step: asset.step,
        epoch: asset.epoch,
        context: asset.context,
        metadata: asset.metadata,
        model: asset.model,
        remote: asset.remote,
        link: asset.link,
        size: asset.size,
        file: null,
      };
      if (!asset.remote) {
        entry.file = `assets/${safeSegment(asset.id, 'asset')}/${safeSegment(asset.fileName, 'file')}`;
        await this.download(key, asset.id, asset.size, `${base}/${entry.file}`);
        this.summary.assets++;
        this.summary.assetBytes += asset.size;
      }
      file.assets.push(entry);
    }
    for (const [i, table] of tables.entries()) {
      const path = `tables/${i}.parquet`;
      await this.writeBytes(`${base}/${path}`, await cairn.tables.parquet(key, table.name));
      file.tables.push({ name: table.name, description: table.description, rowCount: table.rowCount, file: path });
      this.summary.tables++;
    }
    await this.writeText(`${base}/experiment.json`, jsonText(file));
    return true;
  }

  /** The git patch's bytes as stored (text or zip); null when there is none. */
  private async gitPatch(key: string, base: string): Promise<string | null> {
    let response: Response;
    try {
      response = await this.cairn.gitPatch.download(key);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
    await this.stream(response, `${base}/git.patch`);
    return 'git.patch';
  }

  /** An asset's bytes, streamed to its file; the size must be the one listed. */
  private async download(key: string, assetId: string, size: number, path: string): Promise<void> {
    const bar =
      size >= 1024 * 1024 ? this.progress.bar(`asset ${assetId.slice(0, 12)}`, size, { bytes: true }) : undefined;
    try {
      const got = await this.stream(await this.cairn.assets.download(key, assetId), path, bar);
      if (got !== size)
        throw new CommandError(`asset ${assetId} of ${key}: got ${got} bytes, the server lists ${size}`);
    } finally {
      bar?.done();
    }
  }

  /** A response body into a file, never whole in memory; answers the number of bytes. */
  private async stream(response: Response, path: string, bar?: Bar): Promise<number> {
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        bar?.increment(chunk.length);
        done(null, chunk);
      },
    });
    const body = response.body
      ? Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>)
      : Readable.from([]);
    await mkdir(dirname(join(this.dir, path)), { recursive: true });
    await pipeline(body, count, createWriteStream(join(this.dir, path)));
    this.written.push(path);
    return bytes;
  }

  /**
   * Every point of every series into one Parquet file: series in name order (bytewise), each in
   * logging order, one row group per page read — memory holds a page, not a series.
   */
  private async metrics(key: string, base: string): Promise<ExperimentFile['metrics']> {
    const summaries = (await this.cairn.metrics.list(key)).sort((a, b) => byteOrder(a.name, b.name));
    if (summaries.length === 0) return null;
    const path = `${base}/metrics.parquet`;
    const parquet = new ParquetWriter({ writer: fileWriter(join(this.dir, path)), schema: METRICS_SCHEMA });
    const total = summaries.reduce((sum, s) => sum + s.count, 0);
    const bar = total >= METRIC_ROWS_PER_GROUP ? this.progress.bar(`points ${key.slice(0, 12)}`, total) : undefined;
    const series: { name: string; count: number }[] = [];
    let points = 0;
    try {
      for (const { name } of summaries) {
        let count = 0;
        for (;;) {
          const page = await this.cairn.metrics.points(key, name, { offset: count, limit: METRIC_ROWS_PER_GROUP });
          const n = page.values.length;
          if (n > 0) {
            parquet.write({
              columnData: [
                { name: 'name', data: new Array<string>(n).fill(name) },
                { name: 'context', data: page.contexts },
                { name: 'step', data: page.steps.map(toBigInt) },
                { name: 'epoch', data: page.epochs.map(toBigInt) },
                { name: 'timestamp', data: BigInt64Array.from(page.timestamps, (t) => BigInt(t)) },
                { name: 'value', data: Float64Array.from(page.values, (v) => Number(v)) },
              ],
              rowGroupSize: n,
            });
            count += n;
            bar?.increment(n);
          }
          if (n < METRIC_ROWS_PER_GROUP) break;
        }
        series.push({ name, count });
        points += count;
      }
      parquet.finish();
    } finally {
      bar?.done();
    }
    this.written.push(path);
    this.summary.points += points;
    return { file: 'metrics.parquet', points, series };
  }

  /** Output lines as JSON lines, page by page; null when the experiment has none. */
  private async output(key: string, base: string): Promise<ExperimentFile['output']> {
    const path = `${base}/output.jsonl`;
    let out: ReturnType<typeof createWriteStream> | undefined;
    let lines = 0;
    for await (const page of this.cairn.output.list(key, { limit: 10_000 }).pages()) {
      if (page.items.length === 0) continue;
      out ??= createWriteStream(join(this.dir, path));
      const text = page.items
        .map((line) => {
          const entry: OutputEntry = {
            text: line.text,
            stderr: line.stderr,
            context: line.context,
            timestamp: line.timestamp,
          };
          return `${JSON.stringify(entry)}\n`;
        })
        .join('');
      lines += page.items.length;
      if (!out.write(text)) await once(out, 'drain');
    }
    if (!out) return null;
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
    this.written.push(path);
    this.summary.outputLines += lines;
    return { file: 'output.jsonl', lines };
  }

  private async writeText(path: string, text: string): Promise<void> {
    await writeFile(join(this.dir, path), text);
    this.written.push(path);
  }

  private async writeBytes(path: string, bytes: Uint8Array): Promise<void> {
    await mkdir(dirname(join(this.dir, path)), { recursive: true });
    await writeFile(join(this.dir, path), bytes);
    this.written.push(path);
  }

  /** SHA256SUMS over every file written, read back as streams. */
  private async writeSums(): Promise<void> {
    const sums = new Map<string, string>();
    for (const path of this.written) sums.set(path, await sha256File(join(this.dir, path)));
    await writeFile(join(this.dir, SUMS_FILE), formatSums(sums));
    this.summary.files = sums.size + 1;
  }
}

function valueEntry(value: {
  name: string;
  value: number | string | boolean;
  type: 'number' | 'string' | 'boolean';
  step: number | null;
  timestamp: number;
  context: string | null;
}) {
  return {
    name: value.name,
    value: value.value,
    type: value.type,
    step: value.step,
    timestamp: value.timestamp,
    context: value.context,
  };
}

function toBigInt(value: number | null): bigint | null {
  return value === null ? null : BigInt(value);
}
