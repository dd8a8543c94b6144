import type { AuditEvent } from '../audit/event.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { TraceEntry } from '../pipeline/decision.js';
import type { Principal } from '../pipeline/principal.js';
import { publicReasonOf, publicReasonOfError } from '../authz/public-reason.js';
import type { FoundEvent } from './audit-scan.js';

/** A route of the current configuration, as `explain --request-id` needs it. */
export interface RouteView {
  readonly name: string;
  readonly keyPath: string;
  readonly public: boolean;
  readonly authenticators: readonly { readonly id: string }[];
  readonly config: {
    readonly policy?: string | readonly string[] | undefined;
    readonly rules?: readonly RuleView[] | undefined;
  };
}

interface RuleView {
  readonly name?: string | undefined;
  readonly effect: 'allow' | 'deny';
}

/** What `gatehouse explain --request-id` reconstructs from the audit trail; printed as text or `--json`. */
export interface PastReport {
  readonly request_id: string;
  /** Where the events were found. */
  readonly found: readonly { file: string; line: number; type: string }[];
  readonly request: {
    time: string;
    method?: string | undefined;
    host?: string | undefined;
    path?: string | undefined;
    client_ip?: string | undefined;
  };
  /** The route by name, with its place in the current configuration (undefined: none matched). */
  readonly route?: {
    name: string;
    key_path?: string | undefined;
    in_config: boolean;
    authenticators?: string[];
  };
  readonly credential: {
    kind: string;
    provider?: string | undefined;
    subject?: string | undefined;
    client_id?: string | undefined;
    tenant?: string | undefined;
    token_kind?: string | undefined;
    credential_id?: string | undefined;
  };
  /** Each step with its result: route, authentication, authorisation, upstream. */
  readonly checks: TraceEntry[];
  /** The rules evaluated: the recorded trace (`audit.level: debug`), else reconstructed from the deciding rule. */
  readonly rules: TraceEntry[];
  readonly rules_source: 'trace' | 'reconstructed' | 'none';
  readonly decision: {
    decision: AuditEvent['decision'];
    status: number;
    error?: string | undefined;
    detail?: string | undefined;
    reasons: string[];
    rule?: string | undefined;
    /** The reason code the refused client was given (JSON `reason`, the page's `reason_code`). */
    public_reason?: string | undefined;
  };
  readonly upstream?: { status?: number | undefined; ms?: number | undefined } | undefined;
  readonly timings: { total_ms: number; gateway_ms?: number | undefined; upstream_ms?: number | undefined };
  /** Other events of the same request (login, logout, session…). */
  readonly related: { type: string; time: string; decision: string; reasons: readonly string[] }[];
}

const ms = (n: number) => Math.round(n * 1000) / 1000;

/** The route's policies as `[name, rules]`, rules qualified as the authoriser names them. */
function policiesOf(
  route: RouteView,
  config: Pick<GatehouseConfig, 'policies'>,
): [string, [string, string][]][] {
  const out: [string, [string, string][]][] = [];
  const refs = route.config.policy === undefined ? [] : [route.config.policy].flat();
  const named = (config.policies ?? {}) as Record<string, { rules: readonly RuleView[] }>;
  const add = (pol: string, rules: readonly RuleView[]) =>
    out.push([pol, rules.map((r, i) => [`${pol}/${r.name ?? `rules[${i}]`}`, r.effect])]);
  for (const ref of refs) add(ref, named[ref]?.rules ?? []);
  if (route.config.rules !== undefined) add(route.name, route.config.rules);
  return out;
}

/**
 * The rules evaluated, from the deciding rule alone (audit level `info`): policies run in order,
 * deny rules first, and the first decisive rule ends the evaluation — so the rules before it did
 * not match and those after it were not evaluated.
 */
function reconstruct(
  ev: AuditEvent,
  route: RouteView,
  config: Pick<GatehouseConfig, 'policies'>,
): TraceEntry[] {
  const out: TraceEntry[] = [];
  const allowedBy = ev.decision === 'allow' && ev.rule ? ev.rule.split(',') : [];
  const denyingRule = ev.reasons.includes('rule.deny') ? ev.rule : undefined;
  const defaultDenyPolicy = ev.reasons.includes('rule.default_deny') ? ev.rule : undefined;
  let done = false;
  for (const [pol, rules] of policiesOf(route, config)) {
    if (done) {
      out.push({ check: `policy ${pol}`, pass: false, detail: 'not evaluated (an earlier policy decided)' });
      continue;
    }
    const hit = rules.find(([n]) => allowedBy.includes(n) || n === denyingRule)?.[0];
    const isDefaultDeny = pol === defaultDenyPolicy;
    const allows = hit !== undefined && allowedBy.includes(hit);
    const verdict = allows
      ? `allows by ${hit}`
      : hit !== undefined
        ? `denies by ${hit}`
        : isDefaultDeny
          ? 'denies (no allow rule matched)'
          : 'allows (the deciding rule is not recorded at audit level info)';
    out.push({
      check: `policy ${pol}`,
      pass: allows || (hit === undefined && !isDefaultDeny),
      detail: verdict,
    });
    const ordered = [...rules.filter(([, e]) => e === 'deny'), ...rules.filter(([, e]) => e === 'allow')];
    let after = false;
    for (const [name, effect] of ordered) {
      const check = `rule ${name} (${effect})`;
      if (hit === undefined && !isDefaultDeny) out.push({ check, pass: true, detail: 'not recorded' });
      else if (after) out.push({ check, pass: true, detail: 'not evaluated' });
      else if (name === hit) {
        out.push({ check, pass: effect === 'allow', detail: 'matched: decided' });
        after = true;
      } else out.push({ check, pass: effect === 'deny', detail: 'did not match' });
    }
    if (hit !== undefined && !allows) done = true;
    if (isDefaultDeny) done = true;
  }
  return out;
}

function step(ev: AuditEvent, route: RouteView | undefined): TraceEntry[] {
  const checks: TraceEntry[] = [];
  const err = ev.error;
  if (ev.route === undefined) {
    checks.push({ check: 'route', pass: false, detail: err ?? 'no route matched' });
    return checks;
  }
  checks.push({
    check: 'route',
    pass: true,
    detail: route ? `${ev.route} (${route.keyPath})` : `${ev.route} (not in the current configuration)`,
  });
  if (route?.public) checks.push({ check: 'authentication', pass: true, detail: 'none: public route' });
  else if (ev.subject !== undefined)
    checks.push({
      check: 'authentication',
      pass: true,
      detail: `${ev.auth_method ?? 'credential'} verified ${ev.subject}${ev.provider ? ` (provider ${ev.provider})` : ''}`,
    });
  else if (
    ev.status === 401 ||
    ev.reasons.includes('authn.challenge') ||
    ev.reasons.includes('login.redirect')
  )
    checks.push({
      check: 'authentication',
      pass: false,
      detail: `${err ?? (ev.reasons.includes('login.redirect') ? 'no session: redirected to sign in' : 'no identity')}${ev.detail ? `: ${ev.detail}` : ''}`,
    });
  if (ev.rule !== undefined || ev.error === 'GH_ACCESS_DENIED' || ev.error === 'GH_INSUFFICIENT_SCOPE')
    checks.push({
      check: 'authorisation',
      pass: ev.decision === 'allow',
      detail: `${ev.decision === 'allow' ? 'allowed' : 'denied'}${ev.rule ? ` by ${ev.rule}` : ''} (${ev.reasons.join(', ')})`,
    });
  else if (ev.status === 429 || ev.status === 403 || ev.status === 413)
    checks.push({
      check: 'request',
      pass: false,
      detail: `${err ?? ev.status}${ev.detail ? `: ${ev.detail}` : ''}`,
    });
  if (ev.upstream_status !== undefined)
    checks.push({
      check: 'upstream',
      pass: ev.upstream_status < 500,
      detail: `answered ${ev.upstream_status}${ev.upstream_ms !== undefined ? ` in ${ev.upstream_ms} ms` : ''}`,
    });
  else if (err?.startsWith('GH_UPSTREAM'))
    checks.push({ check: 'upstream', pass: false, detail: `${err}${ev.detail ? `: ${ev.detail}` : ''}` });
  return checks;
}

/** The public reason code a refusal carried, recomputed from the event (the same functions). */
function toldReason(ev: AuditEvent): string | undefined {
  if (ev.status !== 401 && ev.status !== 403) return undefined;
  if (ev.error === undefined) return undefined;
  const byCode = publicReasonOfError({ code: ev.error });
  if (byCode !== undefined) return byCode.code;
  if (
    ev.error !== 'GH_UNAUTHENTICATED' &&
    ev.error !== 'GH_ACCESS_DENIED' &&
    ev.error !== 'GH_INSUFFICIENT_SCOPE'
  )
    return undefined;
  const who =
    ev.subject === undefined
      ? undefined
      : ({ subject: ev.subject, kind: ev.token_kind ?? 'user' } as Principal);
  return publicReasonOf({ allow: false, reasons: ev.reasons }, who, ev.reasons).code;
}

/**
 * Builds the report of one past request from its audit events and the current configuration
 * (routes by name: their place and rules). The request event is the one of type `request`
 * (forward-auth and inline requests alike); other events of the same id are listed as related.
 */
export function pastReport(
  requestId: string,
  found: readonly FoundEvent[],
  routes: readonly RouteView[],
  config: Pick<GatehouseConfig, 'policies'>,
): PastReport | undefined {
  const main = found.find((f) => f.event.type === 'request') ?? found[0];
  if (main === undefined) return undefined;
  const ev = main.event;
  const route = ev.route === undefined ? undefined : routes.find((r) => r.name === ev.route);
  const trace = Array.isArray(ev.trace) ? [...ev.trace] : undefined;
  const rules = trace ?? (route && ev.rule !== undefined ? reconstruct(ev, route, config) : []);
  const upstreamMs = ev.upstream_ms;
  return {
    request_id: requestId,
    found: found.map((f) => ({ file: f.file, line: f.line, type: f.event.type })),
    request: { time: ev.time, method: ev.method, host: ev.host, path: ev.path, client_ip: ev.client_ip },
    route:
      ev.route === undefined
        ? undefined
        : {
            name: ev.route,
            key_path: route?.keyPath,
            in_config: route !== undefined,
            authenticators: route?.authenticators.map((a) => a.id),
          },
    credential: {
      kind: ev.auth_method ?? (route?.public ? 'none (public route)' : 'none verified'),
      provider: ev.provider,
      subject: ev.subject,
      client_id: ev.client_id,
      tenant: ev.tenant,
      token_kind: ev.token_kind,
      credential_id: ev.credential_id,
    },
    checks: step(ev, route),
    rules,
    rules_source: trace ? 'trace' : rules.length ? 'reconstructed' : 'none',
    decision: {
      decision: ev.decision,
      status: ev.status,
      error: ev.error,
      detail: ev.detail,
      reasons: [...ev.reasons],
      rule: ev.rule,
      public_reason: toldReason(ev),
    },
    upstream: ev.upstream_status === undefined ? undefined : { status: ev.upstream_status, ms: upstreamMs },
    timings: {
      total_ms: ev.latency_ms,
      upstream_ms: upstreamMs,
      gateway_ms: upstreamMs === undefined ? ev.latency_ms : ms(ev.latency_ms - upstreamMs),
    },
    related: found
      .filter((f) => f !== main)
      .map((f) => ({
        type: f.event.type,
        time: f.event.time,
        decision: f.event.decision,
        reasons: f.event.reasons,
      })),
  };
}
