import { BlockList, isIP } from 'node:net';

/** Strips an IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` → `10.0.0.1`). */
export function canonicalIp(addr: string): string {
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}

/**
 * A set of CIDRs compiled once into a `BlockList`. `has()` is what per-request code calls.
 */
export class CidrSet {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr = '', bits] = c.split('/');
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(bits), type);
    }
    this.size = cidrs.length;
  }

  has(addr: string): boolean {
    if (this.size === 0) return false;
    const a = canonicalIp(addr);
    const v = isIP(a);
    if (v === 0) return false;
    return this.#list.check(a, v === 6 ? 'ipv6' : 'ipv4');
  }
}

/** Validates a CIDR string; returns an error message or undefined. */
export function checkCidr(c: string): string | undefined {
  const [addr = '', bits, ...rest] = c.split('/');
  const v = isIP(addr);
  if (v === 0 || rest.length) return `expected an IP address or CIDR, got "${c}"`;
  if (bits !== undefined) {
    const n = Number(bits);
    if (!/^\d{1,3}$/.test(bits) || n > (v === 4 ? 32 : 128)) return `invalid prefix length in "${c}"`;
  }
  return undefined;
}

/**
 * The client address: the right-most address in X-Forwarded-For that is not a trusted proxy,
 * considered only when the immediate peer is trusted. A client rotating X-Forwarded-For
 * through an untrusted peer changes nothing.
 */
export function deriveClientIp(peer: string, xff: string | undefined, trusted: CidrSet): string {
  if (xff === undefined || !trusted.has(peer)) return peer;
  const hops = xff.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalIp((hops[i] as string).trim());
    if (isIP(hop) === 0) return peer;
    if (!trusted.has(hop)) return hop;
  }
  const first = canonicalIp((hops[0] as string).trim());
  return isIP(first) ? first : peer;
}

/** Formats a node for RFC 7239 `Forwarded` (IPv6 quoted and bracketed, §6). */
export function forwardedNode(ip: string): string {
  return isIP(ip) === 6 ? `"[${ip}]"` : ip;
}
