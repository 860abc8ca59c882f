import { type IntegerOptions, type NumberOptions, Type } from '@sinclair/typebox';

/** 9999-12-31T23:59:59.999Z, the last instant rules.ts `timestamp` takes. */
export const MAX_TIMESTAMP_MILLIS = 253_402_300_799_999;

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

/**
 * A point's time where the core rounds a fractional millisecond rather than refusing it (the bulk
 * metric path, Comet's point writes): epoch milliseconds from 0 up to year 9999.
 */
export const FractionalTimestamp = (options: NumberOptions = {}) =>
  Type.Number({ minimum: 0, maximum: MAX_TIMESTAMP_MILLIS, ...options });

/** FractionalTimestamp without options, as Comet's schemas use it. */
export const TimestampMillis = FractionalTimestamp();

/**
 * A metric value sent as text, as far as rules.ts `metricValue` reads it as a finite number:
 * decimal notation, the exponent form with one digit before the point (Java's Double.toString,
 * JavaScript's toString), magnitudes below 1e308 (no overflow to Infinity). NaN and infinities
 * are refused on this path.
 */
export const NUMERIC_TEXT =
  '^[+-]?([0-9]{1,308}(\\.[0-9]*)?|\\.[0-9]+|([0-9](\\.[0-9]*)?|\\.[0-9]+)[eE][+-]?([0-9]{1,2}|[12][0-9]{2}|30[0-7]))$';

/** The bulk path's metric values also take NaN and the infinities as text (JSON has none). */
export const NUMERIC_OR_NON_FINITE_TEXT = `${NUMERIC_TEXT}|^\\s*[nN][aA][nN]\\s*$|^[+-]?Infinity$`;
