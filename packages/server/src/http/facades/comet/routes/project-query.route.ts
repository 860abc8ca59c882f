import {
  ColumnNamesQuery,
  ColumnNamesResponse,
  CometError,
  ProjectQueryBody,
  ProjectQueryResponse,
  type ProjectSortName,
  ProjectsPageQuery,
  ProjectsPageResponse,
  parseCometBoolean,
} from '@cairn/schemas/comet';
import { isMember } from '../../../../core/principal.js';
import type { ProjectSortKey } from '../../../../core/projects.service.js';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import {
  predicateConditionRule,
  predicateSourceRule,
  predicateValidRule,
  projectLocatorRule,
} from '../comet-field-rules.js';
import { projectRef } from '../comet-reply.js';
import { toColumns, toCondition } from './project-query.mapper.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** Row field names (and Comet's UI names) a page may be sorted by; the schema admits these alone. */
const SORT_KEYS: Record<ProjectSortName, ProjectSortKey> = {
  projectName: 'name',
  name: 'name',
  created_at: 'createdAt',
  createdAt: 'createdAt',
  lastUpdated: 'lastUpdated',
  experimentCount: 'experimentCount',
  numberOfExperiments: 'experimentCount',
};

/** Projects by query, project columns and the project query (spec §3.2 #4, #6, #7; §5). */
export function registerProjectQueryRoutes({ app, core }: CometRouteContext): void {
  /** GET /projects/page?workspaceName=&offset=&count=&sort=&order=&owner=&public=&starterProject=&search= */
  app.get(
    '/projects/page',
    { schema: { querystring: ProjectsPageQuery, response: { 200: ProjectsPageResponse, ...errors } } },
    async (request) => {
      const q = request.query;
      const principal = principalOf(request);
      const sort = q.sort ? SORT_KEYS[q.sort] : undefined;
      const starterOnly = parseCometBoolean(q.starterProject) === true;
      const { views, total, filtered } = await core.projects.pageProjects(principal, q.workspaceName, {
        ...(q.offset !== undefined ? { offset: q.offset } : {}),
        ...(q.count !== undefined ? { count: q.count } : {}),
        ...(sort ? { sort } : {}),
        descending: q.order?.toLowerCase() === 'desc',
        ...(q.owner !== undefined ? { ownedByCaller: parseCometBoolean(q.owner) } : {}),
        ...(q.public !== undefined ? { isPublic: parseCometBoolean(q.public) } : {}),
        ...(q.search ? { search: q.search } : {}),
      });
      // Cairn has no starter (sample) projects, so asking for them alone finds none.
      const rows = starterOnly ? [] : views;
      const filteredCount = starterOnly ? 0 : filtered;
      return {
        rows: rows.map(({ project, workspace, ownerName, experimentCount }) => {
          const member = isMember(principal, workspace.id);
          return {
            projectId: project.id,
            userName: ownerName,
            projectName: project.name,
            projectDesc: project.description,
            generalProject: project.name === 'general',
            totalRowCount: String(total),
            filteredRowCount: String(filteredCount),
            experimentCount,
            imagePath: null,
            isPublic: project.isPublic,
            teamId: workspace.id,
            created_at: project.createdAt,
            lastUpdated: project.updatedAt,
            lastUpdatedByUser: project.updatedAt,
            isStarterProject: false,
            teamName: workspace.name,
            isInProjectTeam: member,
            owner: project.ownerUserId === principal.userId,
            canEdit: member,
          };
        }),
        filteredRowCount: filteredCount,
        totalRowCount: total,
      };
    },
  );

  /** GET /project/column-names?projectId= | ?workspaceName=&projectName= [&archived=] */
  app.get(
    '/project/column-names',
    { schema: { querystring: ColumnNamesQuery, response: { 200: ColumnNamesResponse, ...errors } } },
    async (request) => {
      const archived = parseCometBoolean(request.query.archived) ?? false;
      const columns = await core.queries.projectColumns(principalOf(request), projectRef(request.query), archived);
      return { columns: toColumns(columns) };
    },
  );

  /** POST /project/query {projectId | workspaceName+projectName, predicates, archived} */
  app.post(
    '/project/query',
    {
      config: {
        // Nested groups' conditions and marks are refused by the schema in its own words.
        cometFieldRules: {
          '': projectLocatorRule,
          'predicates.source': predicateSourceRule,
          'predicates.query.valid': predicateValidRule,
          'predicates.query.condition': predicateConditionRule,
        },
      },
      schema: { body: ProjectQueryBody, response: { 200: ProjectQueryResponse, ...errors } },
    },
    async (request) => {
      const body = request.body;
      const where = toCondition(body.predicates);
      const { keys, experimentsInProject } = await core.queries.queryProject(
        principalOf(request),
        projectRef(body),
        where,
        body.archived ?? false,
      );
      return { experimentKeys: keys, experimentsInProject };
    },
  );
}
