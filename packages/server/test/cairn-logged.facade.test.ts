import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { multipart, type Part, sampleBytes } from './support/wire-bodies.js';

const API = '/api/cairn/v1';

describe.each(backends)('Cairn API: everything logged to an experiment (%s)', (backend) => {
  let t: TestContext;

  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function newExperiment(): Promise<string> {
    const response = await call('POST', '/workspaces/default/projects/logged/experiments', { body: {} });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().key;
  }

  function call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: { body?: unknown; payload?: Buffer | string; key?: string; headers?: Record<string, string> } = {},
  ) {
    return t.app.inject({
      method,
      url: `${API}${path}`,
      headers: { authorization: `Bearer ${options.key ?? t.adminKey}`, ...options.headers },
      ...(options.payload !== undefined
        ? { payload: options.payload }
        : options.body !== undefined
          ? { payload: options.body as object }
          : {}),
    });
  }

  async function upload(key: string, parts: Part[], options: { key?: string } = {}) {
    const body = await multipart(parts);
    return call('POST', `/experiments/${key}/assets`, { payload: body.payload, headers: body.headers, ...options });
  }

  function expectProblem(response: Awaited<ReturnType<typeof call>>, status: number, label = '') {
    expect(response.statusCode, `${label} ${response.body}`).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ type: 'about:blank', status });
  }

  describe('params and others', () => {
    it('logs typed values, flattens nested objects, keeps arrays as JSON text and null as ""', async () => {
      const key = await newExperiment();
      const logged = await call('POST', `/experiments/${key}/params`, {
        body: {
          values: {
            lr: 0.001,
            epochs: 10,
            big: 12345678901234,
            optimizer: { name: 'adam', betas: [0.9, 0.999], schedule: { warmup: 500, kind: 'cosine' }, opts: {} },
            amp: true,
            debug: false,
            note: null,
            layers: [64, 'x', { a: 1 }],
            'learning rate': '3e-4',
          },
          step: 5,
          timestamp: 1_700_000_000_123,
        },
      });
      expect(logged.statusCode, logged.body).toBe(204);
      expect(logged.body).toBe('');

      const current = await call('GET', `/experiments/${key}/params`);
      expect(current.statusCode).toBe(200);
      const at = { step: 5, timestamp: 1_700_000_000_123, context: null };
      expect(current.json()).toEqual({
        items: [
          { name: 'amp', value: true, type: 'boolean', ...at },
          { name: 'big', value: 12345678901234, type: 'number', ...at },
          { name: 'debug', value: false, type: 'boolean', ...at },
          { name: 'epochs', value: 10, type: 'number', ...at },
          { name: 'layers', value: '[64,"x",{"a":1}]', type: 'string', ...at },
          { name: 'learning rate', value: '3e-4', type: 'string', ...at },
          { name: 'lr', value: 0.001, type: 'number', ...at },
          { name: 'note', value: '', type: 'string', ...at },
          { name: 'optimizer.betas', value: '[0.9,0.999]', type: 'string', ...at },
          { name: 'optimizer.name', value: 'adam', type: 'string', ...at },
          { name: 'optimizer.opts', value: '{}', type: 'string', ...at },
          { name: 'optimizer.schedule.kind', value: 'cosine', type: 'string', ...at },
          { name: 'optimizer.schedule.warmup', value: 500, type: 'number', ...at },
        ],
      });
    });

    it('answers the current value by name, and with history=true every value in logging order', async () => {
      const key = await newExperiment();
      const post = (values: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
        call('POST', `/experiments/${key}/params`, { body: { values, ...extra } });
      expect((await post({ lr: 0.1, batch: 32 }, { step: 0, timestamp: 1000 })).statusCode).toBe(204);
      expect((await post({ lr: 0.05 }, { step: 1, timestamp: 2000 })).statusCode).toBe(204);
      expect((await post({ batch: 'auto', lr: 0.01 }, { timestamp: 3000, context: 'train' })).statusCode).toBe(204);

      expect((await call('GET', `/experiments/${key}/params`)).json().items).toEqual([
        { name: 'batch', value: 'auto', type: 'string', step: null, timestamp: 3000, context: 'train' },
        { name: 'lr', value: 0.01, type: 'number', step: null, timestamp: 3000, context: 'train' },
      ]);
      const history = await call('GET', `/experiments/${key}/params?history=true`);
      expect(history.json().items).toEqual([
        { name: 'lr', value: 0.1, type: 'number', step: 0, timestamp: 1000, context: null },
        { name: 'batch', value: 32, type: 'number', step: 0, timestamp: 1000, context: null },
        { name: 'lr', value: 0.05, type: 'number', step: 1, timestamp: 2000, context: null },
        { name: 'batch', value: 'auto', type: 'string', step: null, timestamp: 3000, context: 'train' },
        { name: 'lr', value: 0.01, type: 'number', step: null, timestamp: 3000, context: 'train' },
      ]);
      // An empty context is no context, as on every other write path.
      await post({ lr: 0.02 }, { timestamp: 4000, context: '' });
      const last = (await call('GET', `/experiments/${key}/params?history=true`)).json().items.at(-1);
      expect(last).toEqual({ name: 'lr', value: 0.02, type: 'number', step: null, timestamp: 4000, context: null });
      // No timestamp: the server's time.
      const before = Date.now();
      await post({ late: 1 });
      const late = (await call('GET', `/experiments/${key}/params`))
        .json()
        .items.find((v: { name: string }) => v.name === 'late');
      expect(late.timestamp).toBeGreaterThanOrEqual(before);
      expect(late.timestamp).toBeLessThanOrEqual(Date.now());
    });

    it('keeps others apart from params', async () => {
      const key = await newExperiment();
      expect(
        (await call('POST', `/experiments/${key}/others`, { body: { values: { seed: 42, host: { name: 'gpu-3' } } } }))
          .statusCode,
      ).toBe(204);
      expect(
        (await call('GET', `/experiments/${key}/others`)).json().items.map((v: { name: string }) => v.name),
      ).toEqual(['host.name', 'seed']);
      expect((await call('GET', `/experiments/${key}/params`)).json()).toEqual({ items: [] });
      expect((await call('GET', `/experiments/${key}/others?history=true`)).json().items).toHaveLength(2);
    });

    it('refuses bad values with 400 and stores nothing of the call', async () => {
      const key = await newExperiment();
      const bad: unknown[] = [
        { values: { ok: 1, '': 2 } },
        { values: { ok: 1, nested: { '': 2 } } },
        { values: { ok: 1, 'bad\nname': 2 } },
        { values: { ok: 1 }, step: 1.5 },
        { values: { ok: 1 }, step: 3.259457811071482e21 },
        { values: { ok: 1 }, step: -(2 ** 53) },
        { values: { ok: 1 }, timestamp: -1 },
        { values: { ok: 1 }, timestamp: 253_402_300_800_000 },
        { values: { ok: 1 }, extra: true },
        { values: { ok: 1 }, context: { name: 'train' } },
        { values: 'nope' },
        {},
        { values: { ok: 1, deep: JSON.parse(`${'{"a":'.repeat(40)}1${'}'.repeat(40)}`) } },
      ];
      for (const body of bad) {
        expectProblem(await call('POST', `/experiments/${key}/params`, { body }), 400, JSON.stringify(body));
      }
      expectProblem(
        await call('POST', `/experiments/${key}/params`, {
          payload: '{"values": {',
          headers: { 'content-type': 'application/json' },
        }),
        400,
      );
      expect((await call('GET', `/experiments/${key}/params?history=true`)).json()).toEqual({ items: [] });
      // The bounds themselves are taken: the largest safe step, the last millisecond of year 9999.
      const edge = { values: { ok: 1 }, step: Number.MAX_SAFE_INTEGER, timestamp: 253_402_300_799_999 };
      expect((await call('POST', `/experiments/${key}/others`, { body: edge })).statusCode).toBe(204);
    });
  });

  describe('tags', () => {
    it('adds tags as a set in first-insertion order and removes them one by one', async () => {
      const key = await newExperiment();
      expect((await call('GET', `/experiments/${key}/tags`)).json()).toEqual({ tags: [] });
      const added = await call('POST', `/experiments/${key}/tags`, { body: { tags: ['baseline', 'a/b', 'baseline'] } });
      expect(added.statusCode, added.body).toBe(200);
      expect(added.json()).toEqual({ tags: ['baseline', 'a/b'] });
      expect((await call('POST', `/experiments/${key}/tags`, { body: { tags: ['resnet', 'a/b'] } })).json()).toEqual({
        tags: ['baseline', 'a/b', 'resnet'],
      });
      const removed = await call('DELETE', `/experiments/${key}/tags/a%2Fb`);
      expect(removed.statusCode, removed.body).toBe(200);
      expect(removed.json()).toEqual({ tags: ['baseline', 'resnet'] });
      // Removing a tag the experiment does not have is a no-op, so a retried DELETE succeeds.
      expect((await call('DELETE', `/experiments/${key}/tags/a%2Fb`)).json()).toEqual({ tags: ['baseline', 'resnet'] });
      expect((await call('GET', `/experiments/${key}/tags`)).json()).toEqual({ tags: ['baseline', 'resnet'] });
      // The experiment itself shows them too.
      expect((await call('GET', `/experiments/${key}`)).json().tags).toEqual(['baseline', 'resnet']);

      expectProblem(await call('POST', `/experiments/${key}/tags`, { body: { tags: ['ok', ''] } }), 400);
      expectProblem(await call('POST', `/experiments/${key}/tags`, { body: { tags: ['ok', 'bad\u0001'] } }), 400);
      expectProblem(await call('POST', `/experiments/${key}/tags`, { body: { tags: ['ok', { a: 1 }] } }), 400);
      expect((await call('GET', `/experiments/${key}/tags`)).json()).toEqual({ tags: ['baseline', 'resnet'] });
    });
  });

  describe('exactly once', () => {
    it('stores a params, others, tags or output call once under an Idempotency-Key, also when replays race it', async () => {
      const key = await newExperiment();
      const keyed = (path: string, body: unknown, idempotencyKey: string, experimentKey = key) =>
        call('POST', `/experiments/${experimentKey}/${path}`, { body, headers: { 'idempotency-key': idempotencyKey } });

      const params = { values: { lr: 0.1 } };
      expect((await keyed('params', params, 'w1:1:0')).statusCode).toBe(204);
      const replay = await keyed('params', params, 'w1:1:0');
      expect(replay.statusCode).toBe(204);
      expect(replay.body).toBe('');
      const racing = await Promise.all([1, 2, 3].map(() => keyed('params', params, 'w1:2:0')));
      expect(racing.map((r) => r.statusCode)).toEqual([204, 204, 204]);
      expect((await call('GET', `/experiments/${key}/params?history=true`)).json().items).toHaveLength(2);

      // One key per endpoint: the same key names another batch on others, tags and output.
      expect((await keyed('others', { values: { seed: 1 } }, 'w1:1:0')).statusCode).toBe(204);
      expect((await keyed('others', { values: { seed: 1 } }, 'w1:1:0')).statusCode).toBe(204);
      expect((await call('GET', `/experiments/${key}/others?history=true`)).json().items).toHaveLength(1);

      const output = { lines: [{ text: 'epoch 1' }, { text: 'oops', stderr: true }] };
      const outputs = await Promise.all([1, 2, 3].map(() => keyed('output', output, 'w1:1:0')));
      expect(outputs.map((r) => r.statusCode)).toEqual([204, 204, 204]);
      expect((await keyed('output', output, 'w1:1:0')).statusCode).toBe(204);
      const lines = (await call('GET', `/experiments/${key}/output`)).json();
      expect(lines.total).toBe(2);
      expect(lines.items.map((l: { text: string }) => l.text)).toEqual(['epoch 1', 'oops']);

      expect((await keyed('tags', { tags: ['a'] }, 'w1:1:0')).json()).toEqual({ tags: ['a'] });
      expect((await call('DELETE', `/experiments/${key}/tags/a`)).json()).toEqual({ tags: [] });
      // A late replay of the add must not bring the removed tag back.
      const tagReplay = await keyed('tags', { tags: ['a'] }, 'w1:1:0');
      expect(tagReplay.statusCode).toBe(200);
      expect(tagReplay.json()).toEqual({ tags: [] });
      const tagRace = await Promise.all([1, 2, 3].map(() => keyed('tags', { tags: ['b', 'c'] }, 'w1:2:0')));
      expect(tagRace.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      expect((await call('GET', `/experiments/${key}/tags`)).json()).toEqual({ tags: ['b', 'c'] });

      // Keys are per experiment.
      const other = await newExperiment();
      expect((await keyed('params', params, 'w1:1:0', other)).statusCode).toBe(204);
      expect((await call('GET', `/experiments/${other}/params`)).json().items).toHaveLength(1);

      // A refused call records nothing: fixed and resent under its key, it is stored.
      expectProblem(await keyed('params', { values: { '': 1 } }, 'w1:3:0'), 400);
      expect((await keyed('params', { values: { fixed: 1 } }, 'w1:3:0')).statusCode).toBe(204);
      expect(
        (await call('GET', `/experiments/${key}/params`)).json().items.map((v: { name: string }) => v.name),
      ).toEqual(['fixed', 'lr']);
      expectProblem(await keyed('params', params, 'has space'), 400);
      expectProblem(await keyed('params', params, 'x'.repeat(256)), 400);
    });
  });

  describe('documents', () => {
    const documents: Record<string, string> = {
      html: '<h1>Report</h1>',
      code: 'import torch\nprint("héllo")\n',
      graph: 'digraph { a -> b }',
      'git-metadata': JSON.stringify({ branch: 'main', parent: 'abc', user: 'ada', root: '/src', origin: null }),
      'system-details': JSON.stringify({ hostname: 'gpu-3', os: 'Linux', pid: 42 }),
      'cloud-details': JSON.stringify({ provider: 'aws', metadata: { region: 'eu-west-1' } }),
      dependencies: JSON.stringify([
        { name: 'torch', version: '2.3.0' },
        { name: 'numpy', version: null },
      ]),
    };

    it('stores each kind whole, lists kinds with size and time, and 404s a kind never logged', async () => {
      const key = await newExperiment();
      expect((await call('GET', `/experiments/${key}/documents`)).json()).toEqual({ items: [] });
      for (const kind of Object.keys(documents)) {
        expectProblem(await call('GET', `/experiments/${key}/documents/${kind}`), 404);
      }
      const before = Date.now();
      for (const [kind, content] of Object.entries(documents)) {
        const put = await call('PUT', `/experiments/${key}/documents/${kind}`, { body: { content } });
        expect(put.statusCode, `${kind}: ${put.body}`).toBe(204);
      }
      for (const [kind, content] of Object.entries(documents)) {
        const read = await call('GET', `/experiments/${key}/documents/${kind}`);
        expect(read.statusCode).toBe(200);
        expect(read.json()).toMatchObject({ kind, content });
        expect(read.json().updatedAt).toBeGreaterThanOrEqual(before);
      }
      const listed = (await call('GET', `/experiments/${key}/documents`)).json().items as {
        kind: string;
        size: number;
        updatedAt: number;
      }[];
      expect(listed.map((d) => d.kind)).toEqual(Object.keys(documents).sort());
      for (const item of listed) {
        expect(item.size).toBe(Buffer.byteLength(documents[item.kind] as string, 'utf8'));
        expect(item.updatedAt).toBeGreaterThanOrEqual(before);
      }
      // A PUT replaces (html too).
      await call('PUT', `/experiments/${key}/documents/html`, { body: { content: '<p>v2</p>' } });
      expect((await call('GET', `/experiments/${key}/documents/html`)).json().content).toBe('<p>v2</p>');
      // Comet's readers see what Cairn wrote.
      const comet = await t.app.inject({
        method: 'GET',
        url: `/api/rest/v2/experiment/system-details?experimentKey=${key}`,
        headers: { authorization: t.adminKey },
      });
      expect(comet.json()).toMatchObject({ hostname: 'gpu-3', os: 'Linux', pid: 42 });
    });

    it('refuses JSON kinds that are not JSON of their shape, unknown kinds and bad bodies', async () => {
      const key = await newExperiment();
      const bad: [string, unknown][] = [
        ['git-metadata', { content: 'not json' }],
        ['system-details', { content: '[1,2]' }],
        ['cloud-details', { content: '"text"' }],
        ['dependencies', { content: '{"name":"torch"}' }],
        ['dependencies', { content: '[{"version":"1"}]' }],
        ['dependencies', { content: '[{"name":"torch","version":2}]' }],
        ['html', { content: { a: 1 } }],
        ['html', {}],
        ['html', { content: 'x', extra: 1 }],
        ['notes', { content: 'x' }],
      ];
      for (const [kind, body] of bad) {
        expectProblem(await call('PUT', `/experiments/${key}/documents/${kind}`, { body }), 400, JSON.stringify(body));
      }
      expect((await call('GET', `/experiments/${key}/documents`)).json()).toEqual({ items: [] });
    });
  });

  describe('git patch', () => {
    it('stores the raw bytes and streams them back as text/x-diff; a zip as application/zip', async () => {
      const key = await newExperiment();
      expectProblem(await call('GET', `/experiments/${key}/git/patch`), 404);
      const patch = Buffer.concat([Buffer.from('diff --git a/x b/x\n+é\n'), sampleBytes(5000)]);
      const put = await call('PUT', `/experiments/${key}/git/patch`, {
        payload: patch,
        headers: { 'content-type': 'text/x-diff' },
      });
      expect(put.statusCode, put.body).toBe(204);
      const read = await call('GET', `/experiments/${key}/git/patch`);
      expect(read.statusCode).toBe(200);
      expect(read.headers['content-type']).toBe('text/x-diff; charset=utf-8');
      expect(read.rawPayload.equals(patch)).toBe(true);

      // Any media type, replacing the earlier patch.
      const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), sampleBytes(100, 3)]);
      expect(
        (
          await call('PUT', `/experiments/${key}/git/patch`, {
            payload: zip,
            headers: { 'content-type': 'application/octet-stream' },
          })
        ).statusCode,
      ).toBe(204);
      const zipped = await call('GET', `/experiments/${key}/git/patch`);
      expect(zipped.headers['content-type']).toBe('application/zip');
      expect(zipped.rawPayload.equals(zip)).toBe(true);

      // The Comet facade reads the same patch.
      const comet = await t.app.inject({
        method: 'GET',
        url: `/api/rest/v2/experiment/git/patch?experimentKey=${key}`,
        headers: { authorization: t.adminKey },
      });
      expect(comet.rawPayload.equals(zip)).toBe(true);
    });

    it('refuses a patch over the asset limit with 413 and keeps the old one', async () => {
      const key = await newExperiment();
      await call('PUT', `/experiments/${key}/git/patch`, {
        payload: 'old',
        headers: { 'content-type': 'text/x-diff' },
      });
      const tooBig = Buffer.alloc(1024 * 1024 + 1, 0x61);
      expectProblem(
        await call('PUT', `/experiments/${key}/git/patch`, {
          payload: tooBig,
          headers: { 'content-type': 'text/x-diff' },
        }),
        413,
      );
      expect((await call('GET', `/experiments/${key}/git/patch`)).body).toBe('old');
      expectProblem(await call('PUT', `/experiments/${key}/git/patch`), 400);
    });
  });

  describe('output', () => {
    it('pages every line in arrival order to the end, with total, and filters by stream and search', async () => {
      const key = await newExperiment();
      const n = 2503;
      const all = Array.from({ length: n }, (_, i) => ({
        text: i % 10 === 0 ? `Epoch ${i}: LOSS 0.${i}` : `step ${i} 100%_done`,
        stderr: i % 7 === 0,
        context: i % 2 === 0 ? 'train' : null,
        timestamp: 1_700_000_000_000 + i,
      }));
      for (let start = 0; start < n; start += 1000) {
        const posted = await call('POST', `/experiments/${key}/output`, {
          body: { lines: all.slice(start, start + 1000) },
        });
        expect(posted.statusCode, posted.body).toBe(204);
      }

      async function readAll(query: string, limit: number) {
        const items: { seq: number; text: string; stderr: boolean; context: string | null; timestamp: number }[] = [];
        const totals: number[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const url: string = `/experiments/${key}/output?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
          const page = await call('GET', url);
          expect(page.statusCode, page.body).toBe(200);
          const body = page.json();
          items.push(...body.items);
          totals.push(body.total);
          cursor = body.nextCursor;
          pages += 1;
        } while (cursor);
        return { items, totals, pages };
      }

      const expected = all.map((line, i) => ({ seq: i + 1, ...line }));
      const whole = await readAll('', 1000);
      expect(whole.items).toEqual(expected);
      expect(whole.pages).toBe(3);
      expect(new Set(whole.totals)).toEqual(new Set([n]));

      const stderr = await readAll('&stream=stderr', 100);
      expect(stderr.items).toEqual(expected.filter((l) => l.stderr));
      expect(new Set(stderr.totals)).toEqual(new Set([expected.filter((l) => l.stderr).length]));
      const stdout = await readAll('&stream=stdout', 1000);
      expect(stdout.items).toEqual(expected.filter((l) => !l.stderr));

      // Case-insensitive substring; LIKE wildcards in the search are plain characters.
      const searched = await readAll('&search=loss%200.1', 7);
      expect(searched.items).toEqual(expected.filter((l) => l.text.toLowerCase().includes('loss 0.1')));
      expect(new Set(searched.totals)).toEqual(new Set([searched.items.length]));
      const literal = await readAll(`&search=${encodeURIComponent('0%_d')}`, 1000);
      expect(literal.items).toEqual(expected.filter((l) => l.text.includes('0%_d')));
      expect((await readAll(`&search=${encodeURIComponent('%')}&stream=stderr`, 1000)).items).toEqual(
        expected.filter((l) => l.stderr && l.text.includes('%')),
      );
      expect((await readAll('&search=nothing-like-this', 10)).items).toEqual([]);

      // Lines logged while a reader pages are counted and reached on later pages.
      const first = (await call('GET', `/experiments/${key}/output?limit=2500`)).json();
      expect(first.total).toBe(n);
      await call('POST', `/experiments/${key}/output`, { body: { lines: [{ text: 'late line' }] } });
      const rest = (
        await call('GET', `/experiments/${key}/output?limit=2500&cursor=${encodeURIComponent(first.nextCursor)}`)
      ).json();
      expect(rest.total).toBe(n + 1);
      expect(rest.items.map((l: { seq: number }) => l.seq)).toEqual([2501, 2502, 2503, 2504]);
      expect(rest.items[3]).toMatchObject({ text: 'late line', stderr: false, context: null });
      expect(rest.nextCursor).toBeNull();

      // A cursor belongs to its query.
      const page = (await call('GET', `/experiments/${key}/output?limit=10&stream=stderr`)).json();
      expectProblem(
        await call('GET', `/experiments/${key}/output?limit=10&cursor=${encodeURIComponent(page.nextCursor)}`),
        400,
      );
      expectProblem(await call('GET', `/experiments/${key}/output?cursor=garbage`), 400);
      expectProblem(await call('GET', `/experiments/${key}/output?limit=0`), 400);
      expectProblem(await call('GET', `/experiments/${key}/output?stream=both`), 400);
    });

    it('refuses bad lines with 400 and appends nothing of the call', async () => {
      const key = await newExperiment();
      for (const body of [
        { lines: [{ text: 'ok' }, { text: {} }] },
        { lines: [{ text: 'ok' }, { text: 'x', timestamp: -1 }] },
        { lines: [{ text: 'ok', stderr: 'maybe' }] },
        { lines: 'ok' },
        { lines: [{ text: 'ok' }], more: 1 },
      ]) {
        expectProblem(await call('POST', `/experiments/${key}/output`, { body }), 400, JSON.stringify(body));
      }
      expect((await call('GET', `/experiments/${key}/output`)).json()).toEqual({
        items: [],
        nextCursor: null,
        total: 0,
      });
    });
  });

  describe('assets and models', () => {
    it('uploads with every field, lists, downloads with content types and ranges, and deletes', async () => {
      const key = await newExperiment();
      const bytes = sampleBytes(10_000);
      const created = await upload(key, [
        ['fileName', 'plots/loss.png'],
        ['type', 'image'],
        ['step', '12'],
        ['epoch', '3'],
        ['context', 'val'],
        ['metadata', '{"w":640}'],
        ['file', bytes, 'ignored.bin'],
      ]);
      expect(created.statusCode, created.body).toBe(201);
      const asset = created.json();
      expect(asset).toMatchObject({
        fileName: 'plots/loss.png',
        size: 10_000,
        type: 'image',
        contentType: 'image/png',
        step: 12,
        epoch: 3,
        context: 'val',
        metadata: '{"w":640}',
        model: null,
        remote: false,
        link: null,
      });
      expect(typeof asset.id).toBe('string');
      const text = await upload(key, [['file', Buffer.from('hello,world\n1,2\n'), 'table.CSV']]);
      expect(text.json()).toMatchObject({
        fileName: 'table.CSV',
        type: 'asset',
        contentType: 'text/csv; charset=utf-8',
        step: null,
        epoch: null,
        context: null,
        metadata: null,
      });
      const unknown = await upload(key, [['file', Buffer.from([1, 2, 3]), 'weights.ckpt']]);
      expect(unknown.json().contentType).toBe('application/octet-stream');

      const listed = (await call('GET', `/experiments/${key}/assets`)).json().items;
      expect(listed.map((a: { fileName: string }) => a.fileName)).toEqual([
        'plots/loss.png',
        'table.CSV',
        'weights.ckpt',
      ]);
      expect(listed[0]).toEqual(asset);
      expect((await call('GET', `/experiments/${key}/assets?type=image`)).json().items).toEqual([asset]);
      expect((await call('GET', `/experiments/${key}/assets?type=audio`)).json().items).toEqual([]);

      const whole = await call('GET', `/experiments/${key}/assets/${asset.id}`);
      expect(whole.statusCode).toBe(200);
      expect(whole.headers['content-type']).toBe('image/png');
      expect(whole.headers['content-length']).toBe('10000');
      expect(whole.headers['accept-ranges']).toBe('bytes');
      expect(whole.headers['x-content-type-options']).toBe('nosniff');
      expect(whole.headers['content-disposition']).toBe("inline; filename*=UTF-8''loss.png");
      expect(whole.rawPayload.equals(bytes)).toBe(true);

      const part = await call('GET', `/experiments/${key}/assets/${asset.id}`, { headers: { range: 'bytes=100-199' } });
      expect(part.statusCode).toBe(206);
      expect(part.headers['content-range']).toBe('bytes 100-199/10000');
      expect(part.headers['content-length']).toBe('100');
      expect(part.rawPayload.equals(bytes.subarray(100, 200))).toBe(true);
      const tail = await call('GET', `/experiments/${key}/assets/${asset.id}`, { headers: { range: 'bytes=-10' } });
      expect(tail.statusCode).toBe(206);
      expect(tail.rawPayload.equals(bytes.subarray(9990))).toBe(true);
      const open = await call('GET', `/experiments/${key}/assets/${asset.id}`, { headers: { range: 'bytes=9999-' } });
      expect(open.headers['content-range']).toBe('bytes 9999-9999/10000');
      const beyond = await call('GET', `/experiments/${key}/assets/${asset.id}`, {
        headers: { range: 'bytes=10000-' },
      });
      expectProblem(beyond, 416);
      expect(beyond.headers['content-range']).toBe('bytes */10000');

      expect((await call('DELETE', `/experiments/${key}/assets/${asset.id}`)).statusCode).toBe(204);
      expectProblem(await call('GET', `/experiments/${key}/assets/${asset.id}`), 404);
      expectProblem(await call('DELETE', `/experiments/${key}/assets/${asset.id}`), 404);
      expect((await call('GET', `/experiments/${key}/assets`)).json().items).toHaveLength(2);
    });

    it('takes fields sent after the file part as if they had come first', async () => {
      const key = await newExperiment();
      const other = await newExperiment();
      const taken = await upload(other, [
        ['id', 'taken-elsewhere'],
        ['file', Buffer.from('x'), 'x.txt'],
      ]);
      expect(taken.statusCode, taken.body).toBe(201);
      const created = await upload(key, [
        ['step', '4'],
        ['file', Buffer.from('late fields'), 'part-name.txt'],
        ['id', 'late-1'],
        ['fileName', 'notes/late.txt'],
        ['model', 'net'],
        ['epoch', '2'],
        ['context', 'train'],
        ['metadata', '{"late":true}'],
      ]);
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({
        id: 'late-1',
        fileName: 'notes/late.txt',
        size: 11,
        type: 'model-element',
        step: 4,
        epoch: 2,
        context: 'train',
        metadata: '{"late":true}',
        model: 'net',
      });
      expect((await call('GET', `/experiments/${key}/assets/late-1`)).body).toBe('late fields');
      // A late id is checked like an early one: in use by another experiment is 409, nothing stored.
      const clash = await upload(key, [
        ['file', Buffer.from('x'), 'x.txt'],
        ['id', 'taken-elsewhere'],
      ]);
      expectProblem(clash, 409);
      expect((await call('GET', `/experiments/${key}/assets`)).json().items).toHaveLength(1);
    });

    it('replaces an asset uploaded again under its id (one copy), and refuses an id of another experiment', async () => {
      const key = await newExperiment();
      const id = `retry${Date.now().toString(36)}${backend}`;
      const first = await upload(key, [
        ['id', id],
        ['fileName', 'model.bin'],
        ['file', sampleBytes(300, 1), 'f'],
      ]);
      expect(first.statusCode, first.body).toBe(201);
      expect(first.json().id).toBe(id);
      const again = await upload(key, [
        ['id', id],
        ['fileName', 'model.bin'],
        ['step', '2'],
        ['file', sampleBytes(500, 2), 'f'],
      ]);
      expect(again.statusCode, again.body).toBe(201);
      expect(again.json()).toMatchObject({ id, size: 500, step: 2 });
      const listed = (await call('GET', `/experiments/${key}/assets`)).json().items;
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ id, size: 500, step: 2 });
      expect((await call('GET', `/experiments/${key}/assets/${id}`)).rawPayload.equals(sampleBytes(500, 2))).toBe(true);

      // A retry racing its original: one copy either way.
      const racing = await Promise.all(
        [3, 4, 5].map((seed) =>
          upload(key, [
            ['id', id],
            ['fileName', 'model.bin'],
            ['file', sampleBytes(700, seed), 'f'],
          ]),
        ),
      );
      expect(racing.map((r) => r.statusCode)).toEqual([201, 201, 201]);
      const afterRace = (await call('GET', `/experiments/${key}/assets`)).json().items;
      expect(afterRace).toHaveLength(1);
      const stored = (await call('GET', `/experiments/${key}/assets/${id}`)).rawPayload;
      expect([3, 4, 5].some((seed) => stored.equals(sampleBytes(700, seed)))).toBe(true);

      const other = await newExperiment();
      expectProblem(
        await upload(other, [
          ['id', id],
          ['file', sampleBytes(10), 'f.bin'],
        ]),
        409,
      );
      expect((await call('GET', `/experiments/${other}/assets`)).json().items).toEqual([]);
      expect((await call('GET', `/experiments/${key}/assets/${id}`)).rawPayload.equals(stored)).toBe(true);
    });

    it('groups model files into models', async () => {
      const key = await newExperiment();
      expect((await call('GET', `/experiments/${key}/models`)).json()).toEqual({ items: [] });
      const weights = await upload(key, [
        ['model', 'resnet'],
        ['fileName', 'resnet/weights.pt'],
        ['file', sampleBytes(64), 'w'],
      ]);
      expect(weights.statusCode, weights.body).toBe(201);
      expect(weights.json()).toMatchObject({ type: 'model-element', model: 'resnet' });
      await upload(key, [
        ['model', 'resnet'],
        ['type', 'model-element'],
        ['fileName', 'resnet/config.json'],
        ['file', Buffer.from('{}'), 'c'],
      ]);
      await upload(key, [
        ['model', 'vit'],
        ['fileName', 'vit.onnx'],
        ['file', sampleBytes(8), 'v'],
      ]);
      await upload(key, [
        ['fileName', 'plain.txt'],
        ['file', Buffer.from('x'), 'p'],
      ]);
      const models = (await call('GET', `/experiments/${key}/models`)).json().items;
      expect(
        models.map((m: { name: string; assets: { fileName: string }[] }) => [m.name, m.assets.map((a) => a.fileName)]),
      ).toEqual([
        ['resnet', ['resnet/weights.pt', 'resnet/config.json']],
        ['vit', ['vit.onnx']],
      ]);
      expect(models[0].createdAt).toBeTypeOf('number');
      expect(models[0].assets[0]).toEqual(weights.json());
      expectProblem(
        await upload(key, [
          ['model', 'resnet'],
          ['type', 'image'],
          ['file', Buffer.from('x'), 'x.png'],
        ]),
        400,
      );
    });

    it('logs a remote asset from a link and no file part, and redirects its download to the link', async () => {
      const key = await newExperiment();
      const created = await upload(key, [
        ['id', 'remote-1'],
        ['fileName', 'data/train.csv'],
        ['type', 'dataset'],
        ['step', '4'],
        ['context', 'train'],
        ['metadata', '{"rows": 10}'],
        ['link', 's3://bucket/data/train.csv'],
      ]);
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({
        id: 'remote-1',
        fileName: 'data/train.csv',
        size: 0,
        type: 'dataset',
        step: 4,
        epoch: null,
        context: 'train',
        metadata: '{"rows": 10}',
        remote: true,
        link: 's3://bucket/data/train.csv',
      });
      expect((await call('GET', `/experiments/${key}/assets`)).json().items).toEqual([created.json()]);
      const download = await call('GET', `/experiments/${key}/assets/remote-1`);
      expect(download.statusCode).toBe(302);
      expect(download.headers.location).toBe('s3://bucket/data/train.csv');
      // A link and bytes at once is a contradiction; nothing is stored.
      expectProblem(
        await upload(key, [
          ['link', 'https://example.com/x'],
          ['file', Buffer.from('x'), 'x.txt'],
        ]),
        400,
      );
      expectProblem(await upload(key, [['link', 'https://example.com/\u0001']]), 400);
      expect((await call('GET', `/experiments/${key}/assets`)).json().items).toHaveLength(1);
    });

    it('refuses bad uploads with 400 (or 413) and stores nothing', async () => {
      const key = await newExperiment();
      for (const parts of [
        [['fileName', 'x.txt']],
        [
          ['step', 'one'],
          ['file', Buffer.from('x'), 'x.txt'],
        ],
        [
          ['step', '1.5'],
          ['file', Buffer.from('x'), 'x.txt'],
        ],
        [
          ['metadata', '{not json'],
          ['file', Buffer.from('x'), 'x.txt'],
        ],
        [
          ['id', 'bad id!'],
          ['file', Buffer.from('x'), 'x.txt'],
        ],
        [
          ['colour', 'red'],
          ['file', Buffer.from('x'), 'x.txt'],
        ],
        [
          ['file', Buffer.from('x'), 'x.txt'],
          ['step', 'one'],
        ],
        [
          ['file', Buffer.from('x'), 'x.txt'],
          ['link', 's3://bucket/x'],
        ],
        [
          ['file', Buffer.from('x'), 'x.txt'],
          ['colour', 'red'],
        ],
        [
          ['file', Buffer.from('x'), 'x.txt'],
          ['type', 'image'],
          ['model', 'net'],
        ],
        [
          ['fileName', 'bad\u0001name'],
          ['file', Buffer.from('x'), 'x.txt'],
        ],
      ] as Part[][]) {
        expectProblem(await upload(key, parts), 400);
      }
      expectProblem(await upload(key, [['file', Buffer.alloc(1024 * 1024 + 1), 'big.bin']]), 413);
      expectProblem(await call('POST', `/experiments/${key}/assets`, { body: { file: 'x' } }), 400);
      expect((await call('GET', `/experiments/${key}/assets`)).json()).toEqual({ items: [] });
    });
  });

  describe('tenancy', () => {
    it('hides experiments from other tenants (404) and refuses writes with a read-only key (403)', async () => {
      const key = await newExperiment();
      await call('POST', `/experiments/${key}/params`, { body: { values: { lr: 1 } } });
      await call('POST', `/experiments/${key}/tags`, { body: { tags: ['keep'] } });
      await call('PUT', `/experiments/${key}/documents/code`, { body: { content: 'x' } });
      await call('PUT', `/experiments/${key}/git/patch`, { payload: 'p', headers: { 'content-type': 'text/x-diff' } });
      await call('POST', `/experiments/${key}/output`, { body: { lines: [{ text: 'l' }] } });
      const assetId = (await upload(key, [['file', Buffer.from('a'), 'a.txt']])).json().id;

      const reads = [
        'params',
        'others',
        'tags',
        'documents',
        'documents/code',
        'git/patch',
        'output',
        'assets',
        `assets/${assetId}`,
        'models',
      ];
      for (const path of reads) {
        expectProblem(await call('GET', `/experiments/${key}/${path}`, { key: t.otherKey }), 404);
        expect((await call('GET', `/experiments/${key}/${path}`, { key: t.readOnlyKey })).statusCode, path).toBe(200);
      }
      const file = await multipart([['file', Buffer.from('b'), 'b.txt']]);
      const writes: [method: 'POST' | 'PUT' | 'DELETE', path: string, options: Parameters<typeof call>[2]][] = [
        ['POST', 'params', { body: { values: { lr: 2 } } }],
        ['POST', 'others', { body: { values: { lr: 2 } } }],
        ['POST', 'tags', { body: { tags: ['x'] } }],
        ['DELETE', 'tags/keep', {}],
        ['PUT', 'documents/code', { body: { content: 'y' } }],
        ['PUT', 'git/patch', { payload: 'q', headers: { 'content-type': 'text/x-diff' } }],
        ['POST', 'output', { body: { lines: [{ text: 'm' }] } }],
        ['POST', 'assets', { payload: file.payload, headers: file.headers }],
        ['DELETE', `assets/${assetId}`, {}],
      ];
      for (const [method, path, options] of writes) {
        expectProblem(await call(method, `/experiments/${key}/${path}`, { ...options, key: t.otherKey }), 404);
        expectProblem(await call(method, `/experiments/${key}/${path}`, { ...options, key: t.readOnlyKey }), 403);
      }
      expect((await call('GET', `/experiments/${key}/params?history=true`)).json().items).toHaveLength(1);
      expect((await call('GET', `/experiments/${key}/tags`)).json()).toEqual({ tags: ['keep'] });
      expect((await call('GET', `/experiments/${key}/documents/code`)).json().content).toBe('x');
      expect((await call('GET', `/experiments/${key}/git/patch`)).body).toBe('p');
      expect((await call('GET', `/experiments/${key}/output`)).json().total).toBe(1);
      expect((await call('GET', `/experiments/${key}/assets`)).json().items).toHaveLength(1);
      const missing = `${'0'.repeat(31)}9`;
      expectProblem(await call('GET', `/experiments/${missing}/params`), 404);
      expectProblem(await call('POST', `/experiments/${missing}/params`, { body: { values: { a: 1 } } }), 404);
    });
  });
});
