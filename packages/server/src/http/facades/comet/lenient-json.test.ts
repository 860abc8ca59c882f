import { describe, expect, it } from 'vitest';
import { quoteNonFinite } from './lenient-json.js';

describe('quoteNonFinite', () => {
  it('quotes bare NaN and infinities and leaves strings and numbers alone', () => {
    const text = '{"a": NaN, "b": [Infinity, -Infinity, -1.5e3], "c": "NaN \\" Infinity", "d": {"NaN": -2}}';
    expect(JSON.parse(quoteNonFinite(text))).toEqual({
      a: 'NaN',
      b: ['Infinity', '-Infinity', -1500],
      c: 'NaN " Infinity',
      d: { NaN: -2 },
    });
  });

  it('keeps standard JSON as it is', () => {
    const text = '{"x": [1, -2, "N", "I-"], "y": null, "z": "\\\\"}';
    expect(quoteNonFinite(text)).toBe(text);
  });
});
