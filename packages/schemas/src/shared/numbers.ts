import { type IntegerOptions, type NumberOptions, Type } from '@sinclair/typebox';

/** 9999-12-31T23:59:59.999Z, the last instant rules.ts `timestamp` takes. */
export const MAX_TIMESTAMP_MILLIS = 253_402_300_799_999;

/**
 * A point's time as the core takes it (rules.ts `timestamp`): epoch milliseconds from 0 up to
 * year 9999; a fraction is rounded, not refused.
 */
export const TimestampMillis = Type.Number({ minimum: 0, maximum: MAX_TIMESTAMP_MILLIS });

/**
 * An integer the core stores as a number (rules.ts `optionalInteger`, a start or end time): within
 * ±(2^53 − 1), beyond which a double no longer holds every integer.
 */
export const SafeInteger = (options: NumberOptions = {}) =>
  Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER, ...options });

/** A number whose integer part is a safe integer (an epoch the facade truncates before the core). */
export const SafeTruncatedNumber = Type.Number({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER });

/** Epoch milliseconds the core keeps as they are (experiment start and end, expiries): ≥ 0 and safe. */
export const Millis = (options: IntegerOptions = {}) => SafeInteger({ minimum: 0, ...options });

/** A logged point's or line's timestamp, epoch milliseconds (rules.ts `timestamp`). */
export const Timestamp = (options: IntegerOptions = {}) =>
  Type.Integer({ minimum: 0, maximum: MAX_TIMESTAMP_MILLIS, ...options });

/** The same, where the core rounds a fractional millisecond (the bulk metric path). */
export const FractionalTimestamp = (options: NumberOptions = {}) =>
  Type.Number({ minimum: 0, maximum: MAX_TIMESTAMP_MILLIS, ...options });
