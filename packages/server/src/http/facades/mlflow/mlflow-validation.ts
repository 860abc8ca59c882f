import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifyError, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import type { TypeBoxApp } from '../../typed-app.js';
import { invalidParameter, MlflowApiError, missingParameter } from './mlflow-errors.js';

/**
 * Request validation of the MLflow facade: the route schemas (packages/schemas/src/mlflow/
 * requests.schema.ts) are checked by Ajv, and a failure is answered the way MLflow's server
 * answers it (400 INVALID_PARAMETER_VALUE, `Missing value for required parameter 'x'.`).
 *
 * Query strings are coerced (all text; repeated keys make lists); JSON bodies are validated as
 * sent, so that a schema saying "string" means a string. Limits the routes or the core enforce
 * with MLflow's own messages (lengths, ranges, name patterns) are stated in the schemas too but
 * refused by that code, which words the message as MLflow does.
 */
const COMMON: Options = { allErrors: false, allowUnionTypes: true, useDefaults: true, strict: false, verbose: true };
const coercing = new Ajv({ ...COMMON, coerceTypes: 'array' });
const exact = new Ajv({ ...COMMON, coerceTypes: false });

const compile: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? exact : coercing).compile(schema as object) as ReturnType<FastifySchemaCompiler<unknown>>;

/** Failures the route's own code refuses with MLflow's wording: the handler runs and answers them. */
const LEFT_TO_THE_ROUTE = new Set(['maxLength', 'maximum', 'minimum', 'maxItems', 'pattern']);

export function setUpMlflowValidation(app: TypeBoxApp): void {
  app.setValidatorCompiler(compile);
  app.addHook('onRoute', (route) => {
    route.attachValidation = true;
  });
  // Old clients send the body as a JSON string holding the JSON: it is validated decoded.
  app.addHook('preValidation', async (request) => {
    if (typeof request.body !== 'string') return;
    try {
      request.body = JSON.parse(request.body);
    } catch {
      throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Request body is not valid JSON.');
    }
  });
  app.addHook('preHandler', async (request) => {
    const error = request.validationError as (FastifyError & { validationContext?: string }) | undefined;
    if (!error) return;
    const first = error.validation?.[0] as ErrorObject | undefined;
    if (first && LEFT_TO_THE_ROUTE.has(first.keyword) && !messageOf(first)) return;
    throw validationFailure(error, request);
  });
}

/** The message a schema names for its refusals (`x-mlflow-error`, e.g. `Invalid path`). */
function messageOf(error: ErrorObject): string | undefined {
  const message = (error.parentSchema as Record<string, unknown> | undefined)?.['x-mlflow-error'];
  return typeof message === 'string' ? message : undefined;
}

/** `/metrics/0/key` → `metrics[0].key`, as MLflow's messages name nested fields. */
function fieldName(instancePath: string, property?: string): string {
  const segments = instancePath.split('/').slice(1);
  if (property !== undefined) segments.push(property);
  return segments
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce(
      (name, segment) => (/^\d+$/.test(segment) ? `${name}[${segment}]` : name ? `${name}.${segment}` : segment),
      '',
    );
}

/** The MLflow error for a request its route schema refuses. */
export function validationFailure(error: FastifyError, _request?: FastifyRequest): MlflowApiError {
  const first = error.validation?.[0] as ErrorObject | undefined;
  if (!first) return new MlflowApiError('INVALID_PARAMETER_VALUE', error.message);
  if (first.keyword === 'required') {
    return missingParameter(fieldName(first.instancePath, String(first.params.missingProperty)));
  }
  const message = messageOf(first);
  if (message) return new MlflowApiError('INVALID_PARAMETER_VALUE', message);
  const name = fieldName(first.instancePath);
  if (name === '') return new MlflowApiError('INVALID_PARAMETER_VALUE', 'Request body must be a JSON object.');
  // null and "" are how MLflow's clients leave a field out.
  if (first.data === null || first.data === '') return missingParameter(name);
  return invalidParameter(name, first.data);
}
