import {
  CometError,
  DashboardCreateBody,
  DashboardDownloadQuery,
  DashboardTemplate,
  DashboardTemplatesResponse,
  DashboardUpsertBody,
  type DashboardWriteBody,
  DashboardWriteResponse,
  PanelWorkspaceQuery,
  PlainWriteResponse,
  SetVizStoreBody,
  VizStoreQuery,
  VizStoreResponse,
} from '@cairn/schemas/comet';
import type { DashboardFields, DashboardView } from '../../../../core/dashboards.service.js';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { writeOk } from '../comet-reply.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** Dashboards of projects and the viz stores of their panels (spec §3.7 #48–50, §4.6 #53). */
export function registerDashboardRoutes({ app, core }: CometRouteContext): void {
  /** POST /write/dashboard-template/create — `template_id` names a dashboard to clone. */
  app.post(
    '/write/dashboard-template/create',
    { schema: { body: DashboardCreateBody, response: { 200: DashboardWriteResponse, ...errors } } },
    async (request) => {
      const body = request.body;
      const view = await core.dashboards.create(
        principalOf(request),
        body.project_id,
        dashboardFields(body),
        body.template_id ?? null,
      );
      return writeOk('Dashboard created', toDashboardTemplate(view));
    },
  );

  /**
   * POST /dashboard-templates/project/upsert (not under /write) — updates the project's dashboard
   * `template_id`, or creates one when the body has no `template_id`.
   */
  app.post(
    '/dashboard-templates/project/upsert',
    { schema: { body: DashboardUpsertBody, response: { 200: DashboardWriteResponse, ...errors } } },
    async (request) => {
      const body = request.body;
      const view = await core.dashboards.upsert(
        principalOf(request),
        body.project_id,
        body.template_id ?? null,
        dashboardFields(body),
      );
      return writeOk('Dashboard saved', toDashboardTemplate(view));
    },
  );

  /** GET /dashboard-template/get-all?workspace= */
  app.get(
    '/dashboard-template/get-all',
    { schema: { querystring: PanelWorkspaceQuery, response: { 200: DashboardTemplatesResponse, ...errors } } },
    async (request) => {
      const summaries = await core.dashboards.list(principalOf(request), request.query.workspace);
      return {
        dashboardTemplates: summaries.map(({ dashboard, projectName, creatorName }) => ({
          templateId: dashboard.id,
          templateName: dashboard.name,
          projectId: dashboard.projectId,
          projectName,
          createdBy: creatorName,
        })),
      };
    },
  );

  /** GET /dashboard-template/download?projectId=&templateId= */
  app.get(
    '/dashboard-template/download',
    { schema: { querystring: DashboardDownloadQuery, response: { 200: DashboardTemplate, ...errors } } },
    async (request) => {
      const { projectId, templateId } = request.query;
      return toDashboardTemplate(await core.dashboards.get(principalOf(request), projectId, templateId));
    },
  );

  /** GET /viz-instance/store/get?instanceId=&projectId= */
  app.get(
    '/viz-instance/store/get',
    { schema: { querystring: VizStoreQuery, response: { 200: VizStoreResponse, ...errors } } },
    async (request) => {
      const { instanceId, projectId } = request.query;
      return { store: await core.dashboards.getVizStore(principalOf(request), instanceId, projectId) };
    },
  );

  /** POST /write/viz-instance/store/set — a Cairn addition: the spec names no way to write a store. */
  app.post(
    '/write/viz-instance/store/set',
    { schema: { body: SetVizStoreBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { instanceId, projectId, store } = request.body;
      const text = typeof store === 'string' ? store : JSON.stringify(store);
      await core.dashboards.setVizStore(principalOf(request), instanceId, projectId, text);
      return writeOk('Saved');
    },
  );
}

/** Wire body → the fields a write sets; null and absent alike leave a field alone. */
function dashboardFields(body: DashboardWriteBody): DashboardFields {
  const fields: DashboardFields = {};
  if (body.template_name != null) fields.name = body.template_name;
  const states = {
    experimentQueryState: body.experimentQueryState,
    dashboardChartState: body.dashboardChartState,
    reactGridTableState: body.reactGridTableState,
  };
  for (const [key, value] of Object.entries(states) as [keyof typeof states, unknown][]) {
    // The download returns these as JSON text; clients may send the value itself, stored as text.
    if (value != null) fields[key] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  if (body.v2 != null) fields.v2 = body.v2;
  if (body.source != null) fields.source = body.source;
  if (body.current != null) fields.current = body.current;
  if (body.unsaved_view != null) fields.unsavedView = body.unsaved_view;
  if (body.project_default != null) fields.projectDefault = body.project_default;
  if (body.pinnedExperiments != null) fields.pinnedExperiments = body.pinnedExperiments;
  if (body.isAutoRefreshEnabled != null) fields.autoRefresh = body.isAutoRefreshEnabled;
  if (body.codePanelTemplateIds != null) fields.codePanelTemplateIds = body.codePanelTemplateIds;
  return fields;
}

function toDashboardTemplate({ dashboard, creatorName, instances }: DashboardView): DashboardTemplate {
  return {
    project_id: dashboard.projectId,
    template_name: dashboard.name,
    template_id: dashboard.id,
    experimentQueryState: dashboard.experimentQueryState,
    dashboardChartState: dashboard.dashboardChartState,
    reactGridTableState: dashboard.reactGridTableState,
    v2: dashboard.v2,
    source: dashboard.source,
    current: dashboard.current,
    unsaved_view: dashboard.unsavedView,
    created_by: creatorName,
    project_default: dashboard.projectDefault,
    pinnedExperiments: dashboard.pinnedExperiments,
    codePanelTemplateIds: instances.map((i) => i.templateId),
    isAutoRefreshEnabled: dashboard.autoRefresh,
    codePanelInstances: instances.map((i) => ({ instanceId: i.id, templateId: i.templateId })),
  };
}
