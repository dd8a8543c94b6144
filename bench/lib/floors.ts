/**
 * Targets from the issues, checked against a run. A missed floor is reported as MISS; it never
 * fails the process.
 */
export type FloorSpec =
  /** Median paired ratio rps(candidate) / rps(nginx proxy_pass) at least `min`. */
  | { readonly kind: 'ratio'; readonly min: number; readonly source: string }
  /** Median paired ratio rps(candidate) / rps(candidate.relativeTo) at least `min`. */
  | { readonly kind: 'relative'; readonly min: number; readonly source: string }
  /** Median p99 at most `max` times median p50. */
  | { readonly kind: 'tail'; readonly max: number; readonly source: string };

/** The figures a floor is checked against. */
export interface FloorInput {
  readonly ratio: number;
  readonly relative: number | undefined;
  readonly relativeTo: string | undefined;
  /** CPU µs/req relative to the baseline's, minus 1 (0.05 = 5 % more CPU per request). */
  readonly cpuCost?: number | undefined;
  readonly p50Ms: number;
  readonly p99Ms: number;
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
      const target = `ratio to ${v.relativeTo ?? '?'} ≥ ${f2(spec.min)}`;
      const r = v.relative;
      if (r === undefined || !Number.isFinite(r))
        return {
          target,
          value: `n/a (${v.relativeTo ?? '?'} not measured)`,
          pass: undefined,
          source: spec.source,
        };
      const cpu =
        v.cpuCost === undefined || !Number.isFinite(v.cpuCost)
          ? ''
          : `; CPU/req ${v.cpuCost >= 0 ? '+' : ''}${(v.cpuCost * 100).toFixed(1)} %`;
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
