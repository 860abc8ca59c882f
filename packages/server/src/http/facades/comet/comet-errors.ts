import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorKind } from '../../../core/errors.js';
import { internalErrorMessage } from '../../internal-error.js';
import { noteRetryLater } from '../../retry-later.js';

/** Comet's error body (spec §1.5); `msg` first so clients that sniff `{"msg"` see it. */
export interface CometErrorBody {
  msg: string;
  code: number;
  sdk_error_code: number;
  data: null;
}

const STATUS_BY_KIND: Record<DomainErrorKind, number> = {
  'not-found': 404,
  'invalid-argument': 400,
  // Comet answers conflicts with 400 and an sdk_error_code; clients branch on the code.
  'already-exists': 400,
  'failed-precondition': 400,
  'permission-denied': 403,
  unauthenticated: 401,
  'too-large': 413,
  // 507 Insufficient Storage: not 413, which would have a client shrink a request that is fine.
  'quota-exceeded': 507,
  'resource-exhausted': 429,
  unavailable: 503,
  'storage-full': 503,
};

export function cometErrorBody(status: number, msg: string, sdkErrorCode = 0): CometErrorBody {
  return { msg, code: status, sdk_error_code: sdkErrorCode, data: null };
}

export function sendCometError(reply: FastifyReply, status: number, msg: string, sdkErrorCode = 0): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send(cometErrorBody(status, msg, sdkErrorCode));
}

/** Maps domain errors, validation failures and Fastify's own errors to Comet's error body. */
export function cometErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError) {
    noteRetryLater(reply, error);
    return sendCometError(reply, STATUS_BY_KIND[error.kind], error.message, error.sdkErrorCode);
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const where = fastifyError.validationContext ?? 'request';
    return sendCometError(reply, 400, `invalid ${where}: ${fastifyError.message}`);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return sendCometError(reply, status, fastifyError.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendCometError(reply, 500, internalErrorMessage(request));
}
