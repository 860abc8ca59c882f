import type { CometRouteContext } from '../comet.plugin.js';

export function registerExperimentsRoutes(_context: CometRouteContext): void {}
