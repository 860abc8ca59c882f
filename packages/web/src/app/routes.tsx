import type { RouteObject } from 'react-router';
import { SignInPage } from '../auth/sign-in.page';
import { ProjectChartsPage } from '../charts/project-charts.page';
import { ComparePage } from '../compare/compare.page';
import { ExperimentPage } from '../experiment/experiment.page';
import { ProjectPage } from '../experiments-table/project.page';
import { ProjectsPage } from '../projects/projects.page';
import { ArtifactPage, ArtifactsPage } from '../registry/artifacts.page';
import { ModelPage, RegistryPage } from '../registry/registry.page';
import { SettingsPage } from '../settings/settings.page';
import { Layout, NotFoundPage, SignedIn } from './layout';

/**
 * The app's URLs. Workspace names start with a letter or digit, so the reserved `/-/…` prefix and
 * the one-segment pages never collide with `/<workspace>/<project>`.
 */
export const routes: RouteObject[] = [
  { path: '/sign-in', element: <SignInPage /> },
  {
    element: <SignedIn />,
    children: [
      {
        element: <Layout />,
        children: [
          { path: '/', element: <ProjectsPage /> },
          { path: '/settings', element: <SettingsPage /> },
          { path: '/-/registry/:workspace', element: <RegistryPage /> },
          { path: '/-/registry/:workspace/:model', element: <ModelPage /> },
          { path: '/-/artifacts/:workspace', element: <ArtifactsPage /> },
          { path: '/-/artifacts/:workspace/:artifact', element: <ArtifactPage /> },
          { path: '/:workspace/:project', element: <ProjectPage /> },
          { path: '/:workspace/:project/compare', element: <ComparePage /> },
          { path: '/:workspace/:project/charts', element: <ProjectChartsPage /> },
          { path: '/:workspace/:project/:experiment/:tab?', element: <ExperimentPage /> },
          { path: '*', element: <NotFoundPage /> },
        ],
      },
    ],
  },
];
