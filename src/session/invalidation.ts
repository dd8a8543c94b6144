import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { NearCache } from './near-cache.js';

/**
 * True when `c` is connected and its socket has seen neither end nor error. The socket check
 * matters: ioredis changes `status` only when the socket's `close` event fires, a loop phase
 * after the peer's end of stream was read.
 */
export function isLive(c: Redis): boolean {
  if (c.status !== 'ready') return false;
  const s = c.stream as Redis['stream'] | undefined;
  return s !== undefined && !s.destroyed && s.readable && s.writable;
}

/** The text published on `<prefix>inv` when the sessions `ids` changed: `{"o":origin,"ids":[…]}`. */
export function encodeInvalidation(origin: string, ids: readonly string[]): string {
  return JSON.stringify({ o: origin, ids });
}

/** The origin and ids of an invalidation message, or undefined when it is not one. */
export function decodeInvalidation(text: string): { origin: string; ids: string[] } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { o, ids } = v as { o?: unknown; ids?: unknown };
  if (typeof o !== 'string' || !Array.isArray(ids) || !ids.every((i) => typeof i === 'string'))
    return undefined;
  return { origin: o, ids: ids as string[] };
}

/**
 * The subscriber half of the near cache: a dedicated Redis connection subscribed to the
 * invalidation channel, evicting the ids other instances publish. The cache may be served only
 * while {@link healthy}: connected and the SUBSCRIBE acknowledged. Any disconnect or error clears
 * the cache; every (re-)subscription clears it again before it is used, since messages published
 * while the connection was down are lost. An unreadable message clears it too. Messages this
 * instance published itself (same origin) are skipped: its writes update the cache directly.
 */
export class InvalidationChannel {
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #origin: string;
  readonly #cache: NearCache;
  readonly #logger: Logger;
  #generation = 0;
  #subscribed = false;
  #closed = false;

  /** Starts subscribing on `sub`, a connection of its own (e.g. `client.duplicate()`). */
  constructor(sub: Redis, channel: string, origin: string, cache: NearCache, logger: Logger) {
    this.#sub = sub;
    this.#channel = channel;
    this.#origin = origin;
    this.#cache = cache;
    this.#logger = logger;
    sub.on('ready', () => this.#subscribe());
    sub.on('message', (ch: string, text: string) => this.#onMessage(ch, text));
    for (const ev of ['close', 'end', 'reconnecting'] as const) sub.on(ev, () => this.#lost(ev));
    sub.on('error', (err: Error) => {
      this.#lost(`error: ${err.message}`);
      if (sub.status === 'ready') this.#subscribe();
    });
    if (sub.status === 'ready') this.#subscribe();
  }

  /** Whether invalidations are being received, so cached entries may be served. */
  get healthy(): boolean {
    return this.#subscribed && isLive(this.#sub);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#lost('closed');
    if (this.#sub.status === 'ready') {
      try {
        await this.#sub.quit();
        return;
      } catch {
        /* fall through */
      }
    }
    this.#sub.disconnect();
  }

  #subscribe(): void {
    if (this.#closed) return;
    const gen = ++this.#generation;
    this.#sub.subscribe(this.#channel).then(
      () => {
        if (gen !== this.#generation || this.#closed || !isLive(this.#sub)) return;
        this.#cache.clear();
        this.#subscribed = true;
        this.#logger.info({ store: 'redis' }, 'session store: near cache on (invalidations subscribed)');
      },
      (err: Error) => {
        if (gen === this.#generation) this.#lost(`subscribe failed: ${err.message}`);
      },
    );
  }

  #lost(why: string): void {
    this.#generation++;
    this.#cache.clear();
    if (!this.#subscribed) return;
    this.#subscribed = false;
    if (!this.#closed)
      this.#logger.warn({ store: 'redis', why }, 'session store: near cache off until re-subscribed');
  }

  #onMessage(channel: string, text: string): void {
    if (channel !== this.#channel) return;
    const m = decodeInvalidation(text);
    if (m === undefined) {
      this.#logger.warn({ store: 'redis' }, 'session store: unreadable invalidation, near cache cleared');
      this.#cache.clear();
      return;
    }
    if (m.origin !== this.#origin) this.#cache.invalidate(m.ids);
  }
}
