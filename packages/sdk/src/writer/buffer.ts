/**
 * Columnar point buffers: one per (metric name, context), four growable Float64Arrays. A point is
 * four array stores: no object per point, nothing for the garbage collector. "Not given" (a
 * missing step or epoch) is NaN, which no integer step can be.
 */

const MAX_NAME_LENGTH = 1000;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const INITIAL_CAPACITY = 256;

/** Points of one series, columnar; `steps`/`epochs` hold NaN where not given. */
export interface SeriesSlice {
  name: string;
  context: string | null;
  values: Float64Array;
  steps: Float64Array;
  timestamps: Float64Array;
  epochs: Float64Array;
}

export class SeriesBuffer {
  values: Float64Array;
  steps: Float64Array;
  timestamps: Float64Array;
  epochs: Float64Array;
  length = 0;

  constructor(
    readonly name: string,
    readonly context: string | null,
    /** Room in the arrays; the writer's hot loop stores into them directly (see Run.logMetrics). */
    public capacity = INITIAL_CAPACITY,
  ) {
    this.values = new Float64Array(capacity);
    this.steps = new Float64Array(capacity);
    this.timestamps = new Float64Array(capacity);
    this.epochs = new Float64Array(capacity);
  }

  push(value: number, step: number, timestamp: number, epoch: number): void {
    const i = this.length;
    if (i === this.capacity) this.grow();
    this.values[i] = value;
    this.steps[i] = step;
    this.timestamps[i] = timestamp;
    this.epochs[i] = epoch;
    this.length = i + 1;
  }

  /**
   * Hands the points over and starts afresh, with room for as many points as the last period
   * held, so a steady logging rate stops growing arrays after the first period.
   */
  take(): SeriesSlice | undefined {
    const n = this.length;
    if (n === 0) return undefined;
    const slice: SeriesSlice = {
      name: this.name,
      context: this.context,
      values: this.values.subarray(0, n),
      steps: this.steps.subarray(0, n),
      timestamps: this.timestamps.subarray(0, n),
      epochs: this.epochs.subarray(0, n),
    };
    let capacity = INITIAL_CAPACITY;
    while (capacity < n) capacity *= 2;
    this.capacity = capacity;
    this.values = new Float64Array(this.capacity);
    this.steps = new Float64Array(this.capacity);
    this.timestamps = new Float64Array(this.capacity);
    this.epochs = new Float64Array(this.capacity);
    this.length = 0;
    return slice;
  }

  grow(): void {
    const capacity = this.capacity * 2;
    for (const column of ['values', 'steps', 'timestamps', 'epochs'] as const) {
      const next = new Float64Array(capacity);
      next.set(this[column]);
      this[column] = next;
    }
    this.capacity = capacity;
  }
}

/** Throws a TypeError for a name the server would refuse (and with it the whole batch). */
export function checkName(kind: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`${kind} name must be a non-empty string`);
  if (name.length > MAX_NAME_LENGTH) throw new TypeError(`${kind} name must be at most ${MAX_NAME_LENGTH} characters`);
  if (CONTROL_CHARS.test(name))
    throw new TypeError(`${kind} name must not contain control characters: ${JSON.stringify(name)}`);
}

/** Splits slices into chunks of at most `max` points, in order, without copying. */
export function chunkSlices(slices: SeriesSlice[], max: number): SeriesSlice[][] {
  const chunks: SeriesSlice[][] = [];
  let current: SeriesSlice[] = [];
  let room = max;
  for (const slice of slices) {
    let from = 0;
    const n = slice.values.length;
    while (from < n) {
      const take = Math.min(room, n - from);
      current.push(from === 0 && take === n ? slice : sub(slice, from, from + take));
      from += take;
      room -= take;
      if (room === 0) {
        chunks.push(current);
        current = [];
        room = max;
      }
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export function sub(slice: SeriesSlice, from: number, to: number): SeriesSlice {
  return {
    name: slice.name,
    context: slice.context,
    values: slice.values.subarray(from, to),
    steps: slice.steps.subarray(from, to),
    timestamps: slice.timestamps.subarray(from, to),
    epochs: slice.epochs.subarray(from, to),
  };
}

export function countPoints(slices: SeriesSlice[]): number {
  let n = 0;
  for (const s of slices) n += s.values.length;
  return n;
}
