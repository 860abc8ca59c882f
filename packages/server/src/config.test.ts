import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('keeps 256 MiB of decoded metric blocks unless CAIRN_SERIES_CACHE_MIB says otherwise', () => {
    expect(loadConfig({}).seriesCacheBytes).toBe(256 * 1024 * 1024);
    expect(loadConfig({ CAIRN_SERIES_CACHE_MIB: '1024' }).seriesCacheBytes).toBe(1024 * 1024 * 1024);
    expect(() => loadConfig({ CAIRN_SERIES_CACHE_MIB: 'lots' })).toThrow(ConfigError);
  });
});
