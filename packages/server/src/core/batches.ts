import { InvalidArgumentError } from './errors.js';
import type { ClientStream } from './store.port.js';

/**
 * Names a batch for exactly-once logging: a batch whose key was already recorded for the
 * experiment and stream is acknowledged and not stored again (see ClientBatchRepository).
 */
export interface BatchKey {
  stream: ClientStream;
  key: string;
}

/** An entry of a lenient batch that could not be stored, and why. */
export interface SkippedEntry {
  index: number;
  reason: string;
}

/** What became of a batch. */
export interface BatchOutcome {
  /** False when the batch replayed one already stored: then nothing was stored. */
  applied: boolean;
  /** Entries stored. */
  stored: number;
  /** Entries left out (lenient batches only); empty for a replay. */
  skipped: SkippedEntry[];
}

/**
 * Normalises every entry. Strict (the default): the first invalid entry rejects the batch.
 * Lenient: invalid entries are left out and reported, so one unstorable value does not cost a
 * client the rest of its batch.
 */
export function normaliseEach<I, O>(
  inputs: readonly I[],
  normalise: (input: I) => O,
  lenient: boolean,
): { valid: O[]; skipped: SkippedEntry[] } {
  const valid: O[] = [];
  const skipped: SkippedEntry[] = [];
  inputs.forEach((input, index) => {
    try {
      valid.push(normalise(input));
    } catch (error) {
      if (!lenient || !(error instanceof InvalidArgumentError)) throw error;
      skipped.push({ index, reason: error.message });
    }
  });
  return { valid, skipped };
}
