import { describe, expect, it } from 'vitest';
import { AllowlistError, classifyAddress, WebhookAddressRules } from './webhook-address-rules.js';

/** The host as the sender sees it: what the WHATWG URL parser makes of the URL's host. */
const hostOf = (url: string) => new URL(url).hostname;

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.5', 'private'],
    ['172.16.3.4', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fec0::1', 'private'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.254', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.170.2', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['not an address', 'reserved'],
  ])('%s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it.each([
    // IPv4-mapped, in both spellings, with and without brackets
    ['::ffff:127.0.0.1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['::ffff:10.0.0.5', 'private'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['::ffff:8.8.8.8', 'public'],
    // IPv4-compatible (deprecated), SIIT, NAT64 and 6to4 carry an IPv4 address too
    ['::127.0.0.1', 'loopback'],
    ['::a00:5', 'private'],
    ['::ffff:0:a00:5', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:0808:0808::1', 'public'],
  ])('the IPv6 form %s is %s', (address, kind) => {
    expect(classifyAddress(address)).toBe(kind);
  });

  it('reads the tricky host spellings the way the URL parser hands them over', () => {
    expect(hostOf('http://0x7f.1/')).toBe('127.0.0.1');
    expect(hostOf('http://2130706433/')).toBe('127.0.0.1');
    expect(hostOf('http://017700000001/')).toBe('127.0.0.1');
    expect(hostOf('http://[::ffff:127.0.0.1]/')).toBe('[::ffff:7f00:1]');
    for (const url of ['http://0x7f.1/', 'http://2130706433/', 'http://017700000001/', 'http://[::ffff:127.0.0.1]/']) {
      expect(classifyAddress(hostOf(url)), url).toBe('loopback');
    }
    // A spelling only inet_aton reads is not taken for an address: it goes to the resolver, whose answers are checked.
    expect(classifyAddress('0x7f.1')).toBe('reserved');
    expect(classifyAddress('2130706433')).toBe('reserved');
  });
});

describe('WebhookAddressRules', () => {
  const strict = WebhookAddressRules.strict;

  it('refuses loopback and metadata names before any lookup, however they are written', () => {
    expect(strict.refuseHost('localhost')).toBe(
      'localhost is a loopback name (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
    );
    expect(strict.refuseHost(hostOf('http://localhost./'))).toMatch(/^localhost is a loopback name/);
    expect(strict.refuseHost('LOCALHOST')).toMatch(/loopback/);
    expect(strict.refuseHost('api.localhost')).toMatch(/loopback/);
    expect(strict.refuseHost('metadata.google.internal.')).toBe(
      'metadata.google.internal is a cloud metadata name (never allowed)',
    );
    expect(strict.refuseHost(hostOf('http://[::ffff:127.0.0.1]/'))).toBe(
      '::ffff:7f00:1 is a loopback address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
    );
    expect(strict.refuseHost(hostOf('http://0x7f.1/'))).toMatch(/^127\.0\.0\.1 is a loopback address/);
    expect(strict.refuseHost('hooks.example.com')).toBeUndefined();
    expect(strict.refuseHost('93.184.216.34')).toBeUndefined();
  });

  it('refuses resolved addresses that are not public, naming the address and the setting', () => {
    expect(strict.refuseAddress('hooks.example.com', '10.0.0.5')).toBe(
      '10.0.0.5 is a private address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
    );
    expect(strict.refuseAddress('hooks.example.com', '100.64.1.1')).toMatch(/carrier-grade NAT address/);
    expect(strict.refuseAddress('hooks.example.com', 'fe80::1')).toMatch(/^fe80::1 is a link-local address/);
    expect(strict.refuseAddress('hooks.example.com', '::')).toMatch(/an unspecified address/);
    expect(strict.refuseAddress('hooks.example.com', '93.184.216.34')).toBeUndefined();
  });

  it('allows what the operator lists: addresses, blocks in any IPv6 form, names and name suffixes', () => {
    const rules = WebhookAddressRules.parse(
      ' 127.0.0.1 , 10.0.0.0/8,fd00::/8, ::ffff:192.168.0.0/112,hooks.internal., *.corp.example',
    );
    expect(rules.isStrict).toBe(false);
    expect(rules.refuseHost('127.0.0.1')).toBeUndefined();
    expect(rules.refuseHost('::ffff:127.0.0.1')).toBeUndefined();
    expect(rules.refuseHost('127.0.0.2')).toMatch(/loopback address/);
    expect(rules.refuseAddress('x.example', '10.200.0.1')).toBeUndefined();
    expect(rules.refuseAddress('x.example', '::ffff:10.200.0.1')).toBeUndefined();
    expect(rules.refuseAddress('x.example', '172.16.0.1')).toMatch(/private address/);
    expect(rules.refuseAddress('x.example', 'fd12::1')).toBeUndefined();
    expect(rules.refuseAddress('x.example', '192.168.3.4')).toBeUndefined();
    // A name vouched for may resolve to any internal address...
    expect(rules.refuseAddress('HOOKS.internal', '172.16.0.1')).toBeUndefined();
    expect(rules.refuseAddress('ci.corp.example', '192.168.9.9')).toBeUndefined();
    expect(rules.refuseAddress('corp.example', '172.20.0.1')).toMatch(/private address/);
    // ...but never to a metadata service, and no block opens one.
    expect(rules.refuseAddress('hooks.internal', '169.254.169.254')).toMatch(
      /cloud metadata address \(never allowed\)/,
    );
    expect(WebhookAddressRules.parse('169.254.0.0/16').refuseAddress('a.example', '169.254.169.254')).toMatch(
      /never allowed/,
    );
    expect(WebhookAddressRules.parse('169.254.0.0/16').refuseAddress('a.example', '169.254.1.1')).toBeUndefined();
    expect(WebhookAddressRules.parse('localhost').refuseHost('localhost')).toBeUndefined();
    expect(WebhookAddressRules.parse('metadata.google.internal').refuseHost('metadata.google.internal')).toMatch(
      /never allowed/,
    );
  });

  it('is strict when unset or empty, and names an entry it cannot read', () => {
    expect(WebhookAddressRules.parse(undefined).isStrict).toBe(true);
    expect(WebhookAddressRules.parse(' , ').isStrict).toBe(true);
    expect(() => WebhookAddressRules.parse('10.0.0.0/33')).toThrow(AllowlistError);
    expect(() => WebhookAddressRules.parse('10.0.0.0/33')).toThrow('"10.0.0.0/33" is not a CIDR block');
    expect(() => WebhookAddressRules.parse('hooks.internal:8080')).toThrow(
      /not an address, a CIDR block or a host name/,
    );
    expect(() => WebhookAddressRules.parse('http://hooks.internal')).toThrow(AllowlistError);
  });
});
