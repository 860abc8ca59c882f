import type { FastifyError, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { DomainError, type DomainErrorKind } from '../../../core/errors.js';
import { internalErrorMessage } from '../../internal-error.js';
import { noteRetryLater } from '../../retry-later.js';

/** A core rule for one request field: throws the core's DomainError for a value it refuses. */
export type FieldRule = (value: unknown) => void;

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Body or query fields whose schema states a core rule that clients tell apart by
     * sdk_error_code (an empty project name is 98219, a missing experiment key 90998) or by its
     * message, keyed by their path without array indices (`projectName`, `predicates.source`),
     * and under '' the rule behind the part's own `anyOf` (which fields name a project). When the
     * schema refuses one of them, the rule words the answer, so stating the rule in the schema
     * changes neither the message nor the code a client sees.
     */
    cometFieldRules?: Readonly<Record<string, FieldRule>>;
  }
}

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
    const refusal = coreRefusal(request, fastifyError.validation[0], fastifyError.validationContext);
    if (refusal) return sendCometError(reply, STATUS_BY_KIND[refusal.kind], refusal.message, refusal.sdkErrorCode);
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

/** The core's own refusal of the field a schema failure names, when the route lists a rule for it. */
function coreRefusal(
  request: FastifyRequest,
  failure: FastifySchemaValidationError | undefined,
  context: string | undefined,
): DomainError | undefined {
  const rules = request.routeOptions.config.cometFieldRules;
  if (!rules || !failure) return undefined;
  const part = context === 'body' ? request.body : context === 'querystring' ? request.query : undefined;
  const path = failure.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  // Failures inside the part's anyOf (a branch's missing or empty field) are the anyOf's.
  const whole = failure.schemaPath.startsWith('#/anyOf/') || (path.length === 0 && failure.keyword === 'anyOf');
  if (failure.keyword === 'required' && !whole) path.push(String(failure.params.missingProperty));
  const key = whole ? '' : path.filter((segment) => !/^\d+$/.test(segment)).join('.');
  if (key === '' && !whole) return undefined;
  const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
  if (!rule) return undefined;
  let value: unknown = part;
  for (const segment of whole ? [] : path) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  }
  try {
    rule(value);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  return undefined;
}
