import fc from 'fast-check';

/** How many generated cases a differential run checks, and from which seed. */
export interface FuzzSettings {
  readonly runs: number;
  readonly seed: number;
  /** fast-check's replay path of a reported counter-example (`GATEHOUSE_FUZZ_PATH`). */
  readonly path: string | undefined;
}

/**
 * Run count and seed for a differential test: `GATEHOUSE_FUZZ_RUNS` (default `ciRuns`, small
 * enough for CI) and `GATEHOUSE_FUZZ_SEED` (default: a fresh random seed, which the test prints
 * so a failure can be replayed with it; fast-check's error message repeats it with the path).
 */
export function fuzzSettings(ciRuns: number): FuzzSettings {
  const env = process.env;
  const runs = env.GATEHOUSE_FUZZ_RUNS ? Number(env.GATEHOUSE_FUZZ_RUNS) : ciRuns;
  if (!Number.isSafeInteger(runs) || runs < 1)
    throw new Error(`bad GATEHOUSE_FUZZ_RUNS: ${env.GATEHOUSE_FUZZ_RUNS}`);
  const seed = env.GATEHOUSE_FUZZ_SEED ? Number(env.GATEHOUSE_FUZZ_SEED) : (Math.random() * 0x7fffffff) | 0;
  if (!Number.isSafeInteger(seed)) throw new Error(`bad GATEHOUSE_FUZZ_SEED: ${env.GATEHOUSE_FUZZ_SEED}`);
  return { runs, seed, path: env.GATEHOUSE_FUZZ_PATH || undefined };
}

/** The fast-check parameters for {@link FuzzSettings}. */
export function fcParameters(s: FuzzSettings): fc.Parameters<unknown> {
  return { numRuns: s.runs, seed: s.seed, ...(s.path ? { path: s.path } : {}), includeErrorInReport: true };
}

/** How a byte string is cut into reads: whole, one byte per read, or at the given offsets. */
export type Split =
  { readonly kind: 'whole' } | { readonly kind: 'bytes' } | { readonly kind: 'cuts'; readonly at: number[] };

/** Splits weighted towards few cuts, with the byte-at-a-time extreme. */
export const splitArb: fc.Arbitrary<Split> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Split>({ kind: 'whole' }) },
  { weight: 1, arbitrary: fc.constant<Split>({ kind: 'bytes' }) },
  {
    weight: 6,
    arbitrary: fc
      .array(fc.nat({ max: 1 << 20 }), { minLength: 1, maxLength: 12 })
      .map((at): Split => ({ kind: 'cuts', at })),
  },
);

/** Longest input cut one byte per read; a longer one is read whole instead. */
const MAX_BYTEWISE = 4096;

/** Cuts `bytes` as `split` says (offsets taken modulo the length; empty reads dropped). */
export function splitBytes(bytes: Buffer, split: Split): Buffer[] {
  if (split.kind === 'whole' || bytes.length === 0) return [bytes];
  if (split.kind === 'bytes')
    return bytes.length > MAX_BYTEWISE ? [bytes] : Array.from(bytes, (b) => Buffer.of(b));
  const points = [...new Set(split.at.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Shows bytes readably in assertion messages (latin1, control bytes escaped, long runs cut). */
export function show(bytes: Buffer | string): string {
  const s = typeof bytes === 'string' ? bytes : bytes.toString('latin1');
  return JSON.stringify(s.length <= 600 ? s : `${s.slice(0, 400)}…(${s.length} bytes)…${s.slice(-150)}`);
}
