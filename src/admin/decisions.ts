import { GatehouseError } from '../errors/index.js';
import { displayUser } from '../authz/public-reason.js';
import type { FeedEntry } from './feed.js';

/** A decision as the admin API shows it (`GET /api/decisions`, the live stream). */
export interface DecisionJson {
  /** The request id (`X-Request-Id`, the audit event's `request_id`). */
  readonly id: string;
  readonly time: string;
  readonly instance: string;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly route: string | null;
  readonly principal: {
    readonly kind: 'user' | 'agent' | 'client' | 'anonymous';
    readonly name: string | null;
  };
  /** `error`: Gatehouse or the upstream failed (5xx), as in the audit event. */
  readonly decision: 'allow' | 'deny' | 'error';
  /** The deciding reason code (see {@link reasonOf}). */
  readonly reason: string | null;
  /** The error code answered (`GH_ACCESS_DENIED`…), null when none. */
  readonly error: string | null;
  /** Every reason code of the request (the audit event's `reasons`). */
  readonly reasons: readonly string[];
  readonly rule: string | null;
  readonly status: number;
  readonly gateway_ms: number;
  readonly upstream_ms: number | null;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Errors whose own code says less than the rule reasons behind them. */
const RULE_ERRORS = new Set(['GH_ACCESS_DENIED', 'GH_INSUFFICIENT_SCOPE']);
const MISSING = /^(?:group|role|scope)\.missing:/;

/**
 * The deciding reason code of an entry: for a refusal by the rules, the most specific rule
 * reason (`group.missing:staff`, then `rule.deny`, then `rule.default_deny`); for other
 * refusals and errors the error code (`GH_TOKEN_EXPIRED`, `GH_RATE_LIMITED`…); for an allowed
 * request its last reason (`rule.allow`, `route.public`).
 */
export function reasonOf(e: FeedEntry): string | null {
  const r = e.reasons;
  if (e.error === undefined || RULE_ERRORS.has(e.error)) {
    const missing = r.find((x) => MISSING.test(x));
    if (missing !== undefined) return missing;
    if (r.includes('rule.deny')) return 'rule.deny';
    if (r.includes('rule.default_deny')) return 'rule.default_deny';
  }
  return e.error ?? r[r.length - 1] ?? null;
}

/** The principal kind: an agent is a client acting for someone (an RFC 8693 `act` claim). */
export function principalOf(e: FeedEntry): DecisionJson['principal'] {
  const p = e.principal;
  if (p === undefined) return { kind: 'anonymous', name: null };
  const kind = p.kind === 'client' ? (p.claims['act'] !== undefined ? 'agent' : 'client') : 'user';
  return { kind, name: displayUser(p) ?? p.subject };
}

/** Turns a ring entry into its API form. */
export function decisionJson(e: FeedEntry, instance: string): DecisionJson {
  const up = e.upstreamMs;
  return {
    id: e.id,
    time: new Date(e.t).toISOString(),
    instance,
    method: e.method,
    host: e.host,
    path: e.path,
    route: e.route ?? null,
    principal: principalOf(e),
    decision: e.decision,
    reason: reasonOf(e),
    error: e.error ?? null,
    reasons: e.reasons,
    rule: e.rule ?? null,
    status: e.status,
    gateway_ms: round(up === undefined ? e.totalMs : Math.max(0, e.totalMs - up)),
    upstream_ms: up === undefined ? null : round(up),
  };
}

/** Filters of `/api/decisions` and its stream; all given ones must hold. */
export interface DecisionFilter {
  readonly user?: string | undefined;
  readonly route?: string | undefined;
  readonly decision?: 'allow' | 'deny' | 'error' | undefined;
  readonly reason?: string | undefined;
  /** An exact status (`403`) or a class (`4xx`). */
  readonly status?: { readonly lo: number; readonly hi: number } | undefined;
}

const STATUS = /^([1-5])(?:xx|\d\d)$/;

function bad(detail: string): GatehouseError {
  return new GatehouseError('GH_ADMIN_BAD_REQUEST', detail);
}

/** Reads the filters from a query string; GH_ADMIN_BAD_REQUEST names a bad one. */
export function parseFilter(q: URLSearchParams): DecisionFilter {
  const opt = (k: string) => {
    const v = q.get(k);
    return v === null || v === '' ? undefined : v;
  };
  const decision = opt('decision');
  if (decision !== undefined && decision !== 'allow' && decision !== 'deny' && decision !== 'error')
    throw bad(`decision=${decision}: expected allow, deny or error`);
  const s = opt('status');
  let status: DecisionFilter['status'];
  if (s !== undefined) {
    const m = STATUS.exec(s);
    if (m === null) throw bad(`status=${s}: expected a status (403) or a class (4xx)`);
    status = s.endsWith('xx')
      ? { lo: Number(m[1]) * 100, hi: Number(m[1]) * 100 + 99 }
      : { lo: Number(s), hi: Number(s) };
  }
  return { user: opt('user')?.toLowerCase(), route: opt('route'), decision, reason: opt('reason'), status };
}

/** Reads `limit` (1–1000, default `def`). */
export function parseLimit(q: URLSearchParams, def: number): number {
  const v = q.get('limit');
  if (v === null || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw bad(`limit=${v}: expected a whole number from 1 to 1000`);
  return n;
}

/** True when the entry passes every filter given. */
export function matches(f: DecisionFilter, e: FeedEntry): boolean {
  if (f.route !== undefined && e.route !== f.route) return false;
  if (f.decision !== undefined && e.decision !== f.decision) return false;
  if (f.status !== undefined && (e.status < f.status.lo || e.status > f.status.hi)) return false;
  if (f.reason !== undefined && e.error !== f.reason && !e.reasons.includes(f.reason)) return false;
  if (f.user !== undefined) {
    const p = e.principal;
    if (p === undefined) return false;
    const names = [p.subject, p.email, p.name, p.clientId];
    if (!names.some((n) => n !== undefined && n.toLowerCase().includes(f.user as string))) return false;
  }
  return true;
}
