/**
 * Targets from the issues, checked against a run. A missed floor is reported as MISS; it never
 * fails the process.
 */
export type FloorSpec =
  /** Median paired ratio rps(candidate) / rps(nginx proxy_pass) at least `min`. */
  | { readonly kind: 'ratio'; readonly min: number; readonly source: string }
  /**
   * Median paired ratio rps(candidate) / rps(baseline) at least `min`; the baseline is `to` when
   * given (any row of the run, e.g. `haproxy-jwt-rs256`), else the candidate's `relativeTo`.
   */
  | {
      readonly kind: 'relative';
      readonly min: number;
      readonly source: string;
      readonly to?: string | undefined;
    }
  /** Median p99 at most `max` times median p50. */
  | { readonly kind: 'tail'; readonly max: number; readonly source: string };

/** A candidate's paired comparison with one baseline row of the same run. */
export interface PairedFigure {
  /** Median of the per-round ratios rps(candidate) / rps(baseline). */
  readonly median: number;
  /** CPU µs/req relative to the baseline's, minus 1 (0.05 = 5 % more CPU per request). */
  readonly cpuCost?: number | undefined;
}

/** The figures a floor is checked against. */
export interface FloorInput {
  readonly ratio: number;
  readonly relative: number | undefined;
  readonly relativeTo: string | undefined;
  /** CPU µs/req relative to the baseline's, minus 1 (0.05 = 5 % more CPU per request). */
  readonly cpuCost?: number | undefined;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The paired figure against row `id` (floors with their own `to`); undefined when not measured. */
  readonly pairedWith?: ((id: string) => PairedFigure | undefined) | undefined;
}

export interface FloorResult {
  readonly target: string;
  readonly value: string;
  /** undefined: not applicable in this run (the baseline was not measured). */
  readonly pass: boolean | undefined;
  readonly source: string;
}

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/** Evaluates one floor; a figure that could not be measured is a MISS. */
export function checkFloor(spec: FloorSpec, v: FloorInput): FloorResult {
  switch (spec.kind) {
    case 'ratio':
      return {
        target: `ratio to nginx ≥ ${f2(spec.min)}`,
        value: f2(v.ratio),
        pass: v.ratio >= spec.min,
        source: spec.source,
      };
    case 'relative': {
      const to = spec.to ?? v.relativeTo ?? '?';
      const fig = spec.to !== undefined ? v.pairedWith?.(spec.to) : undefined;
      const r = spec.to !== undefined ? fig?.median : v.relative;
      const cpuCost = spec.to !== undefined ? fig?.cpuCost : v.cpuCost;
      const target = `ratio to ${to} ≥ ${f2(spec.min)}`;
      if (r === undefined || !Number.isFinite(r))
        return { target, value: `n/a (${to} not measured)`, pass: undefined, source: spec.source };
      const cpu =
        cpuCost === undefined || !Number.isFinite(cpuCost)
          ? ''
          : `; CPU/req ${cpuCost >= 0 ? '+' : ''}${(cpuCost * 100).toFixed(1)} %`;
      const delta =
        r <= 1 ? `${((1 - r) * 100).toFixed(1)} % slower` : `${((r - 1) * 100).toFixed(1)} % faster`;
      return { target, value: `${f2(r)} (${delta}${cpu})`, pass: r >= spec.min, source: spec.source };
    }
    case 'tail': {
      const k = v.p99Ms / v.p50Ms;
      return {
        target: `p99 ≤ ${spec.max}×p50`,
        value: `${f2(k)}× (p99 ${f2(v.p99Ms)} ms)`,
        pass: k <= spec.max,
        source: spec.source,
      };
    }
  }
}
