import { describe, expect, it } from 'vitest';
import type { Experiment, ExperimentModel } from '../src/core/entities.js';
import type { Store } from '../src/core/store.port.js';
import { hex, newAsset, newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The contract of the experiment-model methods of `AssetRepository` that MLflow's logged models
 * and 2.x `log_model` use (core/store.port.ts), on every backend.
 */
describe.each(backends)('Store contract: experiment models (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  /** A project with `count` experiments in it. */
  async function seed(count = 1): Promise<{ projectId: string; experiments: Experiment[] }> {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const project = newProject(workspace.id, user.id);
    await store.projects.insert(project);
    const experiments: Experiment[] = [];
    for (let i = 0; i < count; i++) {
      const experiment = newExperiment(project);
      await store.experiments.insert(experiment);
      experiments.push(experiment);
    }
    return { projectId: project.id, experiments };
  }

  function model(experimentId: string, overrides: Partial<ExperimentModel> = {}): ExperimentModel {
    return { id: hex(), experimentId, name: `m-${hex().slice(0, 6)}`, createdAt: T0, ...overrides };
  }

  it('stores, reads back and clears the logged-model fields', async () => {
    const { experiments } = await seed();
    const experiment = experiments[0] as Experiment;
    const plain = await store.assets.ensureModel(model(experiment.id, { name: 'net' }));
    expect(plain).toEqual({ id: plain.id, experimentId: experiment.id, name: 'net', createdAt: T0 });

    const logged: ExperimentModel = {
      ...plain,
      loggedModelId: `m-${hex()}`,
      status: 'LOGGED_MODEL_READY',
      modelType: 'agent',
      tags: { z: '1', a: '2' },
      params: { lr: '0.1' },
      step: 7,
      updatedAt: T0 + 5,
    };
    await store.assets.updateModel({ ...logged, name: 'ignored', createdAt: T0 + 99 });
    expect(await store.assets.getModel(experiment.id, 'net')).toEqual(logged);
    expect(Object.keys((await store.assets.getModel(experiment.id, 'net'))?.tags ?? {})).toEqual(['z', 'a']);
    expect(await store.assets.getModelByLoggedId(logged.loggedModelId as string)).toEqual(logged);
    expect(await store.assets.getModelByLoggedId(`m-${hex()}`)).toBeUndefined();
    expect(await store.assets.listModels(experiment.id)).toEqual([logged]);

    await store.assets.updateModel(plain);
    expect(await store.assets.getModel(experiment.id, 'net')).toEqual(plain);
  });

  it('lists logged models of projects newest first, by name, in pages', async () => {
    const { projectId, experiments } = await seed(2);
    const [one, two] = experiments as [Experiment, Experiment];
    const other = await seed();
    const make = async (experimentId: string, name: string, createdAt: number, logged = true) => {
      const row = await store.assets.ensureModel(model(experimentId, { name, createdAt }));
      if (!logged) return row;
      const full = { ...row, loggedModelId: `m-${hex()}`, status: 'LOGGED_MODEL_PENDING' as const };
      await store.assets.updateModel(full);
      return full;
    };
    const a = await make(one.id, 'a', T0 + 1);
    const b = await make(two.id, 'b', T0 + 3);
    const c = await make(one.id, 'c', T0 + 2);
    await make(two.id, 'plain', T0 + 9, false);
    await make((other.experiments[0] as Experiment).id, 'a', T0 + 5);

    expect(await store.assets.listLoggedModels([projectId], { offset: 0, limit: 10 })).toEqual([b, c, a]);
    expect(await store.assets.listLoggedModels([projectId], { offset: 1, limit: 1 })).toEqual([c]);
    expect(await store.assets.listLoggedModels([projectId], { name: 'a', offset: 0, limit: 10 })).toEqual([a]);
    expect(
      await store.assets.listLoggedModels([projectId, other.projectId], { name: 'a', offset: 0, limit: 10 }),
    ).toHaveLength(2);
    expect(await store.assets.listLoggedModels([], { offset: 0, limit: 10 })).toEqual([]);
  });

  it('deletes a model row without touching its assets', async () => {
    const { experiments } = await seed();
    const experiment = experiments[0] as Experiment;
    await store.assets.ensureModel(model(experiment.id, { name: 'gone' }));
    const file = newAsset(experiment.id, { type: 'model-element', groupingName: 'gone', dir: 'model-element' });
    await store.assets.insert(file);
    await store.assets.deleteModel(experiment.id, 'gone');
    expect(await store.assets.getModel(experiment.id, 'gone')).toBeUndefined();
    expect(await store.assets.list(experiment.id)).toEqual([file]);
  });

  it('regroups the plain files under a folder into a model', async () => {
    const { experiments } = await seed(2);
    const [experiment, neighbour] = experiments as [Experiment, Experiment];
    const inFolder = newAsset(experiment.id, { fileName: 'model/MLmodel', createdAt: T0 + 1 });
    const nested = newAsset(experiment.id, { fileName: 'model/sub/w.bin', type: 'image', createdAt: T0 + 2 });
    const sibling = newAsset(experiment.id, { fileName: 'model.txt', createdAt: T0 + 3 });
    const folderItself = newAsset(experiment.id, { fileName: 'model/', createdAt: T0 + 4 });
    const grouped = newAsset(experiment.id, {
      fileName: 'model/x',
      type: 'model-element',
      dir: 'model-element',
      groupingName: 'other',
      createdAt: T0 + 5,
    });
    const artifactFile = newAsset(experiment.id, { fileName: 'model/a', artifactVersionId: hex(), createdAt: T0 + 6 });
    const elsewhere = newAsset(neighbour.id, { fileName: 'model/MLmodel' });
    for (const asset of [inFolder, nested, sibling, folderItself, grouped, artifactFile, elsewhere]) {
      await store.assets.insert(asset);
    }

    expect(await store.assets.regroupUnder(experiment.id, 'model', 'model')).toBe(2);
    const asModel = { type: 'model-element', dir: 'model-element', groupingName: 'model' };
    expect(await store.assets.list(experiment.id)).toEqual([
      { ...inFolder, ...asModel, fileName: 'MLmodel' },
      { ...nested, ...asModel, fileName: 'sub/w.bin' },
      sibling,
      folderItself,
      grouped,
      artifactFile,
    ]);
    expect(await store.assets.list(neighbour.id)).toEqual([elsewhere]);
    expect(await store.assets.regroupUnder(experiment.id, 'model', 'model')).toBe(0);
    // A prefix with LIKE wildcards matches only itself.
    const percent = newAsset(experiment.id, { fileName: '100%/a', createdAt: T0 + 7 });
    const lookalike = newAsset(experiment.id, { fileName: '100x/a', createdAt: T0 + 8 });
    await store.assets.insert(percent);
    await store.assets.insert(lookalike);
    expect(await store.assets.regroupUnder(experiment.id, '100%', 'pct')).toBe(1);
    expect((await store.assets.list(experiment.id, { groupingName: 'pct' })).map((a) => a.id)).toEqual([percent.id]);
  });
});
