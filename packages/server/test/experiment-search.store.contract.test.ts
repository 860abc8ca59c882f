import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoggedValueType } from '../src/core/entities.js';
import type { ExperimentCondition } from '../src/core/experiment-query.js';
import type { Store } from '../src/core/store.port.js';
import { newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, openTestStore, type TestStore } from './support/test-context.js';

/** `ExperimentsRepository.search` text tests on parameters, with and without `plainText`. */
describe.each(backends)('Experiment search contract: plain-text parameter tests (%s)', (backend) => {
  let testStore: TestStore;
  let store: Store;
  let projectId: string;
  const keyOf = new Map<string, string>();

  beforeAll(async () => {
    testStore = await openTestStore(backend);
    store = testStore.store;
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const project = newProject(workspace.id, user.id);
    await store.projects.insert(project);
    projectId = project.id;
    const values: [string, LoggedValueType, string][] = [
      ['text', 'string', 'run 2025 final'],
      ['number', 'number', '2025'],
      ['flag', 'boolean', 'true'],
      ['datetime', 'string', '2025-01-01T00:00:00Z'],
    ];
    for (const [name, type, text] of values) {
      const experiment = newExperiment(project, { name });
      await store.experiments.insert(experiment);
      await store.values.append(experiment.id, 'param', [
        { name: 'p', type, text, step: null, timestamp: T0, context: null },
      ]);
      keyOf.set(experiment.id, name);
    }
  });
  afterAll(async () => {
    await testStore?.close();
  });

  async function found(value: string, plainText?: boolean): Promise<string[]> {
    const where: ExperimentCondition = {
      kind: 'test',
      field: { source: 'param', name: 'p' },
      test: { as: 'string', op: 'contains', value, caseInsensitive: false, ...(plainText ? { plainText } : {}) },
    };
    const keys = await store.experiments.search({ projectId, where, now: T0, heartbeatTimeoutMs: 60_000 });
    return keys.map((key) => keyOf.get(key) ?? key).sort();
  }

  it('reads the text of every logged value by default', async () => {
    expect(await found('2025')).toEqual(['datetime', 'number', 'text']);
    expect(await found('tru')).toEqual(['flag']);
  });

  it('reads only values logged as text that is no datetime with plainText', async () => {
    expect(await found('2025', true)).toEqual(['text']);
    expect(await found('tru', true)).toEqual([]);
    expect(await found('final', true)).toEqual(['text']);
  });
});
