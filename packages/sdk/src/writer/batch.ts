/**
 * Sealed batches: the unit a writer spools, sends and acknowledges. A batch has parts, one
 * request each (metrics, params, others, tags; the experiment's creation and end too), each with
 * its own Idempotency-Key `<writerId>:<seq>:<part>` so the server stores each exactly once however
 * often it is sent (retries, a replay from the spool).
 *
 * On disk a batch is one JSON document (`<seq>.json`), gzipped when large (`<seq>.json.gz`). The
 * gzipped form is a concatenation of gzip members — the document's glue text and each part's
 * body, compressed separately — which decompresses to the same document: the part bodies
 * compressed for sending are written as they are, not compressed twice.
 */

export interface BatchPart {
  /** `create`, `start`, `metrics`, `params`, `params@<step>`, `others`, `tags`, `end`; `.0`/`.1` after a 413 split. */
  part: string;
  method: 'POST' | 'PATCH';
  /** Under the API base, percent-encoded. */
  path: string;
  idempotencyKey: string;
  /** Metric points carried (0 for other parts). */
  points: number;
  /** A 409 means "done already": the experiment this writer creates under its own key exists. */
  conflictIsSuccess?: boolean;
  /** The JSON request body. */
  body: string;
}

/** What a spool file holds. */
export interface BatchDocument {
  v: 1;
  experimentKey: string;
  writerId: string;
  seq: number;
  createdAt: number;
  points: number;
  parts: BatchPart[];
}

const encoder = new TextEncoder();

/**
 * The document's text around its part bodies: [head, glue, …, tail], one more than there are
 * parts. Interleaved with the bodies, it is the document; kept apart, the bodies can be written
 * (and compressed) as they are sent.
 */
export function documentGlue(doc: BatchDocument): string[] {
  const { parts, ...head } = doc;
  const glue: string[] = [];
  let text = `${JSON.stringify(head).slice(0, -1)},"parts":[`;
  parts.forEach((part, i) => {
    const { body: _body, ...meta } = part;
    glue.push(`${text}${i > 0 ? ',' : ''}${JSON.stringify(meta).slice(0, -1)},"body":`);
    text = '}';
  });
  glue.push(`${text}]}`);
  return glue;
}

/** The document as UTF-8 chunks: glue and bodies interleaved, the bodies at the odd indexes. */
export function documentChunks(doc: BatchDocument, bodies: Uint8Array[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  documentGlue(doc).forEach((glue, i) => {
    chunks.push(utf8(glue));
    if (i < bodies.length) chunks.push(bodies[i] as Uint8Array);
  });
  return chunks;
}

/** Reads a document back; throws on anything that is not one. */
export function parseDocument(text: string): BatchDocument {
  const raw = JSON.parse(text) as Omit<BatchDocument, 'parts'> & {
    parts: (Omit<BatchPart, 'body'> & { body: unknown })[];
  };
  if (raw.v !== 1 || !Number.isSafeInteger(raw.seq) || !Array.isArray(raw.parts)) {
    throw new Error('not a Cairn spool batch (version 1)');
  }
  return { ...raw, parts: raw.parts.map((p) => ({ ...p, body: JSON.stringify(p.body) })) };
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Halves of a part the server found too large (413), with keys derived from the part's own, so
 * that a replay splits the same way and sends the same keys. Undefined when it cannot be split.
 */
export function splitPart(part: BatchPart): [BatchPart, BatchPart] | undefined {
  const body = JSON.parse(part.body) as Record<string, unknown>;
  const halves = splitBody(part.part, body);
  if (!halves) return undefined;
  return [0, 1].map((i) => ({
    ...part,
    part: `${part.part}.${i}`,
    idempotencyKey: `${part.idempotencyKey}.${i}`,
    points: halves[i]?.points ?? 0,
    body: JSON.stringify(halves[i]?.body),
  })) as [BatchPart, BatchPart];
}

type Half = { body: Record<string, unknown>; points: number };

function splitBody(name: string, body: Record<string, unknown>): [Half, Half] | undefined {
  const kind = name.split(/[@.]/)[0];
  if (kind === 'metrics') return splitMetrics(body);
  if (kind === 'params' || kind === 'others') {
    const entries = Object.entries((body.values ?? {}) as Record<string, unknown>);
    if (entries.length < 2) return undefined;
    const mid = Math.floor(entries.length / 2);
    const half = (e: [string, unknown][]): Half => ({ body: { ...body, values: Object.fromEntries(e) }, points: 0 });
    return [half(entries.slice(0, mid)), half(entries.slice(mid))];
  }
  if (kind === 'tags') {
    const tags = (body.tags ?? []) as unknown[];
    if (tags.length < 2) return undefined;
    const mid = Math.floor(tags.length / 2);
    return [
      { body: { tags: tags.slice(0, mid) }, points: 0 },
      { body: { tags: tags.slice(mid) }, points: 0 },
    ];
  }
  return undefined;
}

interface WireSeries {
  name: string;
  context?: string | null;
  values: unknown[];
  steps?: unknown[] | null;
  timestamps?: unknown[] | null;
  epochs?: unknown[] | null;
}

function splitMetrics(body: Record<string, unknown>): [Half, Half] | undefined {
  const series = (body.series ?? []) as WireSeries[];
  const total = series.reduce((n, s) => n + s.values.length, 0);
  if (total < 2) return undefined;
  const mid = Math.floor(total / 2);
  const left: WireSeries[] = [];
  const right: WireSeries[] = [];
  let seen = 0;
  for (const s of series) {
    const n = s.values.length;
    const cut = Math.max(0, Math.min(n, mid - seen));
    if (cut > 0) left.push(slice(s, 0, cut));
    if (cut < n) right.push(slice(s, cut, n));
    seen += n;
  }
  const rest = { ...body };
  delete rest.series;
  return [
    { body: { series: left, ...rest }, points: mid },
    { body: { series: right, ...rest }, points: total - mid },
  ];
}

function slice(s: WireSeries, from: number, to: number): WireSeries {
  const out: WireSeries = { name: s.name, values: s.values.slice(from, to) };
  if (s.context !== undefined) out.context = s.context;
  for (const column of ['steps', 'timestamps', 'epochs'] as const) {
    const values = s[column];
    if (Array.isArray(values)) out[column] = values.slice(from, to);
  }
  return out;
}

export function documentFileName(seq: number, gzipped: boolean): string {
  return `${seq}${gzipped ? '.json.gz' : '.json'}`;
}

/** The seq of a spool file name, or undefined for anything else (temp files, locks, failed/). */
export function seqOfFileName(name: string): number | undefined {
  const match = /^(\d+)\.json(\.gz)?$/.exec(name);
  return match ? Number(match[1]) : undefined;
}
