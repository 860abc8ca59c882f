import type { CometRouteContext } from '../comet.plugin.js';

export function registerExperimentDataRoutes(_context: CometRouteContext): void {}
