import type { Principal } from '../pipeline/principal.js';
import type { RequestContext } from '../pipeline/context.js';
import type { TraceEntry } from '../pipeline/decision.js';

/** The request facts a rule may test. A full {@link RequestContext} satisfies it. */
export type RequestInfo = Pick<RequestContext, 'method' | 'path' | 'clientIp' | 'route'>;

/** State of one explain evaluation: the trace being written and the hints for deny reasons. */
export interface ExplainScope {
  readonly trace: TraceEntry[] | undefined;
  /** Reason hints from criteria that failed where they had to hold (`group.missing:x`, …). */
  readonly hints: string[];
  /** Treat failed scope criteria as met (to tell whether only scopes were missing). */
  readonly assumeScopes: boolean;
  /** Scopes that had to be assumed in `assumeScopes` mode. */
  readonly assumed: string[];
}

/**
 * A criterion compiled once at load. `test` is the per-request fast path (a plain closure);
 * `explain` computes the same answer while recording trace entries and reason hints.
 */
export interface Criterion {
  readonly test: (p: Principal | undefined, r: RequestInfo) => boolean;
  explain(p: Principal | undefined, r: RequestInfo, x: ExplainScope, at: string, positive: boolean): boolean;
  /** True when the criterion reads the verified identity (warned about on public routes). */
  readonly identity: boolean;
}

export interface CriteriaOptions {
  /** Clock for time windows (tests inject it). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

export type Test = (p: Principal | undefined, r: RequestInfo) => boolean;

export interface LeafSpec {
  readonly label: string;
  readonly identity: boolean;
  readonly test: Test;
  /** What was observed, for the trace. */
  readonly observed?: ((p: Principal | undefined, r: RequestInfo) => string) | undefined;
  /** Reason hints when the leaf fails where it had to hold. */
  readonly hints?: ((p: Principal | undefined, out: string[]) => void) | undefined;
  /** Scopes this leaf requires (scope leaves only): lets `assumeScopes` pass it. */
  readonly missingScopes?: ((p: Principal | undefined) => string[]) | undefined;
}

/** JSON for traces, truncated. */
export const q = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'undefined';
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};
/** One value or a list, as a list. */
export const arr = (v: string | readonly string[]): readonly string[] => (typeof v === 'string' ? [v] : v);
export const NO_ID = 'no verified identity';

/** Wraps a plain test into a {@link Criterion} with its explain variant. */
export function leaf(spec: LeafSpec): Criterion {
  const { test, label } = spec;
  return {
    test,
    identity: spec.identity,
    explain(p, r, x, at, positive) {
      let ok = test(p, r);
      let note = '';
      if (!ok && positive && x.assumeScopes && spec.missingScopes) {
        x.assumed.push(...spec.missingScopes(p));
        ok = true;
        note = ' (assumed)';
      }
      if (!ok && positive) spec.hints?.(p, x.hints);
      x.trace?.push({
        check: `${at} ${label}`,
        pass: ok,
        detail: (spec.observed?.(p, r) ?? '') + note || undefined,
      });
      return ok;
    },
  };
}

/** `all` / `any` over sub-criteria (`implicit`: several keys of one object). */
export function combine(op: 'all' | 'any', subs: readonly Criterion[], implicit = false): Criterion {
  const identity = subs.some((s) => s.identity);
  const n = subs.length;
  let test: Test;
  if (n === 1) test = (subs[0] as Criterion).test;
  else if (op === 'all') {
    test = (p, r) => {
      for (let i = 0; i < n; i++) if (!(subs[i] as Criterion).test(p, r)) return false;
      return true;
    };
  } else {
    test = (p, r) => {
      for (let i = 0; i < n; i++) if ((subs[i] as Criterion).test(p, r)) return true;
      return false;
    };
  }
  return {
    test,
    identity,
    explain(p, r, x, at, positive) {
      const idx = x.trace?.length ?? 0;
      if (!implicit) x.trace?.push({ check: `${at} ${op}`, pass: false });
      const base = implicit ? at : `${at}.${op}`;
      const results = subs.map((s, i) => s.explain(p, r, x, implicit ? base : `${base}[${i}]`, positive));
      const ok = op === 'all' ? results.every(Boolean) : results.some(Boolean);
      if (!implicit && x.trace)
        x.trace[idx] = {
          check: `${at} ${op}`,
          pass: ok,
          detail: `${results.filter(Boolean).length}/${n} held`,
        };
      return ok;
    },
  };
}

/** `not`. */
export function negate(sub: Criterion): Criterion {
  return {
    test: (p, r) => !sub.test(p, r),
    identity: sub.identity,
    explain(p, r, x, at, positive) {
      const idx = x.trace?.length ?? 0;
      x.trace?.push({ check: `${at} not`, pass: false });
      const inner = sub.explain(p, r, x, `${at}.not`, !positive);
      if (x.trace) x.trace[idx] = { check: `${at} not`, pass: !inner };
      return !inner;
    },
  };
}
