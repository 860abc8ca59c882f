import type { RegistryVersion, WebhookEventType } from './entities.js';
import { InvalidArgumentError, SdkErrorCode } from './errors.js';
import * as rules from './rules.js';
import { compareSemVer, parseSemVer, type SemVer } from './semver.js';

/** Validation and ordering rules of the model registry, shared by its service and webhooks. */

/** The version comet_ml (newer releases) registers when none is given. */
export const DEFAULT_VERSION = '1.0.0';
export const MAX_STAGE_LENGTH = 100;
/** Stages per version: a handful in practice (production, staging, ...); the cap keeps rows bounded. */
export const MAX_STAGES = 50;

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * comet_ml's `proper_registry_model_name`: every character that is not a letter or digit becomes
 * '-', leading and trailing dashes go, letters are lowercased, runs of dashes collapse to one.
 * The client applies it before registering; the server applies it to every name it is given
 * (writes and lookups), so other clients and sloppy spellings reach the same model.
 */
export function properRegistryModelName(name: string): string {
  const dashed = Array.from(name, (ch) => (LETTER_OR_DIGIT.test(ch) ? ch : '-')).join('');
  return dashed
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .replace(/-{2,}/g, '-');
}

/** A registry model name for a write: the proper form, which must not be empty. */
export function registryModelName(name: string): string {
  const proper = properRegistryModelName(name);
  if (proper === '') throw new InvalidArgumentError(`invalid registry model name "${name}": no letter or digit`);
  return rules.entryName('registry model', proper);
}

/** A version string; comet_ml recognises the sdk_error_code and tells the user to use semver. */
export function registryVersion(text: string): string {
  if (!parseSemVer(text)) {
    throw new InvalidArgumentError(
      `invalid version "${text}": a semantic version such as 1.0.0 is required`,
      SdkErrorCode.invalidVersionString,
    );
  }
  return text;
}

export function stageName(stage: string): string {
  if (stage.length === 0) throw new InvalidArgumentError('a stage must not be empty');
  if (stage.length > MAX_STAGE_LENGTH) {
    throw new InvalidArgumentError(`a stage must be at most ${MAX_STAGE_LENGTH} characters`);
  }
  if (CONTROL_CHARS.test(stage)) throw new InvalidArgumentError('a stage must not contain control characters');
  return stage;
}

/** Stages as given, validated, duplicates dropped (first occurrence kept). */
export function stageList(stages: readonly string[]): string[] {
  const unique = [...new Set(stages.map(stageName))];
  if (unique.length > MAX_STAGES) throw new InvalidArgumentError(`a version has at most ${MAX_STAGES} stages`);
  return unique;
}

function semverOf(version: RegistryVersion): SemVer {
  const parsed = parseSemVer(version.version);
  // Versions are validated on write; a row that does not parse is damage, not input.
  if (!parsed) throw new Error(`stored registry version "${version.version}" is not semver`);
  return parsed;
}

/** Ascending semver precedence; equal precedence (build metadata) by registration time, then id. */
export function compareVersions(a: RegistryVersion, b: RegistryVersion): number {
  return (
    compareSemVer(semverOf(a), semverOf(b)) || a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export interface LatestFilter {
  /** Only versions carrying this stage. */
  stage?: string;
  versionMajor?: number;
  versionMinor?: number;
}

/** The highest version (semver precedence) passing the filter; undefined when none does. */
export function latestVersion<V extends RegistryVersion>(
  versions: readonly V[],
  filter: LatestFilter = {},
): V | undefined {
  let best: V | undefined;
  for (const version of versions) {
    if (filter.stage !== undefined && !version.stages.includes(filter.stage)) continue;
    const parsed = semverOf(version);
    if (filter.versionMajor !== undefined && String(parsed.major) !== String(filter.versionMajor)) continue;
    if (filter.versionMinor !== undefined && String(parsed.minor) !== String(filter.versionMinor)) continue;
    if (!best || compareVersions(version, best) > 0) best = version;
  }
  return best;
}

export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  'STAGE_ADDED',
  'STAGE_REMOVED',
  'MODEL_VERSION_CREATED',
  'MODEL_VERSION_DELETED',
];
/** What a URL without triggers receives: stage changes, the one event Comet's webhooks have always sent. */
export const DEFAULT_WEBHOOK_TRIGGERS: readonly WebhookEventType[] = ['STAGE_ADDED', 'STAGE_REMOVED'];
