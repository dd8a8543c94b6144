import { createHash } from 'node:crypto';
import type { RedisClient, ThrottledLog } from '../limits/redis.js';
import type { CacheStore, CacheValue } from './store.js';

/** Serialises a value: 4-byte big-endian metadata length, JSON metadata, raw body. */
export function encodeValue(v: CacheValue): Buffer {
  const meta =
    v.kind === 'vary'
      ? { k: 'v', n: v.names, e: v.expiresAt }
      : {
          k: 'r',
          s: v.response.status,
          h: v.response.headers,
          t: v.response.storedAt,
          e: v.response.expiresAt,
          a: v.response.initialAge,
        };
  const json = Buffer.from(JSON.stringify(meta));
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(json.length);
  return Buffer.concat(v.kind === 'vary' ? [head, json] : [head, json, v.response.body]);
}

/** Inverse of {@link encodeValue}; undefined for anything malformed. */
export function decodeValue(buf: Buffer): CacheValue | undefined {
  if (buf.length < 4) return undefined;
  const n = buf.readUInt32BE(0);
  if (4 + n > buf.length) return undefined;
  try {
    const m = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as Record<string, unknown>;
    if (m['k'] === 'v') return { kind: 'vary', names: m['n'] as string[], expiresAt: m['e'] as number };
    return {
      kind: 'response',
      response: {
        status: m['s'] as number,
        headers: m['h'] as [string, string][],
        body: buf.subarray(4 + n),
        storedAt: m['t'] as number,
        expiresAt: m['e'] as number,
        initialAge: m['a'] as number,
      },
    };
  } catch {
    return undefined;
  }
}

/**
 * Cache entries shared through Redis (`<prefix>cache:<sha256(key)>`), each with PX set to its
 * remaining freshness so Redis expires it. Errors are logged (throttled) and read as misses.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  constructor(
    private readonly client: RedisClient,
    private readonly prefix: string,
    private readonly log: ThrottledLog,
  ) {}

  #key(key: string): string {
    return `${this.prefix}cache:${createHash('sha256').update(key).digest('base64url')}`;
  }

  async get(key: string, now: number): Promise<CacheValue | undefined> {
    try {
      const buf = await this.client.getBuffer(this.#key(key));
      if (!buf) return undefined;
      const v = decodeValue(buf);
      const exp = v?.kind === 'vary' ? v.expiresAt : v?.response.expiresAt;
      return exp !== undefined && exp > now ? v : undefined;
    } catch (err) {
      this.log.note(err);
      return undefined;
    }
  }

  set(key: string, value: CacheValue, now: number): void {
    const exp = value.kind === 'vary' ? value.expiresAt : value.response.expiresAt;
    const px = Math.ceil(exp - now);
    if (px <= 0) return;
    this.client.set(this.#key(key), encodeValue(value), 'PX', px).catch((err: unknown) => this.log.note(err));
  }

  close(): void {
    /* the shared client is closed by its owner */
  }
}
