import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('keeps 256 MiB of decoded metric blocks unless CAIRN_SERIES_CACHE_MIB says otherwise', () => {
    expect(loadConfig({}).seriesCacheBytes).toBe(256 * 1024 * 1024);
    expect(loadConfig({ CAIRN_SERIES_CACHE_MIB: '1024' }).seriesCacheBytes).toBe(1024 * 1024 * 1024);
    expect(() => loadConfig({ CAIRN_SERIES_CACHE_MIB: 'lots' })).toThrow(ConfigError);
  });

  it('lets a decoded block idle five minutes unless CAIRN_SERIES_CACHE_IDLE_SECONDS says otherwise', () => {
    expect(loadConfig({}).seriesCacheIdleMillis).toBe(300_000);
    expect(loadConfig({ CAIRN_SERIES_CACHE_IDLE_SECONDS: '60' }).seriesCacheIdleMillis).toBe(60_000);
  });

  it('holds ten PostgreSQL connections unless CAIRN_DATABASE_POOL_SIZE says otherwise, and at least one', () => {
    expect(loadConfig({}).databasePoolSize).toBe(10);
    expect(loadConfig({ CAIRN_DATABASE_POOL_SIZE: '40' }).databasePoolSize).toBe(40);
    for (const wrong of ['0', '-1', '2.5', 'many']) {
      expect(() => loadConfig({ CAIRN_DATABASE_POOL_SIZE: wrong }), wrong).toThrow(ConfigError);
    }
  });

  it('allows public webhook receivers only unless CAIRN_WEBHOOK_ALLOW_HOSTS lists internal ones', () => {
    expect(loadConfig({}).webhookAddressRules.isStrict).toBe(true);
    const rules = loadConfig({ CAIRN_WEBHOOK_ALLOW_HOSTS: '10.0.0.0/8,hooks.internal' }).webhookAddressRules;
    expect(rules.refuseAddress('a.example', '10.1.1.1')).toBeUndefined();
    expect(rules.refuseAddress('a.example', '192.168.1.1')).toMatch(/private address/);
    expect(() => loadConfig({ CAIRN_WEBHOOK_ALLOW_HOSTS: '10.0.0.0/40' })).toThrow(ConfigError);
  });

  it('allows no cross-origin callers unless CAIRN_CORS_ORIGINS lists their origins', () => {
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ CAIRN_CORS_ORIGINS: ' https://a.example/ , http://localhost:5173' }).corsOrigins).toEqual([
      'https://a.example',
      'http://localhost:5173',
    ]);
    for (const wrong of ['*', 'a.example', 'https://a.example/path', 'ftp://a.example']) {
      expect(() => loadConfig({ CAIRN_CORS_ORIGINS: wrong }), wrong).toThrow(ConfigError);
    }
  });
});

describe('loadConfig: limits', () => {
  it('leaves the rate and upload limits off and bounds slow clients by default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      rateLimitRequestsPerSecond: 0,
      rateLimitPointsPerSecond: 0,
      maxConcurrentUploads: 0,
      maxConcurrentUploadsPerKey: 0,
      headersTimeoutMillis: 30_000,
      requestTimeoutMillis: 0,
      bodyIdleTimeoutMillis: 60_000,
    });
  });

  it('gives a rate two seconds of burst unless told, and refuses a headers timeout beyond the request timeout', () => {
    const config = loadConfig({
      CAIRN_RATE_LIMIT_REQUESTS_PER_SECOND: '50',
      CAIRN_RATE_LIMIT_POINTS_PER_SECOND: '10000',
      CAIRN_RATE_LIMIT_POINTS_BURST: '100000',
    });
    expect(config.rateLimitRequestsBurst).toBe(100);
    expect(config.rateLimitPointsBurst).toBe(100_000);
    expect(() => loadConfig({ CAIRN_REQUEST_TIMEOUT_MS: '1000', CAIRN_HEADERS_TIMEOUT_MS: '5000' })).toThrow(
      ConfigError,
    );
    expect(loadConfig({ CAIRN_REQUEST_TIMEOUT_MS: '600000' }).requestTimeoutMillis).toBe(600_000);
  });
});
