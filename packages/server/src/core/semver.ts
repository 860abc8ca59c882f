/**
 * Semantic versions (semver.org 2.0.0) as the model registry needs them: strict parsing and
 * precedence. Numeric parts are kept as digit strings, not numbers, because semver puts no bound
 * on them and "latest" must stay right past 2^53.
 */

export interface SemVer {
  major: string;
  minor: string;
  patch: string;
  /** Dot-separated pre-release identifiers; empty for a release. */
  prerelease: string[];
  /** Build metadata; ignored by precedence. */
  build: string | null;
}

// The regular expression semver.org publishes: no leading zeros in numeric identifiers.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Longest version accepted: far beyond any real version, short enough for a column and a log line. */
export const MAX_VERSION_LENGTH = 128;

export function parseSemVer(text: string): SemVer | undefined {
  if (text.length > MAX_VERSION_LENGTH) return undefined;
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [, major, minor, patch, prerelease, build] = match;
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  return { major, minor, patch, prerelease: prerelease ? prerelease.split('.') : [], build: build ?? null };
}

/** Compares digit strings without leading zeros as unbounded integers. */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const NUMERIC = /^\d+$/;

/** Pre-release identifiers: numbers by value, below alphanumerics, which compare in ASCII order. */
function compareIdentifier(a: string, b: string): number {
  const numericA = NUMERIC.test(a);
  const numericB = NUMERIC.test(b);
  if (numericA && numericB) return compareDigits(a, b);
  if (numericA) return -1;
  if (numericB) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Semver precedence (semver.org §11): major, minor, patch numerically; a pre-release ranks below
 * its release; pre-releases compare identifier by identifier, a shorter list ranking lower when
 * all shared identifiers are equal. Build metadata is ignored, so 1.0.0+a and 1.0.0+b tie.
 */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = compareDigits(a.major, b.major) || compareDigits(a.minor, b.minor) || compareDigits(a.patch, b.patch);
  if (core !== 0) return core;
  const releaseA = a.prerelease.length === 0;
  const releaseB = b.prerelease.length === 0;
  if (releaseA || releaseB) return releaseA === releaseB ? 0 : releaseA ? 1 : -1;
  const shared = Math.min(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < shared; i++) {
    const order = compareIdentifier(a.prerelease[i] as string, b.prerelease[i] as string);
    if (order !== 0) return order;
  }
  return Math.sign(a.prerelease.length - b.prerelease.length);
}
