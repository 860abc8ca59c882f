import { BestExperimentQuery, BestExperimentResponse, CometError } from '@cairn/schemas/comet';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** The optimizer read of REST v2 (spec §3.7 #51); the optimizer service itself is not Cairn's. */
export function registerOptimizerRoutes({ app, core }: CometRouteContext): void {
  /** GET /get-best-experiment?optimizationId=&metricName=&goal=MIN|MAX */
  app.get(
    '/get-best-experiment',
    { schema: { querystring: BestExperimentQuery, response: { 200: BestExperimentResponse, ...errors } } },
    async (request) => {
      const { optimizationId, metricName, goal } = request.query;
      return core.optimizer.bestExperiment(principalOf(request), {
        optimizationId,
        metricName,
        goal: goal.toUpperCase() === 'MAX' ? 'MAX' : 'MIN',
      });
    },
  );
}
