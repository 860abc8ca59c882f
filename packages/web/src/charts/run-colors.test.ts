import { describe, expect, it } from 'vitest';
import { runColor, withAlpha } from './run-colors';

describe('runColor', () => {
  it('gives a run the same color every time, whatever else is drawn', () => {
    const key = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    expect(runColor(key)).toBe(runColor(`${key}`));
    expect(runColor(key)).toMatch(/^hsl\(\d+ 70% \d+%\)$/);
  });

  it('spreads ten runs over clearly different colors more often than a 20-color palette did', () => {
    const keys = Array.from({ length: 10 }, (_, i) => `run-key-${i.toString().padStart(28, '0')}`);
    const colors = new Set(keys.map(runColor));
    expect(colors.size).toBe(10);
  });

  it('takes an alpha for bands', () => {
    expect(withAlpha('hsl(200 70% 45%)', 0.2)).toBe('hsl(200 70% 45% / 0.2)');
    expect(withAlpha('#336699', 0.5)).toBe('rgba(51, 102, 153, 0.5)');
  });
});
