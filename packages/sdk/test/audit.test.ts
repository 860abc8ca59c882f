import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, Cairn, PermissionDeniedError } from '../src/node.js';
import { startTestServer, type TestServer } from './support/server.js';

/** The SDK's own keys with an expiry, and the audit log read by an administrator, against a real server. */
describe('keys and the audit log', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const client = (apiKey = server.apiKey) => new Cairn({ url: server.url, apiKey, maxRetries: 0 });

  it('creates a key that expires, lists it, and pages through the audit log newest first', async () => {
    const cairn = client();
    const expiresAt = Date.now() + 3_600_000;
    const created = [];
    for (const name of ['one', 'two', 'three']) created.push(await cairn.apiKeys.create({ name, expiresAt }));
    expect(created.map((c) => c.key.expiresAt)).toEqual([expiresAt, expiresAt, expiresAt]);
    expect((await cairn.apiKeys.list()).find((k) => k.id === created[0]?.key.id)?.expiresAt).toBe(expiresAt);

    const first = await cairn.audit.list({ action: 'key.create', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.hasNextPage()).toBe(true);
    const all = [];
    for await (const event of cairn.audit.list({ action: 'key.create', limit: 2 })) all.push(event);
    expect(all.map((e) => e.targetName)).toEqual(['three', 'two', 'one']);
    expect(all.every((e) => e.actorName === 'admin' && e.source === 'api')).toBe(true);

    // An expired key is refused; a user who is no administrator cannot read the log.
    await server.core.auth.createUser('eve');
    const { secret } = await server.core.auth.createKey('eve', 'k', ['read', 'write', 'admin']);
    await expect(client(secret).audit.list()).rejects.toBeInstanceOf(PermissionDeniedError);
    const short = await cairn.apiKeys.create({ name: 'short', expiresAt: Date.now() + 50 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(client(short.secret).me()).rejects.toBeInstanceOf(AuthenticationError);
  });
});
