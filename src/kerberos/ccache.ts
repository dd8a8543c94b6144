/**
 * Reads the validity of the tickets in an MIT FILE credential cache (format version 4,
 * the ones kinit and kvno write), so Gatehouse knows when a ticket ends without running
 * `klist` and parsing locale-dependent dates. Only times and names are read; keys are skipped.
 */

/** One credential of a cache. */
export interface CachedTicket {
  /** `service/host@REALM` or `krbtgt/REALM@REALM`. */
  readonly server: string;
  readonly client: string;
  /** Epoch seconds. */
  readonly start: number;
  readonly end: number;
}

/** A credential cache that is truncated or not in a format this reader knows. */
export class CcacheError extends Error {
  override readonly name = 'CcacheError';
}

class Reader {
  off = 0;
  constructor(private readonly b: Buffer) {}
  u8(): number {
    return this.b.readUInt8(this.take(1));
  }
  u16(): number {
    return this.b.readUInt16BE(this.take(2));
  }
  u32(): number {
    return this.b.readUInt32BE(this.take(4));
  }
  data(): Buffer {
    const n = this.u32();
    const at = this.take(n);
    return this.b.subarray(at, at + n);
  }
  take(n: number): number {
    const at = this.off;
    if (at + n > this.b.length) throw new CcacheError('credential cache truncated');
    this.off += n;
    return at;
  }
  get done(): boolean {
    return this.off >= this.b.length;
  }
}

function principal(r: Reader): string {
  r.u32(); // name type
  const count = r.u32();
  if (count > 32) throw new CcacheError('credential cache: implausible principal');
  const realm = r.data().toString('utf8');
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(r.data().toString('utf8'));
  return `${parts.join('/')}@${realm}`;
}

/**
 * The credentials of a FILE cache's content, configuration entries (`X-CACHECONF:`) left out.
 * Throws a {@link CcacheError} (only) on a truncated or unknown format.
 */
export function readCcache(buf: Buffer): CachedTicket[] {
  const r = new Reader(buf);
  const version = r.u16();
  if (version !== 0x0504)
    throw new CcacheError(`credential cache format 0x${version.toString(16)} not supported`);
  r.take(r.u16()); // header (time offset tags)
  principal(r); // default principal
  const out: CachedTicket[] = [];
  while (!r.done) {
    const client = principal(r);
    const server = principal(r);
    r.u16(); // enctype
    r.data(); // key
    r.u32(); // authtime
    const start = r.u32();
    const end = r.u32();
    r.u32(); // renew till
    r.u8(); // is_skey
    r.u32(); // flags
    for (let n = r.u32(); n > 0; n--) {
      r.u16();
      r.data();
    }
    for (let n = r.u32(); n > 0; n--) {
      r.u16();
      r.data();
    }
    r.data(); // ticket
    r.data(); // second ticket
    if (!server.endsWith('@X-CACHECONF:')) out.push({ client, server, start, end });
  }
  return out;
}

/**
 * The earliest end (epoch seconds) among the tickets for `servers` (all must be present), or
 * undefined when one is missing.
 */
export function earliestEnd(
  tickets: readonly CachedTicket[],
  servers: readonly string[],
): number | undefined {
  let end = Infinity;
  for (const s of servers) {
    let best = -Infinity;
    for (const t of tickets) if (t.server === s && t.end > best) best = t.end;
    if (best === -Infinity) return undefined;
    end = Math.min(end, best);
  }
  return end === Infinity ? undefined : end;
}
