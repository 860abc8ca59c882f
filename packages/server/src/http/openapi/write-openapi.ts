import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderOpenApiDocuments } from './openapi.documents.js';

/** `npm run openapi`: regenerates the committed documents under openapi/. */
const outDir = process.argv[2] ?? 'openapi';
await mkdir(outDir, { recursive: true });
for (const [file, text] of Object.entries(await renderOpenApiDocuments())) {
  await writeFile(join(outDir, file), text);
  process.stdout.write(`wrote ${join(outDir, file)}\n`);
}
