import { endianness } from 'node:os';
import { METRICS_BINARY_MEDIA_TYPE, MetricsBinaryHeader } from '@cairn/schemas/cairn';
import { Ajv } from 'ajv';
import { InvalidArgumentError } from '../../../../core/errors.js';
import type { SeriesBatchInput } from '../../../../core/metrics.service.js';

export { METRICS_BINARY_MEDIA_TYPE };

const LITTLE_ENDIAN = endianness() === 'LE';
// The header is checked against its TypeBox schema by Ajv, as Fastify checks JSON bodies.
const checkHeader = new Ajv({ allErrors: false, allowUnionTypes: true, strict: false }).compile<MetricsBinaryHeader>(
  MetricsBinaryHeader,
);
const OPTIONAL_COLUMNS = ['steps', 'timestamps', 'epochs'] as const;

/** A binary bulk body decoded: the same content as a JSON body, its columns as Float64Arrays. */
export interface DecodedMetricsBody {
  series: SeriesBatchInput[];
  allowNonFinite: boolean;
}

function refuse(detail: string): never {
  throw new InvalidArgumentError(`invalid ${METRICS_BINARY_MEDIA_TYPE} body: ${detail}`);
}

/**
 * Reads a binary bulk body (layout: `LogSeriesBodies` and docs/api/cairn.md). Every length is
 * checked against the body before a column is read, so a truncated or padded body, or a header
 * that does not match its columns, is refused (400) before any point is looked at. Columns are
 * views of the body where it is 8-byte aligned on a little-endian host (no copy, no number
 * formatting); otherwise they are copied.
 */
export function decodeMetricsBinary(body: Buffer): DecodedMetricsBody {
  if (body.length < 4) refuse(`${body.length} bytes is too short to hold the header length (4 bytes)`);
  const headerLength = body.readUInt32LE(0);
  if (4 + headerLength > body.length) {
    refuse(`the header is announced as ${headerLength} bytes but only ${body.length - 4} follow its length`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8', 4, 4 + headerLength));
  } catch (error) {
    refuse(`the header is not JSON (${(error as Error).message})`);
  }
  if (!checkHeader(parsed)) {
    const first = checkHeader.errors?.[0];
    const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    refuse(
      `header${first?.instancePath ? ` ${first.instancePath}` : ''} ${first?.message ?? 'is not a MetricsBinaryHeader'}${extra ? ` ("${extra}")` : ''}`,
    );
  }
  let at = Math.ceil((4 + headerLength) / 8) * 8;
  const series: SeriesBatchInput[] = [];
  for (const [index, entry] of parsed.series.entries()) {
    const column = (what: string): Float64Array => {
      const bytes = entry.length * 8;
      if (at + bytes > body.length) {
        refuse(
          `series ${index} ("${entry.name}"): its ${what} column needs ${bytes} bytes from byte ${at}, the body has ${Math.max(0, body.length - at)}`,
        );
      }
      const values = readFloat64s(body, at, entry.length);
      at += bytes;
      return values;
    };
    const input: SeriesBatchInput = { name: entry.name, context: entry.context ?? null, values: column('values') };
    for (const name of OPTIONAL_COLUMNS) if (entry[name]) input[name] = column(name);
    series.push(input);
  }
  if (at !== body.length) {
    refuse(`${body.length - at} bytes follow the last column the header announces (at byte ${at})`);
  }
  return { series, allowNonFinite: parsed.allowNonFinite ?? false };
}

function readFloat64s(body: Buffer, at: number, length: number): Float64Array {
  const offset = body.byteOffset + at;
  if (LITTLE_ENDIAN && offset % 8 === 0) return new Float64Array(body.buffer, offset, length);
  const out = new Float64Array(length);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(body.subarray(at, at + length * 8));
  else for (let i = 0; i < length; i++) out[i] = body.readDoubleLE(at + i * 8);
  return out;
}
