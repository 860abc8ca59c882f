import { describe, expect, it } from 'vitest';
import { compareRows, differs } from './compare-rows';

describe('compare rows', () => {
  it('has a row for every name any experiment has, null where one lacks it', () => {
    const rows = compareRows(
      [
        [
          { n: 'lr', v: '0.1' },
          { n: 'bs', v: '64' },
        ],
        [{ n: 'lr', v: '0.01' }],
        undefined,
      ],
      (item) => item.n,
      (item) => item.v,
    );
    expect(rows).toEqual([
      { name: 'bs', cells: ['64', null, null] },
      { name: 'lr', cells: ['0.1', '0.01', null] },
    ]);
  });

  it('calls a row different when any cell differs, a missing value included', () => {
    expect(differs({ name: 'a', cells: ['1', '1'] })).toBe(false);
    expect(differs({ name: 'a', cells: ['1', '2'] })).toBe(true);
    expect(differs({ name: 'a', cells: ['1', null] })).toBe(true);
  });
});
