import type { Decision, TraceEntry } from '../pipeline/decision.js';
import type { Principal } from '../pipeline/principal.js';
import {
  compileCriterion,
  type CriteriaOptions,
  type Criterion,
  type ExplainScope,
  type RequestInfo,
} from './criteria.js';
import type { RuleConfig } from './schema.js';

/** One rule compiled at load, with its allow/deny decision built once. */
export interface CompiledRule {
  /** Qualified name: `<policy>/<rule name or rules[i]>`. */
  readonly name: string;
  readonly effect: 'allow' | 'deny';
  readonly when: Criterion;
  /** The decision this rule produces when it decides (frozen, shared by all requests). */
  readonly decision: Decision;
}

/**
 * A policy compiled at load. Evaluation order (documented in docs/rules.md): every `deny`
 * rule first — any match denies; then the `allow` rules — any match allows; otherwise deny
 * with `rule.default_deny`.
 */
export interface CompiledPolicy {
  readonly name: string;
  readonly denies: readonly CompiledRule[];
  readonly allows: readonly CompiledRule[];
  /** True when any rule reads the verified identity. */
  readonly identity: boolean;
}

/** Compiles the rules of a named policy (`name` = policy name) or a route's inline rules (`name` = key path). */
export function compilePolicy(
  name: string,
  rules: readonly RuleConfig[],
  opts: CriteriaOptions = {},
): CompiledPolicy {
  const denies: CompiledRule[] = [];
  const allows: CompiledRule[] = [];
  rules.forEach((r, i) => {
    const qualified = `${name}/${r.name ?? `rules[${i}]`}`;
    const rule: CompiledRule = {
      name: qualified,
      effect: r.effect,
      when: compileCriterion(r.when, opts),
      decision: Object.freeze({
        allow: r.effect === 'allow',
        reasons: Object.freeze([`rule.${r.effect}`]),
        rule: qualified,
      }),
    };
    (r.effect === 'deny' ? denies : allows).push(rule);
  });
  return { name, denies, allows, identity: [...denies, ...allows].some((r) => r.when.identity) };
}

/** A policy that allows every verified identity (`allow: authenticated`). */
export function authenticatedPolicy(): CompiledPolicy {
  return compilePolicy('allow', [{ name: 'authenticated', effect: 'allow', when: { authenticated: true } }]);
}

function scope(trace: TraceEntry[] | undefined, assumeScopes = false): ExplainScope {
  return { trace, hints: [], assumeScopes, assumed: [] };
}

function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/**
 * Builds the default-deny decision of `pol`, with reason hints from the allow rules that
 * failed (`group.missing:x`, `groups.overage`, …). When some allow rule would have matched had
 * the token carried more scopes, the denial is `insufficientScope` (RFC 6750 §3.1) and its
 * `scope.missing:` reasons name exactly those scopes.
 */
function defaultDeny(
  pol: CompiledPolicy,
  p: Principal | undefined,
  r: RequestInfo,
  hints: string[] | undefined,
): Decision {
  if (hints === undefined) {
    const x = scope(undefined);
    for (const a of pol.allows) a.when.explain(p, r, x, a.name, true);
    hints = x.hints;
  }
  for (const a of pol.allows) {
    const x = scope(undefined, true);
    if (!a.when.explain(p, r, x, a.name, true) || x.assumed.length === 0) continue;
    if (pol.denies.some((d) => d.when.explain(p, r, scope(undefined, true), d.name, true))) break;
    const others = hints.filter((h) => !h.startsWith('scope.missing:'));
    return Object.freeze({
      allow: false,
      reasons: unique(['rule.default_deny', ...x.assumed.map((s) => `scope.missing:${s}`), ...others]),
      rule: pol.name,
      insufficientScope: true,
    });
  }
  return Object.freeze({ allow: false, reasons: unique(['rule.default_deny', ...hints]), rule: pol.name });
}

/**
 * Fast path: evaluates every policy in order with the plain closures; all must allow. Only a
 * default deny re-runs the allow rules to collect reason hints.
 */
export function decide(
  policies: readonly CompiledPolicy[],
  p: Principal | undefined,
  r: RequestInfo,
): Decision {
  let first: CompiledRule | undefined;
  let names: string[] | undefined;
  for (const pol of policies) {
    for (const d of pol.denies) if (d.when.test(p, r)) return d.decision;
    let hit: CompiledRule | undefined;
    for (const a of pol.allows) {
      if (a.when.test(p, r)) {
        hit = a;
        break;
      }
    }
    if (hit === undefined) return defaultDeny(pol, p, r, undefined);
    if (first === undefined) first = hit;
    else (names ??= [first.name]).push(hit.name);
  }
  if (first === undefined)
    return defaultDeny({ name: 'route', denies: [], allows: [], identity: false }, p, r, []);
  return names === undefined
    ? first.decision
    : Object.freeze({ allow: true, reasons: ['rule.allow'], rule: names.join(',') });
}

/**
 * Explain path: evaluates every rule of every policy (no short-circuit) and records why each
 * matched or not. The decision equals {@link decide}'s; it carries the trace.
 */
export function explainDecision(
  policies: readonly CompiledPolicy[],
  p: Principal | undefined,
  r: RequestInfo,
): Decision {
  const trace: TraceEntry[] = [];
  let result: Decision | undefined;
  const allowed: string[] = [];
  for (const pol of policies) {
    const head = trace.length;
    trace.push({ check: `policy ${pol.name}`, pass: false });
    let deny: CompiledRule | undefined;
    for (const d of pol.denies) {
      const at = trace.length;
      trace.push({ check: `rule ${d.name} (deny)`, pass: false });
      const m = d.when.explain(p, r, scope(trace), `  ${d.name} when`, true);
      trace[at] = {
        check: `rule ${d.name} (deny)`,
        pass: !m,
        detail: m ? 'matched: denies' : 'did not match',
      };
      if (m) deny ??= d;
    }
    const x = scope(trace);
    let allow: CompiledRule | undefined;
    for (const a of pol.allows) {
      const at = trace.length;
      trace.push({ check: `rule ${a.name} (allow)`, pass: false });
      const m = a.when.explain(p, r, x, `  ${a.name} when`, true);
      trace[at] = {
        check: `rule ${a.name} (allow)`,
        pass: m,
        detail: m ? 'matched: allows' : 'did not match',
      };
      if (m) allow ??= a;
    }
    let polDecision: Decision;
    if (deny !== undefined) polDecision = deny.decision;
    else if (allow !== undefined) polDecision = allow.decision;
    else polDecision = defaultDeny(pol, p, r, x.hints);
    trace[head] = {
      check: `policy ${pol.name}`,
      pass: polDecision.allow,
      detail: `${polDecision.allow ? 'allows' : 'denies'} (${polDecision.reasons.join(', ')})`,
    };
    if (!polDecision.allow) result ??= polDecision;
    else allowed.push(polDecision.rule ?? pol.name);
  }
  if (result === undefined) {
    result =
      allowed.length === 0
        ? { allow: false, reasons: ['rule.default_deny'], rule: 'route' }
        : { allow: true, reasons: ['rule.allow'], rule: allowed.join(',') };
  }
  trace.push({
    check: 'decision',
    pass: result.allow,
    detail: `${result.allow ? 'allow' : 'deny'}: ${result.reasons.join(', ')}${result.rule ? ` (by ${result.rule})` : ''}`,
  });
  return Object.freeze({ ...result, trace });
}
