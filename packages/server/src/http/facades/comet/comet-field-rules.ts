import { artifactEndState, artifactVersion } from '../../../core/artifacts.service.js';
import { InvalidArgumentError, SdkErrorCode } from '../../../core/errors.js';
import { registryVersion } from '../../../core/registry-rules.js';
import * as rules from '../../../core/rules.js';
import type { FieldRule } from './comet-errors.js';
import { projectRef } from './comet-reply.js';
import { groupCondition, markedValid, predicateSource } from './routes/project-query.mapper.js';

/**
 * The core rules behind schema refusals that clients tell apart by sdk_error_code, for the
 * routes' `cometFieldRules` (comet-errors.ts). A value of the wrong type throws nothing here and
 * keeps the schema's own message.
 */

/** rules.ts `projectName`: blank is 98219, too long 1341241 (comet_ml raises ProjectNameEmpty and its long-name error). */
export const projectNameRule: FieldRule = (value) => {
  if (typeof value === 'string') rules.projectName(value);
};

/** A missing, null or empty key is 90998, comet_ml's "experiment key not specified"; a malformed one the core's refusal. */
export const experimentKeyRule: FieldRule = (value) => {
  if (value === undefined || value === null || value === '') {
    throw new InvalidArgumentError('experimentKey is required', SdkErrorCode.experimentKeyNotSpecified);
  }
  if (typeof value === 'string') rules.experimentKey(value);
};

/** registry-rules.ts `registryVersion`: 42001, which comet_ml turns into "requires a proper semantic version". */
export const registryVersionRule: FieldRule = (value) => {
  if (typeof value === 'string') registryVersion(value);
};

/** Any state but CLOSED or ERROR, missing and null included, is 90410. */
export const artifactStateRule: FieldRule = (value) => {
  artifactEndState(typeof value === 'string' ? value : null);
};

/** comet-reply.ts `projectRef`, for a body whose `anyOf` states the ways to name a project. */
export const projectLocatorRule: FieldRule = (value) => {
  projectRef(value as Parameters<typeof projectRef>[0]);
};

/** project-query.mapper.ts `predicateSource`: the message names the unknown source. */
export const predicateSourceRule: FieldRule = (value) => {
  if (typeof value === 'string') predicateSource(value);
};

/** A predicate's query marked `valid: false` (project-query.mapper.ts `markedValid`). */
export const predicateValidRule: FieldRule = (value) => {
  if (typeof value === 'boolean') markedValid(value, 'predicate');
};

/** A predicate group's condition (project-query.mapper.ts `groupCondition`). */
export const predicateConditionRule: FieldRule = (value) => {
  if (typeof value === 'string') groupCondition(value);
};

/** artifacts.service.ts `artifactVersion`: the message says a semantic version is expected. */
export const artifactVersionRule: FieldRule = (value) => {
  if (typeof value === 'string' && value !== '') artifactVersion(value);
};
