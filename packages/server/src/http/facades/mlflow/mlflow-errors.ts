import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorKind } from '../../../core/errors.js';
import { internalErrorMessage } from '../../internal-error.js';
import { noteRetryLater, retryLaterStatus } from '../../retry-later.js';

/** MLflow's ErrorCode names that Cairn answers with, and their HTTP statuses (spec §2). */
export type MlflowErrorCode =
  | 'INVALID_PARAMETER_VALUE'
  | 'BAD_REQUEST'
  | 'RESOURCE_ALREADY_EXISTS'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'ENDPOINT_NOT_FOUND'
  | 'INVALID_STATE'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'INTERNAL_ERROR';

/**
 * RESOURCE_ALREADY_EXISTS and INVALID_STATE are 400, as MLflow's server sends them: the client
 * reads the code from the body, and a 5xx would make it retry a request that can never succeed
 * for about a minute before the user sees the error.
 */
const STATUS: Record<MlflowErrorCode, number> = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  INVALID_STATE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  REQUEST_LIMIT_EXCEEDED: 429,
  // A storage quota: 507, which MLflow clients do not retry (they retry 429 and most 5xx).
  RESOURCE_EXHAUSTED: 507,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
};

/** An MLflow error with the code and message the client and MLflow's own tests match on. */
export class MlflowApiError extends Error {
  constructor(
    readonly errorCode: MlflowErrorCode,
    message: string,
    readonly status: number = STATUS[errorCode],
  ) {
    super(message);
  }
}

/** `Missing value for required parameter 'x'.`: absent, null and "" all count as missing. */
export function missingParameter(name: string): MlflowApiError {
  return new MlflowApiError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'.`);
}

/** MLflow's message for a value of the wrong type (server/handlers.py). */
export function invalidParameter(name: string, value: unknown): MlflowApiError {
  return new MlflowApiError(
    'INVALID_PARAMETER_VALUE',
    `Invalid value ${JSON.stringify(value)} for parameter '${name}' supplied. Hint: Value was of type '${pythonTypeName(value)}'. See the API docs for more information about request parameters.`,
  );
}

function pythonTypeName(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return 'dict';
}

const FROM_DOMAIN: Record<DomainErrorKind, MlflowErrorCode> = {
  'not-found': 'RESOURCE_DOES_NOT_EXIST',
  'already-exists': 'RESOURCE_ALREADY_EXISTS',
  'invalid-argument': 'INVALID_PARAMETER_VALUE',
  'failed-precondition': 'INVALID_STATE',
  'permission-denied': 'PERMISSION_DENIED',
  unauthenticated: 'UNAUTHENTICATED',
  'too-large': 'INVALID_PARAMETER_VALUE',
  'quota-exceeded': 'RESOURCE_EXHAUSTED',
  'resource-exhausted': 'REQUEST_LIMIT_EXCEEDED',
  unavailable: 'TEMPORARILY_UNAVAILABLE',
  'storage-full': 'TEMPORARILY_UNAVAILABLE',
};

export function sendMlflowError(reply: FastifyReply, error: MlflowApiError): FastifyReply {
  return reply
    .code(error.status)
    .type('application/json')
    .send({ error_code: error.errorCode, message: error.message });
}

export function mlflowErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof MlflowApiError) return sendMlflowError(reply, error);
  if (error instanceof DomainError) {
    noteRetryLater(reply, error);
    const status = error.kind === 'too-large' ? 413 : error.kind === 'quota-exceeded' ? 507 : retryLaterStatus(error);
    return sendMlflowError(reply, new MlflowApiError(FROM_DOMAIN[error.kind], error.message, status));
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode;
  if (fastifyError.validation || (status !== undefined && status >= 400 && status < 500)) {
    return sendMlflowError(
      reply,
      new MlflowApiError(
        'INVALID_PARAMETER_VALUE',
        fastifyError.message,
        status === 413 || status === 405 ? status : 400,
      ),
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendMlflowError(reply, new MlflowApiError('INTERNAL_ERROR', internalErrorMessage(request)));
}
