// IP addresses and CIDR ranges as numbers (IPv4 as 32 bits, IPv6 as 128), the ranges outbound fetch never reaches unless the operator opens them, and the check of one resolved address.

import { isIPv4, isIPv6 } from 'node:net';

/** One address: its family and its value (32 bits for IPv4, 128 for IPv6). */
export interface Address {
  readonly v6: boolean;
  readonly value: bigint;
}

/** A CIDR range: `bits` leading bits of `base` (of its family). */
export interface Cidr {
  readonly v6: boolean;
  readonly base: bigint;
  readonly bits: number;
  /** As written in the list it came from (for messages). */
  readonly text: string;
}

/**
 * An address as the numbers it stands for, or null when `text` is not an IP address (an IPv6 zone
 * `%eth0` is not accepted). IPv6 brackets are accepted.
 */
export function parseAddress(text: string): Address | null {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(s)) {
    let v = 0n;
    for (const part of s.split('.')) v = (v << 8n) | BigInt(Number(part));
    return { v6: false, value: v };
  }
  if (!isIPv6(s) || s.includes('%')) return null;
  let head = s;
  let tail: bigint[] = [];
  // A dotted IPv4 tail (::ffff:1.2.3.4) is two groups.
  const dot = s.lastIndexOf(':');
  if (s.includes('.', dot)) {
    const v4 = parseAddress(s.slice(dot + 1));
    if (v4 === null) return null;
    tail = [v4.value >> 16n, v4.value & 0xffffn];
    head = s.slice(0, dot);
    // `::1.2.3.4`, `1::1.2.3.4`: the gap before the tail keeps both its colons.
    if (head.endsWith(':')) head += ':';
  }
  const groups = (part: string): bigint[] => (part === '' ? [] : part.split(':').map((g) => BigInt(`0x${g}`)));
  let all: bigint[];
  const gap = head.indexOf('::');
  if (gap >= 0) {
    const left = groups(head.slice(0, gap));
    const right = [...groups(head.slice(gap + 2)), ...tail];
    all = [...left, ...new Array<bigint>(8 - left.length - right.length).fill(0n), ...right];
  } else all = [...groups(head), ...tail];
  if (all.length !== 8) return null;
  let v = 0n;
  for (const g of all) v = (v << 16n) | g;
  return { v6: true, value: v };
}

/** `a.b.c.d/n` or `x::y/n` (no prefix length: the single address), or null when it is not one. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (addr === null) return null;
  const width = addr.v6 ? 128 : 32;
  const bitsText = slash < 0 ? String(width) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > width) return null;
  return { v6: addr.v6, base: addr.value & mask(width, bits), bits, text };
}

function mask(width: number, bits: number): bigint {
  return bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
}

/** Whether `addr` is inside `range` (same family only). */
export function inCidr(addr: Address, range: Cidr): boolean {
  if (addr.v6 !== range.v6) return false;
  return (addr.value & mask(addr.v6 ? 128 : 32, range.bits)) === range.base;
}

/**
 * The IPv4 address an IPv6 one carries and is routed to: IPv4-mapped (`::ffff:0:0/96`), IPv4-compatible
 * (`::/96`, deprecated), NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`) and 6to4 (`2002::/16`); else the address itself.
 */
export function effectiveAddress(addr: Address): Address {
  if (!addr.v6) return addr;
  const v = addr.value;
  const low32 = v & 0xffffffffn;
  const top96 = v >> 32n;
  if (top96 === 0xffffn || (top96 === 0n && low32 > 1n) || top96 === 0x0064ff9b0000000000000000n) return { v6: false, value: low32 };
  if (v >> 80n === 0x0064ff9b0001n) return { v6: false, value: low32 };
  if (v >> 112n === 0x2002n) return { v6: false, value: (v >> 80n) & 0xffffffffn };
  return addr;
}

/** The ranges no tenant's fetch reaches, whatever its allow list: each with why (loopback, private, link-local and metadata, …). */
const DENIED: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared address space (carrier-grade NAT)'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local (cloud metadata)'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['100::/64', 'discard'],
  ['2001::/32', 'Teredo'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique local (private; cloud metadata fd00:ec2::254)'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

const DENIED_RANGES: ReadonlyArray<readonly [Cidr, string]> = DENIED.map(([text, why]) => {
  const c = parseCidr(text);
  if (c === null) throw new Error(`bad built-in range ${text}`);
  return [c, why] as const;
});

/** The denied ranges as written, with why each is denied (for the docs and tests). */
export const DENIED_NETWORKS: ReadonlyArray<readonly [string, string]> = DENIED;

/**
 * Why `addr` may not be connected to, or null when it may: in a denied range (checked on the
 * address it carries, for an IPv6 form of an IPv4 one) and in none of the operator's `opened`
 * networks (config `egressAllowNetworks`).
 */
export function deniedReason(addr: Address, opened: readonly Cidr[]): string | null {
  const eff = effectiveAddress(addr);
  for (const o of opened) if (inCidr(eff, o) || inCidr(addr, o)) return null;
  for (const [range, why] of DENIED_RANGES) if (inCidr(eff, range)) return why;
  return null;
}

/** The operator's networks, parsed. @throws Error naming the first that is not a CIDR */
export function parseNetworks(texts: readonly string[]): Cidr[] {
  return texts.map((t) => {
    const c = parseCidr(t);
    if (c === null) throw new Error(`${JSON.stringify(t)} is not a CIDR range`);
    return c;
  });
}
