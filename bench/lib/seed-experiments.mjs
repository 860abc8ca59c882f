// Many experiments, seeded straight through the store's repositories (the same code the HTTP
// writes end in) in transactions of 1,000: 100k experiments through single HTTP writes would
// take a benchmark's whole budget and measure ingest, which bench/run.mjs already does.
// Used by the search benchmark and the UI benchmark's table scenario.

const OPTIMIZERS = ['adam', 'adamw', 'sgd', 'rmsprop'];
const TAGS = ['baseline', 'ablation', 'sweep', 'prod', 'debug'];

/**
 * Seeds `n` experiments into `projectName` of the default workspace: typed parameters
 * (lr, optimizer, batch_size), tags and two two-point series (loss, acc) each, deterministic.
 * Bootstraps the store with `apiKey` as the admin key. Run it before the server opens the data dir.
 * @param {{ server: any, dataDir: string, apiKey: string, n: number, projectName: string, log: (s: string) => void }} o
 * @returns {Promise<string>} the project's id
 */
export async function seedExperiments({ server, dataDir, apiKey, n, projectName, log }) {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const config = server.loadConfig({
    CAIRN_DATA_DIR: dataDir,
    CAIRN_ADMIN_API_KEY: apiKey,
    CAIRN_SQLITE_SYNCHRONOUS: 'normal',
  });
  const core = await server.openCore(config);
  try {
    await core.auth.bootstrap(apiKey);
    const admin = await core.auth.authenticate(apiKey);
    const project = (
      await core.projects.createProject(admin, {
        workspaceName: 'default',
        projectName,
        description: null,
        isPublic: false,
      })
    ).project;
    const BATCH = 1000;
    const base = Date.UTC(2026, 0, 1);
    for (let start = 0; start < n; start += BATCH) {
      await core.store.transaction(async (tx) => {
        for (let i = start; i < Math.min(n, start + BATCH); i++) {
          const id = i.toString(16).padStart(32, '0');
          const at = base + i * 1000;
          await tx.experiments.insert({
            id,
            projectId: project.id,
            workspaceId: project.workspaceId,
            name: `run-${i}`,
            status: random() < 0.1 ? 'FAILED' : 'SUCCEEDED',
            archived: false,
            startTime: at,
            endTime: at + 60_000,
            createdBy: admin.userId,
            optimizationId: null,
            filePath: null,
            fileName: null,
            lastHeartbeat: null,
            hasCrashed: false,
            error: null,
            createdAt: at,
            updatedAt: at,
          });
          const lr = 10 ** (-4 + 3 * random());
          await tx.values.append(id, 'param', [
            { name: 'lr', type: 'number', text: String(lr), step: null, timestamp: at, context: null },
            { name: 'optimizer', type: 'string', text: OPTIMIZERS[i % 4], step: null, timestamp: at, context: null },
            {
              name: 'batch_size',
              type: 'number',
              text: String(2 ** (4 + (i % 5))),
              step: null,
              timestamp: at,
              context: null,
            },
          ]);
          await tx.experiments.addTags(id, [TAGS[i % TAGS.length], ...(random() < 0.2 ? ['baseline'] : [])]);
          const loss = 0.05 + random();
          const acc = random();
          await tx.series.append(id, [
            { name: 'loss', value: loss * 2, step: 0, epoch: null, timestamp: at, context: null },
            { name: 'loss', value: loss, step: 1, epoch: null, timestamp: at + 1, context: null },
            { name: 'acc', value: acc / 2, step: 0, epoch: null, timestamp: at, context: null },
            { name: 'acc', value: acc, step: 1, epoch: null, timestamp: at + 1, context: null },
          ]);
        }
      });
      if ((start / BATCH) % 10 === 0) log(`seeded ${Math.min(n, start + BATCH)} / ${n}`);
    }
    return project.id;
  } finally {
    await core.store.close();
  }
}
