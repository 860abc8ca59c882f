import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type DomainErrorKind } from '../../../core/errors.js';
import { internalErrorMessage } from '../../internal-error.js';
import { noteRetryLater } from '../../retry-later.js';

/** Cairn's own API answers errors as RFC 9457 problem details. */
const STATUS_BY_KIND: Record<DomainErrorKind, number> = {
  'not-found': 404,
  'invalid-argument': 400,
  'already-exists': 409,
  'failed-precondition': 409,
  'permission-denied': 403,
  unauthenticated: 401,
  'too-large': 413,
  'quota-exceeded': 507,
  'resource-exhausted': 429,
  unavailable: 503,
  'storage-full': 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  405: 'Method Not Allowed',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export function sendProblem(reply: FastifyReply, status: number, detail: string): FastifyReply {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: 'about:blank',
      title: TITLES[status] ?? 'Error',
      status,
      detail,
      instance: reply.request.id,
    });
}

export function cairnErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError) {
    // 429 and 503 always say when to come back (UnavailableError and ResourceExhaustedError carry it).
    noteRetryLater(reply, error);
    return sendProblem(reply, STATUS_BY_KIND[error.kind], error.message);
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return sendProblem(reply, 400, `invalid ${fastifyError.validationContext ?? 'request'}: ${fastifyError.message}`);
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return sendProblem(reply, status, fastifyError.message);
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, 500, internalErrorMessage(request));
}
