import { describe, expect, it } from 'vitest';
import type { Experiment, ExperimentInput, LoggedValueInput, Project } from '../src/core/entities.js';
import type { Store } from '../src/core/store.port.js';
import { newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The store methods MLflow's tracking needs (project trash and tags, run status detail, removing
 * a value, dataset inputs), on every backend.
 */
describe.each(backends)('MLflow tracking store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  async function seedProject(overrides: Partial<Project> = {}) {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    await store.tenancy.putMember(workspace.id, user.id, 'owner');
    const project = newProject(workspace.id, user.id, overrides);
    await store.projects.insert(project);
    return { user, workspace, project };
  }

  async function seedExperiment(overrides: Partial<Experiment> = {}) {
    const seeded = await seedProject();
    const experiment = newExperiment(seeded.project, overrides);
    await store.experiments.insert(experiment);
    return { ...seeded, experiment };
  }

  function text(name: string, value: string, type: LoggedValueInput['type'] = 'string'): LoggedValueInput {
    return { name, type, text: value, step: null, timestamp: T0, context: null };
  }

  describe('project trash', () => {
    it('leaves trashed projects out of list but not out of get, getByName and listWithTrash', async () => {
      const { workspace, user, project } = await seedProject({ name: 'b-kept' });
      const trashed = newProject(workspace.id, user.id, { name: 'a-trashed' });
      await store.projects.insert(trashed);
      await store.projects.setDeletedAt(trashed.id, T0 + 5);
      expect((await store.projects.list(workspace.id, false)).map((p) => p.id)).toEqual([project.id]);
      expect((await store.projects.get(trashed.id))?.deletedAt).toBe(T0 + 5);
      expect((await store.projects.getByName(workspace.id, 'a-trashed'))?.id).toBe(trashed.id);
      expect((await store.projects.listWithTrash(workspace.id)).map((p) => [p.name, p.deletedAt])).toEqual([
        ['a-trashed', T0 + 5],
        ['b-kept', null],
      ]);
      await store.projects.setDeletedAt(trashed.id, null);
      expect((await store.projects.list(workspace.id, false)).map((p) => p.id)).toEqual([trashed.id, project.id]);
    });

    it('stores a project’s artifact location', async () => {
      const { project } = await seedProject({ artifactLocation: 's3://bucket/path' });
      expect((await store.projects.get(project.id))?.artifactLocation).toBe('s3://bucket/path');
    });
  });

  describe('project tags', () => {
    it('upserts, lists by key, lists for many projects, deletes', async () => {
      const { project } = await seedProject();
      const { project: other } = await seedProject();
      await store.projects.setTag(project.id, 'b', '1');
      await store.projects.setTag(project.id, 'a', 'x');
      await store.projects.setTag(project.id, 'b', '2');
      await store.projects.setTag(other.id, 'c', '');
      expect(await store.projects.listTags(project.id)).toEqual([
        { key: 'a', value: 'x' },
        { key: 'b', value: '2' },
      ]);
      const many = await store.projects.listTagsOf([other.id, project.id, 'f'.repeat(32)]);
      expect(many.get(other.id)).toEqual([{ key: 'c', value: '' }]);
      expect(many.get(project.id)).toHaveLength(2);
      expect(many.get('f'.repeat(32))).toEqual([]);
      expect(await store.projects.deleteTag(project.id, 'a')).toBe(true);
      expect(await store.projects.deleteTag(project.id, 'a')).toBe(false);
      expect(await store.projects.listTags(project.id)).toEqual([{ key: 'b', value: '2' }]);
    });

    it('deletes a project’s tags with it', async () => {
      const { project } = await seedProject();
      await store.projects.setTag(project.id, 'k', 'v');
      await store.projects.delete(project.id);
      expect(await store.projects.listTags(project.id)).toEqual([]);
    });
  });

  describe('experiment status detail', () => {
    it('is stored on insert and patched alone', async () => {
      const { experiment } = await seedExperiment({ status: 'FAILED', statusDetail: 'KILLED' });
      expect((await store.experiments.get(experiment.id))?.statusDetail).toBe('KILLED');
      await store.experiments.update(experiment.id, { statusDetail: null });
      const read = await store.experiments.get(experiment.id);
      expect(read).toMatchObject({ status: 'FAILED', statusDetail: null });
    });
  });

  describe('removing a logged value', () => {
    it('removes history and current of one name and keeps the key catalogue counts', async () => {
      const { experiment, project } = await seedExperiment();
      const second = newExperiment(project);
      await store.experiments.insert(second);
      await store.values.append(experiment.id, 'other', [text('t', 'a'), text('u', '1'), text('t', 'b')]);
      await store.values.append(second.id, 'other', [text('t', 'c')]);
      await store.values.append(experiment.id, 'param', [text('t', '5', 'number')]);
      const keys = async () =>
        (await store.experiments.listKeys(project.id, { source: 'other', limit: 10 })).map((k) => [
          k.name,
          k.experiments,
          k.strings,
        ]);
      expect(await keys()).toEqual([
        ['t', 2, 2],
        ['u', 1, 1],
      ]);
      expect(await store.values.remove(experiment.id, 'other', 't')).toBe(true);
      expect((await store.values.list(experiment.id, 'other')).map((v) => v.name)).toEqual(['u']);
      expect((await store.values.listCurrent(experiment.id, 'other')).map((v) => v.name)).toEqual(['u']);
      expect(await keys()).toEqual([
        ['t', 1, 1],
        ['u', 1, 1],
      ]);
      // The same name of another kind and of another experiment stays.
      expect((await store.values.listCurrent(experiment.id, 'param')).map((v) => v.name)).toEqual(['t']);
      expect((await store.values.listCurrent(second.id, 'other')).map((v) => v.text)).toEqual(['c']);
      expect(await store.values.remove(experiment.id, 'other', 't')).toBe(false);
      expect(await store.values.remove(second.id, 'other', 't')).toBe(true);
      expect(await keys()).toEqual([['u', 1, 1]]);
      // Logging the name again counts it anew.
      await store.values.append(experiment.id, 'other', [text('t', 'z')]);
      expect(await keys()).toEqual([
        ['t', 1, 1],
        ['u', 1, 1],
      ]);
    });
  });

  describe('experiment inputs', () => {
    function input(experimentId: string, overrides: Partial<ExperimentInput> = {}): ExperimentInput {
      return {
        experimentId,
        name: 'mnist',
        digest: 'd1',
        sourceType: 'local',
        source: '/data',
        schema: null,
        profile: '{"rows":10}',
        tags: [{ key: 'mlflow.data.context', value: 'train' }],
        createdAt: T0,
        ...overrides,
      };
    }

    it('keeps the first of each (name, digest), within a call and across calls, in logging order', async () => {
      const { experiment } = await seedExperiment();
      await store.inputs.put([
        input(experiment.id),
        input(experiment.id, { tags: [{ key: 'mlflow.data.context', value: 'eval' }] }),
        input(experiment.id, { name: 'cifar', createdAt: T0 + 1, schema: '{}' }),
      ]);
      await store.inputs.put([
        input(experiment.id, { source: '/elsewhere', createdAt: T0 + 2 }),
        input(experiment.id, { digest: 'd2', createdAt: T0 + 2 }),
      ]);
      const listed = await store.inputs.list(experiment.id);
      expect(listed).toEqual([
        input(experiment.id),
        input(experiment.id, { name: 'cifar', createdAt: T0 + 1, schema: '{}' }),
        input(experiment.id, { digest: 'd2', createdAt: T0 + 2 }),
      ]);
    });

    it('lists inputs of several experiments; they go with their experiment', async () => {
      const { experiment } = await seedExperiment();
      const { experiment: other } = await seedExperiment();
      await store.inputs.put([input(experiment.id), input(other.id, { digest: 'x' })]);
      const many = await store.inputs.listOf([experiment.id, other.id, 'f'.repeat(32)]);
      expect(many.get(experiment.id)?.map((i) => i.digest)).toEqual(['d1']);
      expect(many.get(other.id)?.map((i) => i.digest)).toEqual(['x']);
      expect(many.get('f'.repeat(32))).toEqual([]);
      await store.experiments.delete(other.id);
      expect(await store.inputs.list(other.id)).toEqual([]);
    });
  });
});
