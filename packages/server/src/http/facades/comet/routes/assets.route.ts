import type { CometRouteContext } from '../comet.plugin.js';

export function registerAssetsRoutes(_context: CometRouteContext): void {}
