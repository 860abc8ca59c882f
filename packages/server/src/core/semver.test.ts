import { describe, expect, it } from 'vitest';
import { compareSemVer, nextMinor, parseSemVer, type SemVer } from './semver.js';

function parsed(text: string): SemVer {
  const version = parseSemVer(text);
  if (!version) throw new Error(`not semver: ${text}`);
  return version;
}

describe('semver', () => {
  it('parses releases, pre-releases and build metadata', () => {
    expect(parseSemVer('1.2.3')).toEqual({ major: 1n, minor: 2n, patch: 3n, prerelease: [], build: null });
    expect(parseSemVer('2.0.0-rc.1+build.7')).toEqual({
      major: 2n,
      minor: 0n,
      patch: 0n,
      prerelease: ['rc', '1'],
      build: 'build.7',
    });
    expect(parseSemVer('99999999999999999999.0.0')?.major).toBe(99999999999999999999n);
  });

  it('refuses what semver refuses', () => {
    for (const text of [
      '1',
      '1.2',
      '1.2.3.4',
      '01.2.3',
      '1.02.3',
      'v1.2.3',
      '1.2.3-',
      '1.2.3-01',
      '1.2.3+',
      ' 1.2.3',
      '',
    ]) {
      expect(parseSemVer(text), text).toBeUndefined();
    }
  });

  it('orders by precedence, as the semver specification lists it', () => {
    const ordered = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.2.0',
      '1.10.0',
      '2.0.0',
      '10.0.0',
    ];
    const shuffled = [...ordered].reverse();
    shuffled.sort((a, b) => compareSemVer(parsed(a), parsed(b)));
    expect(shuffled).toEqual(ordered);
  });

  it('ignores build metadata in precedence', () => {
    expect(compareSemVer(parsed('1.0.0+a'), parsed('1.0.0+b'))).toBe(0);
  });

  it('computes the next minor release', () => {
    expect(nextMinor(parsed('1.4.2'))).toBe('1.5.0');
    expect(nextMinor(parsed('2.0.0-rc.1'))).toBe('2.1.0');
    expect(nextMinor(parsed('9007199254740993.9007199254740993.0'))).toBe('9007199254740993.9007199254740994.0');
  });
});
