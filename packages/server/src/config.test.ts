import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('keeps 256 MiB of decoded metric blocks unless CAIRN_SERIES_CACHE_MIB says otherwise', () => {
    expect(loadConfig({}).seriesCacheBytes).toBe(256 * 1024 * 1024);
    expect(loadConfig({ CAIRN_SERIES_CACHE_MIB: '1024' }).seriesCacheBytes).toBe(1024 * 1024 * 1024);
    expect(() => loadConfig({ CAIRN_SERIES_CACHE_MIB: 'lots' })).toThrow(ConfigError);
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
