import type { Scope } from './entities.js';
import { NotFoundError, PermissionDeniedError } from './errors.js';

/** Who is calling: resolved once per request from the API key. */
export interface Principal {
  userId: string;
  userName: string;
  isAdmin: boolean;
  scopes: ReadonlySet<Scope>;
  /** Workspaces the user belongs to; everything else is invisible except public projects. */
  workspaceIds: ReadonlySet<string>;
  defaultWorkspaceId: string | null;
  /**
   * The credential the caller presented (`key:<id>` or `session:<id>`): what per-key limits
   * count against.
   */
  credentialId: string;
  /** The API key the request presented; absent for a browser session. */
  apiKeyId?: string;
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.scopes.has(scope) || principal.scopes.has('admin')) return;
  throw new PermissionDeniedError(`this API key lacks the "${scope}" scope`);
}

/** Read access to a project: membership of its workspace, or the project is public. */
export function canRead(principal: Principal, project: { workspaceId: string; isPublic: boolean }): boolean {
  return project.isPublic || principal.workspaceIds.has(project.workspaceId);
}

export function isMember(principal: Principal, workspaceId: string): boolean {
  return principal.workspaceIds.has(workspaceId);
}

/** Another tenant's data is reported as absent, never as forbidden, so keys cannot probe ids. */
export function hidden(what: string): NotFoundError {
  return new NotFoundError(`${what} not found`);
}
