import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { PutTableJsonBody, TableUpload } from '@cairn/sdk';
import type { Command } from 'commander';
import { type ConnectionFlags, withCairn, withConnectionOptions } from '../connection.js';
import { CommandError, UsageError } from '../errors.js';
import { print } from '../output.js';

/** `cairn tables upload`: logs a table artifact through a running server's API. */
export function registerTableCommands(program: Command): void {
  withConnectionOptions(
    program
      .command('tables')
      .description('table artifacts (over HTTP)')
      .command('upload <experiment-key> <name> <file>')
      .description('log a table from a .csv, .parquet or .json file')
      .option('--description <text>', "the table's description")
      .option('--json', 'the stored table as one JSON object: { name, description, columns, rowCount, … }'),
  ).action(
    (
      experimentKey: string,
      name: string,
      file: string,
      options: ConnectionFlags & { description?: string; json?: boolean },
    ) => uploadTable(experimentKey, name, file, options),
  );
}

const FORMATS: Record<string, 'csv' | 'parquet' | 'json'> = { '.csv': 'csv', '.parquet': 'parquet', '.json': 'json' };

/**
 * PUT /api/cairn/v1/experiments/{key}/tables/{name} through the SDK: a CSV or Parquet file as it
 * is, or a JSON file `{"columns": [{"name", "type"}], "rows": [[…]], "description"?}`. The server
 * checks everything; this only picks the format by extension.
 */
async function uploadTable(
  experimentKey: string,
  name: string,
  file: string,
  options: ConnectionFlags & { description?: string; json?: boolean },
): Promise<void> {
  const format = FORMATS[extname(file).toLowerCase()];
  if (!format) throw new UsageError(`tables upload: ${file} must end in .csv, .parquet or .json`);
  await withCairn(options, async (cairn) => {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new CommandError(`cannot read ${file}: ${(error as Error).message}`);
    }
    let table: TableUpload;
    if (format === 'json') {
      let document: PutTableJsonBody;
      try {
        document = JSON.parse(bytes.toString('utf8')) as PutTableJsonBody;
      } catch (error) {
        throw new CommandError(`${file} is not JSON: ${(error as Error).message}`);
      }
      // A JSON body's own description wins over the query's, so the option goes into the body.
      table = { ...document, ...(options.description !== undefined ? { description: options.description } : {}) };
    } else {
      table = {
        format,
        data: bytes,
        ...(options.description !== undefined ? { description: options.description } : {}),
      };
    }
    // Whether the name is taken decides the word below; the upload itself replaces either way.
    const existed = (await cairn.tables.list(experimentKey)).some((t) => t.name === name);
    const stored = await cairn.tables.put(experimentKey, name, table);
    if (options.json) {
      print(JSON.stringify({ ...stored, created: !existed }));
      return;
    }
    const shown = stored.columns.slice(0, 10).map((c) => `${c.name} ${c.type}`);
    if (stored.columns.length > shown.length) shown.push('…');
    print(
      `${existed ? 'replaced' : 'created'} table "${stored.name}" of experiment ${experimentKey}: ` +
        `${stored.rowCount} rows, ${stored.columns.length} columns (${shown.join(', ')}), ${stored.sizeBytes} bytes stored`,
    );
  });
}
