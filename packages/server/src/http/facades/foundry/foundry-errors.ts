import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorKind } from '../../../core/errors.js';
import { noteRetryLater, retryLaterStatus } from '../../retry-later.js';

/** Conjure error families and their HTTP statuses (spec §7). */
export type FoundryErrorCode =
  | 'INVALID_ARGUMENT'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'REQUEST_ENTITY_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'INTERNAL';

const STATUS: Record<FoundryErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHORIZED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  REQUEST_ENTITY_TOO_LARGE: 413,
  INTERNAL: 500,
};

/** A named Foundry error; routes throw it where the spec names the error an endpoint raises. */
export class FoundryApiError extends Error {
  constructor(
    readonly errorCode: FoundryErrorCode,
    readonly errorName: string,
    readonly parameters: Record<string, unknown> = {},
    readonly status: number = STATUS[errorCode],
  ) {
    super(`${errorName}: ${JSON.stringify(parameters)}`);
  }
}

/** Domain errors that reach the facade without a route naming them get the generic names. */
const GENERIC: Record<DomainErrorKind, [FoundryErrorCode, string]> = {
  'not-found': ['NOT_FOUND', 'Default:NotFound'],
  'invalid-argument': ['INVALID_ARGUMENT', 'Default:InvalidArgument'],
  'already-exists': ['CONFLICT', 'Default:Conflict'],
  'failed-precondition': ['INVALID_ARGUMENT', 'Default:FailedPrecondition'],
  'permission-denied': ['PERMISSION_DENIED', 'ApiUsageDenied'],
  unauthenticated: ['UNAUTHORIZED', 'MissingCredentials'],
  'too-large': ['REQUEST_ENTITY_TOO_LARGE', 'Default:RequestEntityTooLarge'],
  // Foundry's facade stores no files, so it never meets the quota; named for completeness.
  'quota-exceeded': ['INTERNAL', 'Default:InsufficientStorage'],
  // Conjure has no error code for these: its clients act on the status (429 throttle, 503
  // unavailable: back off for Retry-After, then retry), the body only names the cause.
  'resource-exhausted': ['INTERNAL', 'Default:TooManyRequests'],
  unavailable: ['INTERNAL', 'Default:ServiceUnavailable'],
  'storage-full': ['INTERNAL', 'Default:ServiceUnavailable'],
};

/** The error instance id is the request id: the one to look for in the server's log. */
export function sendFoundryError(reply: FastifyReply, error: FoundryApiError): FastifyReply {
  return reply.code(error.status).type('application/json').send({
    errorCode: error.errorCode,
    errorName: error.errorName,
    errorInstanceId: reply.request.id,
    parameters: error.parameters,
  });
}

export function foundryErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof FoundryApiError) return sendFoundryError(reply, error);
  if (error instanceof DomainError) {
    const [code, name] = GENERIC[error.kind];
    const parameters = error.kind === 'permission-denied' ? { missingScope: 'api:models-read' } : {};
    noteRetryLater(reply, error);
    return sendFoundryError(
      reply,
      new FoundryApiError(
        code,
        name,
        { ...parameters, message: error.message },
        error.kind === 'quota-exceeded' ? 507 : retryLaterStatus(error),
      ),
    );
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return sendFoundryError(reply, new FoundryApiError('INVALID_ARGUMENT', 'Conjure:UnsupportedMediaType', {}, 415));
  }
  const status = fastifyError.statusCode;
  // Fastify's own body limit (FST_ERR_CTP_BODY_TOO_LARGE): Conjure names it like an upload over the limit.
  if (status === 413) {
    return sendFoundryError(
      reply,
      new FoundryApiError('REQUEST_ENTITY_TOO_LARGE', 'Default:RequestEntityTooLarge', {
        message: fastifyError.message,
      }),
    );
  }
  // Conjure has no family for 405; the status carries it, the name says it.
  if (status === 405) {
    return sendFoundryError(
      reply,
      new FoundryApiError('INVALID_ARGUMENT', 'Default:MethodNotAllowed', { message: fastifyError.message }, 405),
    );
  }
  // The schemas state the page size; Foundry answers a bad one by its own name, with the value.
  if (fastifyError.validation?.some((issue) => issue.instancePath === '/pageSize')) {
    const source = (fastifyError.validationContext === 'querystring' ? request.query : request.body) as
      | { pageSize?: unknown }
      | undefined;
    return sendFoundryError(
      reply,
      new FoundryApiError('INVALID_ARGUMENT', 'InvalidPageSize', { pageSize: source?.pageSize }),
    );
  }
  if (fastifyError.validation || (status !== undefined && status >= 400 && status < 500)) {
    return sendFoundryError(
      reply,
      new FoundryApiError('INVALID_ARGUMENT', 'Default:InvalidArgument', { message: fastifyError.message }),
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendFoundryError(reply, new FoundryApiError('INTERNAL', 'Default:Internal'));
}
