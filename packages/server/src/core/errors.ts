/**
 * The one catalogue of domain errors. Services throw these; each facade maps them to its own
 * status code and error body, so the rules stay in the core and the wire format in the facade.
 */
export type DomainErrorKind =
  | 'not-found'
  | 'already-exists'
  | 'invalid-argument'
  | 'permission-denied'
  | 'unauthenticated'
  | 'failed-precondition'
  | 'too-large'
  | 'quota-exceeded'
  | 'resource-exhausted'
  | 'unavailable'
  | 'storage-full';

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  /** Comet-style numeric code for clients that branch on it (0 when none applies). */
  readonly sdkErrorCode: number;

  constructor(message: string, sdkErrorCode = 0) {
    super(message);
    this.name = new.target.name;
    this.sdkErrorCode = sdkErrorCode;
  }
}

export class NotFoundError extends DomainError {
  readonly kind = 'not-found';
}

export class AlreadyExistsError extends DomainError {
  readonly kind = 'already-exists';
}

export class InvalidArgumentError extends DomainError {
  readonly kind = 'invalid-argument';
}

export class PermissionDeniedError extends DomainError {
  readonly kind = 'permission-denied';
}

export class UnauthenticatedError extends DomainError {
  readonly kind = 'unauthenticated';
}

export class FailedPreconditionError extends DomainError {
  readonly kind = 'failed-precondition';
}

/** A body or upload over a configured limit. */
export class TooLargeError extends DomainError {
  readonly kind = 'too-large';
}

/**
 * Storing the upload would take its workspace over its storage quota. Unlike a body over a size
 * limit, the request itself is fine: space must be freed (or the quota raised) first.
 */
export class QuotaExceededError extends DomainError {
  readonly kind = 'quota-exceeded';
}

/**
 * The server cannot take the request now but will later: the client should retry after
 * `retryAfterSeconds`. Facades answer 503 with `Retry-After`.
 */
export class UnavailableError extends DomainError {
  readonly kind = 'unavailable';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * The server is at a capacity limit (e.g. bytes of request bodies in flight): the client should
 * retry after `retryAfterSeconds`. Facades answer 429 with `Retry-After`.
 */
export class ResourceExhaustedError extends DomainError {
  readonly kind = 'resource-exhausted';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/**
 * How long clients are asked to wait when the disk is full. Space comes back only when an operator
 * (or a cleanup job) frees it, which takes minutes, not seconds: asking sooner only earns 503s.
 */
export const STORAGE_FULL_RETRY_AFTER_SECONDS = 30;

/**
 * The server's own storage (the database's disk or the blob volume) is full: writes fail until
 * space is freed, reads keep working, and nothing already acknowledged is affected. A kind of its
 * own, apart from "unavailable" (a lost database connection) and from any per-tenant quota: the
 * operator has to act. Facades answer 503 with `Retry-After` rather than 507: clients retry a
 * 503 (@cairn/sdk after Retry-After, mlflow as a transient failure) and keep their data, where a
 * 507 is final to them and what they were sending is dropped.
 */
export class StorageFullError extends DomainError {
  readonly kind = 'storage-full';

  constructor(
    message = "the server's storage is full; retry later",
    readonly retryAfterSeconds: number = STORAGE_FULL_RETRY_AFTER_SECONDS,
  ) {
    super(message);
  }
}

/** Comet SDK error codes the clients recognise (spec §1.5). */
export const SdkErrorCode = {
  apiKeyNotRegistered: 90212,
  nonExistingTeam: 90219,
  noProjectNameSpecified: 98219,
  noWriteAccess: 90210,
  nonExistingRun: 90211,
  experimentKeyNotSpecified: 90998,
  experimentAlreadyExists: 90999,
  projectNameTooLong: 1341241,
  invalidOptimizationId: 5124123,
  noArtifactFound: 624522,
  noArtifactVersionFound: 624523,
  artifactVersionExists: 90399,
  artifactVersionStateImmutable: 90401,
  artifactVersionStateNotClosed: 90402,
  artifactVersionStateNotClosedErrorOccurred: 90403,
  artifactVersionStateInvalid: 90410,
  /** comet_ml turns this one into "requires a proper semantic version string" (APIExperiment.register_model). */
  invalidVersionString: 42001,
  noModelToUpdate: 42006,
  registryModelNotFound: 42008,
} as const;
