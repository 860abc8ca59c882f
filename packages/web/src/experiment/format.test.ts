import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatMetric, formatValue } from './format';

describe('formatting', () => {
  it('writes sizes, durations, metric values and logged values', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
    expect(formatBytes(68719476736)).toBe('64 GiB');
    expect(formatDuration(59_000)).toBe('59s');
    expect(formatDuration(3_723_000)).toBe('1h 2m');
    expect(formatDuration(null)).toBe('—');
    expect(formatMetric('NaN')).toBe('NaN');
    expect(formatMetric(0.1851851851)).toBe('0.185185');
    expect(formatMetric(1e-7)).toBe('1.0000e-7');
    expect(formatValue(true)).toBe('true');
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
  });
});
