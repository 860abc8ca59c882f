import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Artifact, ArtifactVersion } from '../src/core/entities.js';
import type { Store } from '../src/core/store.port.js';
import { newAsset, newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The contract of `ArtifactRepository` (core/store.port.ts), run against every backend. Each test
 * seeds its own workspace, so tests share one store per backend without seeing each other's rows.
 */
describe.each(backends)('Artifact store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  async function seed() {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const project = newProject(workspace.id, user.id);
    await store.projects.insert(project);
    const experiment = newExperiment(project);
    await store.experiments.insert(experiment);
    return { user, workspace, project, experiment };
  }

  function artifact(seeded: Awaited<ReturnType<typeof seed>>, overrides: Partial<Artifact> = {}): Artifact {
    return {
      id: randomUUID(),
      workspaceId: seeded.workspace.id,
      projectId: seeded.project.id,
      name: `artifact-${randomUUID().slice(0, 8)}`,
      type: 'dataset',
      description: null,
      metadata: null,
      tags: [],
      isPublic: false,
      emoji: null,
      createdBy: seeded.user.id,
      experimentKey: seeded.experiment.id,
      createdAt: T0,
      updatedAt: T0,
      ...overrides,
    };
  }

  function version(artifactId: string, text: string, overrides: Partial<ArtifactVersion> = {}): ArtifactVersion {
    return {
      id: randomUUID(),
      artifactId,
      version: text,
      state: 'OPEN',
      metadata: null,
      tags: [],
      note: null,
      ownerUserId: 'owner',
      experimentKey: 'e'.repeat(32),
      createdAt: T0,
      updatedAt: T0,
      ...overrides,
    };
  }

  it('inserts and gets every field, by id and by name within the workspace', async () => {
    const seeded = await seed();
    const a = artifact(seeded, {
      description: 'd',
      metadata: '{"k":[1,2]}',
      tags: ['x', 'y'],
      isPublic: true,
      emoji: '🧪',
      createdAt: T0 + 1,
      updatedAt: T0 + 2,
    });
    await store.artifacts.insert(a);
    const expected = { ...a, versionsCount: 0, sizeInBytes: 0 };
    expect(await store.artifacts.get(a.id)).toEqual(expected);
    expect(await store.artifacts.getByName(seeded.workspace.id, a.name)).toEqual(expected);
    expect(await store.artifacts.get(randomUUID())).toBeUndefined();
    expect(await store.artifacts.getByName((await seed()).workspace.id, a.name)).toBeUndefined();
  });

  it('keeps names unique per workspace and versions unique per artifact', async () => {
    const seeded = await seed();
    const a = artifact(seeded);
    await store.artifacts.insert(a);
    await expect(store.artifacts.insert(artifact(seeded, { name: a.name }))).rejects.toThrow();
    const elsewhere = await seed();
    await store.artifacts.insert(artifact(elsewhere, { name: a.name }));
    await store.artifacts.insertVersion(version(a.id, '1.0.0'));
    await expect(store.artifacts.insertVersion(version(a.id, '1.0.0'))).rejects.toThrow();
  });

  it('lists by name in byte order with a type filter, counting versions and summing their files', async () => {
    const seeded = await seed();
    const zeta = artifact(seeded, { name: 'zeta', type: 'model' });
    const upper = artifact(seeded, { name: 'Alpha' });
    const lower = artifact(seeded, { name: 'alpha' });
    for (const a of [zeta, upper, lower]) await store.artifacts.insert(a);
    const v1 = version(zeta.id, '1.0.0');
    const v2 = version(zeta.id, '1.1.0');
    await store.artifacts.insertVersion(v1);
    await store.artifacts.insertVersion(v2);
    await store.artifacts.insertVersion(version(lower.id, '1.0.0'));
    const e = seeded.experiment.id;
    await store.assets.insert(newAsset(e, { artifactVersionId: v1.id, fileSize: 100 }));
    await store.assets.insert(newAsset(e, { artifactVersionId: v2.id, fileSize: 20 }));
    await store.assets.insert(newAsset(e, { artifactVersionId: v2.id, fileSize: 0, remote: true, blobKey: null }));
    // Not an artifact file: counts nowhere.
    await store.assets.insert(newAsset(e, { fileSize: 5000 }));

    const listed = await store.artifacts.list(seeded.workspace.id);
    expect(listed.map((a) => [a.name, a.versionsCount, a.sizeInBytes])).toEqual([
      ['Alpha', 0, 0],
      ['alpha', 1, 0],
      ['zeta', 2, 120],
    ]);
    expect((await store.artifacts.list(seeded.workspace.id, 'model')).map((a) => a.name)).toEqual(['zeta']);
    expect(await store.artifacts.list(seeded.workspace.id, 'none')).toEqual([]);
    expect((await store.artifacts.getVersion(v2.id))?.sizeInBytes).toBe(20);

    // Sizes follow the files, whichever way they go.
    const removed = (await store.assets.list(e)).find((a) => a.artifactVersionId === v1.id);
    await store.assets.delete(e, removed?.id as string);
    expect((await store.artifacts.get(zeta.id))?.sizeInBytes).toBe(20);
    await store.experiments.delete(e);
    expect((await store.artifacts.get(zeta.id))?.sizeInBytes).toBe(0);
    expect((await store.artifacts.get(zeta.id))?.versionsCount).toBe(2);
  });

  it('updates each patch field alone and leaves the rest', async () => {
    const seeded = await seed();
    const a = artifact(seeded);
    await store.artifacts.insert(a);
    const patches: Partial<Artifact>[] = [
      { type: 'model' },
      { description: 'words' },
      { metadata: '{"a":1}' },
      { tags: ['t'] },
      { isPublic: true },
      { emoji: '📦' },
      { updatedAt: T0 + 9 },
    ];
    let expected: Artifact = a;
    for (const patch of patches) {
      await store.artifacts.update(a.id, patch);
      expected = { ...expected, ...patch };
      expect(await store.artifacts.get(a.id)).toMatchObject(expected);
    }
    expect(await store.artifacts.touch(a.id, T0 + 10)).toBe(true);
    expect((await store.artifacts.get(a.id))?.updatedAt).toBe(T0 + 10);
    expect(await store.artifacts.touch(randomUUID(), T0)).toBe(false);
  });

  it('lists versions in creation order with their aliases; aliases move between versions', async () => {
    const seeded = await seed();
    const a = artifact(seeded);
    await store.artifacts.insert(a);
    const late = version(a.id, '1.0.0', { createdAt: T0 + 5, metadata: '{"m":1}', tags: ['q'], note: 'n' });
    const early = version(a.id, '2.0.0', { createdAt: T0 + 1, state: 'CLOSED' });
    await store.artifacts.insertVersion(late);
    await store.artifacts.insertVersion(early);
    await store.artifacts.setAliases(a.id, late.id, ['prod', 'best']);
    await store.artifacts.setAliases(a.id, early.id, ['staging']);
    expect(await store.artifacts.getVersion(late.id)).toEqual({ ...late, aliases: ['best', 'prod'], sizeInBytes: 0 });
    expect(await store.artifacts.listVersions(a.id)).toEqual([
      { ...early, aliases: ['staging'], sizeInBytes: 0 },
      { ...late, aliases: ['best', 'prod'], sizeInBytes: 0 },
    ]);

    // "prod" moves to the other version; the version's own aliases are replaced, not merged.
    await store.artifacts.setAliases(a.id, early.id, ['prod']);
    expect((await store.artifacts.getVersion(late.id))?.aliases).toEqual(['best']);
    expect((await store.artifacts.getVersion(early.id))?.aliases).toEqual(['prod']);
    await store.artifacts.setAliases(a.id, early.id, []);
    expect((await store.artifacts.getVersion(early.id))?.aliases).toEqual([]);

    // The same alias in another artifact is another alias.
    const other = artifact(seeded);
    await store.artifacts.insert(other);
    const otherVersion = version(other.id, '1.0.0');
    await store.artifacts.insertVersion(otherVersion);
    await store.artifacts.setAliases(other.id, otherVersion.id, ['best']);
    expect((await store.artifacts.getVersion(late.id))?.aliases).toEqual(['best']);
    expect(await store.artifacts.getVersion(randomUUID())).toBeUndefined();
  });

  it('updates version labels and moves OPEN versions to CLOSED or ERROR only once', async () => {
    const seeded = await seed();
    const a = artifact(seeded);
    await store.artifacts.insert(a);
    const v = version(a.id, '1.0.0');
    await store.artifacts.insertVersion(v);
    await store.artifacts.updateVersion(v.id, { tags: ['a'], metadata: '{}', updatedAt: T0 + 1 });
    expect(await store.artifacts.getVersion(v.id)).toMatchObject({ tags: ['a'], metadata: '{}', updatedAt: T0 + 1 });

    expect(await store.artifacts.lockOpenVersion(v.id, T0 + 2)).toBe(true);
    expect(await store.artifacts.closeVersion(v.id, 'CLOSED', T0 + 3)).toBe(true);
    expect(await store.artifacts.getVersion(v.id)).toMatchObject({ state: 'CLOSED', updatedAt: T0 + 3 });
    expect(await store.artifacts.closeVersion(v.id, 'ERROR', T0 + 4)).toBe(false);
    expect(await store.artifacts.lockOpenVersion(v.id, T0 + 4)).toBe(false);
    expect(await store.artifacts.getVersion(v.id)).toMatchObject({ state: 'CLOSED', updatedAt: T0 + 3 });
    expect(await store.artifacts.closeVersion(randomUUID(), 'CLOSED', T0)).toBe(false);

    const racing = version(a.id, '2.0.0');
    await store.artifacts.insertVersion(racing);
    const outcomes = await Promise.all([
      store.transaction((tx) => tx.artifacts.closeVersion(racing.id, 'CLOSED', T0 + 5)),
      store.transaction((tx) => tx.artifacts.closeVersion(racing.id, 'ERROR', T0 + 5)),
    ]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
  });

  it('lists a version’s files by creation time, and keeps artifacts when their project goes', async () => {
    const seeded = await seed();
    const a = artifact(seeded);
    await store.artifacts.insert(a);
    const v = version(a.id, '1.0.0');
    await store.artifacts.insertVersion(v);
    const e = seeded.experiment.id;
    const second = newAsset(e, { artifactVersionId: v.id, createdAt: T0 + 2, fileName: 'b' });
    const first = newAsset(e, { artifactVersionId: v.id, createdAt: T0 + 1, fileName: 'a' });
    await store.assets.insert(second);
    await store.assets.insert(first);
    await store.assets.insert(newAsset(e, { createdAt: T0 }));
    expect(await store.artifacts.listFiles(v.id)).toEqual([first, second]);
    expect(await store.artifacts.listFiles(randomUUID())).toEqual([]);

    await store.experiments.delete(e);
    await store.projects.delete(seeded.project.id);
    expect(await store.artifacts.get(a.id)).toMatchObject({ projectId: null, versionsCount: 1 });
  });
});
