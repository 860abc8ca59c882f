import { describe, expect, it } from 'vitest';
import type { Store } from '../src/core/store.port.js';
import { newAsset, newExperiment, newProject, newUser, newWorkspace } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/** The workspace usage counter (AssetRepository.workspaceBytes) always equals the sum of its assets. */
describe.each(backends)('workspace usage counter (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (s) => {
    store = s;
  });

  async function workspaceWithProject() {
    const user = newUser();
    const workspace = newWorkspace(user.id);
    const project = newProject(workspace.id, user.id);
    await store.tenancy.insertUser(user);
    await store.tenancy.insertWorkspace(workspace);
    await store.projects.insert(project);
    return { workspace, project };
  }

  it('follows asset inserts and deletes, experiment moves and deletes, in and out of transactions', async () => {
    const a = await workspaceWithProject();
    const b = await workspaceWithProject();
    expect(await store.assets.workspaceBytes(a.workspace.id)).toBe(0);

    const e1 = newExperiment(a.project);
    const e2 = newExperiment(a.project);
    await store.experiments.insert(e1);
    await store.experiments.insert(e2);
    const big = newAsset(e1.id, { fileSize: 1000 });
    await store.assets.insert(big);
    await store.assets.insert(newAsset(e1.id, { fileSize: 200 }));
    await store.assets.insert(newAsset(e2.id, { fileSize: 30 }));
    await store.assets.insert(newAsset(e2.id, { fileSize: 0, remote: true, blobKey: null }));
    expect(await store.assets.workspaceBytes(a.workspace.id)).toBe(1230);

    await store.assets.delete(e1.id, big.id);
    await store.assets.delete(e1.id, big.id); // gone already: nothing more to subtract
    expect(await store.assets.workspaceBytes(a.workspace.id)).toBe(230);

    // A move within the workspace changes nothing; a move to another one takes the bytes along.
    await store.experiments.update(e2.id, { projectId: a.project.id, workspaceId: a.workspace.id });
    expect(await store.assets.workspaceBytes(a.workspace.id)).toBe(230);
    await store.experiments.update(e2.id, { projectId: b.project.id, workspaceId: b.workspace.id });
    expect(await store.assets.workspaceBytes(a.workspace.id)).toBe(200);
    expect(await store.assets.workspaceBytes(b.workspace.id)).toBe(30);

    // Inside a transaction the counter includes its own changes; a rollback undoes them.
    await expect(
      store.transaction(async (tx) => {
        await tx.assets.insert(newAsset(e1.id, { fileSize: 5000 }));
        expect(await tx.assets.workspaceBytes(a.workspace.id)).toBe(5200);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await store.assets.workspaceBytes(a.workspace.id)).toBe(200);

    await store.experiments.delete(e1.id);
    expect(await store.assets.workspaceBytes(a.workspace.id)).toBe(0);
    expect(await store.assets.workspaceBytes(b.workspace.id)).toBe(30);
  });
});
