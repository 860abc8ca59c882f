import type { Readable } from 'node:stream';
import { type Entry, fromBufferPromise } from 'yauzl';
import type { PanelCode, PanelResource, PanelScope } from './entities.js';
import { InvalidArgumentError, TooLargeError } from './errors.js';
import * as rules from './rules.js';

/**
 * A code panel zip, as Comet exports it and cometx's `create_panel_zip` writes it: one JSON file
 * `tempVisualizationTemplate.json` holding `{templateName, code: {code, css, description, html,
 * defaultConfig, internalResources, userResources, pyCode, type, pyConfig}, queryBuilderId?,
 * scopeType?, thumbnailName?, ...}`, optionally beside a thumbnail image. The file may sit in one
 * folder (a zipped directory); a zip without it is accepted when it holds exactly one `.json`
 * file. Fields the server owns (templateId, owner, createdAt, editable, revisionId) are ignored.
 */
export const PANEL_TEMPLATE_FILE = 'tempVisualizationTemplate.json';

/** The template JSON is code and a little markup; anything larger is not a panel. */
const MAX_TEMPLATE_JSON_BYTES = 4 * 1024 * 1024;
/** A panel zip holds a JSON file and a thumbnail; the cap bounds the work a hostile zip can cause. */
const MAX_ZIP_ENTRIES = 1000;

/** What a panel zip defines; everything else about a panel is the server's. */
export interface PanelDefinition {
  name: string;
  queryBuilderId: string;
  scopeType: PanelScope;
  code: PanelCode;
  thumbnailName: string | null;
}

/** Reads a stream whole, refusing more than `maxBytes` (the stream is destroyed then). */
export async function readBounded(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buffer.length;
    if (size > maxBytes) throw new TooLargeError(`${what} exceeds the limit of ${maxBytes} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}

export async function readPanelArchive(zip: Buffer): Promise<PanelDefinition> {
  const text = await readTemplateText(zip);
  let document: unknown;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    throw new InvalidArgumentError(`the panel zip's ${PANEL_TEMPLATE_FILE} is not valid JSON`);
  }
  return panelDefinition(document);
}

async function readTemplateText(zip: Buffer): Promise<string> {
  try {
    const archive = await fromBufferPromise(zip, { lazyEntries: true, autoClose: false, validateEntrySizes: true });
    try {
      if (archive.entryCount > MAX_ZIP_ENTRIES) {
        throw new InvalidArgumentError(`a panel zip holds at most ${MAX_ZIP_ENTRIES} entries`);
      }
      const files: Entry[] = [];
      for await (const entry of archive.eachEntry()) {
        // Directories, and the resource forks macOS adds to zips it makes, are not content.
        if (entry.fileName.endsWith('/') || entry.fileName.startsWith('__MACOSX/')) continue;
        files.push(entry);
      }
      const entry = templateEntry(files);
      if (entry.isEncrypted()) throw new InvalidArgumentError('encrypted panel zips are not supported');
      if (entry.uncompressedSize > MAX_TEMPLATE_JSON_BYTES) {
        throw new InvalidArgumentError(`${entry.fileName} is larger than ${MAX_TEMPLATE_JSON_BYTES} bytes`);
      }
      const stream = await archive.openReadStreamPromise(entry);
      return (await readBounded(stream, MAX_TEMPLATE_JSON_BYTES, entry.fileName)).toString('utf8');
    } finally {
      archive.close();
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    // yauzl reports a damaged or unsupported zip as a plain Error: that is the client's input.
    throw new InvalidArgumentError(`invalid panel zip: ${(error as Error).message}`);
  }
}

/** The template file: at the root, else the only one in a folder, else the zip's only JSON file. */
function templateEntry(files: Entry[]): Entry {
  const baseName = (entry: Entry) => entry.fileName.split('/').pop() ?? '';
  const named = files.filter((entry) => baseName(entry) === PANEL_TEMPLATE_FILE);
  const atRoot = named.find((entry) => entry.fileName === PANEL_TEMPLATE_FILE);
  if (atRoot) return atRoot;
  if (named.length === 1) return named[0] as Entry;
  if (named.length > 1) throw new InvalidArgumentError(`the panel zip holds several ${PANEL_TEMPLATE_FILE} files`);
  const json = files.filter((entry) => entry.fileName.toLowerCase().endsWith('.json'));
  if (json.length === 1) return json[0] as Entry;
  throw new InvalidArgumentError(`a panel zip must contain ${PANEL_TEMPLATE_FILE}`);
}

/** Validates the template document and fills in what it leaves out. */
export function panelDefinition(document: unknown): PanelDefinition {
  const template = object(document, 'the panel template');
  const name = template.templateName;
  if (typeof name !== 'string') throw new InvalidArgumentError('the panel template needs a templateName');
  rules.entryName('panel', name);
  const code = object(template.code ?? {}, 'code');
  const source = text(code.code, 'code.code');
  const pyCode = text(code.pyCode, 'code.pyCode');
  const type = code.type ?? (pyCode !== '' && source === '' ? 'py' : 'js');
  if (type !== 'js' && type !== 'py') throw new InvalidArgumentError('code.type must be "js" or "py"');
  const scope = template.scopeType ?? 'PRIVATE';
  if (scope !== 'PUBLIC' && scope !== 'PRIVATE') {
    throw new InvalidArgumentError('scopeType must be "PUBLIC" or "PRIVATE"');
  }
  const thumbnail = template.thumbnailName ?? null;
  if (thumbnail !== null && typeof thumbnail !== 'string') {
    throw new InvalidArgumentError('thumbnailName must be a string');
  }
  return {
    name,
    queryBuilderId: text(template.queryBuilderId, 'queryBuilderId'),
    scopeType: scope,
    thumbnailName: thumbnail,
    code: {
      code: source,
      css: text(code.css, 'code.css'),
      description: text(code.description, 'code.description'),
      html: text(code.html, 'code.html'),
      defaultConfig: config(code.defaultConfig, 'code.defaultConfig'),
      internalResources: resources(code.internalResources),
      userResources: list(code.userResources, 'code.userResources'),
      pyCode,
      type,
      pyConfig: config(code.pyConfig, 'code.pyConfig'),
    },
  };
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function text(value: unknown, what: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  return value;
}

/** Configs are JSON text on the wire; a template that holds an object gets it as text. */
function config(value: unknown, what: string): string {
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return text(value, what);
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InvalidArgumentError(`${what} must be an array`);
  return value;
}

function resources(value: unknown): PanelResource[] {
  return list(value, 'code.internalResources').map((item) => {
    const resource = object(item, 'an internal resource');
    if (typeof resource.name !== 'string' || resource.name === '') {
      throw new InvalidArgumentError('an internal resource needs a name');
    }
    const enabled = resource.enabled ?? true;
    if (typeof enabled !== 'boolean') throw new InvalidArgumentError('internalResources[].enabled must be a boolean');
    return { name: resource.name, version: text(resource.version, 'internalResources[].version'), enabled };
  });
}
