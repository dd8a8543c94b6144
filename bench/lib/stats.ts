/** Small statistics helpers for interleaved benchmark rounds. */

/** Median of a non-empty list (mean of the middle two for even lengths); NaN when empty. */
export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** Coefficient of variation (sample standard deviation / mean), in percent. */
export function cvPercent(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length < 2) return 0;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1);
  return mean === 0 ? 0 : (100 * Math.sqrt(variance)) / mean;
}

/**
 * Per-round paired ratios `a[i] / b[i]` over the rounds both have; rounds where either side is
 * missing (failed run) are skipped.
 */
export function pairedRatios(
  a: readonly (number | undefined)[],
  b: readonly (number | undefined)[],
): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && y > 0 && Number.isFinite(x)) out.push(x / y);
  }
  return out;
}

/** One timed observation of a reference series. */
export interface TimedValue {
  /** Midpoint of the run, ms since the epoch. */
  readonly at: number;
  readonly value: number;
}

/**
 * The reference value at time `at`: linear interpolation between the observations just before
 * and just after it (drift over a long round cancels out), or the nearest one outside them.
 */
export function valueAt(series: readonly TimedValue[], at: number): number {
  const s = series.filter((x) => Number.isFinite(x.value)).sort((a, b) => a.at - b.at);
  if (s.length === 0) return Number.NaN;
  let before: TimedValue | undefined;
  let after: TimedValue | undefined;
  for (const x of s) {
    if (x.at <= at) before = x;
    else if (!after) after = x;
  }
  if (before && after)
    return before.value + ((after.value - before.value) * (at - before.at)) / (after.at - before.at);
  return (before ?? after ?? (s[0] as TimedValue)).value;
}
