import type { Command } from 'commander';
import { type ConnectionFlags, withCairn, withConnectionOptions } from '../connection.js';
import { UsageError } from '../errors.js';
import { cell, formatTime, plural, print, renderTable } from '../output.js';

/** A workspace and a project written `<workspace>/<project>` (the project name may hold more slashes). */
export function parseProjectRef(ref: string): { workspace: string; project: string } {
  const slash = ref.indexOf('/');
  const workspace = ref.slice(0, slash);
  const project = ref.slice(slash + 1);
  if (slash < 0 || !workspace || !project) throw new UsageError(`"${ref}" is not <workspace>/<project>`);
  return { workspace, project };
}

/** A positive integer option. */
export function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new UsageError(`${name} must be a positive integer, got "${value}"`);
    }
    return n;
  };
}

/** Columns shown to people when none are asked for. */
const DEFAULT_COLUMNS = ['status', 'startTime', 'duration'];
const TIME_COLUMNS = new Set(['starttime', 'endtime', 'lastupdated', 'attributes.starttime', 'attributes.endtime']);

interface ListOptions extends ConnectionFlags {
  filter?: string;
  sort?: string;
  columns?: string;
  archived?: string | boolean;
  limit?: number;
  json?: boolean;
}

/** `cairn experiments list` and `cairn experiments show` (beside the store's `experiments rid`). */
export function registerExperimentCommands(experiments: Command): void {
  withConnectionOptions(
    experiments
      .command('list <workspace/project>')
      .description('the experiment table of a project: filter, sort, columns (docs/api/cairn.md)')
      .option('--filter <query>', 'the query language: params.lr < 0.1 and metrics.loss.min <= 0.2')
      .option('--sort <column>', 'one column id, "-" in front for descending (default: newest first)')
      .option('--columns <ids>', `comma-separated column ids (default for people: ${DEFAULT_COLUMNS.join(',')})`)
      .option('--archived [which]', 'list archived experiments ("only", the default when given) or "all"')
      .option('--limit <n>', 'at most this many experiments (default: all)', positiveInteger('--limit'))
      .option('--json', 'one JSON object per experiment and line: { key, name, values }'),
  ).action((ref: string, options: ListOptions) => listExperiments(ref, options));

  withConnectionOptions(
    experiments
      .command('show <experiment-key>')
      .description('an experiment: its fields, tags, current params and others, and metric summaries')
      .option('--json', 'one JSON object: { experiment, params, others, metrics }'),
  ).action((key: string, options: ConnectionFlags & { json?: boolean }) => showExperiment(key, options));
}

function archivedOption(value: string | boolean | undefined): boolean | 'all' {
  if (value === undefined) return false;
  if (value === true || value === 'only') return true;
  if (value === 'all') return 'all';
  throw new UsageError(`--archived takes "only" or "all", got "${value}"`);
}

async function listExperiments(ref: string, options: ListOptions): Promise<void> {
  const { workspace, project } = parseProjectRef(ref);
  const archived = archivedOption(options.archived);
  const columns =
    options.columns !== undefined ? options.columns : options.json ? undefined : DEFAULT_COLUMNS.join(',');
  const limit = options.limit;
  await withCairn(options, async (cairn) => {
    const rows: { key: string; name: string | null; values: Record<string, unknown> }[] = [];
    let shown = 0;
    let total: number | undefined;
    const listing = cairn.experiments({
      workspace,
      project,
      ...(options.filter !== undefined ? { filter: options.filter } : {}),
      ...(options.sort !== undefined ? { sort: options.sort } : {}),
      ...(columns ? { columns } : {}),
      archived,
      limit: Math.min(limit ?? 1000, 1000),
    });
    pages: for await (const page of listing.pages()) {
      total ??= page.total;
      for (const row of page.items) {
        if (limit !== undefined && shown >= limit) break pages;
        shown++;
        // JSON lines go out as pages arrive: a large table never waits whole in memory.
        if (options.json) print(JSON.stringify(row));
        else rows.push(row);
      }
    }
    if (options.json) return;
    const ids = columns ? splitColumns(columns) : [];
    const body = rows.map((row) => [row.key, row.name ?? '', ...ids.map((id) => humanValue(id, row.values[id]))]);
    if (body.length > 0) print(renderTable(['key', 'name', ...ids], body));
    print(`${rows.length} of ${plural(total ?? rows.length, 'experiment')} in ${workspace}/${project}`);
  });
}

/** Column ids of a `columns` option: commas inside backquotes belong to a name. */
export function splitColumns(columns: string): string[] {
  const ids: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < columns.length; i++) {
    const char = columns[i] as string;
    if (char === '\\' && quoted) {
      current += char + (columns[i + 1] ?? '');
      i++;
    } else if (char === '`') {
      quoted = !quoted;
      current += char;
    } else if (char === ',' && !quoted) {
      ids.push(current.trim());
      current = '';
    } else current += char;
  }
  ids.push(current.trim());
  return ids.filter((id) => id !== '');
}

function humanValue(column: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  const id = column.toLowerCase();
  if (TIME_COLUMNS.has(id) && typeof value === 'number') return formatTime(value);
  if ((id === 'duration' || id === 'attributes.duration') && typeof value === 'number') return formatDuration(value);
  if (Array.isArray(value)) return value.map(String).join(', ');
  return cell(value);
}

/** Milliseconds as people read a run's length: 1h 02m 03s, 4m 05s, 6.2s. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${two(m)}m ${two(s)}s` : `${m}m ${two(s)}s`;
}

async function showExperiment(key: string, options: ConnectionFlags & { json?: boolean }): Promise<void> {
  await withCairn(options, async (cairn) => {
    const experiment = await cairn.experiments.get(key);
    const [params, others, metrics] = await Promise.all([
      cairn.params.list(key),
      cairn.others.list(key),
      cairn.metrics.list(key),
    ]);
    if (options.json) {
      print(JSON.stringify({ experiment, params, others, metrics }));
      return;
    }
    const fields: [string, string][] = [
      ['key', experiment.key],
      ['name', experiment.name ?? ''],
      ['project', `${experiment.workspace}/${experiment.project}`],
      [
        'status',
        `${experiment.status}${experiment.running ? ' (running)' : ''}${experiment.archived ? ', archived' : ''}`,
      ],
      ['started', formatTime(experiment.startTime)],
      ['ended', formatTime(experiment.endTime)],
      ['duration', formatDuration(experiment.durationMillis)],
      ['created by', experiment.createdBy],
      ['tags', experiment.tags.join(', ')],
    ];
    const width = Math.max(...fields.map(([name]) => name.length));
    for (const [name, value] of fields) print(`${name.padEnd(width)}  ${value}`);
    for (const [title, values] of [
      ['Parameters', params],
      ['Others', others],
    ] as const) {
      if (values.length === 0) continue;
      print(`\n${title}`);
      print(
        renderTable(
          ['name', 'value', 'step', 'context'],
          values.map((v) => [v.name, cell(v.value), cell(v.step), cell(v.context)]),
        ),
      );
    }
    if (metrics.length > 0) {
      print('\nMetrics');
      print(
        renderTable(
          ['name', 'count', 'last', 'min', 'max'],
          metrics.map((m) => [m.name, String(m.count), cell(m.last.value), cell(m.min.value), cell(m.max.value)]),
        ),
      );
    }
  });
}
