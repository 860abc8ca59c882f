import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** A point as stored in a block; `contextId` indexes the series' context dictionary. */
export interface StoredPoint {
  offset: number;
  value: number;
  step: number | null;
  epoch: number | null;
  timestamp: number;
  contextId: number;
}

const FORMAT_VERSION = 1;

/** Level 3 compresses within 1% of the default (6) at well under its cost, measured on metrics. */
const DEFLATE_LEVEL = 3;

/** Values column modes: raw doubles, or decimals stored as scaled integers (mode = 1 + exponent). */
const VALUES_AS_DOUBLES = 0;
const MAX_DECIMAL_EXPONENT = 9;

/**
 * Columnar block encoding. Offsets, steps, epochs and timestamps are delta + zigzag varints (they
 * mostly grow by small constants); values are XORed with their predecessor and byte-shuffled so
 * the unchanged high bytes of slowly moving metrics become long runs; then the whole block is
 * deflated. Optional columns carry a presence bitmap.
 */
export function encodeBlock(points: readonly StoredPoint[]): Uint8Array {
  const out = new ByteWriter(points.length * 12 + 16);
  writeColumns(out, points);
  return deflateRawSync(out.finish(), { level: DEFLATE_LEVEL });
}

/** The block's columns before deflate: what tail frames hold. */
function writeColumns(out: ByteWriter, points: readonly StoredPoint[]): void {
  out.varint(FORMAT_VERSION);
  out.varint(points.length);
  writeDeltas(
    out,
    points.map((p) => p.offset),
  );
  writeOptionalDeltas(
    out,
    points.map((p) => p.step),
  );
  writeOptionalDeltas(
    out,
    points.map((p) => p.epoch),
  );
  writeDeltas(
    out,
    points.map((p) => p.timestamp),
  );
  for (const p of points) out.varint(p.contextId);
  writeValues(
    out,
    points.map((p) => p.value),
  );
}

/**
 * A series' unsealed tail is a run of frames, one per append: each the columns of the points that
 * append brought (the block layout without deflate), after a varint of its length. An append adds
 * a frame without reading those before it, and at ~13 bytes a point the tail of a series stays a
 * few KiB (it is sealed at DIRECT_SEAL_MIN points).
 */
export function appendTailFrame(tail: Uint8Array | null, points: readonly StoredPoint[]): Uint8Array {
  const body = new ByteWriter(points.length * 13 + 16);
  writeColumns(body, points);
  const columns = body.finish();
  const out = new ByteWriter((tail?.length ?? 0) + columns.length + 5);
  if (tail) out.bytes(tail);
  out.varint(columns.length);
  out.bytes(columns);
  return out.finish();
}

/** Every point of a tail's frames, in the order appended (offset order). */
export function decodeTail(tail: Uint8Array | null): StoredPoint[] {
  return tail ? pointsOf(decodeTailColumns(tail)) : [];
}

/** A tail's frames as one run of columns. */
export function decodeTailColumns(tail: Uint8Array): BlockColumns {
  const frames: BlockColumns[] = [];
  const input = new ByteReader(tail);
  while (!input.done()) frames.push(readColumns(new ByteReader(input.take(input.varint()))));
  if (frames.length === 1) return frames[0] as BlockColumns;
  const count = frames.reduce((sum, frame) => sum + frame.count, 0);
  const joined: BlockColumns = {
    count,
    offsets: new Float64Array(count),
    steps: new Float64Array(count),
    epochs: new Float64Array(count),
    timestamps: new Float64Array(count),
    contextIds: new Uint32Array(count),
    values: new Float64Array(count),
  };
  let at = 0;
  for (const frame of frames) {
    joined.offsets.set(frame.offsets, at);
    joined.steps.set(frame.steps, at);
    joined.epochs.set(frame.epochs, at);
    joined.timestamps.set(frame.timestamps, at);
    joined.contextIds.set(frame.contextIds, at);
    joined.values.set(frame.values, at);
    at += frame.count;
  }
  return joined;
}

/**
 * A block decoded into columns: what chart reads scan. Absent steps and epochs are NaN (present
 * ones are integers, never NaN); `values` may hold NaN as a real value.
 */
export interface BlockColumns {
  count: number;
  offsets: Float64Array;
  steps: Float64Array;
  epochs: Float64Array;
  timestamps: Float64Array;
  contextIds: Uint32Array;
  values: Float64Array;
}

export function decodeBlock(payload: Uint8Array): StoredPoint[] {
  return pointsOf(decodeBlockColumns(payload));
}

function pointsOf(columns: BlockColumns): StoredPoint[] {
  const { offsets, steps, epochs, timestamps, contextIds, values } = columns;
  const points: StoredPoint[] = new Array(columns.count);
  for (let i = 0; i < columns.count; i++) {
    const step = steps[i] as number;
    const epoch = epochs[i] as number;
    points[i] = {
      offset: offsets[i] as number,
      value: values[i] as number,
      step: Number.isNaN(step) ? null : step,
      epoch: Number.isNaN(epoch) ? null : epoch,
      timestamp: timestamps[i] as number,
      contextId: contextIds[i] as number,
    };
  }
  return points;
}

export function decodeBlockColumns(payload: Uint8Array): BlockColumns {
  return readColumns(new ByteReader(inflateRawSync(payload)));
}

function readColumns(input: ByteReader): BlockColumns {
  const version = input.varint();
  if (version !== FORMAT_VERSION) throw new Error(`unknown series block format ${version}`);
  const count = input.varint();
  const offsets = new Float64Array(count);
  readDeltasInto(input, offsets, count);
  const steps = readOptionalDeltas(input, count);
  const epochs = readOptionalDeltas(input, count);
  const timestamps = new Float64Array(count);
  readDeltasInto(input, timestamps, count);
  const contextIds = new Uint32Array(count);
  for (let i = 0; i < count; i++) contextIds[i] = input.varint();
  const values = readValues(input, count);
  return { count, offsets, steps, epochs, timestamps, contextIds, values };
}

/**
 * Below this a zigzagged delta stays under 2^53, where doubles hold every integer. Larger deltas
 * (steps jumping across most of the safe range, timestamps past it) go through BigInt; the bytes
 * are the same varint either way, so readers need not know which path wrote them.
 */
const EXACT_DELTA = 2 ** 52;

function writeDeltas(out: ByteWriter, values: readonly number[]): void {
  let previous = 0;
  for (const v of values) {
    if (!Number.isInteger(v)) throw new Error(`series block columns hold integers, got ${v}`);
    const delta = v - previous;
    if (Number.isSafeInteger(v) && Number.isSafeInteger(previous) && Math.abs(delta) < EXACT_DELTA) {
      out.varint(zigzag(delta));
    } else {
      out.bigVarint(zigzagBig(BigInt(v) - BigInt(previous)));
    }
    previous = v;
  }
}

function readDeltasInto(input: ByteReader, out: Float64Array, count: number): void {
  let previous = 0;
  for (let i = 0; i < count; i++) {
    const encoded = input.exactVarint();
    // A small delta added to a value rounds to nothing: the sum is the next value, a double.
    previous =
      typeof encoded === 'number' ? previous + unzigzag(encoded) : Number(BigInt(previous) + unzigzagBig(encoded));
    out[i] = previous;
  }
}

function writeOptionalDeltas(out: ByteWriter, values: readonly (number | null)[]): void {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  });
  out.bytes(bitmap);
  writeDeltas(
    out,
    values.filter((v): v is number => v !== null),
  );
}

/** The column with NaN where the bitmap marks a value absent. */
function readOptionalDeltas(input: ByteReader, count: number): Float64Array {
  const bitmap = input.take(Math.ceil(count / 8));
  const values = new Float64Array(count);
  let present = 0;
  for (let i = 0; i < count; i++) if (((bitmap[i >> 3] as number) >> (i & 7)) & 1) present++;
  if (present === count) {
    readDeltasInto(input, values, count);
    return values;
  }
  const deltas = new Float64Array(present);
  readDeltasInto(input, deltas, present);
  let k = 0;
  for (let i = 0; i < count; i++) {
    values[i] = ((bitmap[i >> 3] as number) >> (i & 7)) & 1 ? (deltas[k++] as number) : Number.NaN;
  }
  return values;
}

/**
 * Metrics are often decimals (accuracy 0.8125, a loss rounded by the script): when every value
 * of the block is exactly k / 10^e for one small e, the integers k are stored as delta varints,
 * which compress far better than the doubles' noisy mantissas. The check is an exact round trip,
 * so the encoding stays lossless; anything else (NaN, infinities, full-precision floats) is
 * stored as doubles.
 */
function writeValues(out: ByteWriter, values: readonly number[]): void {
  const exponent = decimalExponent(values);
  if (exponent === undefined) {
    out.varint(VALUES_AS_DOUBLES);
    writeShuffledXorValues(out, values);
    return;
  }
  out.varint(1 + exponent);
  const scale = 10 ** exponent;
  writeDeltas(
    out,
    values.map((v) => Math.round(v * scale)),
  );
}

function readValues(input: ByteReader, count: number): Float64Array {
  const mode = input.varint();
  if (mode === VALUES_AS_DOUBLES) return readShuffledXorValues(input, count);
  const scale = 10 ** (mode - 1);
  const values = new Float64Array(count);
  readDeltasInto(input, values, count);
  for (let i = 0; i < count; i++) values[i] = (values[i] as number) / scale;
  return values;
}

/** The smallest e ≤ MAX_DECIMAL_EXPONENT with every value === round(v·10^e) / 10^e, if any. */
function decimalExponent(values: readonly number[]): number | undefined {
  for (let e = 0; e <= MAX_DECIMAL_EXPONENT; e++) {
    const scale = 10 ** e;
    let exact = true;
    for (const v of values) {
      const k = Math.round(v * scale);
      // -0 would come back as 0 through an integer; the bound keeps k exact.
      if (Object.is(v, -0) || !Number.isSafeInteger(k) || Math.abs(k) > 2 ** 52 || !Object.is(k / scale, v)) {
        exact = false;
        break;
      }
    }
    if (exact) return e;
  }
  return undefined;
}

/**
 * Each double's bytes XORed with its predecessor's, then byte-shuffled (all first bytes, all
 * second bytes, …). Done byte by byte: XOR is bitwise, so this equals XORing 64-bit words, without
 * a BigInt per value.
 */
function writeShuffledXorValues(out: ByteWriter, values: readonly number[]): void {
  const raw = new Uint8Array(Float64Array.from(values).buffer);
  const n = values.length;
  const shuffled = new Uint8Array(raw.length);
  for (let b = 0; b < 8; b++) {
    const plane = b * n;
    let previous = 0;
    for (let i = 0; i < n; i++) {
      const byte = raw[i * 8 + b] as number;
      shuffled[plane + i] = byte ^ previous;
      previous = byte;
    }
  }
  out.bytes(shuffled);
}

function readShuffledXorValues(input: ByteReader, count: number): Float64Array {
  const shuffled = input.take(count * 8);
  const values = new Float64Array(count);
  const raw = new Uint8Array(values.buffer);
  for (let b = 0; b < 8; b++) {
    const plane = b * count;
    let previous = 0;
    for (let i = 0; i < count; i++) {
      previous ^= shuffled[plane + i] as number;
      raw[i * 8 + b] = previous;
    }
  }
  return values;
}

// Zigzag on doubles, not 32-bit ints: steps and timestamps exceed 2^31.
function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function zigzagBig(n: bigint): bigint {
  return n >= 0n ? n * 2n : -n * 2n - 1n;
}

function unzigzagBig(n: bigint): bigint {
  return n % 2n === 0n ? n / 2n : -(n + 1n) / 2n;
}

class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity: number) {
    this.buffer = new Uint8Array(Math.max(capacity, 16));
  }

  varint(value: number): void {
    this.reserve(10);
    let v = value;
    while (v >= 0x80) {
      this.buffer[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buffer[this.length++] = v;
  }

  bigVarint(value: bigint): void {
    this.reserve(Math.ceil(value.toString(2).length / 7) + 1);
    let v = value;
    while (v >= 0x80n) {
      this.buffer[this.length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buffer[this.length++] = Number(v);
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  finish(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const next = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }
}

class ByteReader {
  private position = 0;

  constructor(private readonly buffer: Uint8Array) {}

  varint(): number {
    let result = 0;
    let multiplier = 1;
    for (;;) {
      const byte = this.buffer[this.position++];
      if (byte === undefined) throw new Error('truncated series block');
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 0x80;
    }
  }

  /** A varint as a number when it is below 2^53 (exact as a double), else as a bigint. */
  exactVarint(): number | bigint {
    const start = this.position;
    const value = this.varint();
    if (Number.isSafeInteger(value)) return value;
    let big = 0n;
    let shift = 0n;
    for (let i = start; i < this.position; i++) {
      big |= BigInt((this.buffer[i] as number) & 0x7f) << shift;
      shift += 7n;
    }
    return big;
  }

  done(): boolean {
    return this.position >= this.buffer.length;
  }

  take(length: number): Uint8Array {
    if (this.position + length > this.buffer.length) throw new Error('truncated series block');
    const slice = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return slice;
  }
}
