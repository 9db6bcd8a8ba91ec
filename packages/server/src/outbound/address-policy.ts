import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where the server may send (callbacks, MQTT brokers of targets): tenants name the addresses, so without a rule
 * they could make the server reach what only it can reach — the cloud's metadata service, the database, its own
 * API, the factory's LAN. Only public unicast addresses are allowed, checked after DNS resolution on every
 * connection, and the connection goes to the address that was checked (a name that resolves to a public address
 * at registration and to 127.0.0.1 later is refused then). `KENSA_ALLOW_PRIVATE_TARGETS=1` also allows loopback,
 * private and link-local addresses (a line-side broker on the factory LAN); metadata services stay refused.
 */
export interface OutboundPolicy {
  allowPrivate: boolean;
}

export class OutboundAddressRefused extends Error {
  /** Socket errors carry a code (mqtt.js passes on only those). */
  readonly code = 'ERR_OUTBOUND_ADDRESS_REFUSED';
  constructor(readonly host: string, readonly address: string | null) {
    super(`outbound address refused: ${host}${address && address !== host ? ` (${address})` : ''}`);
    this.name = 'OutboundAddressRefused';
  }
}

/** Cloud metadata services: refused even when private targets are allowed. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);
const metadataAddresses = new BlockList();
metadataAddresses.addAddress('169.254.169.254');
metadataAddresses.addAddress('169.254.170.2'); // ECS task metadata
metadataAddresses.addAddress('100.100.100.200'); // Alibaba Cloud
metadataAddresses.addAddress('fd00:ec2::254', 'ipv6');

/** Not on the public internet (RFC 6890 special-purpose ranges), but reachable from a private network or this host. */
const privateAddresses = new BlockList();
for (const [network, prefix] of [
  ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16],
] as const) privateAddresses.addSubnet(network, prefix, 'ipv4');
privateAddresses.addAddress('::1', 'ipv6');
privateAddresses.addSubnet('fc00::', 7, 'ipv6');
privateAddresses.addSubnet('fe80::', 10, 'ipv6');

/** Never a unicast destination: unspecified, "this network", multicast, reserved, broadcast, documentation, benchmarking. */
const unusableAddresses = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['192.0.0.0', 24], ['192.0.2.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) unusableAddresses.addSubnet(network, prefix, 'ipv4');

/** Why an IP address may not be sent to, or null when it may. */
export function refusalOf(address: string, policy: OutboundPolicy): 'metadata' | 'private' | 'unusable' | null {
  const family = isIP(address);
  if (family === 0) return 'unusable';
  if (family === 6) {
    const bytes = ipv6Bytes(address);
    if (bytes === null) return 'unusable';
    const embedded = embeddedIpv4(bytes);
    if (embedded !== null) return refusalOf(embedded, policy);
    if (metadataAddresses.check(address, 'ipv6')) return 'metadata';
    if (privateAddresses.check(address, 'ipv6')) return policy.allowPrivate ? null : 'private';
    // Global unicast is 2000::/3; everything else (unspecified, multicast, reserved) is no destination.
    if ((bytes[0] & 0xe0) !== 0x20) return 'unusable';
    // Teredo (2001::/32) tunnels to an address it hides.
    if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0 && bytes[3] === 0) return 'unusable';
    return null;
  }
  if (metadataAddresses.check(address, 'ipv4')) return 'metadata';
  if (unusableAddresses.check(address, 'ipv4') || address === '255.255.255.255') return 'unusable';
  if (privateAddresses.check(address, 'ipv4')) return policy.allowPrivate ? null : 'private';
  return null;
}

/** Refuses a host name or IP literal before any lookup (names no resolver should be asked about for us). */
export function refuseHostName(host: string, policy: OutboundPolicy): void {
  const name = host.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (name === '') throw new OutboundAddressRefused(host, null);
  if (METADATA_HOSTS.has(name)) throw new OutboundAddressRefused(host, null);
  if (!policy.allowPrivate && (name === 'localhost' || name.endsWith('.localhost') || name.endsWith('.internal') || name.endsWith('.local'))) {
    throw new OutboundAddressRefused(host, null);
  }
  if (isIP(name) !== 0 && refusalOf(name, policy) !== null) throw new OutboundAddressRefused(host, name);
}

/**
 * A `lookup` for net/tls/http connections: resolves the name, refuses it when any of its addresses is refused (a
 * name mixing public and internal addresses is a rebinding trick), and hands the connection the checked address.
 */
export function guardedLookup(policy: OutboundPolicy): LookupFunction {
  return ((hostname: string, options: { family?: number | string; all?: boolean }, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    try {
      refuseHostName(hostname, policy);
    } catch (error) {
      return callback(error as NodeJS.ErrnoException, '', 0);
    }
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0) as 0 | 4 | 6;
    dnsLookup(hostname, { family, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => refusalOf(a.address, policy) !== null);
      if (refused || addresses.length === 0) return callback(new OutboundAddressRefused(hostname, refused?.address ?? null), '', 0);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  }) as LookupFunction;
}

/** Resolves a host as a connection would and refuses it as a connection would (registration: answer 400 early). */
export function checkHost(host: string, policy: OutboundPolicy): Promise<void> {
  return new Promise((resolve, reject) => {
    guardedLookup(policy)(host.replace(/^\[|\]$/g, ''), { all: true }, (error) => (error ? reject(error) : resolve()));
  });
}

function ipv6Bytes(address: string): Uint8Array | null {
  let text = address.toLowerCase().replace(/%.*$/, '');
  // A dotted IPv4 tail (::ffff:127.0.0.1) becomes two hex groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const parts = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8) return null;
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

/** The IPv4 address an IPv6 one carries (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). */
function embeddedIpv4(bytes: Uint8Array): string | null {
  const zeros = (from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0);
  const v4 = (at: number) => `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return v4(12);
  if (zeros(0, 12) && !zeros(12, 16) && !(zeros(12, 15) && bytes[15] === 1)) return v4(12);
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12)) return v4(12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return v4(2);
  return null;
}
