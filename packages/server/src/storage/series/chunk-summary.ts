import type { SeriesSample } from '../../core/entities.js';

/**
 * Points per summarised chunk. Each sealed block keeps, for every run of CHUNK_SIZE points, the
 * chunk's count and its min and max points, so downsampling reads 1/256 of the points' worth of
 * summaries and decodes nothing. 72 bytes per chunk is 0.28 bytes per point on disk.
 */
export const CHUNK_SIZE = 256;

type SamplePoint = SeriesSample;

export interface ChunkSummary {
  count: number;
  /** Lowest and highest non-NaN points; undefined when the chunk holds NaN alone. */
  min: SamplePoint | undefined;
  max: SamplePoint | undefined;
}

const FIELDS = 9;

/** Summaries of consecutive `size`-point runs of `points` (the last run may be shorter). */
export function summarizeChunks(points: readonly SamplePoint[], size = CHUNK_SIZE): ChunkSummary[] {
  const chunks: ChunkSummary[] = [];
  for (let start = 0; start < points.length; start += size) {
    const end = Math.min(points.length, start + size);
    let min: SamplePoint | undefined;
    let max: SamplePoint | undefined;
    for (let i = start; i < end; i++) {
      const p = points[i] as SamplePoint;
      if (Number.isNaN(p.value)) continue;
      // Strict comparisons: the first point logged wins a tie, as in the series summary.
      if (min === undefined || p.value < min.value) min = p;
      if (max === undefined || p.value > max.value) max = p;
    }
    chunks.push({ count: end - start, min: min && sample(min), max: max && sample(max) });
  }
  return chunks;
}

/** Float64 columns: count, then offset/value/step/timestamp of min and of max (NaN = absent). */
export function encodeChunkSummaries(chunks: readonly ChunkSummary[]): Uint8Array {
  const out = new Float64Array(chunks.length * FIELDS);
  chunks.forEach((chunk, i) => {
    const base = i * FIELDS;
    out[base] = chunk.count;
    writePoint(out, base + 1, chunk.min);
    writePoint(out, base + 5, chunk.max);
  });
  return new Uint8Array(out.buffer);
}

export function decodeChunkSummaries(bytes: Uint8Array): ChunkSummary[] {
  // Copy when misaligned: drivers hand back Buffers that may start at any byte of a slab.
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const values = new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
  const chunks: ChunkSummary[] = [];
  for (let base = 0; base + FIELDS <= values.length; base += FIELDS) {
    chunks.push({
      count: values[base] as number,
      min: readPoint(values, base + 1),
      max: readPoint(values, base + 5),
    });
  }
  return chunks;
}

function sample(p: SamplePoint): SamplePoint {
  return { offset: p.offset, value: p.value, step: p.step, timestamp: p.timestamp };
}

function writePoint(out: Float64Array, at: number, point: SamplePoint | undefined): void {
  out[at] = point ? point.offset : Number.NaN;
  out[at + 1] = point ? point.value : Number.NaN;
  out[at + 2] = point?.step ?? Number.NaN;
  out[at + 3] = point ? point.timestamp : Number.NaN;
}

function readPoint(values: Float64Array, at: number): SamplePoint | undefined {
  const offset = values[at] as number;
  if (Number.isNaN(offset)) return undefined;
  const step = values[at + 2] as number;
  return {
    offset,
    value: values[at + 1] as number,
    step: Number.isNaN(step) ? null : step,
    timestamp: values[at + 3] as number,
  };
}

/**
 * Min/max-per-bucket downsampling over chunk summaries in offset order: consecutive chunks are
 * grouped into buckets of about `total / buckets` points, and each bucket contributes its lowest
 * and highest point (in offset order, once if they are the same point). Extremes are exact; only
 * bucket edges snap to chunk edges.
 */
export function downsampleChunks(chunks: readonly ChunkSummary[], total: number, buckets: number): SamplePoint[] {
  const target = Math.max(1, Math.ceil(total / buckets));
  const result: SamplePoint[] = [];
  let inBucket = 0;
  let min: SamplePoint | undefined;
  let max: SamplePoint | undefined;
  const flush = () => {
    if (min && max) {
      if (min.offset === max.offset) result.push(min);
      else result.push(...(min.offset < max.offset ? [min, max] : [max, min]));
    }
    inBucket = 0;
    min = undefined;
    max = undefined;
  };
  for (const chunk of chunks) {
    if (chunk.min && (min === undefined || chunk.min.value < min.value)) min = chunk.min;
    if (chunk.max && (max === undefined || chunk.max.value > max.value)) max = chunk.max;
    inBucket += chunk.count;
    if (inBucket >= target) flush();
  }
  flush();
  return result;
}
