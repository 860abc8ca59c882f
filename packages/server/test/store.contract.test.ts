import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Experiment, MetricPoint, MetricPointInput, Project, SeriesSummary } from '../src/core/entities.js';
import type { ApiKeyRecord, Store } from '../src/core/store.port.js';
import { BLOCK_SIZE, DIRECT_SEAL_MIN } from '../src/storage/series/series.repository.js';
import { hex, newAsset, newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The contract of `Store` (core/store.port.ts), run against every backend. Each test builds its
 * own users, workspaces, projects and experiments with fresh ids, so tests share one store per
 * backend without seeing each other's rows.
 */

function point(name: string, value: number, overrides: Partial<MetricPointInput> = {}): MetricPointInput {
  return { name, value, step: null, epoch: null, timestamp: T0, context: null, ...overrides };
}

/** The points `readPoints` must return for inputs appended with the given offsets. */
function expectedPoints(inputs: MetricPointInput[], offsets: number[]): MetricPoint[] {
  return inputs.map((p, i) => ({
    offset: offsets[i] as number,
    value: p.value,
    step: p.step,
    epoch: p.epoch,
    timestamp: p.timestamp,
    context: p.context,
  }));
}

describe.each(backends)('Store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  /** A user with a workspace they belong to, and a project in it. */
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

  describe('tenancy', () => {
    it('inserts and finds users by id and by name; absent ones are undefined', async () => {
      const before = await store.tenancy.countUsers();
      const alice = newUser({ email: 'alice@example.com', isAdmin: true, createdAt: T0 + 5 });
      const bob = newUser();
      await store.tenancy.insertUser(alice);
      await store.tenancy.insertUser(bob);
      expect(await store.tenancy.countUsers()).toBe(before + 2);
      expect(await store.tenancy.getUser(alice.id)).toEqual(alice);
      expect(await store.tenancy.getUserByName(alice.name)).toEqual(alice);
      expect(await store.tenancy.getUserByName(bob.name)).toEqual(bob);
      expect(await store.tenancy.getUser(randomUUID())).toBeUndefined();
      expect(await store.tenancy.getUserByName('nobody-here')).toBeUndefined();
    });

    it('rejects a second user with the same name', async () => {
      const user = newUser();
      await store.tenancy.insertUser(user);
      await expect(store.tenancy.insertUser(newUser({ name: user.name }))).rejects.toThrow();
    });

    it('sets the default workspace of a user', async () => {
      const user = newUser();
      await store.tenancy.insertUser(user);
      const workspace = newWorkspace(user.id);
      await store.tenancy.insertWorkspace(workspace);
      await store.tenancy.setDefaultWorkspace(user.id, workspace.id);
      expect(await store.tenancy.getUser(user.id)).toEqual({ ...user, defaultWorkspaceId: workspace.id });
    });

    it('inserts workspaces with unique names and finds them by id and name', async () => {
      const user = newUser();
      await store.tenancy.insertUser(user);
      const workspace = newWorkspace(user.id, { createdAt: T0 + 1 });
      await store.tenancy.insertWorkspace(workspace);
      expect(await store.tenancy.getWorkspace(workspace.id)).toEqual(workspace);
      expect(await store.tenancy.getWorkspaceByName(workspace.name)).toEqual(workspace);
      expect(await store.tenancy.getWorkspace(hex())).toBeUndefined();
      expect(await store.tenancy.getWorkspaceByName('no-such-workspace')).toBeUndefined();
      await expect(store.tenancy.insertWorkspace(newWorkspace(user.id, { name: workspace.name }))).rejects.toThrow();
    });

    it('lists the workspaces of a member by name (byte order on every backend), memberships idempotent', async () => {
      const user = newUser();
      const other = newUser();
      await store.tenancy.insertUser(user);
      await store.tenancy.insertUser(other);
      const suffix = hex().slice(0, 8);
      // Upper case sorts before lower case in byte order; a locale collation would interleave them.
      const names = [`b-${suffix}`, `B-${suffix}`, `a-${suffix}`, `_-${suffix}`];
      const workspaces = names.map((name) => newWorkspace(user.id, { name }));
      for (const w of workspaces) await store.tenancy.insertWorkspace(w);
      for (const w of workspaces) await store.tenancy.putMember(w.id, user.id, 'member');
      // Adding again, even with another role, neither duplicates nor fails.
      for (const w of workspaces) await store.tenancy.putMember(w.id, user.id, 'owner');
      const foreign = newWorkspace(other.id);
      await store.tenancy.insertWorkspace(foreign);
      await store.tenancy.putMember(foreign.id, other.id, 'owner');

      const listed = await store.tenancy.listWorkspacesOfUser(user.id);
      expect(listed.map((w) => w.name)).toEqual([`B-${suffix}`, `_-${suffix}`, `a-${suffix}`, `b-${suffix}`]);
      expect(listed).toContainEqual(workspaces[0]);
      expect(await store.tenancy.listWorkspacesOfUser(other.id)).toEqual([foreign]);
      expect(await store.tenancy.listWorkspacesOfUser(randomUUID())).toEqual([]);
    });

    it('stores API keys by hash, lists them newest first with revoked ones, and revokes once', async () => {
      const user = newUser();
      const other = newUser();
      await store.tenancy.insertUser(user);
      await store.tenancy.insertUser(other);
      const key = (userId: string, createdAt: number, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id: hex(),
        userId,
        name: `key-${createdAt}`,
        prefix: 'AbCdEf',
        scopes: ['read'],
        createdAt,
        lastUsedAt: null,
        expiresAt: null,
        revokedAt: null,
        hash: randomBytes(32).toString('hex'),
        ...overrides,
      });
      const oldest = key(user.id, T0, { scopes: ['read', 'write', 'admin', 'api:models-read'] });
      const middle = key(user.id, T0 + 10, { lastUsedAt: T0 + 11 });
      const newest = key(user.id, T0 + 20);
      const others = key(other.id, T0 + 15);
      for (const k of [middle, oldest, newest, others]) await store.tenancy.insertApiKey(k);

      expect(await store.tenancy.getApiKeyByHash(oldest.hash)).toEqual(oldest);
      expect(await store.tenancy.getApiKeyByHash(randomBytes(32).toString('hex'))).toBeUndefined();
      await expect(store.tenancy.insertApiKey(key(user.id, T0, { hash: oldest.hash }))).rejects.toThrow();

      expect(await store.tenancy.revokeApiKey(middle.id, T0 + 30)).toBe(true);
      expect(await store.tenancy.revokeApiKey(middle.id, T0 + 40)).toBe(false);
      expect(await store.tenancy.revokeApiKey(hex(), T0 + 40)).toBe(false);

      const strip = ({ hash: _hash, ...rest }: ApiKeyRecord) => rest;
      expect(await store.tenancy.listApiKeys(user.id)).toEqual([
        strip(newest),
        { ...strip(middle), revokedAt: T0 + 30 },
        strip(oldest),
      ]);
      expect((await store.tenancy.getApiKeyByHash(middle.hash))?.revokedAt).toBe(T0 + 30);
      const everyone = await store.tenancy.listApiKeys();
      const ours = everyone.filter((k) => [user.id, other.id].includes(k.userId)).map((k) => k.id);
      expect(ours).toEqual([newest.id, others.id, middle.id, oldest.id]);
      const createdAt = everyone.map((k) => k.createdAt);
      expect(createdAt).toEqual([...createdAt].sort((a, b) => b - a));
    });

    it('moves the security epoch with each change to what a credential may do, in its transaction', async () => {
      const epoch = () => store.tenancy.securityEpoch();
      const user = newUser();
      await store.tenancy.insertUser(user);
      const workspace = newWorkspace(user.id);
      await store.tenancy.insertWorkspace(workspace);
      const moved = async (change: () => Promise<unknown>): Promise<boolean> => {
        const before = await epoch();
        await change();
        const after = await epoch();
        expect(after).toBeGreaterThanOrEqual(before);
        return after > before;
      };
      expect(await moved(() => store.tenancy.putMember(workspace.id, user.id, 'owner'))).toBe(true);
      expect(await moved(() => store.tenancy.setDefaultWorkspace(user.id, workspace.id))).toBe(true);
      const key: ApiKeyRecord = {
        id: hex(),
        userId: user.id,
        name: 'k',
        prefix: 'AbCdEf',
        scopes: ['read'],
        createdAt: T0,
        lastUsedAt: null,
        expiresAt: null,
        revokedAt: null,
        hash: randomBytes(32).toString('hex'),
      };
      expect(await moved(() => store.tenancy.insertApiKey(key))).toBe(false);
      const session = {
        id: hex(),
        hash: randomBytes(32).toString('hex'),
        userId: user.id,
        scopes: ['read' as const],
        apiKeyId: key.id,
        createdAt: T0,
        expiresAt: T0 + 1000,
        revokedAt: null,
      };
      await store.sessions.insert(session);
      await store.sessions.insert({ ...session, id: hex(), hash: randomBytes(32).toString('hex') });
      expect(await moved(() => store.sessions.revoke(session.id, T0 + 1))).toBe(true);
      expect(await moved(() => store.sessions.revoke(session.id, T0 + 2))).toBe(false);
      expect(await moved(() => store.sessions.revokeOfApiKey(key.id, T0 + 3))).toBe(true);
      expect(await moved(() => store.sessions.revokeOfApiKey(key.id, T0 + 4))).toBe(false);
      expect(await moved(() => store.tenancy.revokeApiKey(key.id, T0 + 5))).toBe(true);
      expect(await moved(() => store.tenancy.revokeApiKey(key.id, T0 + 6))).toBe(false);
      // Rolled back with the transaction that made it.
      const rolledBack = () =>
        store
          .transaction(async (tx) => {
            await tx.tenancy.bumpSecurityEpoch();
            throw new Error('abort');
          })
          .catch(() => undefined);
      expect(await moved(rolledBack)).toBe(false);
    });
  });

  describe('projects', () => {
    it('inserts, gets by id and by name within a workspace', async () => {
      const { workspace, project, user } = await seedProject({
        description: 'cats and dogs',
        isPublic: true,
        notes: 'some notes',
        createdAt: T0 + 1,
        updatedAt: T0 + 2,
      });
      expect(await store.projects.get(project.id)).toEqual(project);
      expect(await store.projects.getByName(workspace.id, project.name)).toEqual(project);
      expect(await store.projects.get(hex())).toBeUndefined();
      expect(await store.projects.getByName(workspace.id, 'absent')).toBeUndefined();

      // Names are unique per workspace only.
      await expect(store.projects.insert(newProject(workspace.id, user.id, { name: project.name }))).rejects.toThrow();
      const elsewhere = newWorkspace(user.id);
      await store.tenancy.insertWorkspace(elsewhere);
      const twin = newProject(elsewhere.id, user.id, { name: project.name });
      await store.projects.insert(twin);
      expect(await store.projects.getByName(elsewhere.id, project.name)).toEqual(twin);
      expect(await store.projects.getByName(workspace.id, project.name)).toEqual(project);
    });

    it('lists by name with experiment counts that include symlinks; publicOnly filters', async () => {
      const { workspace, user, project: a } = await seedProject({ name: 'a-project', isPublic: true });
      const c = newProject(workspace.id, user.id, { name: 'c-project' });
      const B = newProject(workspace.id, user.id, { name: 'B-project', isPublic: true });
      await store.projects.insert(c);
      await store.projects.insert(B);
      const e1 = newExperiment(a);
      const e2 = newExperiment(a);
      const e3 = newExperiment(c);
      for (const e of [e1, e2, e3]) await store.experiments.insert(e);
      await store.experiments.addSymlink(e1.id, c.id);
      await store.experiments.addSymlink(e1.id, c.id);
      await store.experiments.addSymlink(e3.id, B.id);

      const listed = await store.projects.list(workspace.id, false);
      expect(listed).toEqual([
        { ...B, experimentCount: 1 },
        { ...a, experimentCount: 2 },
        { ...c, experimentCount: 2 },
      ]);
      expect(await store.projects.list(workspace.id, true)).toEqual([
        { ...B, experimentCount: 1 },
        { ...a, experimentCount: 2 },
      ]);
      expect(await store.projects.list(hex(), false)).toEqual([]);
    });

    it('counts an experiment once when it is both home and symlinked into a project', async () => {
      const { workspace, user, project: home } = await seedProject();
      const target = newProject(workspace.id, user.id);
      await store.projects.insert(target);
      const experiment = newExperiment(home);
      await store.experiments.insert(experiment);
      await store.experiments.addSymlink(experiment.id, target.id);
      // Moving it home to a project it was already linked into must not count it twice.
      await store.experiments.update(experiment.id, { projectId: target.id });
      const counts = Object.fromEntries(
        (await store.projects.list(workspace.id, false)).map((p) => [p.id, p.experimentCount]),
      );
      expect(counts[target.id]).toBe((await store.experiments.listInProject(target.id)).length);
      expect(counts[target.id]).toBe(1);
      expect(counts[home.id]).toBe(0);
    });

    it('updates each patch field alone and leaves the rest', async () => {
      const { project } = await seedProject({ description: 'd0', notes: 'n0' });
      let expected: Project = project;
      const patches = [
        { name: `renamed-${hex().slice(0, 6)}` },
        { description: 'd1' },
        { description: null },
        { isPublic: true },
        { isPublic: false },
        { notes: 'n1' },
        { updatedAt: T0 + 99 },
        {},
      ];
      for (const patch of patches) {
        await store.projects.update(project.id, patch);
        expected = { ...expected, ...patch };
        expect(await store.projects.get(project.id)).toEqual(expected);
      }
    });

    it('keeps share codes per project, oldest first, unique everywhere, deleted with the project', async () => {
      const { project, workspace, user } = await seedProject();
      const other = newProject(workspace.id, user.id);
      await store.projects.insert(other);
      const [a, b, c] = [hex(), hex(), hex()];
      await store.projects.addShareCode(project.id, b, user.id, T0 + 2);
      await store.projects.addShareCode(project.id, a, user.id, T0 + 1);
      await store.projects.addShareCode(other.id, c, user.id, T0);
      expect(await store.projects.listShareCodes(project.id)).toEqual([a, b]);
      expect(await store.projects.listShareCodes(other.id)).toEqual([c]);
      await expect(store.projects.addShareCode(other.id, a, user.id, T0)).rejects.toThrow();

      expect(await store.projects.deleteShareCode(project.id, a)).toBe(true);
      expect(await store.projects.deleteShareCode(project.id, a)).toBe(false);
      expect(await store.projects.deleteShareCode(project.id, c)).toBe(false);
      expect(await store.projects.listShareCodes(project.id)).toEqual([b]);

      await store.projects.delete(project.id);
      expect(await store.projects.listShareCodes(project.id)).toEqual([]);
      // The code is free again once its project is gone.
      await store.projects.addShareCode(other.id, b, user.id, T0 + 5);
      expect(await store.projects.listShareCodes(other.id)).toEqual([c, b]);
    });

    it('deletes a project', async () => {
      const { project, workspace } = await seedProject();
      await store.projects.delete(project.id);
      expect(await store.projects.get(project.id)).toBeUndefined();
      expect(await store.projects.list(workspace.id, false)).toEqual([]);
    });
  });

  describe('experiments', () => {
    it('inserts and gets every field', async () => {
      const { project } = await seedProject();
      const experiment = newExperiment(project, {
        name: 'run-1',
        status: 'FAILED',
        archived: true,
        startTime: T0 + 1,
        endTime: T0 + 2,
        optimizationId: hex(),
        filePath: '/src/train.py',
        fileName: 'train.py',
        lastHeartbeat: T0 + 3,
        hasCrashed: true,
        error: 'boom',
        createdAt: T0 + 4,
        updatedAt: T0 + 5,
      });
      await store.experiments.insert(experiment);
      expect(await store.experiments.get(experiment.id)).toEqual(experiment);
      expect(await store.experiments.get(hex())).toBeUndefined();
      await expect(store.experiments.insert(experiment)).rejects.toThrow();
    });

    it('updates each patch field alone and leaves the rest', async () => {
      const { experiment, workspace, user } = await seedExperiment({ name: 'before' });
      const other = newProject(workspace.id, user.id);
      await store.projects.insert(other);
      const otherWorkspace = newWorkspace(user.id);
      await store.tenancy.insertWorkspace(otherWorkspace);
      const patches: Partial<Experiment>[] = [
        { name: 'after' },
        { name: null },
        { status: 'SUCCEEDED' },
        { archived: true },
        { archived: false },
        { startTime: T0 + 10 },
        { endTime: T0 + 20 },
        { endTime: null },
        { optimizationId: 'opt-1' },
        { filePath: '/a/b.py' },
        { fileName: 'b.py' },
        { lastHeartbeat: T0 + 30 },
        { hasCrashed: true },
        { hasCrashed: false },
        { error: 'traceback' },
        { error: null },
        { updatedAt: T0 + 40 },
        { projectId: other.id },
        { workspaceId: otherWorkspace.id },
        {},
      ];
      let expected = experiment;
      for (const patch of patches) {
        await store.experiments.update(experiment.id, patch);
        expected = { ...expected, ...patch };
        expect(await store.experiments.get(experiment.id)).toEqual(expected);
      }
    });

    it('lists a project’s experiments oldest first with symlinks, filtered by archived', async () => {
      const { project, workspace, user } = await seedProject();
      const elsewhere = newProject(workspace.id, user.id);
      await store.projects.insert(elsewhere);
      const first = newExperiment(project, { createdAt: T0 + 1 });
      const linked = newExperiment(elsewhere, { createdAt: T0 + 2, archived: true });
      const third = newExperiment(project, { createdAt: T0 + 3, archived: true });
      const fourth = newExperiment(project, { createdAt: T0 + 4 });
      const unrelated = newExperiment(elsewhere, { createdAt: T0 + 2 });
      for (const e of [fourth, third, first, linked, unrelated]) await store.experiments.insert(e);
      await store.experiments.addSymlink(linked.id, project.id);

      expect(await store.experiments.listInProject(project.id)).toEqual([first, linked, third, fourth]);
      expect(await store.experiments.listInProject(project.id, true)).toEqual([linked, third]);
      expect(await store.experiments.listInProject(project.id, false)).toEqual([first, fourth]);
      expect((await store.experiments.listOwnedByProject(project.id)).sort()).toEqual(
        [first.id, third.id, fourth.id].sort(),
      );
      expect((await store.experiments.listInProject(elsewhere.id)).map((e) => e.id)).toEqual(
        [linked, unrelated].map((e) => e.id).sort((a, b) => (a < b ? -1 : 1)),
      );
      expect(await store.experiments.listInProject(hex())).toEqual([]);
    });

    it('upserts documents per kind', async () => {
      const { experiment } = await seedExperiment();
      expect(await store.experiments.getDocument(experiment.id, 'code')).toBeUndefined();
      await store.experiments.putDocument(experiment.id, 'code', 'print(1)', T0);
      await store.experiments.putDocument(experiment.id, 'html', '<b>hi</b>', T0);
      await store.experiments.putDocument(experiment.id, 'code', 'print(2)', T0 + 1);
      expect(await store.experiments.getDocument(experiment.id, 'code')).toBe('print(2)');
      expect(await store.experiments.getDocument(experiment.id, 'html')).toBe('<b>hi</b>');
      expect(await store.experiments.getDocument(experiment.id, 'graph')).toBeUndefined();
      const big = 'x'.repeat(2_000_000);
      await store.experiments.putDocument(experiment.id, 'graph', big, T0);
      expect(await store.experiments.getDocument(experiment.id, 'graph')).toBe(big);
    });

    it('removes one tag, keeping the order of the others; false for a tag it does not have', async () => {
      const { experiment } = await seedExperiment();
      const { experiment: other } = await seedExperiment();
      await store.experiments.addTags(experiment.id, ['a', 'b', 'c']);
      await store.experiments.addTags(other.id, ['b']);
      expect(await store.experiments.removeTag(experiment.id, 'b')).toBe(true);
      expect(await store.experiments.removeTag(experiment.id, 'b')).toBe(false);
      expect(await store.experiments.removeTag(experiment.id, 'A')).toBe(false);
      expect(await store.experiments.listTags(experiment.id)).toEqual(['a', 'c']);
      expect(await store.experiments.listTags(other.id)).toEqual(['b']);
      // Added again, it goes to the end.
      await store.experiments.addTags(experiment.id, ['b']);
      expect(await store.experiments.listTags(experiment.id)).toEqual(['a', 'c', 'b']);
    });

    it('lists documents by kind with their UTF-8 sizes and last writes, and reads one with its time', async () => {
      const { experiment } = await seedExperiment();
      expect(await store.experiments.listDocuments(experiment.id)).toEqual([]);
      expect(await store.experiments.getDocumentEntry(experiment.id, 'code')).toBeUndefined();
      await store.experiments.putDocument(experiment.id, 'html', '<p>é€😀</p>', T0 + 1);
      await store.experiments.putDocument(experiment.id, 'code', '', T0 + 2);
      await store.experiments.putDocument(experiment.id, 'code', 'print(1)', T0 + 3);
      expect(await store.experiments.listDocuments(experiment.id)).toEqual([
        { kind: 'code', size: 8, updatedAt: T0 + 3 },
        { kind: 'html', size: Buffer.byteLength('<p>é€😀</p>'), updatedAt: T0 + 1 },
      ]);
      expect(await store.experiments.getDocumentEntry(experiment.id, 'code')).toEqual({
        body: 'print(1)',
        updatedAt: T0 + 3,
      });
    });

    it('adds tags as a set union in first-insertion order', async () => {
      const { experiment } = await seedExperiment();
      const { experiment: other } = await seedExperiment();
      expect(await store.experiments.listTags(experiment.id)).toEqual([]);
      await store.experiments.addTags(experiment.id, ['zeta', 'alpha', 'zeta']);
      await store.experiments.addTags(experiment.id, []);
      await store.experiments.addTags(experiment.id, ['mid', 'alpha', 'Zeta']);
      await store.experiments.addTags(other.id, ['alpha']);
      expect(await store.experiments.listTags(experiment.id)).toEqual(['zeta', 'alpha', 'mid', 'Zeta']);
      expect(await store.experiments.listTags(other.id)).toEqual(['alpha']);
    });

    it('lists output lines in arrival order with every field', async () => {
      const { experiment } = await seedExperiment();
      await store.experiments.appendOutput(experiment.id, [
        { text: 'line b', stderr: false, context: null, timestamp: T0 + 5, clientOffset: 0 },
        { text: 'line a', stderr: true, context: 'train', timestamp: T0 + 1, clientOffset: null },
      ]);
      await store.experiments.appendOutput(experiment.id, []);
      await store.experiments.appendOutput(experiment.id, [
        { text: '', stderr: false, context: null, timestamp: T0, clientOffset: 7 },
      ]);
      const lines = await store.experiments.listOutput(experiment.id);
      expect(lines.map((l) => l.line)).toEqual([1, 2, 3]);
      expect(lines.map(({ seq: _seq, line: _line, ...line }) => line)).toEqual([
        { text: 'line b', stderr: false, context: null, timestamp: T0 + 5, clientOffset: 0 },
        { text: 'line a', stderr: true, context: 'train', timestamp: T0 + 1, clientOffset: null },
        { text: '', stderr: false, context: null, timestamp: T0, clientOffset: 7 },
      ]);
      const seqs = lines.map((l) => l.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(3);
    });

    it('appends many output lines in one call (more than one INSERT’s bind parameters)', async () => {
      const { experiment } = await seedExperiment();
      const lines = Array.from({ length: 12_000 }, (_, i) => ({
        text: `line ${i}`,
        stderr: i % 3 === 0,
        context: null,
        timestamp: T0 + i,
        clientOffset: i,
      }));
      await store.experiments.appendOutput(experiment.id, lines);
      const listed = await store.experiments.listOutput(experiment.id);
      expect(listed.map(({ seq: _seq, line: _line, ...line }) => line)).toEqual(lines);
      expect(listed.map((l) => l.line)).toEqual(lines.map((_, i) => i + 1));
      expect(await store.experiments.lastOutputLine(experiment.id)).toBe(12_000);
    });

    it('numbers output lines from 1 without gaps per experiment, whatever else takes sequence numbers', async () => {
      const { experiment } = await seedExperiment();
      const { experiment: other } = await seedExperiment();
      const line = (text: string, stderr = false) => ({
        text,
        stderr,
        context: null,
        timestamp: T0,
        clientOffset: null,
      });
      expect(await store.experiments.lastOutputLine(experiment.id)).toBe(0);
      await store.experiments.appendOutput(experiment.id, [line('a'), line('b')]);
      await store.experiments.addTags(experiment.id, ['takes-a-seq']);
      await store.series.append(experiment.id, [point('m', 1)]);
      await store.experiments.appendOutput(other.id, [line('other')]);
      await store.experiments.appendOutput(experiment.id, [line('c')]);
      const lines = await store.experiments.listOutput(experiment.id);
      expect(lines.map((l) => [l.line, l.text])).toEqual([
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);
      expect(await store.experiments.lastOutputLine(experiment.id)).toBe(3);
      expect((await store.experiments.listOutput(other.id)).map((l) => l.line)).toEqual([1]);
    });

    it('numbers concurrent appends without gaps or duplicates', async () => {
      const { experiment } = await seedExperiment();
      const batch = (n: number, tag: string) =>
        Array.from({ length: n }, (_, i) => ({
          text: `${tag}${i}`,
          stderr: false,
          context: null,
          timestamp: T0,
          clientOffset: null,
        }));
      await Promise.all(
        ['a', 'b', 'c', 'd'].map((tag) =>
          store.transaction((tx) => tx.experiments.appendOutput(experiment.id, batch(50, tag))),
        ),
      );
      const lines = await store.experiments.listOutput(experiment.id);
      expect(lines.map((l) => l.line)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      // Each call's lines stay together, in order.
      for (const tag of ['a', 'b', 'c', 'd']) {
        const numbers = lines.filter((l) => l.text.startsWith(tag)).map((l) => l.line);
        expect(numbers).toEqual(Array.from({ length: 50 }, (_, i) => (numbers[0] as number) + i));
      }
    });

    it('finds sparse matches of a filtered read far into a long output, page by page', async () => {
      const { experiment } = await seedExperiment();
      const n = 40_000;
      await store.experiments.appendOutput(
        experiment.id,
        Array.from({ length: n }, (_, i) => ({
          text: i % 6_000 === 5_999 ? `hit ${i}` : `line ${i}`,
          stderr: i % 3 === 0,
          context: null,
          timestamp: T0,
          clientOffset: null,
        })),
      );
      const hits = Array.from({ length: n }, (_, i) => i + 1).filter((line) => (line - 1) % 6_000 === 5_999);
      const pages: number[][] = [];
      let after = 0;
      for (;;) {
        const page = await store.experiments.readOutput(
          experiment.id,
          { search: 'HIT' },
          { afterLine: after, upToLine: n },
          2,
        );
        if (page.length === 0) break;
        pages.push(page.map((l) => l.line));
        after = (page.at(-1) as { line: number }).line;
      }
      expect(pages).toEqual([hits.slice(0, 2), hits.slice(2, 4), hits.slice(4, 6)]);
      const stderr = await store.experiments.readOutput(
        experiment.id,
        { stderr: true },
        { afterLine: 30_000, upToLine: n },
        5_000,
      );
      expect(stderr.map((l) => l.line)).toEqual(
        Array.from({ length: n - 30_000 }, (_, i) => 30_001 + i)
          .filter((line) => (line - 1) % 3 === 0)
          .slice(0, 5_000),
      );
      // A range ending early stops the search there.
      expect(
        (
          await store.experiments.readOutput(experiment.id, { search: 'hit' }, { afterLine: 0, upToLine: 12_000 }, 10)
        ).map((l) => l.line),
      ).toEqual([6_000, 12_000]);
    });

    it('reads output pages after a line, filtered by stream and text, and counts matches in a range', async () => {
      const { experiment } = await seedExperiment();
      const texts = ['Loss 0.5', 'loss 0.4', 'acc 50%', 'LOSS_total', 'warning: lossy', '100% done', 'a_b', 'é loss É'];
      await store.experiments.appendOutput(
        experiment.id,
        texts.map((text, i) => ({
          text,
          stderr: i % 2 === 1,
          context: i === 0 ? 'train' : null,
          timestamp: T0 + i,
          clientOffset: null,
        })),
      );
      const all = { afterLine: 0, upToLine: 8 };
      const read = async (filter: Parameters<typeof store.experiments.readOutput>[1], range = all, limit = 100) =>
        (await store.experiments.readOutput(experiment.id, filter, range, limit)).map((l) => l.line);
      expect(await read({})).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(await read({}, { afterLine: 2, upToLine: 8 }, 3)).toEqual([3, 4, 5]);
      expect(await read({}, { afterLine: 2, upToLine: 4 })).toEqual([3, 4]);
      expect(await read({ stderr: true })).toEqual([2, 4, 6, 8]);
      expect(await read({ stderr: false }, { afterLine: 1, upToLine: 8 })).toEqual([3, 5, 7]);
      // Case-insensitive for ASCII letters on every backend; %, _ and \ are plain characters.
      expect(await read({ search: 'loss' })).toEqual([1, 2, 4, 5, 8]);
      expect(await read({ search: 'LOSS', stderr: true })).toEqual([2, 4, 8]);
      expect(await read({ search: '%' })).toEqual([3, 6]);
      expect(await read({ search: '_' })).toEqual([4, 7]);
      expect(await read({ search: '0%' })).toEqual([3, 6]);
      // Non-ASCII letters match as written on every backend (only PostgreSQL folds their case).
      expect(await read({ search: 'é LOSS' })).toEqual([8]);
      expect(await read({ search: 'nothing' })).toEqual([]);
      const first = (await store.experiments.readOutput(experiment.id, {}, all, 1))[0];
      expect(first).toMatchObject({ line: 1, text: 'Loss 0.5', stderr: false, context: 'train', timestamp: T0 });

      const count = (filter: Parameters<typeof store.experiments.countOutput>[1], range = all) =>
        store.experiments.countOutput(experiment.id, filter, range);
      expect(await count({})).toBe(8);
      expect(await count({}, { afterLine: 3, upToLine: 6 })).toBe(3);
      expect(await count({}, { afterLine: 6, upToLine: 20 })).toBe(2);
      expect(await count({}, { afterLine: 8, upToLine: 8 })).toBe(0);
      expect(await count({ stderr: true })).toBe(4);
      expect(await count({ search: 'loss' })).toBe(5);
      expect(await count({ search: 'loss', stderr: false }, { afterLine: 1, upToLine: 8 })).toBe(1);
    });

    it('deletes an experiment with everything logged to it', async () => {
      const { experiment, project, workspace, user } = await seedExperiment();
      const linkedInto = newProject(workspace.id, user.id);
      await store.projects.insert(linkedInto);
      await store.experiments.addSymlink(experiment.id, linkedInto.id);
      await store.experiments.putDocument(experiment.id, 'code', 'x', T0);
      await store.experiments.addTags(experiment.id, ['t']);
      await store.experiments.appendOutput(experiment.id, [
        { text: 'o', stderr: false, context: null, timestamp: T0, clientOffset: null },
      ]);
      await store.values.append(experiment.id, 'param', [
        { name: 'lr', type: 'number', text: '0.1', step: null, timestamp: T0, context: null },
      ]);
      await store.values.append(experiment.id, 'other', [
        { name: 'note', type: 'string', text: 'x', step: null, timestamp: T0, context: null },
      ]);
      // Enough points to seal a block and leave a tail, so both must go.
      await store.series.append(
        experiment.id,
        Array.from({ length: BLOCK_SIZE + 10 }, (_, i) => point('loss', i, { step: i })),
      );
      const asset = newAsset(experiment.id);
      await store.assets.insert(asset);
      await store.assets.ensureModel({ id: hex(), experimentId: experiment.id, name: 'm', createdAt: T0 });
      // A neighbour's data must survive.
      const neighbour = newExperiment(project);
      await store.experiments.insert(neighbour);
      await store.experiments.addTags(neighbour.id, ['keep']);
      await store.series.append(neighbour.id, [point('loss', 1)]);

      await store.experiments.delete(experiment.id);

      expect(await store.experiments.get(experiment.id)).toBeUndefined();
      expect(await store.experiments.getDocument(experiment.id, 'code')).toBeUndefined();
      expect(await store.experiments.listTags(experiment.id)).toEqual([]);
      expect(await store.experiments.listOutput(experiment.id)).toEqual([]);
      expect(await store.values.list(experiment.id, 'param')).toEqual([]);
      expect(await store.values.list(experiment.id, 'other')).toEqual([]);
      expect(await store.series.listSummaries(experiment.id)).toEqual([]);
      expect(await store.series.getSummary(experiment.id, 'loss')).toBeUndefined();
      expect(await store.series.readPoints(experiment.id, 'loss')).toEqual([]);
      expect(await store.assets.list(experiment.id)).toEqual([]);
      expect(await store.assets.getById(asset.id)).toBeUndefined();
      expect(await store.assets.listModels(experiment.id)).toEqual([]);
      expect(await store.experiments.listInProject(linkedInto.id)).toEqual([]);
      expect(await store.experiments.listInProject(project.id)).toEqual([neighbour]);

      expect(await store.experiments.listTags(neighbour.id)).toEqual(['keep']);
      expect((await store.series.readPoints(neighbour.id, 'loss')).map((p) => p.value)).toEqual([1]);
      // The project can go once its experiments have.
      await store.experiments.delete(neighbour.id);
      await store.projects.delete(project.id);
      expect(await store.projects.get(project.id)).toBeUndefined();
    });
  });

  describe('logged values', () => {
    it('keeps every value, ordered by name then seq, per kind', async () => {
      const { experiment } = await seedExperiment();
      const v = (name: string, text: string, extra: object = {}) => ({
        name,
        type: 'string' as const,
        text,
        step: null,
        timestamp: T0,
        context: null,
        ...extra,
      });
      await store.values.append(experiment.id, 'param', [
        v('lr', '0.1', { type: 'number', step: 3, context: 'train' }),
        v('Batch', '32', { type: 'number' }),
        v('lr', '0.01', { type: 'number', timestamp: T0 - 1 }),
      ]);
      await store.values.append(experiment.id, 'param', []);
      await store.values.append(experiment.id, 'other', [v('flag', 'true', { type: 'boolean' })]);
      await store.values.append(experiment.id, 'param', [v('lr', '0.001', { type: 'number' }), v('a', 'x')]);

      const params = await store.values.list(experiment.id, 'param');
      expect(params.map(({ seq: _seq, ...rest }) => rest)).toEqual([
        v('Batch', '32', { type: 'number' }),
        v('a', 'x'),
        v('lr', '0.1', { type: 'number', step: 3, context: 'train' }),
        v('lr', '0.01', { type: 'number', timestamp: T0 - 1 }),
        v('lr', '0.001', { type: 'number' }),
      ]);
      const lrSeqs = params.filter((p) => p.name === 'lr').map((p) => p.seq);
      expect(lrSeqs[0]).toBeLessThan(lrSeqs[1] as number);
      expect(lrSeqs[1]).toBeLessThan(lrSeqs[2] as number);
      // The later call's values come after the earlier call's.
      const seqOf = (name: string) => params.find((p) => p.name === name)?.seq as number;
      expect(seqOf('a')).toBeGreaterThan(seqOf('Batch'));

      const others = await store.values.list(experiment.id, 'other');
      expect(others.map(({ seq: _seq, ...rest }) => rest)).toEqual([v('flag', 'true', { type: 'boolean' })]);
    });
  });

  describe('series', () => {
    it("sets the experiment's updatedAt with the points when asked, and only then", async () => {
      const { experiment } = await seedExperiment();
      const before = (await store.experiments.get(experiment.id))?.updatedAt;
      await store.series.append(experiment.id, [point('a', 1)]);
      expect((await store.experiments.get(experiment.id))?.updatedAt).toBe(before);
      await store.series.append(experiment.id, [point('a', 2)], { updatedAt: T0 + 777 });
      expect((await store.experiments.get(experiment.id))?.updatedAt).toBe(T0 + 777);
      await store.series.append(experiment.id, [], { updatedAt: T0 + 888 });
      expect((await store.experiments.get(experiment.id))?.updatedAt).toBe(T0 + 777);
    });

    it('returns offsets in input order, increasing across calls and series', async () => {
      const { experiment } = await seedExperiment();
      const first = await store.series.append(experiment.id, [point('a', 1), point('b', 2), point('a', 3)]);
      const second = await store.series.append(experiment.id, [point('b', 4), point('a', 5)]);
      expect(await store.series.append(experiment.id, [])).toEqual([]);
      const all = [...first, ...second];
      expect(all).toHaveLength(5);
      for (let i = 1; i < all.length; i++) expect(all[i]).toBeGreaterThan(all[i - 1] as number);
      expect((await store.series.readPoints(experiment.id, 'a')).map((p) => [p.offset, p.value])).toEqual([
        [first[0], 1],
        [first[2], 3],
        [second[1], 5],
      ]);
      expect((await store.series.readPoints(experiment.id, 'b')).map((p) => [p.offset, p.value])).toEqual([
        [first[1], 2],
        [second[0], 4],
      ]);
      expect(await store.series.readPoints(experiment.id, 'absent')).toEqual([]);
      expect(await store.series.getSummary(experiment.id, 'absent')).toBeUndefined();
    });

    it('reads exactly across the tail→block seal boundary, whole and in pages', async () => {
      const { experiment } = await seedExperiment();
      // Uneven batches: a batch that crosses a boundary, one that lands exactly on one, a single
      // point after a seal, and two series interleaved so offsets of one series have gaps.
      const batches = [1, 7, 999, 3089, 1, 2500, 1595, 4, 1803, 1];
      const total = batches.reduce((a, b) => a + b, 0);
      expect(total).toBe(10_000);
      const contexts = [null, 'train', 'validate'];
      const inputs: MetricPointInput[] = [];
      const offsets: number[] = [];
      const otherInputs: MetricPointInput[] = [];
      let n = 0;
      for (const size of batches) {
        const batch: MetricPointInput[] = [];
        for (let i = 0; i < size; i++, n++) {
          batch.push(
            point('loss', n % 97 === 0 ? -(n + 1) * 1e-7 : Math.sin(n) * 1e3 + 1 / 3, {
              step: n % 11 === 0 ? null : n * 2 - 500,
              epoch: n % 13 === 0 ? null : Math.floor(n / 100),
              // Timestamps that go backwards now and then must be kept as given.
              timestamp: T0 + n * 10 - (n % 17 === 0 ? 5_000 : 0),
              context: contexts[n % 3] as string | null,
            }),
          );
        }
        const interleaved: MetricPointInput[] = [];
        batch.forEach((p, i) => {
          interleaved.push(p);
          if (i % 500 === 0) interleaved.push(point('acc', i));
        });
        const returned = await store.series.append(experiment.id, interleaved);
        expect(returned).toHaveLength(interleaved.length);
        interleaved.forEach((p, i) => {
          if (p.name === 'loss') {
            inputs.push(p);
            offsets.push(returned[i] as number);
          } else otherInputs.push(p);
        });
      }
      const expected = expectedPoints(inputs, offsets);
      const all = await store.series.readPoints(experiment.id, 'loss');
      expect(all).toHaveLength(10_000);
      expect(all).toEqual(expected);

      const pages: [number, number][] = [
        [0, 1],
        [0, BLOCK_SIZE],
        [BLOCK_SIZE - 3, 6],
        [BLOCK_SIZE, BLOCK_SIZE],
        [2 * BLOCK_SIZE - 100, 300],
        [2 * BLOCK_SIZE - 1, 2],
        [100, 2 * BLOCK_SIZE + 500],
        [9_990, 100],
        [9_999, 1],
        [10_000, 10],
        [50_000, 10],
        [5, 0],
      ];
      for (const [offset, limit] of pages) {
        expect(await store.series.readPoints(experiment.id, 'loss', { offset, limit })).toEqual(
          expected.slice(offset, offset + limit),
        );
      }
      expect(await store.series.readPoints(experiment.id, 'loss', { offset: 8_000 })).toEqual(expected.slice(8_000));
      expect(await store.series.readPoints(experiment.id, 'loss', { limit: 5_000 })).toEqual(expected.slice(0, 5_000));

      const paged: MetricPoint[] = [];
      for (let offset = 0; offset < 10_000; offset += 777) {
        paged.push(...(await store.series.readPoints(experiment.id, 'loss', { offset, limit: 777 })));
      }
      expect(paged).toEqual(expected);

      const summary = await store.series.getSummary(experiment.id, 'loss');
      expect(summary?.count).toBe(10_000);
      const last = expected[expected.length - 1] as MetricPoint;
      expect(summary?.last).toEqual({
        value: last.value,
        step: last.step,
        timestamp: last.timestamp,
        context: last.context,
        offset: last.offset,
      });
      const acc = await store.series.readPoints(experiment.id, 'acc');
      expect(acc.map((p) => p.value)).toEqual(otherInputs.map((p) => p.value));
    });

    it('keeps exact summaries: min, max, last and latest with the point that supplied them; ties keep the first', async () => {
      const { experiment } = await seedExperiment();
      const offsets = await store.series.append(experiment.id, [
        point('loss', 5, { step: 1, timestamp: T0 + 1, context: 'train' }),
        point('loss', 2, { step: 2, timestamp: T0 + 2, context: 'train' }),
        point('acc', 0.5, { step: 1, timestamp: T0 + 1 }),
        point('loss', 9, { step: 3, timestamp: T0 + 3, context: null }),
      ]);
      const later = await store.series.append(experiment.id, [
        point('loss', 2, { step: 4, timestamp: T0 + 4, context: 'validate' }),
        point('loss', 9, { step: 5, timestamp: T0 + 5 }),
        // Last means logged last (highest offset), not highest step or newest timestamp.
        point('loss', 7, { step: 0, timestamp: T0 - 100, context: 'test' }),
      ]);
      const expected: SeriesSummary = {
        name: 'loss',
        count: 6,
        min: { value: 2, step: 2, timestamp: T0 + 2, context: 'train', offset: offsets[1] as number },
        max: { value: 9, step: 3, timestamp: T0 + 3, context: null, offset: offsets[3] as number },
        last: { value: 7, step: 0, timestamp: T0 - 100, context: 'test', offset: later[2] as number },
        // Latest is MLflow's: the greatest (step, timestamp, value), whatever the logging order.
        latest: { value: 9, step: 5, timestamp: T0 + 5, context: null, offset: later[1] as number },
      };
      expect(await store.series.getSummary(experiment.id, 'loss')).toEqual(expected);
      const acc: SeriesSummary = {
        name: 'acc',
        count: 1,
        min: { value: 0.5, step: 1, timestamp: T0 + 1, context: null, offset: offsets[2] as number },
        max: { value: 0.5, step: 1, timestamp: T0 + 1, context: null, offset: offsets[2] as number },
        last: { value: 0.5, step: 1, timestamp: T0 + 1, context: null, offset: offsets[2] as number },
        latest: { value: 0.5, step: 1, timestamp: T0 + 1, context: null, offset: offsets[2] as number },
      };
      expect(await store.series.listSummaries(experiment.id)).toEqual([acc, expected]);
      expect(await store.series.listSummaries(hex())).toEqual([]);
    });

    it("keeps MLflow's latest point: greatest step, then timestamp, then value; no step counts as 0, NaN lowest", async () => {
      const { experiment } = await seedExperiment();
      await store.series.append(experiment.id, [
        point('m', 4, { step: 2, timestamp: T0 + 5 }),
        point('m', 1, { step: 2, timestamp: T0 + 9 }),
        point('m', 3, { step: 2, timestamp: T0 + 9 }),
        point('m', Number.NaN, { step: 2, timestamp: T0 + 9 }),
        point('m', 8, { step: 1, timestamp: T0 + 50 }),
        point('m', 9, { step: null, timestamp: T0 + 99 }),
      ]);
      const latest = (await store.series.getSummary(experiment.id, 'm'))?.latest;
      expect(latest?.value).toBe(3);
      expect(latest?.step).toBe(2);
      expect(latest?.timestamp).toBe(T0 + 9);
      // A later batch with a greater step takes over; a smaller one does not.
      await store.series.append(experiment.id, [point('m', -1, { step: 3, timestamp: T0 })]);
      await store.series.append(experiment.id, [point('m', 100, { step: 0, timestamp: T0 + 1000 })]);
      expect((await store.series.getSummary(experiment.id, 'm'))?.latest.value).toBe(-1);
    });

    it('lists summaries by name in byte order', async () => {
      const { experiment } = await seedExperiment();
      await store.series.append(experiment.id, [point('b', 1), point('B', 1), point('a', 1), point('_', 1)]);
      expect((await store.series.listSummaries(experiment.id)).map((s) => s.name)).toEqual(['B', '_', 'a', 'b']);
    });

    it('stores non-finite values exactly; min and max skip NaN unless nothing else was logged', async () => {
      const { experiment } = await seedExperiment();
      const values = [Number.NaN, 3, Number.POSITIVE_INFINITY, -2, Number.NEGATIVE_INFINITY, Number.NaN, 1e308, 5e-324];
      const offsets = await store.series.append(
        experiment.id,
        values.map((value, i) => point('x', value, { step: i })),
      );
      await store.series.append(experiment.id, [point('only-nan', Number.NaN), point('only-nan', Number.NaN)]);
      expect((await store.series.readPoints(experiment.id, 'x')).map((p) => p.value)).toEqual(values);
      const x = await store.series.getSummary(experiment.id, 'x');
      expect(x?.min).toMatchObject({ value: Number.NEGATIVE_INFINITY, offset: offsets[4] });
      expect(x?.max).toMatchObject({ value: Number.POSITIVE_INFINITY, offset: offsets[2] });
      expect(x?.last).toMatchObject({ value: 5e-324, offset: offsets[7] });
      const onlyNan = await store.series.getSummary(experiment.id, 'only-nan');
      expect(onlyNan?.min.value).toBeNaN();
      expect(onlyNan?.max.value).toBeNaN();
      expect(onlyNan?.count).toBe(2);

      // The same values once sealed into a block.
      const filler = Array.from({ length: BLOCK_SIZE }, (_, i) => point('x', i));
      await store.series.append(experiment.id, filler);
      const sealed = await store.series.readPoints(experiment.id, 'x', { limit: values.length });
      expect(sealed.map((p) => p.value)).toEqual(values);
      expect((await store.series.getSummary(experiment.id, 'x'))?.min.value).toBe(Number.NEGATIVE_INFINITY);
    });

    it("updates an existing series' summary and tail with non-finite and extreme values exactly", async () => {
      const { experiment } = await seedExperiment();
      // The first append creates the row; the second updates it (one statement for all rows on PostgreSQL).
      await store.series.append(experiment.id, [point('y', 1, { step: 0 }), point('z', 1, { step: 0 })]);
      const values = [Number.POSITIVE_INFINITY, -1e308, Number.NaN, Number.NEGATIVE_INFINITY, 5e-324];
      const offsets = await store.series.append(experiment.id, [
        ...values.map((value, i) => point('y', value, { step: i + 1 })),
        point('z', 2, { step: Number.MAX_SAFE_INTEGER }),
      ]);
      expect((await store.series.readPoints(experiment.id, 'y')).map((p) => p.value)).toEqual([1, ...values]);
      const y = await store.series.getSummary(experiment.id, 'y');
      expect(y?.min).toMatchObject({ value: Number.NEGATIVE_INFINITY, offset: offsets[3] });
      expect(y?.max).toMatchObject({ value: Number.POSITIVE_INFINITY, offset: offsets[0] });
      expect(y?.last).toMatchObject({ value: 5e-324, step: 5, offset: offsets[4] });
      expect(y?.count).toBe(6);
      const z = await store.series.getSummary(experiment.id, 'z');
      expect(z?.last).toMatchObject({ value: 2, step: Number.MAX_SAFE_INTEGER, offset: offsets[5] });
    });

    it('seals blocks of many series in one append, more than one insert statement holds', async () => {
      const { experiment } = await seedExperiment();
      // 70 new series, each sealing one block of DIRECT_SEAL_MIN points: rows and blocks are
      // written in multi-row statements of at most 64 rows.
      const names = Array.from({ length: 70 }, (_, i) => `s${String(i).padStart(2, '0')}`);
      const inputs = names.flatMap((name, n) =>
        Array.from({ length: DIRECT_SEAL_MIN }, (_, i) => point(name, n * 1000 + i, { step: i })),
      );
      await store.series.append(experiment.id, inputs);
      await store.series.append(
        experiment.id,
        names.map((name) => point(name, -1, { step: DIRECT_SEAL_MIN })),
      );
      const summaries = await store.series.listSummaries(experiment.id);
      expect(summaries.map((s) => s.name)).toEqual(names);
      for (const [n, summary] of summaries.entries()) {
        expect(summary.count).toBe(DIRECT_SEAL_MIN + 1);
        expect(summary.min.value).toBe(-1);
        expect(summary.max.value).toBe(n * 1000 + DIRECT_SEAL_MIN - 1);
      }
      const last = await store.series.readPoints(experiment.id, 's69');
      expect(last.map((p) => p.value)).toEqual([...Array.from({ length: DIRECT_SEAL_MIN }, (_, i) => 69_000 + i), -1]);
    });

    it('keeps steps and epochs at the ends of the safe integer range, in the tail and sealed', async () => {
      const { experiment } = await seedExperiment();
      const max = Number.MAX_SAFE_INTEGER;
      const inputs = [max, -max, 2 ** 52 + 1, 0, -(2 ** 52) - 3].map((step, i) =>
        point('s', i, { step, epoch: step === 0 ? 1 : -step, timestamp: T0 + i }),
      );
      const offsets = await store.series.append(experiment.id, inputs);
      const expected = expectedPoints(inputs, offsets);
      expect(await store.series.readPoints(experiment.id, 's')).toEqual(expected);
      await store.series.append(
        experiment.id,
        Array.from({ length: BLOCK_SIZE }, (_, i) => point('s', i)),
      );
      expect(await store.series.readPoints(experiment.id, 's', { limit: inputs.length })).toEqual(expected);
    });

    it('reads -0 back as 0, the same before and after sealing', async () => {
      const { experiment } = await seedExperiment();
      await store.series.append(experiment.id, [point('z', -0)]);
      const inTail = await store.series.readPoints(experiment.id, 'z');
      expect(Object.is(inTail[0]?.value, 0)).toBe(true);
      await store.series.append(
        experiment.id,
        Array.from({ length: BLOCK_SIZE }, () => point('z', 1)),
      );
      const sealed = await store.series.readPoints(experiment.id, 'z', { limit: 1 });
      expect(Object.is(sealed[0]?.value, 0)).toBe(true);
      expect(Object.is((await store.series.getSummary(experiment.id, 'z'))?.min.value, 0)).toBe(true);
    });

    it('serialises concurrent appends to one series: unique offsets, exact count and points', async () => {
      const { experiment } = await seedExperiment();
      const writers = 8;
      const perWriter = 700;
      const results = await Promise.all(
        Array.from({ length: writers }, (_, w) =>
          store.transaction((tx) =>
            tx.series.append(
              experiment.id,
              Array.from({ length: perWriter }, (_, i) => point('loss', w * perWriter + i)),
            ),
          ),
        ),
      );
      const offsets = results.flat();
      expect(new Set(offsets).size).toBe(writers * perWriter);
      const read = await store.series.readPoints(experiment.id, 'loss');
      expect(read.map((p) => p.offset)).toEqual([...offsets].sort((a, b) => a - b));
      const byOffset = new Map(results.flatMap((batch, w) => batch.map((o, i) => [o, w * perWriter + i])));
      expect(read.every((p) => byOffset.get(p.offset) === p.value)).toBe(true);
      expect((await store.series.getSummary(experiment.id, 'loss'))?.count).toBe(writers * perWriter);
    });

    it('appends atomically outside an explicit transaction too', async () => {
      const { experiment } = await seedExperiment();
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, w) =>
          store.series.append(
            experiment.id,
            Array.from({ length: 1_500 }, (_, i) => point('loss', w * 10_000 + i, { context: `c${w}` })),
          ),
        ),
      );
      const read = await store.series.readPoints(experiment.id, 'loss');
      expect(read.map((p) => p.offset)).toEqual(batches.flat().sort((a, b) => a - b));
      expect(read.every((p) => p.context === `c${Math.floor(p.value / 10_000)}`)).toBe(true);
      expect((await store.series.getSummary(experiment.id, 'loss'))?.count).toBe(9_000);
    });

    it('never shows a reader a torn series while writers seal blocks', async () => {
      const { experiment } = await seedExperiment();
      const appended: number[] = [];
      let writing = true;
      const writer = (async () => {
        try {
          for (let b = 0; b < 14; b++) {
            const batch = Array.from({ length: 1_000 }, (_, i) => point('loss', b * 1_000 + i, { context: `c${b}` }));
            appended.push(...(await store.transaction((tx) => tx.series.append(experiment.id, batch))));
          }
        } finally {
          writing = false;
        }
      })();
      const reads: MetricPoint[][] = [];
      while (writing) {
        reads.push(await store.series.readPoints(experiment.id, 'loss'));
        reads.push(await store.series.readPoints(experiment.id, 'loss', { offset: 3_000, limit: 2_000 }));
      }
      await writer;
      const final = await store.series.readPoints(experiment.id, 'loss');
      expect(final).toHaveLength(14_000);
      expect(reads.length).toBeGreaterThan(4);
      for (const read of reads) {
        // Every read is what some committed prefix of the writes looked like.
        const start = read.length > 0 && read[0]?.offset !== final[0]?.offset ? 3_000 : 0;
        expect(read).toEqual(final.slice(start, start + read.length));
      }
    });
  });

  describe('assets', () => {
    it('inserts, gets, lists by creation time with filters, finds same names, deletes', async () => {
      const { experiment } = await seedExperiment();
      const a1 = newAsset(experiment.id, {
        fileName: 'model.pt',
        type: 'model-element',
        groupingName: 'resnet',
        createdAt: T0 + 2,
        step: 3,
        epoch: 1,
        context: 'train',
        metadata: '{"k":1}',
        tags: ['x', 'y'],
      });
      const a2 = newAsset(experiment.id, { fileName: 'model.pt', createdAt: T0 + 1 });
      const a3 = newAsset(experiment.id, {
        fileName: 'link',
        remote: true,
        link: 's3://bucket/x',
        blobKey: null,
        createdAt: T0 + 3,
        artifactVersionId: 'v1',
      });
      for (const a of [a1, a2, a3]) await store.assets.insert(a);
      expect(await store.assets.get(experiment.id, a1.id)).toEqual(a1);
      expect(await store.assets.get(hex(), a1.id)).toBeUndefined();
      expect(await store.assets.getById(a3.id)).toEqual(a3);
      expect(await store.assets.list(experiment.id)).toEqual([a2, a1, a3]);
      expect(await store.assets.list(experiment.id, { type: 'model-element' })).toEqual([a1]);
      expect(await store.assets.list(experiment.id, { groupingName: 'resnet' })).toEqual([a1]);
      expect(await store.assets.listSameName(experiment.id, 'model.pt', null, null)).toEqual([a2]);
      expect(await store.assets.listSameName(experiment.id, 'model.pt', 'resnet', null)).toEqual([a1]);
      expect(await store.assets.listSameName(experiment.id, 'link', null, 'v1')).toEqual([a3]);
      await store.assets.delete(experiment.id, a2.id);
      expect(await store.assets.list(experiment.id)).toEqual([a1, a3]);
    });

    it('ensures models once and lists them', async () => {
      const { experiment } = await seedExperiment();
      const m = { id: hex(), experimentId: experiment.id, name: 'net', createdAt: T0 + 1 };
      expect(await store.assets.ensureModel(m)).toEqual(m);
      expect(await store.assets.ensureModel({ ...m, id: hex(), createdAt: T0 + 9 })).toEqual(m);
      const early = { id: hex(), experimentId: experiment.id, name: 'zz', createdAt: T0 };
      await store.assets.ensureModel(early);
      expect(await store.assets.getModel(experiment.id, 'net')).toEqual(m);
      expect(await store.assets.getModel(experiment.id, 'absent')).toBeUndefined();
      expect(await store.assets.listModels(experiment.id)).toEqual([early, m]);
    });
  });

  describe('transactions', () => {
    it('commits and returns the result of the work', async () => {
      const { project } = await seedProject();
      const experiment = newExperiment(project);
      const result = await store.transaction(async (tx) => {
        await tx.experiments.insert(experiment);
        return tx.series.append(experiment.id, [point('loss', 1)]);
      });
      expect(result).toHaveLength(1);
      expect(await store.experiments.get(experiment.id)).toEqual(experiment);
    });

    it('leaves nothing behind when the work throws', async () => {
      const { experiment, workspace, user } = await seedExperiment();
      const before = await store.series.append(experiment.id, [point('loss', 1, { step: 1 })]);
      const project = newProject(workspace.id, user.id);
      const fresh = newExperiment(project);
      const failure = new Error('abort the transaction');
      await expect(
        store.transaction(async (tx) => {
          await tx.projects.insert(project);
          await tx.experiments.insert(fresh);
          await tx.experiments.update(experiment.id, { name: 'changed', status: 'FAILED' });
          await tx.experiments.addTags(experiment.id, ['t']);
          await tx.experiments.putDocument(experiment.id, 'code', 'x', T0);
          await tx.experiments.appendOutput(experiment.id, [
            { text: 'o', stderr: false, context: null, timestamp: T0, clientOffset: null },
          ]);
          await tx.values.append(experiment.id, 'param', [
            { name: 'lr', type: 'number', text: '1', step: null, timestamp: T0, context: null },
          ]);
          // Crosses a seal, so the rollback must also undo a block and the tail rewrite.
          await tx.series.append(
            experiment.id,
            Array.from({ length: BLOCK_SIZE + 5 }, (_, i) => point('loss', i + 100)),
          );
          await tx.series.append(experiment.id, [point('new-series', 1)]);
          await tx.assets.insert(newAsset(experiment.id));
          throw failure;
        }),
      ).rejects.toBe(failure);

      expect(await store.projects.get(project.id)).toBeUndefined();
      expect(await store.experiments.get(fresh.id)).toBeUndefined();
      expect(await store.experiments.get(experiment.id)).toEqual(experiment);
      expect(await store.experiments.listTags(experiment.id)).toEqual([]);
      expect(await store.experiments.getDocument(experiment.id, 'code')).toBeUndefined();
      expect(await store.experiments.listOutput(experiment.id)).toEqual([]);
      expect(await store.values.list(experiment.id, 'param')).toEqual([]);
      expect(await store.assets.list(experiment.id)).toEqual([]);
      expect(await store.series.getSummary(experiment.id, 'new-series')).toBeUndefined();
      const summary = await store.series.getSummary(experiment.id, 'loss');
      expect(summary).toMatchObject({ count: 1, last: { value: 1, offset: before[0] } });
      expect(await store.series.readPoints(experiment.id, 'loss')).toEqual(
        expectedPoints([point('loss', 1, { step: 1 })], before),
      );

      // The series still accepts writes after the rollback, continuing where it stood.
      const after = await store.series.append(experiment.id, [point('loss', 2)]);
      expect(after[0]).toBeGreaterThan(before[0] as number);
      expect((await store.series.readPoints(experiment.id, 'loss')).map((p) => p.value)).toEqual([1, 2]);
    });
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
