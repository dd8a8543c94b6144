/** Buckets per doubling of latency: 3 (bucket bounds grow by 26 %). */
const PER_OCTAVE = 3;
/** Lower bound of bucket 1, in ms; bucket 0 holds everything faster. */
const BASE_MS = 0.02;
/** Buckets: 0.02 ms … about 40 s; the last one holds everything slower. */
export const BUCKETS = 64;

/** The bucket of a latency in ms (fixed logarithmic buckets). */
export function bucketOf(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  const i = 1 + Math.floor(Math.log2(ms / BASE_MS) * PER_OCTAVE);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** A representative latency of bucket `i` (its geometric middle), in ms. */
export function valueOf(i: number): number {
  if (i === 0) return BASE_MS;
  return BASE_MS * 2 ** ((i - 0.5) / PER_OCTAVE);
}

/** Adds `from` into `into` (same length). */
export function addInto(into: Uint32Array, from: Uint32Array): void {
  for (let i = 0; i < into.length; i++) into[i] = (into[i] as number) + (from[i] as number);
}

/** The `q` quantile (0–1) of a histogram, in ms rounded to µs; null when empty. */
export function quantile(h: Uint32Array, q: number): number | null {
  let total = 0;
  for (let i = 0; i < h.length; i++) total += h[i] as number;
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i] as number;
    if (seen >= rank) return Math.round(valueOf(i) * 1000) / 1000;
  }
  return Math.round(valueOf(h.length - 1) * 1000) / 1000;
}

/**
 * Space-saving top-k (Metwally et al.): at most `k` counters; a new key replaces the smallest
 * and inherits its count + 1, so counts are upper bounds and every key above total/k is kept.
 */
export class TopK {
  readonly #counts = new Map<string, number>();
  constructor(private readonly k: number) {}

  add(key: string): void {
    const c = this.#counts.get(key);
    if (c !== undefined) return void this.#counts.set(key, c + 1);
    if (this.#counts.size < this.k) return void this.#counts.set(key, 1);
    let minKey = '';
    let min = Infinity;
    for (const [kk, v] of this.#counts)
      if (v < min) {
        min = v;
        minKey = kk;
      }
    this.#counts.delete(minKey);
    this.#counts.set(key, min + 1);
  }

  clear(): void {
    this.#counts.clear();
  }

  /** Adds every counter into `into`. */
  mergeInto(into: Map<string, number>): void {
    for (const [k, v] of this.#counts) into.set(k, (into.get(k) ?? 0) + v);
  }
}
