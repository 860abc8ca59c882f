import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { CommandError, UsageError } from '../errors.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';

/** `cairn tables upload`: logs a table artifact through a running server's API. */
export function registerTableCommands(program: Command): void {
  program
    .command('tables')
    .description('table artifacts (over HTTP)')
    .command('upload <experiment-key> <name> <file>')
    .description('log a table from a .csv, .parquet or .json file')
    .option('--description <text>', "the table's description")
    .action((experimentKey: string, name: string, file: string, options: { description?: string }) =>
      uploadTable(experimentKey, name, file, options),
    );
}

const UPLOAD_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.parquet': 'application/vnd.apache.parquet',
  '.json': 'application/json',
};

/**
 * PUT /api/cairn/v1/experiments/{key}/tables/{name}: the file as it is (CSV, Parquet), or a JSON
 * file `{"columns": [{"name", "type"}], "rows": [[…]], "description"?}`. The server checks
 * everything; this only picks the Content-Type by extension.
 */
async function uploadTable(
  experimentKey: string,
  name: string,
  file: string,
  values: { description?: string },
): Promise<void> {
  const extension = extname(file).toLowerCase();
  const contentType = UPLOAD_TYPES[extension];
  if (!contentType) throw new UsageError(`tables upload: ${file} must end in .csv, .parquet or .json`);
  const apiKey = process.env.CAIRN_API_KEY;
  if (!apiKey) throw new CommandError('set CAIRN_API_KEY to an API key with the write scope');
  const base = (process.env.CAIRN_URL || DEFAULT_URL).replace(/\/+$/, '');

  let body: Buffer | string;
  try {
    body = await readFile(file);
  } catch (error) {
    throw new CommandError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const query = new URLSearchParams();
  if (extension === '.json' && values.description !== undefined) {
    // A JSON body's own description wins over the query's, so the option goes into the body.
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new CommandError(`${file} is not JSON: ${(error as Error).message}`);
    }
    body = JSON.stringify({ ...document, description: values.description });
  } else if (values.description !== undefined) {
    query.set('description', values.description);
  }
  const url = `${base}/api/cairn/v1/experiments/${encodeURIComponent(experimentKey)}/tables/${encodeURIComponent(name)}${query.size > 0 ? `?${query}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': contentType },
      body,
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new CommandError(`cannot reach the server at ${base}: ${cause}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let detail = text.slice(0, 500);
    try {
      detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
    } catch {
      // Not problem details (a proxy's page, say): show the start of the body as it is.
    }
    throw new CommandError(`${detail} (HTTP ${response.status})`);
  }
  const table = JSON.parse(text) as {
    name: string;
    rowCount: number;
    sizeBytes: number;
    columns: { name: string; type: string }[];
  };
  const shown = table.columns.slice(0, 10).map((c) => `${c.name} ${c.type}`);
  if (table.columns.length > shown.length) shown.push('…');
  process.stdout.write(
    `${response.status === 201 ? 'created' : 'replaced'} table "${table.name}" of experiment ${experimentKey}: ` +
      `${table.rowCount} rows, ${table.columns.length} columns (${shown.join(', ')}), ${table.sizeBytes} bytes stored\n`,
  );
}
