/** Headers of file downloads (assets, patches, zips), shared by the facades. */

/**
 * Media types by file extension, for the file kinds experiments log. Anything else is
 * application/octet-stream: a client that knows better can still tell from the file name.
 */
const MEDIA_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
  ico: 'image/x-icon',
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  flac: 'audio/flac',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  avi: 'video/x-msvideo',
  txt: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  xml: 'application/xml',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  py: 'text/x-python; charset=utf-8',
  ipynb: 'application/x-ipynb+json',
  diff: 'text/x-diff; charset=utf-8',
  patch: 'text/x-diff; charset=utf-8',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  parquet: 'application/vnd.apache.parquet',
  onnx: 'application/octet-stream',
};

/** The media type of a file from the extension of its name (case-insensitive). */
export function mediaTypeOf(fileName: string): string {
  const name = baseName(fileName);
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return 'application/octet-stream';
  return MEDIA_TYPES[name.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** The last segment of a logical path (clients send both separators). */
export function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).filter(Boolean).pop() ?? 'asset';
}

/**
 * Remote links are opaque client text; Node refuses header values outside Latin-1, so anything
 * beyond printable ASCII is percent-encoded (UTF-8) for the Location header.
 */
export function headerSafeLink(link: string): string {
  return link.replace(/[^\x20-\x7e]+/gu, (run) => encodeURIComponent(run));
}

/** RFC 6266 attachment with an RFC 8187 UTF-8 file name (quotes and parentheses escaped too). */
export function attachment(name: string): string {
  return `attachment; filename*=UTF-8''${encodeFileName(name)}`;
}

/**
 * `attachment` with a plain `filename="…"` before the RFC 8187 one, for tools that read only the
 * plain form; there, characters outside printable ASCII, quotes and backslashes become `_`.
 */
export function attachmentWithPlainName(name: string): string {
  const plain = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${plain}"; filename*=UTF-8''${encodeFileName(name)}`;
}

/** RFC 6266 inline disposition: shown by a browser when it can, saved under `name` otherwise. */
export function inline(name: string): string {
  return `inline; filename*=UTF-8''${encodeFileName(name)}`;
}

function encodeFileName(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
