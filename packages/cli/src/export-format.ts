import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { DocumentKind, LoggedValue } from '@cairn/sdk';
import type { SchemaElement } from 'hyparquet';

/**
 * Cairn's export format, version 1 (docs/export-format.md): what `cairn export` writes and
 * `cairn import` reads. JSON for metadata, Parquet for metric points, assets as plain files, and
 * SHA-256 checksums over every file.
 */

export const FORMAT = 'cairn-export';
export const VERSION = 1;
export const MANIFEST_FILE = 'cairn-export.json';
export const SUMS_FILE = 'SHA256SUMS';

export interface Manifest {
  format: typeof FORMAT;
  version: typeof VERSION;
  exportedAt: string;
  source: { url: string; workspace: string; project: string; user: string };
  project: { name: string; description: string | null; isPublic: boolean; notes: string };
  /** Oldest first: by start time, then key (bytewise). */
  experiments: string[];
}

/** A parameter or other as logged: every one, in logging order. */
export type ValueEntry = Pick<LoggedValue, 'name' | 'value' | 'type' | 'step' | 'timestamp' | 'context'>;

export interface AssetEntry {
  id: string;
  fileName: string;
  type: string;
  step: number | null;
  epoch: number | null;
  context: string | null;
  /** JSON text, as logged. */
  metadata: string | null;
  /** The experiment model the file belongs to. */
  model: string | null;
  remote: boolean;
  /** A remote asset's URI (no bytes); null for stored bytes. */
  link: string | null;
  size: number;
  /** The bytes, relative to the experiment's folder; null for a remote asset. */
  file: string | null;
}

export interface TableEntry {
  name: string;
  description: string | null;
  rowCount: number;
  file: string;
}

export interface ExperimentFile {
  key: string;
  name: string | null;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  archived: boolean;
  startTime: number;
  endTime: number | null;
  createdBy: string;
  tags: string[];
  params: ValueEntry[];
  others: ValueEntry[];
  documents: Partial<Record<DocumentKind, string>>;
  gitPatch: string | null;
  assets: AssetEntry[];
  tables: TableEntry[];
  metrics: { file: string; points: number; series: { name: string; count: number }[] } | null;
  output: { file: string; lines: number } | null;
}

/** One line of `output.jsonl`. */
export interface OutputEntry {
  text: string;
  stderr: boolean;
  context: string | null;
  timestamp: number;
}

/** Columns of `metrics.parquet`, in this order. */
export const METRIC_COLUMNS = ['name', 'context', 'step', 'epoch', 'timestamp', 'value'] as const;

export const METRICS_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: METRIC_COLUMNS.length },
  {
    name: 'name',
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
    repetition_type: 'REQUIRED',
  },
  {
    name: 'context',
    type: 'BYTE_ARRAY',
    converted_type: 'UTF8',
    logical_type: { type: 'STRING' },
    repetition_type: 'OPTIONAL',
  },
  { name: 'step', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'epoch', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED' },
  { name: 'value', type: 'DOUBLE', repetition_type: 'REQUIRED' },
];

/** Points per row group of `metrics.parquet` (and per page read from the server). */
export const METRIC_ROWS_PER_GROUP = 50_000;

/** Experiment keys are letters and digits: they name folders as they are. */
export const EXPERIMENT_KEY = /^[A-Za-z0-9]{1,64}$/;

/** Strings in byte order of their UTF-8 form, as the API sorts names. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * A file or folder name made from a logged name: its last path segment, with characters that file
 * systems refuse or misread replaced by "_", and at most 120 characters. Logged names are
 * untrusted: "../x" or "/etc/passwd" must never name a path outside the export.
 */
export function safeSegment(name: string, fallback: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  let safe = last.replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_').slice(0, 120);
  if (safe === '' || safe === '.' || safe === '..') safe = fallback;
  return safe;
}

/**
 * A relative path inside the export, as written in its JSON files and in SHA256SUMS: "/"-separated,
 * normalised, never absolute nor climbing out with "..". Undefined when the path is not one.
 */
export function checkedRelativePath(path: string): string | undefined {
  if (typeof path !== 'string' || path === '' || path.includes('\\') || path.includes('\u0000')) return undefined;
  const normal = posix.normalize(path);
  if (normal !== path || posix.isAbsolute(path) || path === '..' || path.startsWith('../')) return undefined;
  return path;
}

/** SHA-256 of a file, read as a stream. */
export function sha256File(path: string, onBytes?: (n: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => {
        hash.update(chunk);
        onBytes?.(chunk.length);
      })
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The lines of SHA256SUMS, in byte order of the paths (`sha256sum -c` reads them). */
export function formatSums(sums: Map<string, string>): string {
  return [...sums.keys()]
    .sort(byteOrder)
    .map((path) => `${sums.get(path)}  ${path}\n`)
    .join('');
}

/** SHA256SUMS parsed: path → hex digest. Throws on a line that is not `<hex>  <path>`. */
export function parseSums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    const path = match ? checkedRelativePath(match[2] as string) : undefined;
    if (!match || !path) throw new Error(`line ${i + 1} of ${SUMS_FILE} is not "<sha256>  <relative path>"`);
    if (sums.has(path)) throw new Error(`${SUMS_FILE} lists ${path} twice`);
    sums.set(path, match[1] as string);
  });
  return sums;
}

/** JSON as written into the export: two-space indented, one trailing newline. */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
