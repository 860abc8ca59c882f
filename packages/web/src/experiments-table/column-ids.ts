import type { KeySource } from '@cairn/sdk';

/**
 * Column ids of the experiment table (docs/api/cairn.md "Column ids"): building them from catalogue
 * names, and reading them back for headers, the picker and the query bar.
 */

/** Attributes every experiment has, in the order the picker lists them. */
export const ATTRIBUTES = [
  'name',
  'status',
  'running',
  'archived',
  'startTime',
  'endTime',
  'duration',
  'lastUpdated',
  'user',
  'fileName',
  'filePath',
  'gitBranch',
  'gitCommit',
  'tags',
  'key',
] as const;

export const METRIC_AGGREGATES = ['last', 'min', 'max'] as const;
export type MetricAggregate = (typeof METRIC_AGGREGATES)[number];

/** Columns the table always asks for: the status badge and the archived marker read them. */
export const BASE_COLUMNS = ['status', 'running', 'archived'] as const;

/** Shown when the URL names no columns, before the most common metrics and parameters. */
export const DEFAULT_ATTRIBUTE_COLUMNS = ['startTime', 'duration', 'user', 'tags'] as const;

const TIME_COLUMNS = new Set(['startTime', 'endTime', 'lastUpdated']);

const PLAIN_NAME = /^[A-Za-z0-9_\-./]+$/;
const AGGREGATE_SUFFIX = /\.(last|min|max|count)$/i;

/** A name after a prefix, backquoted unless it is made of letters, digits, `_`, `-`, `.`, `/`. */
export function quoteName(name: string, { metric = false } = {}): string {
  // A metric named `loss.max` would read as the max of `loss` unquoted.
  if (PLAIN_NAME.test(name) && !(metric && AGGREGATE_SUFFIX.test(name))) return name;
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

export function paramColumn(name: string): string {
  return `params.${quoteName(name)}`;
}
export function otherColumn(name: string): string {
  return `others.${quoteName(name)}`;
}
export function systemColumn(name: string): string {
  return `system.${quoteName(name)}`;
}
export function metricColumn(name: string, aggregate: MetricAggregate): string {
  return `metrics.${quoteName(name, { metric: true })}.${aggregate}`;
}

/** The column id of a catalogue key (metrics: with the aggregate chosen). */
export function catalogueColumn(source: KeySource, name: string, aggregate: MetricAggregate = 'last'): string | null {
  switch (source) {
    case 'param':
      return paramColumn(name);
    case 'other':
      return otherColumn(name);
    case 'system':
      return systemColumn(name);
    case 'metric':
      return metricColumn(name, aggregate);
    case 'tag':
      return null;
  }
}

export interface ParsedColumn {
  kind: 'attribute' | 'param' | 'other' | 'system' | 'metric';
  /** The name without prefix and backquotes. */
  name: string;
  aggregate?: MetricAggregate | 'count';
}

function unquote(text: string): string {
  if (!text.startsWith('`') || !text.endsWith('`') || text.length < 2) return text;
  return text.slice(1, -1).replace(/\\([\\`])/g, '$1');
}

/** Reads a column id back; ids the table cannot name come back as attributes of that text. */
export function parseColumn(id: string): ParsedColumn {
  const dot = id.indexOf('.');
  const prefix = dot > 0 ? id.slice(0, dot).toLowerCase() : '';
  const rest = dot > 0 ? id.slice(dot + 1) : id;
  if (prefix === 'params') return { kind: 'param', name: unquote(rest) };
  if (prefix === 'others') return { kind: 'other', name: unquote(rest) };
  if (prefix === 'system') return { kind: 'system', name: unquote(rest) };
  if (prefix === 'attributes') return { kind: 'attribute', name: rest };
  if (prefix === 'metrics') {
    const match = /^(.*)\.(last|min|max|count)$/i.exec(rest);
    if (match?.[1] && !rest.endsWith('`')) {
      return {
        kind: 'metric',
        name: unquote(match[1]),
        aggregate: match[2]?.toLowerCase() as MetricAggregate | 'count',
      };
    }
    return { kind: 'metric', name: unquote(rest), aggregate: 'last' };
  }
  return { kind: 'attribute', name: id };
}

const ATTRIBUTE_LABELS: Record<string, string> = {
  startTime: 'Started',
  endTime: 'Ended',
  duration: 'Duration',
  lastUpdated: 'Last updated',
  user: 'User',
  tags: 'Tags',
  fileName: 'File',
  filePath: 'File path',
  gitBranch: 'Git branch',
  gitCommit: 'Git commit',
  key: 'Key',
  running: 'Running',
  archived: 'Archived',
  status: 'Status',
  name: 'Name',
};

/** A short header for a column, and the group it belongs to (shown above the header). */
export function columnLabel(id: string): { label: string; group: string } {
  const parsed = parseColumn(id);
  switch (parsed.kind) {
    case 'attribute':
      return { label: ATTRIBUTE_LABELS[parsed.name] ?? parsed.name, group: '' };
    case 'metric':
      return { label: parsed.name, group: `metric · ${parsed.aggregate ?? 'last'}` };
    case 'param':
      return { label: parsed.name, group: 'param' };
    case 'other':
      return { label: parsed.name, group: 'other' };
    case 'system':
      return { label: parsed.name, group: 'system' };
  }
}

/** `tags` cannot be sorted by (the server refuses it); every other column can. */
export function sortable(id: string): boolean {
  return id !== 'tags';
}

export function isTimeColumn(id: string): boolean {
  return TIME_COLUMNS.has(id);
}

/** The sort parameter read as column and direction. */
export function parseSort(sort: string): { column: string; descending: boolean } | null {
  if (!sort) return null;
  return sort.startsWith('-') ? { column: sort.slice(1), descending: true } : { column: sort, descending: false };
}

/**
 * Splits the `cols` URL parameter: commas inside backquotes belong to the name, as the server
 * reads its `columns` parameter.
 */
export function splitColumns(raw: string): string[] {
  const columns: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const char = raw[i];
    if (quoted && char === '\\' && i + 1 < raw.length) {
      current += char + raw[i + 1];
      i++;
      continue;
    }
    if (char === '`') quoted = !quoted;
    if (char === ',' && !quoted) {
      if (current) columns.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  if (current) columns.push(current);
  return columns;
}

/** A string literal of the query language. */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `key = 'a' or key = 'b'`: the filter that fetches exactly these experiments. */
export function keysFilter(keys: readonly string[]): string {
  return keys.map((key) => `key = ${quoteLiteral(key)}`).join(' or ');
}

/** Combines the view's filter with another test, keeping the view's precedence intact. */
export function andFilter(filter: string, extra: string): string {
  return filter.trim() ? `(${filter}) and (${extra})` : extra;
}
