import { describe, expect, it } from 'vitest';
import type {
  Experiment,
  ExperimentModel,
  RegistryModel,
  RegistryVersion,
  WebhookDelivery,
  Workspace,
} from '../src/core/entities.js';
import type { Store } from '../src/core/store.port.js';
import { hex, insertExperiment, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The registry and webhook parts of the `Store` contract (core/registry.port.ts), on every
 * backend. Each test seeds its own workspace, so tests share one store without seeing each other.
 */
describe.each(backends)('Registry store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  async function seedWorkspace(): Promise<Workspace> {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    return workspace;
  }

  function newModel(workspaceId: string, overrides: Partial<RegistryModel> = {}): RegistryModel {
    return {
      id: hex(),
      workspaceId,
      name: `model-${hex().slice(0, 8)}`,
      description: null,
      isPublic: false,
      notes: '',
      tags: {},
      createdBy: 'user',
      createdAt: T0,
      updatedAt: T0,
      ...overrides,
    };
  }

  /** An experiment with one experiment model, as registration needs. */
  async function seedExperimentModel(): Promise<{ experiment: Experiment; model: ExperimentModel }> {
    const experiment = await insertExperiment(store);
    const model = await store.assets.ensureModel({
      id: hex(),
      experimentId: experiment.id,
      name: 'net',
      createdAt: T0,
    });
    return { experiment, model };
  }

  /** Version numbers unique across the suite, so tests adding several versions to a model need not pick them. */
  let numbers = 0;

  function newVersion(
    registryModelId: string,
    source: ExperimentModel,
    overrides: Partial<RegistryVersion> = {},
  ): RegistryVersion {
    numbers += 1;
    return {
      id: hex(),
      registryModelId,
      version: '1.0.0',
      number: numbers,
      experimentModelId: source.id,
      experimentId: source.experimentId,
      experimentModelName: source.name,
      comment: null,
      stages: [],
      source: null,
      runLink: null,
      status: null,
      tags: {},
      createdBy: 'user',
      createdAt: T0,
      updatedAt: T0,
      ...overrides,
    };
  }

  function newDelivery(workspaceId: string, overrides: Partial<WebhookDelivery> = {}): WebhookDelivery {
    return {
      id: hex(),
      workspaceId,
      eventType: 'STAGE_ADDED',
      payload: '{"event":"STAGE_ADDED"}',
      url: 'https://hooks.example/',
      headers: { Authorization: 'secret' },
      status: 'pending',
      attempts: 0,
      lastStatus: null,
      lastError: null,
      nextAttemptAt: T0,
      deliveredAt: null,
      createdAt: T0,
      ...overrides,
    };
  }

  describe('models', () => {
    it('inserts, finds by id and by name, updates and counts', async () => {
      const workspace = await seedWorkspace();
      const model = newModel(workspace.id, { description: 'd', isPublic: true });
      await store.registry.insertModel(model);
      expect(await store.registry.getModel(model.id)).toEqual(model);
      expect(await store.registry.getModelByName(workspace.id, model.name)).toEqual(model);
      expect(await store.registry.getModelByName(workspace.id, 'absent')).toBeUndefined();
      expect(await store.registry.getModel(hex())).toBeUndefined();

      await store.registry.updateModel(model.id, { name: 'renamed', notes: 'n', isPublic: false, updatedAt: T0 + 5 });
      expect(await store.registry.getModel(model.id)).toEqual({
        ...model,
        name: 'renamed',
        notes: 'n',
        isPublic: false,
        updatedAt: T0 + 5,
      });
      await store.registry.updateModel(model.id, { description: null });
      expect((await store.registry.getModel(model.id))?.description).toBeNull();
      expect(await store.registry.countModels(workspace.id, false)).toBe(1);
      expect(await store.registry.countModels(workspace.id, true)).toBe(0);
    });

    it('refuses a second model with the same name in a workspace, not in another one', async () => {
      const workspace = await seedWorkspace();
      const other = await seedWorkspace();
      await store.registry.insertModel(newModel(workspace.id, { name: 'same' }));
      await expect(store.registry.insertModel(newModel(workspace.id, { name: 'same' }))).rejects.toThrow();
      await store.registry.insertModel(newModel(other.id, { name: 'same' }));
    });

    it('lists by name in byte order, public ones alone when asked', async () => {
      const workspace = await seedWorkspace();
      for (const [name, isPublic] of [
        ['b-model', true],
        ['B-model', false],
        ['a-model', false],
      ] as const) {
        await store.registry.insertModel(newModel(workspace.id, { name, isPublic }));
      }
      expect((await store.registry.listModels(workspace.id, false)).map((m) => m.name)).toEqual([
        'B-model',
        'a-model',
        'b-model',
      ]);
      expect((await store.registry.listModels(workspace.id, true)).map((m) => m.name)).toEqual(['b-model']);
      expect(await store.registry.countModels(workspace.id, true)).toBe(1);
    });

    it('deletes a model with its versions, their stages and its webhook configuration', async () => {
      const workspace = await seedWorkspace();
      const { model: source } = await seedExperimentModel();
      const model = newModel(workspace.id);
      await store.registry.insertModel(model);
      const version = newVersion(model.id, source, { stages: ['production'] });
      await store.registry.insertVersion(version);
      await store.webhooks.putConfig({
        workspaceId: workspace.id,
        registryModelId: model.id,
        targets: [],
        updatedAt: T0,
      });
      await store.webhooks.putConfig({ workspaceId: workspace.id, registryModelId: null, targets: [], updatedAt: T0 });

      await store.registry.deleteModel(model.id);
      expect(await store.registry.getModel(model.id)).toBeUndefined();
      expect(await store.registry.getVersion(version.id)).toBeUndefined();
      expect(await store.webhooks.getConfig(workspace.id, model.id)).toBeUndefined();
      expect(await store.webhooks.getConfig(workspace.id, null)).toBeDefined();
      expect(await store.registry.listRegistrations([source.id])).toEqual([]);
    });
  });

  describe('versions', () => {
    it('stores a version with its stages in order and lists versions oldest first', async () => {
      const workspace = await seedWorkspace();
      const { model: source } = await seedExperimentModel();
      const model = newModel(workspace.id);
      await store.registry.insertModel(model);
      const later = newVersion(model.id, source, { version: '0.1.0', createdAt: T0 + 10, stages: ['qa', 'a', 'Z'] });
      const earlier = newVersion(model.id, source, { version: '2.0.0', comment: 'c', createdAt: T0 });
      await store.registry.insertVersion(later);
      await store.registry.insertVersion(earlier);

      expect(await store.registry.getVersion(later.id)).toEqual(later);
      expect(await store.registry.listVersions(model.id)).toEqual([earlier, later]);
      expect(await store.registry.listVersions(hex())).toEqual([]);
      await expect(store.registry.insertVersion(newVersion(model.id, source, { version: '2.0.0' }))).rejects.toThrow();
    });

    it('replaces stages, updates comments and deletes versions', async () => {
      const workspace = await seedWorkspace();
      const { model: source } = await seedExperimentModel();
      const model = newModel(workspace.id);
      await store.registry.insertModel(model);
      const version = newVersion(model.id, source, { stages: ['staging'] });
      await store.registry.insertVersion(version);

      await store.registry.setStages(version.id, ['production', 'canary']);
      await store.registry.updateVersion(version.id, { comment: 'promoted', updatedAt: T0 + 1 });
      expect(await store.registry.getVersion(version.id)).toEqual({
        ...version,
        stages: ['production', 'canary'],
        comment: 'promoted',
        updatedAt: T0 + 1,
      });
      await store.registry.setStages(version.id, []);
      expect((await store.registry.getVersion(version.id))?.stages).toEqual([]);

      await store.registry.deleteVersion(version.id);
      expect(await store.registry.getVersion(version.id)).toBeUndefined();
      expect(await store.registry.listVersions(model.id)).toEqual([]);
    });

    it('finds registrations by experiment model, and keeps a version when its experiment goes', async () => {
      const workspace = await seedWorkspace();
      const { experiment, model: source } = await seedExperimentModel();
      const { model: unrelated } = await seedExperimentModel();
      const first = newModel(workspace.id);
      const second = newModel(workspace.id);
      await store.registry.insertModel(first);
      await store.registry.insertModel(second);
      const v1 = newVersion(first.id, source, { createdAt: T0 });
      const v2 = newVersion(second.id, source, { createdAt: T0 + 1 });
      await store.registry.insertVersion(v2);
      await store.registry.insertVersion(v1);
      await store.registry.insertVersion(newVersion(first.id, unrelated, { version: '9.0.0' }));

      expect(await store.registry.getExperimentModel(source.id)).toEqual(source);
      expect(await store.registry.getExperimentModel(hex())).toBeUndefined();
      expect(await store.registry.listRegistrations([source.id])).toEqual([
        { model: first, version: v1 },
        { model: second, version: v2 },
      ]);
      expect(await store.registry.listRegistrations([])).toEqual([]);

      await store.experiments.delete(experiment.id);
      expect(await store.registry.getVersion(v1.id)).toEqual({ ...v1, experimentModelId: null });
      expect(await store.registry.listRegistrations([source.id])).toEqual([]);
    });
  });

  describe('version numbers, tags and aliases', () => {
    it("numbers a model's versions one above its highest and refuses a taken number", async () => {
      const workspace = await seedWorkspace();
      const { model: source } = await seedExperimentModel();
      const model = newModel(workspace.id);
      const other = newModel(workspace.id);
      await store.registry.insertModel(model);
      await store.registry.insertModel(other);
      expect(await store.registry.nextVersionNumber(model.id)).toBe(1);
      const first = newVersion(model.id, source, { version: '1.0.0', number: 1 });
      const third = newVersion(model.id, source, { version: '3.0.0', number: 3 });
      await store.registry.insertVersion(first);
      await store.registry.insertVersion(third);
      await store.registry.insertVersion(newVersion(other.id, source, { number: 40 }));
      expect(await store.registry.nextVersionNumber(model.id)).toBe(4);
      expect(await store.registry.getVersionByNumber(model.id, 3)).toEqual(third);
      expect(await store.registry.getVersionByNumber(model.id, 2)).toBeUndefined();
      expect(await store.registry.getVersionByNumber(other.id, 1)).toBeUndefined();
      await expect(
        store.registry.insertVersion(newVersion(model.id, source, { version: '9.9.9', number: 3 })),
      ).rejects.toThrow();
      await store.registry.deleteVersion(third.id);
      expect(await store.registry.nextVersionNumber(model.id)).toBe(2);
    });

    it('stores MLflow fields and tags of models and versions, and replaces tag maps', async () => {
      const workspace = await seedWorkspace();
      const { model: source } = await seedExperimentModel();
      const model = newModel(workspace.id, { name: 'My Model', tags: { team: 'a', 'mlflow.x': '' } });
      await store.registry.insertModel(model);
      expect(await store.registry.getModelByName(workspace.id, 'My Model')).toEqual(model);
      const version = newVersion(model.id, source, {
        source: 's3://bucket/m',
        runLink: 'http://link',
        status: 'READY',
        tags: { k: 'v' },
      });
      await store.registry.insertVersion(version);
      expect(await store.registry.getVersion(version.id)).toEqual(version);

      await store.registry.updateModel(model.id, { tags: { team: 'b' } });
      await store.registry.updateVersion(version.id, { tags: {} });
      expect((await store.registry.getModel(model.id))?.tags).toEqual({ team: 'b' });
      expect((await store.registry.getVersion(version.id))?.tags).toEqual({});
    });

    it('lists the versions of a workspace by model and number, public models alone when asked', async () => {
      const workspace = await seedWorkspace();
      const elsewhere = await seedWorkspace();
      const { model: source } = await seedExperimentModel();
      const [a, b] = [
        newModel(workspace.id, { id: `0${hex().slice(1)}` }),
        newModel(workspace.id, { id: `f${hex().slice(1)}`, isPublic: true }),
      ];
      const foreign = newModel(elsewhere.id);
      for (const model of [a, b, foreign] as RegistryModel[]) await store.registry.insertModel(model);
      const b1 = newVersion(b.id, source, { version: '1.0.0', number: 1, createdAt: T0 + 5 });
      const a2 = newVersion(a.id, source, { version: '2.0.0', number: 2, createdAt: T0 });
      const a1 = newVersion(a.id, source, { version: '1.0.0', number: 1, createdAt: T0 + 9, stages: ['qa'] });
      for (const version of [b1, a2, a1, newVersion(foreign.id, source)]) await store.registry.insertVersion(version);
      expect(await store.registry.listWorkspaceVersions(workspace.id, false)).toEqual([a1, a2, b1]);
      expect(await store.registry.listWorkspaceVersions(workspace.id, true)).toEqual([b1]);
    });

    it('points aliases at one version each, moves them, and drops them with their version or model', async () => {
      const workspace = await seedWorkspace();
      const { model: source } = await seedExperimentModel();
      const model = newModel(workspace.id);
      const other = newModel(workspace.id);
      await store.registry.insertModel(model);
      await store.registry.insertModel(other);
      const v1 = newVersion(model.id, source, { version: '1.0.0' });
      const v2 = newVersion(model.id, source, { version: '2.0.0' });
      const o1 = newVersion(other.id, source);
      for (const version of [v1, v2, o1]) await store.registry.insertVersion(version);

      await store.registry.setAlias({ registryModelId: model.id, alias: 'prod', versionId: v1.id });
      await store.registry.setAlias({ registryModelId: model.id, alias: 'Prod', versionId: v2.id });
      await store.registry.setAlias({ registryModelId: other.id, alias: 'prod', versionId: o1.id });
      await store.registry.setAlias({ registryModelId: model.id, alias: 'prod', versionId: v2.id });
      expect(await store.registry.listAliases([model.id])).toEqual([
        { registryModelId: model.id, alias: 'Prod', versionId: v2.id },
        { registryModelId: model.id, alias: 'prod', versionId: v2.id },
      ]);
      expect((await store.registry.listAliases([model.id, other.id])).map((a) => a.versionId)).toContain(o1.id);
      expect(await store.registry.listAliases([])).toEqual([]);

      expect(await store.registry.deleteAlias(model.id, 'Prod')).toBe(true);
      expect(await store.registry.deleteAlias(model.id, 'Prod')).toBe(false);
      await store.registry.deleteVersion(v2.id);
      expect(await store.registry.listAliases([model.id])).toEqual([]);
      await store.registry.deleteModel(other.id);
      expect(await store.registry.listAliases([other.id])).toEqual([]);
    });
  });

  describe('webhook configurations', () => {
    it('upserts per (workspace, model) and lists the model scope before the workspace scope', async () => {
      const workspace = await seedWorkspace();
      const model = newModel(workspace.id);
      const other = newModel(workspace.id);
      await store.registry.insertModel(model);
      await store.registry.insertModel(other);
      const target = { url: 'https://a.example/', headers: { 'X-A': '1' }, name: 'a', triggers: [] };

      expect(await store.webhooks.getConfig(workspace.id, model.id)).toBeUndefined();
      expect(await store.webhooks.listConfigsFor(workspace.id, model.id)).toEqual([]);
      const wide = { workspaceId: workspace.id, registryModelId: null, targets: [target], updatedAt: T0 };
      await store.webhooks.putConfig(wide);
      const own = {
        workspaceId: workspace.id,
        registryModelId: model.id,
        targets: [{ ...target, url: 'https://b.example/', triggers: ['MODEL_VERSION_CREATED' as const] }],
        updatedAt: T0,
      };
      await store.webhooks.putConfig(own);
      await store.webhooks.putConfig({ ...own, registryModelId: other.id });
      expect(await store.webhooks.getConfig(workspace.id, null)).toEqual(wide);
      expect(await store.webhooks.listConfigsFor(workspace.id, model.id)).toEqual([own, wide]);

      const replaced = { ...own, targets: [], updatedAt: T0 + 1 };
      await store.webhooks.putConfig(replaced);
      expect(await store.webhooks.getConfig(workspace.id, model.id)).toEqual(replaced);
    });
  });

  describe('webhook deliveries', () => {
    it('lists due pending deliveries earliest first (ties in recording order) and tells when the next is due', async () => {
      const workspace = await seedWorkspace();
      // Far-future times keep other tests' deliveries (due at T0) out of these reads.
      const base = T0 * 2;
      const late = newDelivery(workspace.id, { id: `b${hex().slice(1)}`, nextAttemptAt: base + 20 });
      const early = newDelivery(workspace.id, { id: `c${hex().slice(1)}`, nextAttemptAt: base + 10 });
      const tie = newDelivery(workspace.id, { id: `a${hex().slice(1)}`, nextAttemptAt: base + 10 });
      const done = newDelivery(workspace.id, { status: 'delivered', nextAttemptAt: null, deliveredAt: base });
      await store.webhooks.insertDeliveries([late, early, tie, done]);

      const due = (await store.webhooks.listDue(base + 15, 100)).filter((d) => d.workspaceId === workspace.id);
      // A tie on due time goes in recording order (`early` was recorded before `tie`), not by id.
      expect(due).toEqual([early, tie]);
      expect((await store.webhooks.listDue(base + 20, 100)).filter((d) => d.workspaceId === workspace.id)).toEqual([
        early,
        tie,
        late,
      ]);
      expect(await store.webhooks.listDue(base + 20, 1)).toHaveLength(1);
      expect(await store.webhooks.getDelivery(done.id)).toEqual(done);
      const next = await store.webhooks.nextDueAt();
      expect(next).toBeDefined();
      expect(next).toBeLessThanOrEqual(base + 10);
    });

    it('lets one claimer win a delivery, records attempts and hands claims back', async () => {
      const workspace = await seedWorkspace();
      const delivery = newDelivery(workspace.id, { nextAttemptAt: T0 + 100 });
      await store.webhooks.insertDeliveries([delivery]);

      expect(await store.webhooks.claim(delivery.id, T0 + 100, T0 + 5000)).toBe(true);
      expect(await store.webhooks.claim(delivery.id, T0 + 100, T0 + 5000)).toBe(false);
      expect((await store.webhooks.getDelivery(delivery.id))?.nextAttemptAt).toBe(T0 + 5000);

      await store.webhooks.release(delivery.id, T0 + 200);
      expect(await store.webhooks.getDelivery(delivery.id)).toEqual({ ...delivery, nextAttemptAt: T0 + 200 });

      expect(await store.webhooks.claim(delivery.id, T0 + 200, T0 + 6000)).toBe(true);
      const attempt = {
        attempts: 1,
        status: 'pending' as const,
        lastStatus: 503,
        lastError: 'HTTP 503',
        nextAttemptAt: T0 + 7000,
        deliveredAt: null,
      };
      await store.webhooks.recordAttempt(delivery.id, attempt);
      expect(await store.webhooks.getDelivery(delivery.id)).toEqual({ ...delivery, ...attempt });

      const delivered = { ...attempt, attempts: 2, status: 'delivered' as const, lastStatus: 200, lastError: null };
      await store.webhooks.recordAttempt(delivery.id, { ...delivered, nextAttemptAt: null, deliveredAt: T0 + 8000 });
      expect(await store.webhooks.claim(delivery.id, T0 + 7000, T0 + 9000)).toBe(false);
      await store.webhooks.release(delivery.id, T0);
      expect((await store.webhooks.getDelivery(delivery.id))?.nextAttemptAt).toBeNull();
    });

    it('lets only the head of a URL queue be claimed, so dispatchers on several nodes keep its order', async () => {
      const workspace = await seedWorkspace();
      const url = `https://hooks.example/${hex()}`;
      const first = newDelivery(workspace.id, { url, nextAttemptAt: T0 + 100 });
      const second = newDelivery(workspace.id, { url, nextAttemptAt: T0 + 100 });
      const elsewhere = newDelivery(workspace.id, { url: `${url}/other`, nextAttemptAt: T0 + 100 });
      // Ids are random: the tie on due time is broken by recording order, not by id.
      await store.webhooks.insertDeliveries([first, second, elsewhere]);
      const due = (await store.webhooks.listDue(T0 + 100, 1000)).filter((d) => d.url === url);
      expect(due.map((d) => d.id)).toEqual([first.id, second.id]);

      // Behind a due delivery, then behind one in flight.
      expect(await store.webhooks.claim(second.id, T0 + 100, T0 + 5000)).toBe(false);
      expect(await store.webhooks.claim(elsewhere.id, T0 + 100, T0 + 5000)).toBe(true);
      expect(await store.webhooks.claim(first.id, T0 + 100, T0 + 5000)).toBe(true);
      expect(await store.webhooks.claim(second.id, T0 + 100, T0 + 5000)).toBe(false);

      // The first failed and waits for a retry later than the second is due: the second goes.
      await store.webhooks.recordAttempt(first.id, {
        attempts: 1,
        status: 'pending',
        lastStatus: 503,
        lastError: 'HTTP 503',
        nextAttemptAt: T0 + 7000,
        deliveredAt: null,
      });
      expect(await store.webhooks.claim(second.id, T0 + 100, T0 + 5000)).toBe(true);
      // A delivery handed back unsent no longer holds the queue once it is due later.
      await store.webhooks.release(second.id, T0 + 8000);
      expect(await store.webhooks.claim(first.id, T0 + 7000, T0 + 9000)).toBe(true);
    });

    it('lists a workspace log newest first, filtered by status and limited', async () => {
      const workspace = await seedWorkspace();
      const other = await seedWorkspace();
      const oldest = newDelivery(workspace.id, { createdAt: T0, status: 'failed', nextAttemptAt: null });
      const middle = newDelivery(workspace.id, { createdAt: T0 + 1 });
      const newest = newDelivery(workspace.id, { createdAt: T0 + 2, status: 'delivered', nextAttemptAt: null });
      await store.webhooks.insertDeliveries([oldest, newest, middle, newDelivery(other.id)]);

      expect(await store.webhooks.listDeliveries(workspace.id, { limit: 10 })).toEqual([newest, middle, oldest]);
      expect(await store.webhooks.listDeliveries(workspace.id, { limit: 2 })).toEqual([newest, middle]);
      expect(await store.webhooks.listDeliveries(workspace.id, { limit: 10, status: 'failed' })).toEqual([oldest]);
    });
  });
});
