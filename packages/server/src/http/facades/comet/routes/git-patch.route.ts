import {
  CometError,
  GitPatchMissingResponse,
  GitPatchQuery,
  GitPatchUploadParts,
  PlainWriteResponse,
} from '@cairn/schemas/comet';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../../../core/core.js';
import { InvalidArgumentError } from '../../../../core/errors.js';
import { BinaryBody, MediaTypes } from '../../../binary-body.js';
import { MultipartBody } from '../../../documented-body.js';
import { closeOnFailure, MultipartReader } from '../../../multipart-reader.js';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { writeOk } from '../comet-reply.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** The multipart body of both git patch uploads (REST and clientlib). */
export const GitPatchUploadBody = MultipartBody(GitPatchUploadParts);

/** The git patch of an experiment: stored and returned verbatim (spec §3.4 #14, §4.2 #21). */
export function registerGitPatchRoutes({ app, core }: CometRouteContext): void {
  /** POST /write/experiment/git/patch?experimentKey= — multipart, the bytes in part `file`. */
  app.post(
    '/write/experiment/git/patch',
    {
      config: { upload: true, documentedBody: GitPatchUploadBody },
      schema: { querystring: GitPatchQuery, response: { 200: PlainWriteResponse, ...errors, 413: CometError } },
    },
    async (request, reply) => storeGitPatch(core, request, reply, request.query.experimentKey),
  );

  /**
   * GET /experiment/git/patch?experimentKey= — the stored bytes as application/octet-stream, or
   * comet_ml's "no patch" sentinel, which it recognises by the body starting with `{"msg"`.
   */
  app.get(
    '/experiment/git/patch',
    {
      schema: {
        querystring: GitPatchQuery,
        // By media type: the document must say the bytes come as octet-stream, not JSON.
        response: {
          200: MediaTypes({ 'application/json': GitPatchMissingResponse, 'application/octet-stream': BinaryBody }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const patch = await core.experiments.getGitPatch(principalOf(request), request.query.experimentKey);
      if (!patch) {
        return reply
          .type('application/json')
          .send({ msg: 'no patch for experiment', code: 200, data: null, sdk_error_code: 0 } as const);
      }
      return reply.type('application/octet-stream').send(patch);
    },
  );
}

/**
 * Stores the `file` part of a multipart git patch upload verbatim, for the REST write and for
 * comet_ml's clientlib upload alike.
 */
export function storeGitPatch(core: Core, request: FastifyRequest, reply: FastifyReply, experimentKey: string) {
  return closeOnFailure(request, reply, async () => {
    const reader = new MultipartReader(request, 'file');
    const file = await reader.untilFile();
    if (!file) throw new InvalidArgumentError('a git patch upload needs a "file" part');
    await core.experiments.setGitPatch(principalOf(request), experimentKey, file.file, core.limits.maxAssetBytes);
    // Parts after the file carry nothing we keep, but the body must be read to its end.
    await reader.rest();
    return writeOk('Saved');
  });
}
