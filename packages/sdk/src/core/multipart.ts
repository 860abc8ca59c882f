import type { UploadSource } from '../platform/platform.js';

const encoder = new TextEncoder();

/** Quotes and line breaks in a field or file name, escaped as the HTML standard's form encoder does. */
function quoted(value: string): string {
  return value.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export interface MultipartBody {
  contentType: string;
  /** Bytes of the whole body when the file's size is known (it then becomes Content-Length). */
  length: number | undefined;
  /** A fresh body stream; undefined when the source cannot be read again. */
  open(): ReadableStream<Uint8Array> | undefined;
}

/**
 * A multipart/form-data body streamed from its source: the fields, then the file, never the whole
 * file in memory. `onProgress` counts the file's bytes as fetch pulls them.
 */
export function multipartBody(
  fields: [string, string][],
  file: { field: string; source: UploadSource; contentType: string },
  boundary: string,
  onProgress?: (progress: { loaded: number; total: number | undefined }) => void,
): MultipartBody {
  let head = '';
  for (const [name, value] of fields) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  }
  head +=
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(file.field)}"; filename="${quoted(file.source.name)}"\r\n` +
    `Content-Type: ${file.contentType}\r\n\r\n`;
  const headBytes = encoder.encode(head);
  const tailBytes = encoder.encode(`\r\n--${boundary}--\r\n`);
  const total = file.source.size;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: total === undefined ? undefined : headBytes.length + total + tailBytes.length,
    open() {
      const stream = file.source.open();
      if (!stream) return undefined;
      const reader = stream.getReader();
      let stage: 'head' | 'file' | 'tail' | 'done' = 'head';
      let loaded = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (stage === 'head') {
            stage = 'file';
            controller.enqueue(headBytes);
            onProgress?.({ loaded, total });
            return;
          }
          if (stage === 'file') {
            const { done, value } = await reader.read();
            if (!done) {
              loaded += value.byteLength;
              controller.enqueue(value);
              onProgress?.({ loaded, total });
              return;
            }
            stage = 'tail';
          }
          if (stage === 'tail') {
            stage = 'done';
            controller.enqueue(tailBytes);
            controller.close();
          }
        },
        async cancel(reason) {
          await reader.cancel(reason);
        },
      });
    },
  };
}

/** A multipart/form-data body of text fields only (a remote asset: its fields and link, no file). */
export function multipartFields(fields: [string, string][], boundary: string): { contentType: string; text: string } {
  let text = '';
  for (const [name, value] of fields) {
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, text: `${text}--${boundary}--\r\n` };
}

/** A stream or an async iterable of bytes as a ReadableStream. */
export function toReadableStream(
  source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
): ReadableStream<Uint8Array> {
  if (typeof (source as ReadableStream).getReader === 'function') return source as ReadableStream<Uint8Array>;
  const iterator = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

/** The media type of a file name, for the few kinds worth knowing; the server decides what it serves. */
export function contentTypeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const known: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    svg: 'image/svg+xml',
    json: 'application/json',
    txt: 'text/plain',
    csv: 'text/csv',
    html: 'text/html',
  };
  return known[ext] ?? 'application/octet-stream';
}
