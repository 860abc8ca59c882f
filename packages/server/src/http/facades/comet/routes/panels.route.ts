import {
  CodePanelQuery,
  CodePanelResponse,
  type CodePanelRow,
  CodePanelsResponse,
  CometError,
  PanelWorkspaceQuery,
  TemplateIdParams,
  UploadTemplateParts,
  UploadTemplateQuery,
  UploadTemplateResponse,
} from '@cairn/schemas/comet';
import { InvalidArgumentError } from '../../../../core/errors.js';
import type { CodePanelView } from '../../../../core/panels.service.js';
import { ZipBytes } from '../../../binary-body.js';
import { MultipartBody } from '../../../documented-body.js';
import { closeOnFailure, MultipartReader } from '../../../multipart-reader.js';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { writeOk } from '../comet-reply.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** Code panels of a workspace (spec §3.7 #45–47, §4.6 #52). */
export function registerPanelRoutes({ app, core }: CometRouteContext): void {
  /**
   * POST /write/template/upload?teamName=[&templateId=] — multipart, the panel zip in part `file`
   * (layout: core/panel-archive.ts). With `templateId` the panel gets a new revision in place.
   */
  app.post(
    '/write/template/upload',
    {
      config: { documentedBody: MultipartBody(UploadTemplateParts) },
      schema: {
        querystring: UploadTemplateQuery,
        response: { 200: UploadTemplateResponse, ...errors, 413: CometError },
      },
    },
    async (request, reply) =>
      closeOnFailure(request, reply, async () => {
        const reader = new MultipartReader(request, 'file');
        const file = await reader.untilFile();
        if (!file) throw new InvalidArgumentError('a panel upload needs a "file" part holding the panel zip');
        const panel = await core.panels.upload(
          principalOf(request),
          { workspaceName: request.query.teamName, templateId: request.query.templateId ?? null },
          file.file,
        );
        // Parts after the file carry nothing we keep, but the body must be read to its end.
        await reader.rest();
        return writeOk('Panel uploaded', { templateId: panel.id, revisionId: panel.revisionId });
      }),
  );

  /** GET /code-panel/get-all?workspace= */
  app.get(
    '/code-panel/get-all',
    { schema: { querystring: PanelWorkspaceQuery, response: { 200: CodePanelsResponse, ...errors } } },
    async (request) => {
      const views = await core.panels.list(principalOf(request), request.query.workspace);
      return { codePanelTemplateRows: views.map(toCodePanelRow) };
    },
  );

  /** GET /code-panel/download?templateId= | ?instanceId= — the panel's JSON (its template wins when both are given). */
  app.get(
    '/code-panel/download',
    { schema: { querystring: CodePanelQuery, response: { 200: CodePanelResponse, ...errors } } },
    async (request) => {
      const { templateId, instanceId } = request.query;
      const principal = principalOf(request);
      if (templateId) return toCodePanelResponse(await core.panels.get(principal, templateId));
      if (instanceId) return toCodePanelResponse(await core.dashboards.panelOfInstance(principal, instanceId));
      throw new InvalidArgumentError('name the panel with templateId or instanceId');
    },
  );

  /** GET /template/{templateId}/download — the zip of the panel's current revision, as uploaded. */
  app.get(
    '/template/:templateId/download',
    { schema: { params: TemplateIdParams, response: { 200: ZipBytes, ...errors } } },
    async (request, reply) => {
      const { panel, body } = await core.panels.openZip(principalOf(request), request.params.templateId);
      // Template ids are Cairn's hex ids, so the file name needs no escaping.
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="panel-${panel.id}.zip"`)
        .send(body);
    },
  );
}

function toCodePanelRow({ panel, workspace, ownerName }: CodePanelView): CodePanelRow {
  return {
    templateId: panel.id,
    owner: ownerName,
    teamId: workspace.id,
    templateName: panel.name,
    queryBuilderId: panel.queryBuilderId,
    scopeType: panel.scopeType,
    revisionId: panel.revisionId,
    createdAt: panel.createdAt,
  };
}

function toCodePanelResponse(view: CodePanelView): CodePanelResponse {
  const { panel } = view;
  return {
    ...toCodePanelRow(view),
    code: panel.code,
    rank: { templateId: panel.id, voteCount: 0, userVoteType: null },
    thumbnailName: panel.thumbnailName,
    editable: view.editable,
  };
}
