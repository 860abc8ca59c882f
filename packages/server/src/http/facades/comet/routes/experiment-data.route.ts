import type { CometRouteContext } from '../comet.plugin.js';
import { registerExperimentDocumentsRoutes } from './experiment-documents.route.js';
import { registerExperimentMetricsRoutes } from './experiment-metrics.route.js';
import { registerExperimentValuesRoutes } from './experiment-values.route.js';

/**
 * Everything logged to one experiment except assets and the git patch, split by kind: metrics and
 * system metrics; parameters, others and tags; single-valued documents and output.
 */
export function registerExperimentDataRoutes(context: CometRouteContext): void {
  registerExperimentMetricsRoutes(context);
  registerExperimentValuesRoutes(context);
  registerExperimentDocumentsRoutes(context);
}
