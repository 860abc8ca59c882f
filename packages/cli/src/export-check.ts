import { readFile, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { DOCUMENT_KINDS as DOCUMENT_KIND_NAMES } from '@cairn/schemas/cairn';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { CommandError } from './errors.js';
import {
  type AssetEntry,
  checkedRelativePath,
  EXPERIMENT_KEY,
  type ExperimentFile,
  FORMAT,
  MANIFEST_FILE,
  type Manifest,
  METRIC_COLUMNS,
  METRIC_ROWS_PER_GROUP,
  METRICS_SCHEMA,
  parseSums,
  SUMS_FILE,
  sha256File,
  type TableEntry,
  type ValueEntry,
  VERSION,
} from './export-format.js';
import type { Progress } from './output.js';

/**
 * What `cairn import` checks before it sends anything: every file of SHA256SUMS present with its
 * checksum, the manifest and each experiment.json of the documented shape, every file they name
 * listed in SHA256SUMS, and each metrics.parquet of the documented columns with the points its
 * experiment.json counts, grouped by series.
 */
export interface CheckedExport {
  manifest: Manifest;
  /** In the manifest's order, each with its folder (absolute). */
  experiments: { file: ExperimentFile; folder: string }[];
}

const DOCUMENT_KINDS = new Set<string>(DOCUMENT_KIND_NAMES);

export async function checkExport(dir: string, progress: Progress): Promise<CheckedExport> {
  let sumsText: string;
  try {
    sumsText = await readFile(join(dir, SUMS_FILE), 'utf8');
  } catch (error) {
    throw new CommandError(`${dir} has no readable ${SUMS_FILE} (${(error as Error).message}): not a Cairn export`);
  }
  let sums: Map<string, string>;
  try {
    sums = parseSums(sumsText);
  } catch (error) {
    throw new CommandError(`${dir}: ${(error as Error).message}`);
  }

  const problems: string[] = [];
  const sizes = new Map<string, number>();
  for (const path of sums.keys()) {
    try {
      const info = await stat(join(dir, path));
      if (!info.isFile()) problems.push(`${path} is not a file`);
      else sizes.set(path, info.size);
    } catch {
      problems.push(`${path} is missing`);
    }
  }
  const bar = progress.bar(
    'checksums',
    [...sizes.values()].reduce((a, b) => a + b, 0),
    { bytes: true },
  );
  for (const [path] of sizes) {
    const digest = await sha256File(join(dir, path), (n) => bar.increment(n));
    if (digest !== sums.get(path)) problems.push(`${path} does not match its checksum`);
  }
  bar.done();
  if (!sums.has(MANIFEST_FILE)) problems.push(`${SUMS_FILE} does not list ${MANIFEST_FILE}`);
  refuse(dir, problems);

  const manifest = checkManifest(await readJson(dir, MANIFEST_FILE));
  const experiments: CheckedExport['experiments'] = [];
  for (const key of manifest.experiments) {
    const base = `experiments/${key}`;
    const path = `${base}/experiment.json`;
    if (!sums.has(path)) {
      problems.push(`${SUMS_FILE} does not list ${path}`);
      continue;
    }
    const file = checkExperiment(await readJson(dir, path), key);
    for (const named of namedFiles(file)) {
      if (!sums.has(`${base}/${named}`)) problems.push(`${SUMS_FILE} does not list ${base}/${named}`);
    }
    refuse(dir, problems);
    if (file.metrics) await checkMetrics(join(dir, base, file.metrics.file), file);
    experiments.push({ file, folder: join(dir, base) });
  }
  refuse(dir, problems);
  return { manifest, experiments };
}

function refuse(dir: string, problems: string[]): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 3).join('; ');
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
  throw new CommandError(`${dir} is not an intact export, nothing was imported: ${shown}${more}`);
}

async function readJson(dir: string, path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(join(dir, path), 'utf8'));
  } catch (error) {
    throw new CommandError(`${path} is not JSON: ${(error as Error).message}`);
  }
}

/** Files an experiment.json names, relative to its folder. */
function namedFiles(file: ExperimentFile): string[] {
  const files: string[] = [];
  if (file.gitPatch) files.push(file.gitPatch);
  if (file.metrics) files.push(file.metrics.file);
  if (file.output) files.push(file.output.file);
  for (const asset of file.assets) if (asset.file) files.push(asset.file);
  for (const table of file.tables) files.push(table.file);
  return files;
}

/** Shape checks, one message naming the field that is wrong. */
class Shape {
  constructor(private readonly where: string) {}

  fail(field: string, expected: string): never {
    throw new CommandError(`${this.where}: "${field}" must be ${expected}`);
  }
  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(field, 'an object');
    return value as Record<string, unknown>;
  }
  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, 'an array');
    return value;
  }
  string(value: unknown, field: string): string {
    if (typeof value !== 'string') this.fail(field, 'a string');
    return value;
  }
  nullableString(value: unknown, field: string): string | null {
    return value === null ? null : this.string(value, field);
  }
  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, 'true or false');
    return value;
  }
  integer(value: unknown, field: string): number {
    if (!Number.isSafeInteger(value)) this.fail(field, 'an integer');
    return value as number;
  }
  nullableInteger(value: unknown, field: string): number | null {
    return value === null ? null : this.integer(value, field);
  }
  /** A path relative to the experiment's folder, inside it. */
  path(value: unknown, field: string): string {
    const path = checkedRelativePath(this.string(value, field));
    if (!path) this.fail(field, 'a relative path inside the export');
    return path;
  }
}

function checkManifest(value: unknown): Manifest {
  const s = new Shape(MANIFEST_FILE);
  const m = s.object(value, 'manifest');
  if (m.format !== FORMAT) s.fail('format', `"${FORMAT}"`);
  if (m.version !== VERSION) {
    throw new CommandError(`${MANIFEST_FILE} is version ${String(m.version)}; this cairn reads version ${VERSION}`);
  }
  const source = s.object(m.source, 'source');
  const project = s.object(m.project, 'project');
  const keys = s.array(m.experiments, 'experiments').map((key): string => {
    if (typeof key !== 'string' || !EXPERIMENT_KEY.test(key))
      s.fail('experiments', 'experiment keys (letters, digits)');
    return key as string;
  });
  if (new Set(keys).size !== keys.length) s.fail('experiments', 'distinct keys');
  return {
    format: FORMAT,
    version: VERSION,
    exportedAt: s.string(m.exportedAt, 'exportedAt'),
    source: {
      url: s.string(source.url, 'source.url'),
      workspace: s.string(source.workspace, 'source.workspace'),
      project: s.string(source.project, 'source.project'),
      user: s.string(source.user, 'source.user'),
    },
    project: {
      name: s.string(project.name, 'project.name'),
      description: s.nullableString(project.description, 'project.description'),
      isPublic: s.boolean(project.isPublic, 'project.isPublic'),
      notes: s.string(project.notes, 'project.notes'),
    },
    experiments: keys,
  };
}

function checkValues(s: Shape, value: unknown, field: string): ValueEntry[] {
  return s.array(value, field).map((item, i) => {
    const v = s.object(item, `${field}[${i}]`);
    const type = v.type;
    if (type !== 'number' && type !== 'string' && type !== 'boolean') {
      s.fail(`${field}[${i}].type`, '"number", "string" or "boolean"');
    }
    if (typeof v.value !== type || (type === 'number' && !Number.isFinite(v.value))) {
      s.fail(`${field}[${i}].value`, `a ${type}`);
    }
    return {
      name: s.string(v.name, `${field}[${i}].name`),
      value: v.value as number | string | boolean,
      type,
      step: s.nullableInteger(v.step, `${field}[${i}].step`),
      timestamp: s.integer(v.timestamp, `${field}[${i}].timestamp`),
      context: s.nullableString(v.context, `${field}[${i}].context`),
    };
  });
}

function checkExperiment(value: unknown, key: string): ExperimentFile {
  const s = new Shape(`experiments/${key}/experiment.json`);
  const e = s.object(value, 'experiment');
  if (e.key !== key) s.fail('key', `"${key}", the folder's name`);
  const status = e.status as ExperimentFile['status'];
  if (status !== 'RUNNING' && status !== 'SUCCEEDED' && status !== 'FAILED') {
    s.fail('status', '"RUNNING", "SUCCEEDED" or "FAILED"');
  }
  const documents: ExperimentFile['documents'] = {};
  for (const [kind, content] of Object.entries(s.object(e.documents, 'documents'))) {
    if (!DOCUMENT_KINDS.has(kind)) s.fail(`documents.${kind}`, `one of ${[...DOCUMENT_KINDS].join(', ')}`);
    documents[kind as keyof ExperimentFile['documents']] = s.string(content, `documents.${kind}`);
  }
  const assets = s.array(e.assets, 'assets').map((item, i): AssetEntry => {
    const a = s.object(item, `assets[${i}]`);
    const remote = s.boolean(a.remote, `assets[${i}].remote`);
    const link = s.nullableString(a.link, `assets[${i}].link`);
    const file = a.file === null ? null : s.path(a.file, `assets[${i}].file`);
    if (remote ? link === null || file !== null : file === null) {
      s.fail(`assets[${i}]`, 'a remote asset with a "link" and no "file", or stored bytes with a "file"');
    }
    return {
      id: s.string(a.id, `assets[${i}].id`),
      fileName: s.string(a.fileName, `assets[${i}].fileName`),
      type: s.string(a.type, `assets[${i}].type`),
      step: s.nullableInteger(a.step, `assets[${i}].step`),
      epoch: s.nullableInteger(a.epoch, `assets[${i}].epoch`),
      context: s.nullableString(a.context, `assets[${i}].context`),
      metadata: s.nullableString(a.metadata, `assets[${i}].metadata`),
      model: s.nullableString(a.model, `assets[${i}].model`),
      remote,
      link,
      size: s.integer(a.size, `assets[${i}].size`),
      file,
    };
  });
  const tables = s.array(e.tables, 'tables').map((item, i): TableEntry => {
    const t = s.object(item, `tables[${i}]`);
    return {
      name: s.string(t.name, `tables[${i}].name`),
      description: s.nullableString(t.description, `tables[${i}].description`),
      rowCount: s.integer(t.rowCount, `tables[${i}].rowCount`),
      file: s.path(t.file, `tables[${i}].file`),
    };
  });
  let metrics: ExperimentFile['metrics'] = null;
  if (e.metrics !== null) {
    const m = s.object(e.metrics, 'metrics');
    metrics = {
      file: s.path(m.file, 'metrics.file'),
      points: s.integer(m.points, 'metrics.points'),
      series: s.array(m.series, 'metrics.series').map((item, i) => {
        const series = s.object(item, `metrics.series[${i}]`);
        return {
          name: s.string(series.name, `metrics.series[${i}].name`),
          count: s.integer(series.count, `metrics.series[${i}].count`),
        };
      }),
    };
  }
  let output: ExperimentFile['output'] = null;
  if (e.output !== null) {
    const o = s.object(e.output, 'output');
    output = { file: s.path(o.file, 'output.file'), lines: s.integer(o.lines, 'output.lines') };
  }
  return {
    key,
    name: s.nullableString(e.name, 'name'),
    status,
    archived: s.boolean(e.archived, 'archived'),
    startTime: s.integer(e.startTime, 'startTime'),
    endTime: s.nullableInteger(e.endTime, 'endTime'),
    createdBy: s.string(e.createdBy, 'createdBy'),
    tags: s.array(e.tags, 'tags').map((tag, i) => s.string(tag, `tags[${i}]`)),
    params: checkValues(s, e.params, 'params'),
    others: checkValues(s, e.others, 'others'),
    documents,
    gitPatch: e.gitPatch === null ? null : s.path(e.gitPatch, 'gitPatch'),
    assets,
    tables,
    metrics,
    output,
  };
}

/**
 * The columns of metrics.parquet, and its `name` column read in windows: every series in one run
 * of rows, with the count experiment.json gives, in the order it lists them.
 */
async function checkMetrics(path: string, file: ExperimentFile): Promise<void> {
  const where = `experiments/${file.key}/${file.metrics?.file}`;
  const metrics = file.metrics;
  if (!metrics) return;
  let metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
  const buffer = await asyncBufferFromFile(path);
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (error) {
    throw new CommandError(`${where} is not a readable Parquet file: ${(error as Error).message}`);
  }
  const columns = parquetSchema(metadata).children.map((node) => node.element);
  const expected = METRICS_SCHEMA.slice(1);
  const same =
    columns.length === expected.length &&
    columns.every(
      (c, i) =>
        c.name === expected[i]?.name &&
        c.type === expected[i]?.type &&
        (c.repetition_type === 'OPTIONAL' || expected[i]?.repetition_type === 'REQUIRED'),
    );
  if (!same)
    throw new CommandError(`${where} must have the columns ${METRIC_COLUMNS.join(', ')} (docs/export-format.md)`);
  const rows = Number(metadata.num_rows);
  if (rows !== metrics.points) {
    throw new CommandError(`${where} holds ${rows} points, experiment.json says ${metrics.points}`);
  }
  const counted: { name: string; count: number }[] = [];
  for (let start = 0; start < rows; start += METRIC_ROWS_PER_GROUP) {
    const end = Math.min(start + METRIC_ROWS_PER_GROUP, rows);
    let names: unknown[][] = [];
    await parquetRead({
      file: buffer,
      metadata,
      compressors,
      columns: ['name'],
      rowStart: start,
      rowEnd: end,
      rowFormat: 'array',
      onComplete: (read) => {
        names = read;
      },
    });
    for (const [name] of names) {
      const last = counted.at(-1);
      if (last && last.name === name) last.count++;
      else counted.push({ name: String(name), count: 1 });
    }
  }
  const listed = metrics.series;
  const matches =
    counted.length === listed.length &&
    counted.every((c, i) => c.name === listed[i]?.name && c.count === listed[i]?.count);
  if (!matches) {
    throw new CommandError(
      `${where} does not hold the series experiment.json lists (each in one run of rows, in its order, with its count)`,
    );
  }
}

/** A path relative to an experiment's folder, joined to it. */
export function inFolder(folder: string, path: string): string {
  return join(folder, ...path.split(posix.sep));
}
