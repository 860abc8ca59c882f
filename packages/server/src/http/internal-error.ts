import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/**
 * What a 5xx body says: nothing of the cause (driver errors, SQL, file paths, stacks stay in the
 * log line written beside it), only the request id that finds that line.
 */
export function internalErrorMessage(request: FastifyRequest): string {
  return `internal server error (request ${request.id})`;
}

/**
 * Errors of the routes outside the APIs (health check, web UI, the Comet probe), which have no
 * error format of their own: Fastify's shape for 4xx, the request id alone for anything else.
 */
export function rootErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(status).send({ statusCode: status, error: STATUS_CODES[status], message: error.message });
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply
    .code(500)
    .send({ statusCode: 500, error: STATUS_CODES[500], message: internalErrorMessage(request), requestId: request.id });
}
