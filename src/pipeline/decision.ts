/**
 * The outcome of an authorisation check. The same reason codes feed the HTTP response, the
 * audit event and the metrics.
 */
export interface Decision {
  readonly allow: boolean;
  /** Machine-readable reason codes, most significant first (e.g. `rule.allow`, `group.missing`). */
  readonly reasons: readonly string[];
  /** Name of the rule or policy that produced the decision. */
  readonly rule?: string | undefined;
  /** True when the denial is because of a missing scope (RFC 6750 `insufficient_scope`). */
  readonly insufficientScope?: boolean | undefined;
  /** Step-by-step trace for `explain` (only built when asked). */
  readonly trace?: readonly TraceEntry[] | undefined;
}

/** One evaluated check, for `gatehouse explain` and debug-level audit. */
export interface TraceEntry {
  readonly check: string;
  readonly pass: boolean;
  readonly detail?: string | undefined;
}
