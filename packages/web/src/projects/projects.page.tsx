import type { Project } from '@cairn/sdk';
import { useCallback, useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useProjectList, useWorkspaces } from '../api/projects.hooks';
import { formatDateTime, formatRelative } from '../app/format';
import { PagedListView, pagedItems } from '../app/paged-list';
import { QueryView } from '../app/panel';
import { useUrlParam } from '../app/url-state';
import { Onboarding } from './onboarding';
import './projects.css';

/** The home page: the caller's workspaces and their projects, searched on the server. */
export function ProjectsPage() {
  const workspaces = useWorkspaces();
  const [search, setSearch] = useUrlParam('q');
  const [typed, setTyped] = useState(search);
  const [totals, setTotals] = useState<Record<string, number>>({});
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim() || null), 250);
    return () => clearTimeout(timer);
  }, [typed, setSearch]);
  const onTotal = useCallback((workspace: string, total: number) => {
    setTotals((current) => (current[workspace] === total ? current : { ...current, [workspace]: total }));
  }, []);

  return (
    <div className="page projects-page">
      <div className="projects-head">
        <h1>Projects</h1>
        <input
          type="search"
          className="input projects-search"
          placeholder="Search projects  ( / )"
          aria-label="Search projects"
          data-shortcut-focus
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
        />
      </div>
      <QueryView query={workspaces}>
        {(list) => {
          const known = list.every((workspace) => totals[workspace.name] !== undefined);
          const empty = !search && known && list.every((workspace) => totals[workspace.name] === 0);
          return (
            <>
              {(list.length === 0 || empty) && (
                <div className="projects-empty">
                  <p>No projects yet. A project appears with its first experiment:</p>
                  <Onboarding workspace={list[0]?.name ?? 'default'} project="my-first-project" />
                </div>
              )}
              {!empty &&
                list.map((workspace) => (
                  <WorkspaceProjects key={workspace.id} workspace={workspace.name} search={search} onTotal={onTotal} />
                ))}
            </>
          );
        }}
      </QueryView>
    </div>
  );
}

function WorkspaceProjects({
  workspace,
  search,
  onTotal,
}: {
  workspace: string;
  search: string;
  onTotal: (workspace: string, total: number) => void;
}) {
  const projects = useProjectList(workspace, search);
  const { items, total } = pagedItems<Project>(projects.data);
  useEffect(() => {
    if (!search && total !== undefined) onTotal(workspace, total);
  }, [search, total, workspace, onTotal]);

  return (
    <section className="workspace" aria-labelledby={`ws-${workspace}`}>
      <h2 id={`ws-${workspace}`} className="workspace-title">
        {workspace}
        {total !== undefined && <span className="muted"> · {total === 1 ? '1 project' : `${total} projects`}</span>}
      </h2>
      <PagedListView
        query={projects}
        count={items.length}
        empty={search ? `No project matches “${search}”.` : 'No projects in this workspace yet.'}
      >
        <table className="simple projects-table">
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Description</th>
              <th scope="col" className="num">
                Experiments
              </th>
              <th scope="col">Last activity</th>
            </tr>
          </thead>
          <tbody>
            {items.map((project) => (
              <tr key={project.id}>
                <td>
                  <Link to={`/${encodeURIComponent(workspace)}/${encodeURIComponent(project.name)}`}>
                    {project.name}
                  </Link>
                </td>
                <td className="muted projects-description">{project.description}</td>
                <td className="num">{project.experimentCount.toLocaleString()}</td>
                <td>
                  <time dateTime={new Date(project.updatedAt).toISOString()} title={formatDateTime(project.updatedAt)}>
                    {formatRelative(project.updatedAt)}
                  </time>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </PagedListView>
      {projects.hasNextPage && (
        <button
          type="button"
          className="btn btn-small projects-more"
          disabled={projects.isFetchingNextPage}
          onClick={() => void projects.fetchNextPage()}
        >
          {projects.isFetchingNextPage ? 'Loading…' : `Show more (${items.length} of ${total ?? '?'})`}
        </button>
      )}
    </section>
  );
}
