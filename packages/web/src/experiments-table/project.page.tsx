import { lazy, Suspense } from 'react';
import { useParams } from 'react-router';
import { PanelBoundary } from '../app/panel';

// The table (TanStack Table and Virtual, the query bar, the picker) loads with the first project
// page, not with the app.
const ProjectView = lazy(() => import('./project-view').then((module) => ({ default: module.ProjectView })));

export function ProjectPage() {
  const params = useParams();
  const workspace = params.workspace ?? '';
  const project = params.project ?? '';
  return (
    <PanelBoundary>
      <Suspense
        fallback={
          <div className="page muted" role="status">
            Loading…
          </div>
        }
      >
        {/* A new project starts from a clean view state (pins, collapsed groups, focus). */}
        <ProjectView key={`${workspace}/${project}`} workspace={workspace} project={project} />
      </Suspense>
    </PanelBoundary>
  );
}
