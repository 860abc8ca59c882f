import { Readable } from 'node:stream';
import type { BlobStore } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type { CodePanel, Workspace } from './entities.js';
import { NotFoundError, SdkErrorCode } from './errors.js';
import { newHexId } from './ids.js';
import { readBounded, readPanelArchive } from './panel-archive.js';
import { isMember, type Principal, requireScope } from './principal.js';
import type { Repositories, Store } from './store.port.js';

/** A panel as callers see it. */
export interface CodePanelView {
  panel: CodePanel;
  workspace: Workspace;
  ownerName: string;
  /** The caller may upload new revisions of it. */
  editable: boolean;
}

/** Panel zips hold code, markup and a thumbnail; a bound well above that keeps uploads in memory. */
export const MAX_PANEL_ZIP_BYTES = 16 * 1024 * 1024;

/**
 * Code panel templates of a workspace. Members read and write them; a PUBLIC panel is readable
 * by every user (like a public project), a PRIVATE one is invisible outside its workspace.
 */
export class PanelsService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly maxZipBytes: number,
  ) {}

  /**
   * Stores a panel zip as a new panel of the workspace, or as the new revision of `templateId`.
   * The zip is read and its template checked before anything is stored; the bytes go to the blob
   * store before the row commits (a listed panel always has its zip), and the replaced revision's
   * bytes are deleted after the commit.
   */
  async upload(
    principal: Principal,
    target: { workspaceName: string; templateId?: string | null },
    body: Readable,
  ): Promise<CodePanel> {
    requireScope(principal, 'write');
    const workspace = await this.memberWorkspace(this.store, principal, target.workspaceName);
    if (target.templateId) await this.panelOf(this.store, workspace, target.templateId);
    const zip = await readBounded(body, this.maxZipBytes, 'the panel zip');
    const definition = await readPanelArchive(zip);

    const id = target.templateId || newHexId();
    // A key per revision: a failed upload can never overwrite or delete the bytes of a live one.
    const blobKey = codePanelBlobKey(id, newHexId());
    await this.blobs.put(blobKey, Readable.from([zip]));
    let replacedKey: string | undefined;
    let panel: CodePanel;
    try {
      panel = await this.store.transaction(async (tx) => {
        const ws = await this.memberWorkspace(tx, principal, target.workspaceName);
        const now = this.clock.now();
        if (target.templateId) {
          const existing = await this.panelOf(tx, ws, target.templateId);
          replacedKey = existing.blobKey;
          const revised: CodePanel = {
            ...existing,
            ...definition,
            // Revisions are upload times, kept increasing when two uploads share a millisecond.
            revisionId: Math.max(now, existing.revisionId + 1),
            blobKey,
            updatedAt: now,
          };
          await tx.codePanels.update(revised);
          return revised;
        }
        const created: CodePanel = {
          id,
          workspaceId: ws.id,
          ownerUserId: principal.userId,
          ...definition,
          revisionId: now,
          blobKey,
          createdAt: now,
          updatedAt: now,
        };
        await tx.codePanels.insert(created);
        return created;
      });
    } catch (error) {
      await this.blobs.delete(blobKey);
      throw error;
    }
    if (replacedKey) await this.blobs.delete(replacedKey);
    return panel;
  }

  /** Panels of a workspace: all of them for members, the PUBLIC ones for everyone else. */
  async list(principal: Principal, workspaceName: string): Promise<CodePanelView[]> {
    requireScope(principal, 'read');
    const workspace = await this.store.tenancy.getWorkspaceByName(workspaceName);
    if (!workspace) throw new NotFoundError(`workspace "${workspaceName}" not found`, SdkErrorCode.nonExistingTeam);
    const panels = await this.store.codePanels.list(workspace.id, !isMember(principal, workspace.id));
    const owners = new Map<string, string>();
    const views: CodePanelView[] = [];
    for (const panel of panels) views.push(await this.view(principal, panel, workspace, owners));
    return views;
  }

  async get(principal: Principal, templateId: string): Promise<CodePanelView> {
    requireScope(principal, 'read');
    const panel = await this.store.codePanels.get(templateId);
    if (!panel || !canReadPanel(principal, panel)) throw panelNotFound(templateId);
    return this.viewOf(principal, panel);
  }

  /** The stored zip of a panel's current revision. */
  async openZip(principal: Principal, templateId: string): Promise<{ panel: CodePanel; body: Readable }> {
    const { panel } = await this.get(principal, templateId);
    const body = await this.blobs.get(panel.blobKey);
    // A row without its bytes is damage, not a client error.
    if (!body) throw new Error(`the zip of code panel ${panel.id} is missing from the blob store`);
    return { panel, body };
  }

  /** A panel already checked by the caller (e.g. reached through a readable dashboard). */
  async viewOf(principal: Principal, panel: CodePanel): Promise<CodePanelView> {
    const workspace = await this.store.tenancy.getWorkspace(panel.workspaceId);
    if (!workspace) throw panelNotFound(panel.id);
    return this.view(principal, panel, workspace, new Map());
  }

  private async view(
    principal: Principal,
    panel: CodePanel,
    workspace: Workspace,
    owners: Map<string, string>,
  ): Promise<CodePanelView> {
    let ownerName = owners.get(panel.ownerUserId);
    if (ownerName === undefined) {
      ownerName = (await this.store.tenancy.getUser(panel.ownerUserId))?.name ?? '';
      owners.set(panel.ownerUserId, ownerName);
    }
    const editable =
      isMember(principal, panel.workspaceId) && (principal.scopes.has('write') || principal.scopes.has('admin'));
    return { panel, workspace, ownerName, editable };
  }

  private async memberWorkspace(repos: Repositories, principal: Principal, name: string): Promise<Workspace> {
    const workspace = await repos.tenancy.getWorkspaceByName(name);
    if (!workspace || !isMember(principal, workspace.id)) {
      throw new NotFoundError(`workspace "${name}" not found`, SdkErrorCode.nonExistingTeam);
    }
    return workspace;
  }

  /** A panel of this workspace (the one named in the upload). */
  private async panelOf(repos: Repositories, workspace: Workspace, templateId: string): Promise<CodePanel> {
    const panel = await repos.codePanels.get(templateId);
    if (!panel || panel.workspaceId !== workspace.id) {
      throw new NotFoundError(`code panel ${templateId} not found in workspace "${workspace.name}"`);
    }
    return panel;
  }
}

export function canReadPanel(principal: Principal, panel: CodePanel): boolean {
  return panel.scopeType === 'PUBLIC' || isMember(principal, panel.workspaceId);
}

export function panelNotFound(templateId: string): NotFoundError {
  return new NotFoundError(`code panel ${templateId} not found`);
}

export function codePanelBlobKey(templateId: string, revisionKey: string): string {
  return `code-panels/${templateId}/${revisionKey}`;
}
