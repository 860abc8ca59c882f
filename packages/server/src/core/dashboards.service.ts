import type { Clock } from './clock.port.js';
import type { Dashboard, PanelInstance, Project, Workspace } from './entities.js';
import { InvalidArgumentError, NotFoundError, SdkErrorCode } from './errors.js';
import { newHexId } from './ids.js';
import { type CodePanelView, canReadPanel, type PanelsService, panelNotFound } from './panels.service.js';
import { isMember, type Principal, requireScope } from './principal.js';
import type { ProjectsService } from './projects.service.js';
import * as rules from './rules.js';
import type { Repositories, Store } from './store.port.js';

/** The fields a dashboard write may set; absent ones keep their value (or the default on create). */
export interface DashboardFields {
  name?: string;
  /** JSON texts. */
  experimentQueryState?: string;
  dashboardChartState?: string;
  reactGridTableState?: string;
  v2?: Record<string, unknown>;
  source?: string | null;
  current?: boolean;
  unsavedView?: boolean;
  projectDefault?: boolean;
  pinnedExperiments?: string[];
  autoRefresh?: boolean;
  /** The code panels on the dashboard, in order; replaces the whole set when given. */
  codePanelTemplateIds?: string[];
}

export interface DashboardView {
  dashboard: Dashboard;
  project: Project;
  creatorName: string;
  instances: PanelInstance[];
}

export interface DashboardSummary {
  dashboard: Dashboard;
  projectName: string;
  creatorName: string;
}

/** A viz store holds what a panel instance saves between renders; it is UI state, not data. */
export const MAX_VIZ_STORE_BYTES = 1024 * 1024;

/**
 * Dashboards of projects, the code panels placed on them (instances) and each instance's viz
 * store. Access follows the project: readers of the project read its dashboards, members of its
 * workspace write them.
 */
export class DashboardsService {
  constructor(
    private readonly store: Store,
    private readonly projects: ProjectsService,
    private readonly panels: PanelsService,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates a dashboard in the project. With `cloneFrom` (a dashboard the caller can read) the
   * new one starts as a copy of its state and panels; `fields` then override.
   */
  async create(
    principal: Principal,
    projectId: string,
    fields: DashboardFields,
    cloneFrom?: string | null,
  ): Promise<DashboardView> {
    requireScope(principal, 'write');
    checkFields(fields);
    if (fields.name === undefined) throw new InvalidArgumentError('template_name is required');
    const id = await this.store.transaction(async (tx) => {
      const { project } = await this.projects.findWritable(tx, principal, { projectId });
      const source = cloneFrom ? await this.readable(tx, principal, cloneFrom) : undefined;
      const now = this.clock.now();
      const base: Dashboard = source
        ? { ...source, projectDefault: false }
        : {
            id: '',
            projectId: '',
            name: '',
            createdBy: '',
            experimentQueryState: '{}',
            dashboardChartState: '{}',
            reactGridTableState: '{}',
            v2: {},
            source: null,
            current: false,
            unsavedView: false,
            projectDefault: false,
            pinnedExperiments: [],
            autoRefresh: false,
            createdAt: 0,
            updatedAt: 0,
          };
      const dashboard: Dashboard = {
        ...applyFields(base, fields),
        id: newHexId(),
        projectId: project.id,
        createdBy: principal.userId,
        createdAt: now,
        updatedAt: now,
      };
      await tx.dashboards.insert(dashboard);
      const templateIds =
        fields.codePanelTemplateIds ??
        (source ? (await tx.dashboards.listInstances(source.id)).map((i) => i.templateId) : []);
      await this.placePanels(tx, principal, dashboard.id, templateIds);
      if (dashboard.projectDefault) await tx.dashboards.clearProjectDefault(project.id, dashboard.id);
      return dashboard.id;
    });
    return this.get(principal, projectId, id);
  }

  /** Updates the project's dashboard `templateId`; without one, creates a dashboard. */
  async upsert(
    principal: Principal,
    projectId: string,
    templateId: string | null | undefined,
    fields: DashboardFields,
  ): Promise<DashboardView> {
    if (!templateId) return this.create(principal, projectId, fields);
    requireScope(principal, 'write');
    checkFields(fields);
    await this.store.transaction(async (tx) => {
      const { project } = await this.projects.findWritable(tx, principal, { projectId });
      const existing = await tx.dashboards.get(templateId);
      if (!existing || existing.projectId !== project.id) throw dashboardNotFound(templateId);
      const updated = { ...applyFields(existing, fields), updatedAt: this.clock.now() };
      await tx.dashboards.update(updated);
      if (fields.codePanelTemplateIds) await this.placePanels(tx, principal, existing.id, fields.codePanelTemplateIds);
      if (updated.projectDefault) await tx.dashboards.clearProjectDefault(project.id, updated.id);
    });
    return this.get(principal, projectId, templateId);
  }

  /** Dashboards of a workspace's projects: all for members, those of public projects for others. */
  async list(principal: Principal, workspaceName: string): Promise<DashboardSummary[]> {
    requireScope(principal, 'read');
    const workspace = await this.store.tenancy.getWorkspaceByName(workspaceName);
    if (!workspace) throw new NotFoundError(`workspace "${workspaceName}" not found`, SdkErrorCode.nonExistingTeam);
    const publicOnly = !isMember(principal, workspace.id);
    const projectNames = new Map<string, string>();
    const creators = new Map<string, string>();
    const summaries: DashboardSummary[] = [];
    for (const dashboard of await this.store.dashboards.listInWorkspace(workspace.id, publicOnly)) {
      let projectName = projectNames.get(dashboard.projectId);
      if (projectName === undefined) {
        projectName = (await this.store.projects.get(dashboard.projectId))?.name ?? '';
        projectNames.set(dashboard.projectId, projectName);
      }
      summaries.push({ dashboard, projectName, creatorName: await this.userName(dashboard.createdBy, creators) });
    }
    return summaries;
  }

  /** One dashboard of a project the caller can read. */
  async get(principal: Principal, projectId: string, templateId: string): Promise<DashboardView> {
    requireScope(principal, 'read');
    const { project } = await this.projects.findReadable(this.store, principal, { projectId });
    const dashboard = await this.store.dashboards.get(templateId);
    if (!dashboard || dashboard.projectId !== project.id) throw dashboardNotFound(templateId);
    return {
      dashboard,
      project,
      creatorName: await this.userName(dashboard.createdBy, new Map()),
      instances: await this.store.dashboards.listInstances(dashboard.id),
    };
  }

  /**
   * The panel an instance shows. Readers of the dashboard's project may read it when the panel
   * belongs to the project's workspace (its members placed it there) or is readable to them anyway;
   * a private panel of another workspace stays hidden.
   */
  async panelOfInstance(principal: Principal, instanceId: string): Promise<CodePanelView> {
    requireScope(principal, 'read');
    const instance = await this.store.dashboards.getInstance(instanceId);
    const dashboard = instance && (await this.store.dashboards.get(instance.dashboardId));
    if (!instance || !dashboard) throw instanceNotFound(instanceId);
    const { project } = await this.readableProject(principal, dashboard.projectId, instanceId);
    const panel = await this.store.codePanels.get(instance.templateId);
    if (!panel || !(canReadPanel(principal, panel) || panel.workspaceId === project.workspaceId)) {
      throw panelNotFound(instance.templateId);
    }
    return this.panels.viewOf(principal, panel);
  }

  /** The instance's store as JSON text; "{}" until something was stored. */
  async getVizStore(principal: Principal, instanceId: string, projectId: string): Promise<string> {
    requireScope(principal, 'read');
    await this.projects.findReadable(this.store, principal, { projectId });
    const instance = await this.instanceIn(this.store, instanceId, projectId);
    return (await this.store.dashboards.getVizStore(instance.id)) ?? '{}';
  }

  /** Replaces the instance's store with `body`, the JSON text of an object. */
  async setVizStore(principal: Principal, instanceId: string, projectId: string, body: string): Promise<void> {
    requireScope(principal, 'write');
    if (Buffer.byteLength(body) > MAX_VIZ_STORE_BYTES) {
      throw new InvalidArgumentError(`a viz store must be at most ${MAX_VIZ_STORE_BYTES} bytes of JSON`);
    }
    if (!isJsonObject(body)) throw new InvalidArgumentError('a viz store must be a JSON object');
    await this.store.transaction(async (tx) => {
      await this.projects.findWritable(tx, principal, { projectId });
      const instance = await this.instanceIn(tx, instanceId, projectId);
      await tx.dashboards.putVizStore(instance.id, body, this.clock.now());
    });
  }

  /** A dashboard anywhere, if the caller can read its project. */
  private async readable(repos: Repositories, principal: Principal, templateId: string): Promise<Dashboard> {
    const dashboard = await repos.dashboards.get(templateId);
    if (!dashboard) throw dashboardNotFound(templateId);
    try {
      await this.projects.findReadable(repos, principal, { projectId: dashboard.projectId });
    } catch (error) {
      if (error instanceof NotFoundError) throw dashboardNotFound(templateId);
      throw error;
    }
    return dashboard;
  }

  private async readableProject(
    principal: Principal,
    projectId: string,
    instanceId: string,
  ): Promise<{ project: Project; workspace: Workspace }> {
    try {
      return await this.projects.findReadable(this.store, principal, { projectId });
    } catch (error) {
      // An instance in a project the caller cannot see is reported as absent, like the project.
      if (error instanceof NotFoundError) throw instanceNotFound(instanceId);
      throw error;
    }
  }

  private async instanceIn(repos: Repositories, instanceId: string, projectId: string): Promise<PanelInstance> {
    const instance = await repos.dashboards.getInstance(instanceId);
    const dashboard = instance && (await repos.dashboards.get(instance.dashboardId));
    if (!instance || !dashboard || dashboard.projectId !== projectId) throw instanceNotFound(instanceId);
    return instance;
  }

  /**
   * Makes `templateIds` the dashboard's panels, in that order (repeats dropped). Panels already on
   * the dashboard keep their instance (and viz store); a newly placed one must be readable by the
   * caller.
   */
  private async placePanels(
    tx: Repositories,
    principal: Principal,
    dashboardId: string,
    templateIds: readonly string[],
  ): Promise<void> {
    const existing = new Map((await tx.dashboards.listInstances(dashboardId)).map((i) => [i.templateId, i]));
    const instances: PanelInstance[] = [];
    for (const templateId of new Set(templateIds)) {
      let instance = existing.get(templateId);
      if (!instance) {
        const panel = await tx.codePanels.get(templateId);
        if (!panel || !canReadPanel(principal, panel)) throw panelNotFound(templateId);
        instance = { id: newHexId(), dashboardId, templateId, position: 0 };
      }
      instances.push({ ...instance, position: instances.length });
    }
    await tx.dashboards.replaceInstances(dashboardId, instances);
  }

  private async userName(userId: string, cache: Map<string, string>): Promise<string> {
    let name = cache.get(userId);
    if (name === undefined) {
      name = (await this.store.tenancy.getUser(userId))?.name ?? '';
      cache.set(userId, name);
    }
    return name;
  }
}

function applyFields(base: Dashboard, fields: DashboardFields): Dashboard {
  const { codePanelTemplateIds: _panels, ...set } = fields;
  const defined = Object.fromEntries(Object.entries(set).filter(([, value]) => value !== undefined));
  const dashboard = { ...base, ...defined };
  return { ...dashboard, pinnedExperiments: [...new Set(dashboard.pinnedExperiments)] };
}

function checkFields(fields: DashboardFields): void {
  if (fields.name !== undefined) rules.entryName('dashboard', fields.name);
  for (const [key, value] of [
    ['experimentQueryState', fields.experimentQueryState],
    ['dashboardChartState', fields.dashboardChartState],
    ['reactGridTableState', fields.reactGridTableState],
  ] as const) {
    if (value !== undefined && !isJson(value)) throw new InvalidArgumentError(`${key} must be JSON text`);
  }
  for (const key of fields.pinnedExperiments ?? []) rules.experimentKey(key);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function dashboardNotFound(templateId: string): NotFoundError {
  return new NotFoundError(`dashboard template ${templateId} not found`);
}

function instanceNotFound(instanceId: string): NotFoundError {
  return new NotFoundError(`panel instance ${instanceId} not found`);
}
