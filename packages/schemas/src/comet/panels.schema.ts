import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { FilePart, MAX_FIELD_PARTS, PartName } from '../shared/multipart.js';
import { EntryName, ExperimentKeyPattern } from '../shared/names.js';
import { Nullable, OptionalNullable, WriteResponse } from './common.schema.js';

/** An internal resource of a panel (a library the Comet UI provides, by name and version). */
export const PanelResource = Type.Object({ name: Type.String(), version: Type.String(), enabled: Type.Boolean() });

/** The `code` object of a panel (spec §3.7 #46). Configs are JSON text, as cometx writes them. */
export const PanelCode = Type.Object({
  code: Type.String(),
  css: Type.String(),
  description: Type.String(),
  html: Type.String(),
  defaultConfig: Type.String(),
  internalResources: Type.Array(PanelResource),
  userResources: Type.Array(Type.Unknown()),
  pyCode: Type.String(),
  type: Type.String(),
  pyConfig: Type.String(),
});

/** A row of `code-panel/get-all` (spec §3.7 #45). `teamId` is the workspace id. */
export const CodePanelRow = Type.Object({
  templateId: Type.String(),
  owner: Type.String(),
  teamId: Type.String(),
  templateName: Type.String(),
  queryBuilderId: Type.String(),
  scopeType: Type.String(),
  revisionId: Type.Integer(),
  createdAt: Type.Integer(),
});
export type CodePanelRow = Static<typeof CodePanelRow>;

export const PanelWorkspaceQuery = Type.Object({ workspace: Type.String({ minLength: 1 }) });
export const CodePanelsResponse = Type.Object({ codePanelTemplateRows: Type.Array(CodePanelRow) });

/** A panel by template id, or by the id of one of its instances on a dashboard. */
export const CodePanelQuery = Type.Object({
  templateId: Type.Optional(Type.String({ minLength: 1 })),
  instanceId: Type.Optional(Type.String({ minLength: 1 })),
});

/**
 * `code-panel/download` (spec §3.7 #46). Cairn has no panel voting: `rank.voteCount` is 0 and
 * `rank.userVoteType` null. `editable` tells whether the caller may upload new revisions.
 */
export const CodePanelResponse = Type.Object({
  templateId: Type.String(),
  owner: Type.String(),
  teamId: Type.String(),
  templateName: Type.String(),
  queryBuilderId: Type.String(),
  code: PanelCode,
  rank: Type.Object({ templateId: Type.String(), voteCount: Type.Integer(), userVoteType: Nullable(Type.String()) }),
  scopeType: Type.String(),
  revisionId: Type.Integer(),
  createdAt: Type.Integer(),
  thumbnailName: Nullable(Type.String()),
  editable: Type.Boolean(),
});
export type CodePanelResponse = Static<typeof CodePanelResponse>;

export const TemplateIdParams = Type.Object({ templateId: Type.String({ minLength: 1 }) });

/** `write/template/upload` (spec §4.6 #52): the zip in part `file`; `templateId` overwrites. */
/** `write/template/upload`'s one part (documentation only: the route reads it as a stream). */
export const UploadTemplateParts = Type.Object(
  { file: FilePart("The panel zip: the code panel's files and its definition, as Comet exports it") },
  { propertyNames: PartName, maxProperties: MAX_FIELD_PARTS + 1 },
);

export const UploadTemplateQuery = Type.Object({
  teamName: Type.String({ minLength: 1 }),
  templateId: Type.Optional(Type.String({ minLength: 1 })),
});
export const UploadTemplateResponse = WriteResponse({ templateId: Type.String(), revisionId: Type.Integer() });

/**
 * A dashboard's `v2` state: the table state and the toggles the UI keeps there. Other keys are
 * stored and returned as sent.
 */
export const DashboardV2 = Type.Object(
  {
    reactGridTableState: Type.Optional(Type.Unknown()),
    toggles: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object({ isVisible: Type.Boolean(), toggleId: Type.String() }, { additionalProperties: true }),
      ),
    ),
  },
  { additionalProperties: true },
);

/** A JSON state field: JSON text, or the JSON value itself (stored as its text). */
export const DashboardJsonState = Type.Unsafe<string | Record<string, unknown> | unknown[] | null>({
  type: ['null', 'string', 'object', 'array'],
});

/**
 * Body of `write/dashboard-template/create` and `dashboard-templates/project/upsert` (spec §4.6
 * #53), with the key casing of the download. On create, `template_id` names a dashboard to clone;
 * on upsert it names the dashboard to update (a new one is created without it).
 */
export const DashboardWriteBody = Type.Object({
  project_id: Type.String({ minLength: 1 }),
  template_name: OptionalNullable(EntryName()),
  template_id: OptionalNullable(Type.String()),
  codePanelTemplateIds: OptionalNullable(Type.Array(Type.String())),
  experimentQueryState: Type.Optional(DashboardJsonState),
  dashboardChartState: Type.Optional(DashboardJsonState),
  reactGridTableState: Type.Optional(DashboardJsonState),
  v2: OptionalNullable(DashboardV2),
  source: OptionalNullable(Type.String()),
  current: OptionalNullable(Type.Boolean()),
  unsaved_view: OptionalNullable(Type.Boolean()),
  project_default: OptionalNullable(Type.Boolean()),
  /** Experiment keys, as rules.ts `experimentKey` checks them. */
  pinnedExperiments: OptionalNullable(Type.Array(Type.String({ pattern: ExperimentKeyPattern }))),
  isAutoRefreshEnabled: OptionalNullable(Type.Boolean()),
});
export type DashboardWriteBody = Static<typeof DashboardWriteBody>;

/** A field that must be given (present and not null), with its rule. */
const given = (name: string, schema: TSchema) => ({ required: [name], properties: { [name]: schema } });
/** The dashboard name rule of the core (rules.ts `entryName`). */
const templateName = given('template_name', EntryName());
const templateId = given('template_id', Type.String({ minLength: 1 }));

/** `write/dashboard-template/create`: a new dashboard needs its `template_name`. */
export const DashboardCreateBody = Type.Object(DashboardWriteBody.properties, {
  allOf: [templateName],
});
/** `dashboard-templates/project/upsert`: updates `template_id`, or creates one, which needs a name. */
export const DashboardUpsertBody = Type.Object(DashboardWriteBody.properties, {
  anyOf: [templateId, templateName],
});

const dashboardTemplateFields = {
  project_id: Type.String(),
  template_name: Type.String(),
  template_id: Type.String(),
  experimentQueryState: Type.String(),
  dashboardChartState: Type.String(),
  reactGridTableState: Type.String(),
  v2: DashboardV2,
  source: Nullable(Type.String()),
  current: Type.Boolean(),
  unsaved_view: Type.Boolean(),
  created_by: Type.String(),
  project_default: Type.Boolean(),
  pinnedExperiments: Type.Array(Type.String()),
  codePanelTemplateIds: Type.Array(Type.String()),
  isAutoRefreshEnabled: Type.Boolean(),
  /** Cairn addition: the placement of each code panel, for `code-panel/download` and the viz store. */
  codePanelInstances: Type.Array(Type.Object({ instanceId: Type.String(), templateId: Type.String() })),
};

/** `dashboard-template/download` (spec §3.7 #49); the mixed key casing is Comet's. */
export const DashboardTemplate = Type.Object(dashboardTemplateFields);
export type DashboardTemplate = Static<typeof DashboardTemplate>;
export const DashboardWriteResponse = WriteResponse(dashboardTemplateFields);

export const DashboardDownloadQuery = Type.Object({
  projectId: Type.String({ minLength: 1 }),
  templateId: Type.String({ minLength: 1 }),
});

/** A row of `dashboard-template/get-all` (spec §3.7 #48); `createdBy` is a user name. */
export const DashboardTemplateRow = Type.Object({
  templateId: Type.String(),
  templateName: Type.String(),
  projectId: Type.String(),
  projectName: Type.String(),
  createdBy: Type.String(),
});
export const DashboardTemplatesResponse = Type.Object({ dashboardTemplates: Type.Array(DashboardTemplateRow) });

export const VizStoreQuery = Type.Object({
  instanceId: Type.String({ minLength: 1 }),
  projectId: Type.String({ minLength: 1 }),
});
/** `viz-instance/store/get` (spec §3.7 #50): the store as JSON text of an object. */
export const VizStoreResponse = Type.Object({ store: Type.String() });

/** Cairn addition `write/viz-instance/store/set`: replaces the store (an object, or its JSON text). */
export const SetVizStoreBody = Type.Object({
  instanceId: Type.String({ minLength: 1 }),
  projectId: Type.String({ minLength: 1 }),
  store: Type.Unsafe<string | Record<string, unknown>>({ type: ['string', 'object'] }),
});
