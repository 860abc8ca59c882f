import { describe, expect, it } from 'vitest';
import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

function parsed(text: string): SemVer {
  const version = parseSemVer(text);
  if (!version) throw new Error(`${text} should parse`);
  return version;
}

describe('semver', () => {
  it('parses the parts of a full version', () => {
    expect(parseSemVer('1.2.3-rc.1+build.7')).toEqual({
      major: '1',
      minor: '2',
      patch: '3',
      prerelease: ['rc', '1'],
      build: 'build.7',
    });
    expect(parseSemVer('0.0.0')).toEqual({ major: '0', minor: '0', patch: '0', prerelease: [], build: null });
  });

  it.each([
    '1',
    '1.0',
    'v1.0.0',
    '01.0.0',
    '1.00.0',
    '1.0.0-',
    '1.0.0-01',
    '1.0.0+',
    '1.0.0-a..b',
    ' 1.0.0',
    '1.0.0 ',
    '',
    '1.0.0.0',
  ])('refuses %j', (text) => {
    expect(parseSemVer(text)).toBeUndefined();
  });

  it('orders by semver precedence, not as text', () => {
    // The order semver.org §11 gives as its example, plus numeric parts past one digit.
    const ascending = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.2.0',
      '1.10.0',
      '2.0.0',
      '10.0.0',
      '90071992547409930.0.0',
      '90071992547409931.0.0',
    ];
    const shuffled = [...ascending].reverse();
    shuffled.push(shuffled.splice(3, 1)[0] as string);
    const sorted = shuffled.map(parsed).sort(compareSemVer);
    expect(
      sorted.map((v) => `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join('.')}` : ''}`),
    ).toEqual(ascending);
  });

  it('ignores build metadata and ranks a pre-release below its release', () => {
    expect(compareSemVer(parsed('1.0.0+a'), parsed('1.0.0+b'))).toBe(0);
    expect(compareSemVer(parsed('1.0.0-rc.1'), parsed('1.0.0'))).toBe(-1);
    expect(compareSemVer(parsed('1.0.0'), parsed('1.0.0-rc.1'))).toBe(1);
    expect(compareSemVer(parsed('1.0.1-rc.1'), parsed('1.0.0'))).toBe(1);
  });
});
