/**
 * A cache admission filter (the "doorkeeper" of TinyLFU): a Bloom filter of keys seen once.
 * A cache admits a key only on its second sighting, so a stream of one-off keys (every request
 * a new token) neither evicts the entries that are reused nor makes the cache retain, promote
 * and later collect thousands of objects nobody asks for again. It only decides what is worth
 * keeping: a false positive admits an entry early, never changes a result.
 */
export class Doorkeeper {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  readonly #resetAfter: number;
  #added = 0;

  /**
   * @param capacity keys remembered before the filter starts over (false positives stay near
   *   1 % with 16 bits per key and two probes).
   */
  constructor(capacity: number) {
    const bits = 2 ** Math.max(10, Math.ceil(Math.log2(Math.max(1, capacity) * 16)));
    this.#bits = new Uint32Array(bits / 32);
    this.#mask = bits - 1;
    this.#resetAfter = Math.max(1, capacity);
  }

  /**
   * True when the key with hashes `h1`, `h2` (two independent 32-bit values) was seen since the
   * last reset; otherwise records it and returns false.
   */
  seen(h1: number, h2: number): boolean {
    const a = (h1 >>> 0) & this.#mask;
    const b = (h2 >>> 0) & this.#mask;
    const bits = this.#bits;
    const wa = a >>> 5;
    const wb = b >>> 5;
    const ma = 1 << (a & 31);
    const mb = 1 << (b & 31);
    if ((bits[wa] as number) & ma && (bits[wb] as number) & mb) return true;
    if (++this.#added > this.#resetAfter) {
      bits.fill(0);
      this.#added = 1;
    }
    bits[wa] = (bits[wa] as number) | ma;
    bits[wb] = (bits[wb] as number) | mb;
    return false;
  }

  clear(): void {
    this.#bits.fill(0);
    this.#added = 0;
  }
}
