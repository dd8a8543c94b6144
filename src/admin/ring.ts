import type { Principal } from '../pipeline/principal.js';
import type { FeedEntry, FeedListener } from './feed.js';

/** Byte budget of each text field of a slot (UTF-8; longer values are cut at a character boundary). */
const FIELDS = { id: 72, host: 96, path: 256, clientIp: 48 } as const;
type TextField = keyof typeof FIELDS;
const TEXT: readonly TextField[] = ['id', 'host', 'path', 'clientIp'];
const SLOT = TEXT.reduce((n, f) => n + FIELDS[f], 0);
const OFFSET = Object.fromEntries(
  TEXT.map((f, i) => [f, TEXT.slice(0, i).reduce((n, g) => n + FIELDS[g], 0)]),
) as Record<TextField, number>;

/** Distinct short values (routes, methods, codes, reason lists) kept once, bounded. */
class Interner {
  readonly #ids = new Map<string, number>();
  /** Id 0: absent; id 1: the stand-in once `max` distinct values are kept. */
  readonly #values: string[] = ['', '…'];
  constructor(private readonly max: number) {}

  id(v: string): number {
    const hit = this.#ids.get(v);
    if (hit !== undefined) return hit;
    if (this.#values.length >= this.max) return 1;
    this.#values.push(v);
    this.#ids.set(v, this.#values.length - 1);
    return this.#values.length - 1;
  }

  value(id: number): string {
    return this.#values[id] as string;
  }
}

const DECISIONS: readonly FeedEntry['decision'][] = ['allow', 'deny', 'error'];
const CACHE: readonly FeedEntry['cache'][] = [undefined, 'hit', 'miss'];
/** Interned id of an absent optional field. */
const NONE = 0;

/**
 * The most recent decisions in a fixed-size ring (`admin.retention.decisions`), newest last.
 * Stored column-wise in typed arrays and one byte slab, so a recorded request leaves no
 * JavaScript object behind for the garbage collector to promote and trace (the request's own
 * strings die with it); only the principal is kept by reference (for explain's claims), which
 * for tokens is the token cache's object. Memory is fixed at construction: the oldest decision
 * is overwritten by the newest.
 */
export class DecisionRing {
  readonly #slab: Buffer;
  readonly #len: Uint16Array;
  readonly #t: Float64Array;
  readonly #total: Float32Array;
  readonly #up: Float32Array;
  readonly #status: Uint16Array;
  readonly #upStatus: Uint16Array;
  readonly #small: Uint8Array;
  /** route, method, rule, error, reasons (joined), each an interned id. */
  readonly #codes: Uint32Array;
  readonly #principals: (Principal | undefined)[];
  readonly #strings = new Interner(65_536);
  #next = 0;
  #size = 0;
  readonly #listeners: FeedListener[] = [];

  constructor(readonly capacity: number) {
    this.#slab = Buffer.alloc(capacity * SLOT);
    this.#len = new Uint16Array(capacity * TEXT.length);
    this.#t = new Float64Array(capacity);
    this.#total = new Float32Array(capacity);
    this.#up = new Float32Array(capacity);
    this.#status = new Uint16Array(capacity);
    this.#upStatus = new Uint16Array(capacity);
    this.#small = new Uint8Array(capacity * 2);
    this.#codes = new Uint32Array(capacity * 5);
    this.#principals = new Array<Principal | undefined>(capacity).fill(undefined);
  }

  /** Bytes held by the ring's arrays (principals excluded: shared with their caches). */
  get bytes(): number {
    return this.#slab.length + this.capacity * (2 * TEXT.length + 8 + 4 + 4 + 2 + 2 + 2 + 20 + 8);
  }

  /** Calls `l` for every entry stored from now on. */
  listen(l: FeedListener): void {
    this.#listeners.push(l);
  }

  #code(v: string | undefined): number {
    return v === undefined ? NONE : this.#strings.id(v);
  }

  push(e: FeedEntry): void {
    const i = this.#next;
    const base = i * SLOT;
    for (let f = 0; f < TEXT.length; f++) {
      const name = TEXT[f] as TextField;
      this.#len[i * TEXT.length + f] = this.#slab.write(e[name], base + OFFSET[name], FIELDS[name], 'utf8');
    }
    this.#t[i] = e.t;
    this.#total[i] = e.totalMs;
    this.#up[i] = e.upstreamMs ?? -1;
    this.#status[i] = e.status;
    this.#upStatus[i] = e.upstreamStatus ?? 0;
    this.#small[i * 2] = DECISIONS.indexOf(e.decision);
    this.#small[i * 2 + 1] = CACHE.indexOf(e.cache);
    const c = i * 5;
    this.#codes[c] = this.#code(e.route);
    this.#codes[c + 1] = this.#code(e.method);
    this.#codes[c + 2] = this.#code(e.rule);
    this.#codes[c + 3] = this.#code(e.error);
    this.#codes[c + 4] = this.#strings.id(
      e.reasons.length === 1 ? (e.reasons[0] as string) : e.reasons.join('\n'),
    );
    this.#principals[i] = e.principal;
    this.#next = (i + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    for (const l of this.#listeners) l(e);
  }

  get size(): number {
    return this.#size;
  }

  #text(i: number, f: number): string {
    const name = TEXT[f] as TextField;
    const start = i * SLOT + OFFSET[name];
    return this.#slab.toString('utf8', start, start + (this.#len[i * TEXT.length + f] as number));
  }

  #opt(id: number): string | undefined {
    return id === NONE ? undefined : this.#strings.value(id);
  }

  /** The entry in slot `i`, rebuilt. */
  #entry(i: number): FeedEntry {
    const c = i * 5;
    const reasons = this.#strings.value(this.#codes[c + 4] as number);
    const up = this.#up[i] as number;
    return {
      id: this.#text(i, 0),
      host: this.#text(i, 1),
      path: this.#text(i, 2),
      clientIp: this.#text(i, 3),
      t: this.#t[i] as number,
      totalMs: this.#total[i] as number,
      upstreamMs: up < 0 ? undefined : up,
      status: this.#status[i] as number,
      upstreamStatus: this.#upStatus[i] === 0 ? undefined : this.#upStatus[i],
      decision: DECISIONS[this.#small[i * 2] as number] as FeedEntry['decision'],
      cache: CACHE[this.#small[i * 2 + 1] as number],
      route: this.#opt(this.#codes[c] as number),
      method: this.#opt(this.#codes[c + 1] as number) ?? '',
      rule: this.#opt(this.#codes[c + 2] as number),
      error: this.#opt(this.#codes[c + 3] as number),
      reasons: reasons === '' ? [] : reasons.split('\n'),
      principal: this.#principals[i],
    };
  }

  /** The newest entry with this request id (a scan: explain is rare, the hot path pays no index). */
  get(id: string): FeedEntry | undefined {
    return this.recent(1, (e) => e.id === id)[0];
  }

  /** Newest first, stopping after `limit` entries that pass `keep`. */
  recent(limit: number, keep: (e: FeedEntry) => boolean = () => true): FeedEntry[] {
    const out: FeedEntry[] = [];
    for (let k = 1; k <= this.#size && out.length < limit; k++) {
      const e = this.#entry((this.#next - k + this.capacity) % this.capacity);
      if (keep(e)) out.push(e);
    }
    return out;
  }
}
