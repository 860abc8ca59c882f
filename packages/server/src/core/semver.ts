/**
 * Semantic versions (semver.org 2.0.0), the version scheme of artifacts and registry models: parsing, precedence and
 * the next automatic version. Numbers are bigints because semver sets no upper bound.
 */
export interface SemVer {
  major: bigint;
  minor: bigint;
  patch: bigint;
  /** Pre-release identifiers ("rc", "1" of 1.0.0-rc.1); empty for a release. */
  prerelease: string[];
  /** Build metadata text after "+", or null; it takes no part in precedence. */
  build: string | null;
}

const IDENTIFIER = '(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)';
const SEMVER = new RegExp(
  `^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-(${IDENTIFIER}(?:\\.${IDENTIFIER})*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$`,
);
const NUMERIC = /^\d+$/;

/** Longest version accepted: far beyond any real version, short enough for a column and a log line. */
export const MAX_VERSION_LENGTH = 128;

/** Parses a version such as "1.2.3", "2.0.0-rc.1" or "1.0.0+build.5"; undefined when it is not semver. */
export function parseSemVer(text: string): SemVer | undefined {
  if (text.length > MAX_VERSION_LENGTH) return undefined;
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  return {
    major: BigInt(match[1] as string),
    minor: BigInt(match[2] as string),
    patch: BigInt(match[3] as string),
    prerelease: match[4] === undefined ? [] : match[4].split('.'),
    build: match[5] ?? null,
  };
}

/** Semver precedence: negative when a < b, 0 when equal (build metadata ignored), positive when a > b. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  // A release outranks its pre-releases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return (a.prerelease.length === 0 ? 1 : 0) - (b.prerelease.length === 0 ? 1 : 0);
  }
  const length = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < length; i++) {
    const order = compareIdentifier(a.prerelease[i] as string, b.prerelease[i] as string);
    if (order !== 0) return order;
  }
  return a.prerelease.length - b.prerelease.length;
}

/** The next minor release: 1.4.2 → 1.5.0, 2.0.0-rc.1 → 2.1.0. */
export function nextMinor(version: SemVer): string {
  return `${version.major}.${version.minor + 1n}.0`;
}

function compareIdentifier(a: string, b: string): number {
  const aNumeric = NUMERIC.test(a);
  const bNumeric = NUMERIC.test(b);
  // Numeric identifiers rank below alphanumeric ones and compare as numbers.
  if (aNumeric && bNumeric) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a === b ? 0 : a < b ? -1 : 1;
}
