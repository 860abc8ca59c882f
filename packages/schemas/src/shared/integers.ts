import { type IntegerOptions, type NumberOptions, Type } from '@sinclair/typebox';

/**
 * Number.MAX_SAFE_INTEGER. The core takes steps, epochs and times only as safe integers (rules.ts
 * `optionalInteger`, experiments.service.ts `checkTimes`): JSON Schema's `integer` alone admits
 * 3.2e21, which the core then refuses.
 */
const MAX_SAFE_INTEGER = 9_007_199_254_740_991;

/** rules.ts `MAX_TIMESTAMP`, 9999-12-31T23:59:59.999Z: the latest point in time the core takes. */
const MAX_TIMESTAMP = 253_402_300_799_999;

/** A step, an epoch or another integer the core requires to be safe. */
export const SafeInteger = (options: IntegerOptions = {}) =>
  Type.Integer({ minimum: -MAX_SAFE_INTEGER, maximum: MAX_SAFE_INTEGER, ...options });

/** Epoch milliseconds the core keeps as they are (experiment start and end, expiries): ≥ 0 and safe. */
export const Millis = (options: IntegerOptions = {}) => SafeInteger({ minimum: 0, ...options });

/** A logged point's or line's timestamp, epoch milliseconds (rules.ts `timestamp`). */
export const Timestamp = (options: IntegerOptions = {}) =>
  Type.Integer({ minimum: 0, maximum: MAX_TIMESTAMP, ...options });

/** The same, where the core rounds a fractional millisecond (the bulk metric path). */
export const FractionalTimestamp = (options: NumberOptions = {}) =>
  Type.Number({ minimum: 0, maximum: MAX_TIMESTAMP, ...options });
