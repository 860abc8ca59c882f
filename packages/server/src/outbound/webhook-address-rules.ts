import ipaddr from 'ipaddr.js';

/** Why an address may not receive webhooks, or `public` when it may. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade NAT'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'cloud metadata';

/** The setting that lets operators allow internal receivers, named in every refusal. */
export const ALLOW_HOSTS_VARIABLE = 'CAIRN_WEBHOOK_ALLOW_HOSTS';

/**
 * Instance metadata services (AWS, GCP, Azure, Oracle: 169.254.169.254; AWS ECS task metadata,
 * AWS's VPC resolver, AWS IPv6 IMDS, Alibaba). They hand out cloud credentials to whoever asks,
 * so no allowlist entry opens them: no webhook receiver lives there.
 */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '169.254.169.253',
  'fd00:ec2::254',
  '100.100.100.200',
]);
/** Names of those services, refused before any lookup (a resolver of the cloud answers them). */
const METADATA_NAMES = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

const IPV4_CLASS: Partial<Record<string, AddressClass>> = {
  unicast: 'public',
  private: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
};

const IPV6_CLASS: Partial<Record<string, AddressClass>> = {
  unicast: 'public',
  uniqueLocal: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  unspecified: 'unspecified',
  multicast: 'multicast',
};

/** fec0::/10, deprecated site-local addresses: private networks that predate ULA. */
const SITE_LOCAL = ipaddr.parseCIDR('fec0::/10');

/**
 * The IPv4 address an IPv6 address carries, in the forms a host may route to it: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), SIIT (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96) and
 * 6to4 (2002:aabb:ccdd::/16). `::` and `::1` are IPv6's own and carry none.
 */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const bytes = address.toByteArray();
  const v4 = (offset: number) => new ipaddr.IPv4(bytes.slice(offset, offset + 4));
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((byte) => byte === 0);
  const range = address.range();
  if (range === 'loopback' || range === 'unspecified') return undefined;
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  if (zeros(0, 12)) return v4(12);
  if (zeros(0, 8) && bytes[8] === 0xff && bytes[9] === 0xff && zeros(10, 12)) return v4(12);
  if (range === 'rfc6052') return v4(12);
  if (range === '6to4') return v4(2);
  return undefined;
}

/** The address as it is routed: the IPv4 address an IPv6 form carries, else itself. */
function routed(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' ? (embeddedIpv4(address as ipaddr.IPv6) ?? address) : address;
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  // Zone ids (fe80::1%eth0) come back from lookups of link-local names; the address decides.
  const bare = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  // Only the four-part dotted form: URLs and resolvers hand over nothing else, and ipaddr.js
  // would read 0x7f.1 or a bare integer as IPv4 where a resolver might not.
  if (!ipaddr.IPv6.isValid(bare) && !ipaddr.IPv4.isValidFourPartDecimal(bare)) return undefined;
  return ipaddr.parse(bare);
}

/** Classifies one IP address (text, IPv6 with or without brackets); anything unparsable is reserved. */
export function classifyAddress(text: string): AddressClass {
  const parsed = parseAddress(text);
  if (!parsed) return 'reserved';
  const address = routed(parsed);
  if (METADATA_ADDRESSES.has(address.toString()) || METADATA_ADDRESSES.has(parsed.toNormalizedString())) {
    return 'cloud metadata';
  }
  if (address.kind() === 'ipv4') return IPV4_CLASS[address.range()] ?? 'reserved';
  if ((address as ipaddr.IPv6).match(SITE_LOCAL)) return 'private';
  return IPV6_CLASS[address.range()] ?? 'reserved';
}

/** A host name as compared: lower case, without the root's trailing dot or IPv6 brackets. */
export function normalHostname(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.+$/, '');
}

/** A name that never leaves the machine or that names a metadata service, whatever DNS says. */
function classifyName(hostname: string): AddressClass | undefined {
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(hostname)) return 'cloud metadata';
  return undefined;
}

export class AllowlistError extends Error {}

/**
 * Which webhook receivers may be reached: public unicast addresses, plus what the operator
 * allows in `CAIRN_WEBHOOK_ALLOW_HOSTS` (comma-separated): addresses (`10.0.0.5`), CIDR blocks
 * (`10.0.0.0/8`, `fd00::/8`), host names (`hooks.internal`) and name suffixes (`*.corp.example`).
 * An allowed name may resolve to anything except a metadata service; an allowed block admits
 * the addresses in it, in any IPv6 form that carries them.
 */
export class WebhookAddressRules {
  private constructor(
    private readonly blocks: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][],
    private readonly names: ReadonlySet<string>,
    private readonly suffixes: readonly string[],
  ) {}

  /** Public receivers only. */
  static readonly strict = new WebhookAddressRules([], new Set(), []);

  /** Parses the setting's value; throws AllowlistError naming the first entry it cannot read. */
  static parse(setting: string | undefined): WebhookAddressRules {
    const blocks: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
    const names = new Set<string>();
    const suffixes: string[] = [];
    for (const raw of (setting ?? '').split(',')) {
      const entry = raw.trim();
      if (entry === '') continue;
      if (entry.includes('/')) {
        try {
          const [address, bits] = ipaddr.parseCIDR(entry.replace(/^\[|\](?=\/)/g, ''));
          // ::ffff:10.0.0.0/104 is 10.0.0.0/8: addresses are compared in their routed form.
          const mapped = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96;
          blocks.push(mapped ? [(address as ipaddr.IPv6).toIPv4Address(), bits - 96] : [address, bits]);
        } catch {
          throw new AllowlistError(`${ALLOW_HOSTS_VARIABLE}: "${entry}" is not a CIDR block`);
        }
        continue;
      }
      const address = parseAddress(entry);
      if (address) {
        const own = routed(address);
        blocks.push([own, own.kind() === 'ipv4' ? 32 : 128]);
        continue;
      }
      const name = normalHostname(entry);
      const wildcard = name.startsWith('*.');
      const label = wildcard ? name.slice(2) : name;
      if (
        !/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(label)
      ) {
        throw new AllowlistError(`${ALLOW_HOSTS_VARIABLE}: "${entry}" is not an address, a CIDR block or a host name`);
      }
      if (wildcard) suffixes.push(`.${label}`);
      else names.add(label);
    }
    return new WebhookAddressRules(blocks, names, suffixes);
  }

  /** True when the setting allows nothing beyond public receivers. */
  get isStrict(): boolean {
    return this.blocks.length === 0 && this.names.size === 0 && this.suffixes.length === 0;
  }

  /**
   * Why (a sentence for the delivery log) the host, before any lookup, may not be reached (a name refused whatever it resolves
   * to, or an IP literal that is not allowed); undefined when it may go on to be resolved.
   */
  refuseHost(hostname: string): string | undefined {
    const host = normalHostname(hostname);
    if (parseAddress(host)) return this.refuseAddress(host, host);
    const kind = classifyName(host);
    if (kind === 'cloud metadata' || (kind && !this.allowsName(host))) return refusal(host, kind, 'name');
    return undefined;
  }

  /** Why `address`, which `hostname` resolved to, may not be reached; undefined when it may. */
  refuseAddress(hostname: string, address: string): string | undefined {
    const kind = classifyAddress(address);
    if (kind === 'public') return undefined;
    if (kind === 'cloud metadata') return refusal(address, kind);
    if (this.allowsName(normalHostname(hostname)) || this.allowsAddress(address)) return undefined;
    return refusal(address, kind);
  }

  private allowsName(host: string): boolean {
    return this.names.has(host) || this.suffixes.some((suffix) => host.endsWith(suffix));
  }

  private allowsAddress(text: string): boolean {
    const parsed = parseAddress(text);
    if (!parsed) return false;
    const forms = [parsed, routed(parsed)];
    return this.blocks.some(([base, bits]) =>
      forms.some((form) => form.kind() === base.kind() && form.match(base, bits)),
    );
  }
}

function refusal(what: string, kind: AddressClass, noun: 'address' | 'name' = 'address'): string {
  const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
  const hint = kind === 'cloud metadata' ? 'never allowed' : `allow it with ${ALLOW_HOSTS_VARIABLE}`;
  return `${what} is ${article} ${kind} ${noun} (${hint})`;
}
