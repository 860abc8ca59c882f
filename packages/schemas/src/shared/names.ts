import { type StringOptions, Type } from '@sinclair/typebox';

/**
 * The name of a metric, parameter, other, tag or stage as the core accepts it (rules.ts
 * `entryName`, registry-rules.ts `stageName`): 1–1000 characters, no control character.
 */
export const EntryName = (options: StringOptions = {}) =>
  Type.String({ minLength: 1, maxLength: 1000, pattern: '^[^\\u0000-\\u001f\\u007f]*$', ...options });

/** A key naming an entry in a map of values: the same rule as `EntryName`, as a Record key. */
export const EntryNameKey = Type.String({ pattern: '^[^\\u0000-\\u001f\\u007f]{1,1000}$' });

/** rules.ts `workspaceName`. */
export const WorkspaceName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });

/**
 * rules.ts `projectName`: shorter than 100 characters, not blank, no '/' or control character.
 * The lookahead needs one character that is neither blank nor forbidden.
 */
export const PROJECT_NAME_PATTERN = '^(?=.*[^\\s/\\u0000-\\u001f\\u007f])[^/\\u0000-\\u001f\\u007f]*$';
export const ProjectName = Type.String({ maxLength: 99, pattern: PROJECT_NAME_PATTERN });

/** rules.ts `experimentKey`: the key a client chose, 32–50 letters and digits. */
export const ExperimentKeyPattern = '^[A-Za-z0-9]{32,50}$';

/**
 * A semantic version as core/semver.ts `parseSemVer` reads it (semver.org 2.0.0, at most 128
 * characters). ASCII classes, not \d, so that every generator agrees on what a digit is.
 */
export const SEMVER_PATTERN =
  '^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)' +
  '(-(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(\\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*)?' +
  '(\\+[0-9a-zA-Z-]+(\\.[0-9a-zA-Z-]+)*)?$';
export const SemVer = (options: StringOptions = {}) =>
  Type.String({ maxLength: 128, pattern: SEMVER_PATTERN, ...options });

/** Text without control characters (a file path, say), as rules.ts and the services check it. */
export const NoControlText = (options: StringOptions = {}) =>
  Type.String({ pattern: '^[^\\u0000-\\u001f\\u007f]*$', ...options });
