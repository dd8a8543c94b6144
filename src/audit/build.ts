import type { GatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import type { TraceEntry } from '../pipeline/decision.js';
import { memoized, type Principal } from '../pipeline/principal.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { AuditEvent } from './event.js';
import { isoNow, jsonString } from '../log/json.js';

/** JWT-shaped substrings (`eyJ….….…`): redacted from error details as a last line of defence. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g;

/** Removes anything that looks like a compact JWS/JWE from operator-facing text. */
export function redactTokens(s: string): string {
  return s.replace(JWT_LIKE, '[redacted-token]');
}

/** The audit decision of a finished request (also what metrics count when no audit sink is set). */
export function decisionOf(
  ctx: RequestContext,
  status: number,
  error: GatehouseError | undefined,
): AuditEvent['decision'] {
  if (error !== undefined) return error.status >= 500 ? 'error' : 'deny';
  if (ctx.reasons.includes('authn.challenge')) return 'deny';
  return status >= 500 && ctx.upstreamStatus === undefined ? 'error' : 'allow';
}

/**
 * The audit event of one finished request, filled from the context: route, method, normalised
 * path (never the query), host, client address, who (provider, subject, client id, credential
 * id: the token `jti` or a hash prefix), decision, reasons, rule, statuses, latency and upstream
 * time (the compact decision summary `gatehouse explain --request-id` reads); the
 * forged identity headers that were stripped; the decision trace when one was recorded
 * (`audit.level: debug`). Never the token, cookies or other headers.
 */
export function buildRequestEvent(ctx: RequestContext, status: number, error?: GatehouseError): AuditEvent {
  const p = ctx.principal;
  const stripped = ctx.extra['strippedHeaders'];
  const dropped = ctx.extra['droppedCookies'];
  const trace = ctx.extra['trace'];
  const reasons = mergedReasons(ctx, error).slice();
  const now = performance.now();
  return {
    time: isoNow(),
    type: 'request',
    request_id: ctx.id,
    trace_id: ctx.tracing?.traceId,
    route: ctx.route?.name,
    method: ctx.method,
    path: ctx.path,
    host: ctx.host,
    client_ip: ctx.clientIp,
    provider: p?.provider,
    subject: p?.subject,
    client_id: p?.clientId,
    tenant: p?.tenant,
    token_kind: p?.kind,
    auth_method: p?.method,
    credential_id: p?.credentialId,
    decision: decisionOf(ctx, status, error),
    reasons,
    rule: ctx.rule,
    status,
    error: error?.code,
    detail: error?.detail === undefined ? undefined : redactTokens(error.detail),
    upstream_status: ctx.upstreamStatus,
    latency_ms: Math.round((now - ctx.start) * 1000) / 1000,
    upstream_ms: upstreamMs(ctx, now),
    stripped_headers:
      Array.isArray(stripped) && stripped.length > 0 ? (stripped as string[]).slice() : undefined,
    dropped_cookies: Array.isArray(dropped) ? (dropped as string[]).slice() : undefined,
    trace: Array.isArray(trace) && trace.length > 0 ? (trace as TraceEntry[]) : undefined,
  };
}

/**
 * Milliseconds (µs precision) from handing the request to the upstream pool to the end of the
 * upstream response (or now, when it is still streaming); undefined when never forwarded. The
 * time spent in Gatehouse itself is `latency_ms - upstream_ms`.
 */
function upstreamMs(ctx: RequestContext, now: number): number | undefined {
  const d = ctx.upstreamDispatch;
  return d === undefined ? undefined : Math.round(((ctx.upstreamEnd ?? now) - d) * 1000) / 1000;
}

/** `,"key":value` for a defined value; the value as JSON.stringify would write it. */
function field(key: string, v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return `,"${key}":${jsonString(v)}`;
  return `,"${key}":${Number.isFinite(v) ? String(v) : 'null'}`;
}

function stringList(list: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as string;
    out += `${i === 0 ? '' : ','}${typeof s === 'string' ? jsonString(s) : JSON.stringify(s)}`;
  }
  return `${out}]`;
}

/**
 * The principal's members of a request line, built once per principal object and kept on it
 * (pipeline/principal.ts): a verified token's principal is cached and serves every request that
 * presents the token again. Principals are never modified after they are made.
 */
const PRINCIPAL_PARTS = {};

const principalParts = (p: Principal): string =>
  `${field('provider', p.provider)}${field('subject', p.subject)}${field('client_id', p.clientId)}${field('tenant', p.tenant)}${field('token_kind', p.kind)}${field('auth_method', p.method)}${field('credential_id', p.credentialId)}`;

function principalFields(p: Principal): string {
  return memoized(p, PRINCIPAL_PARTS, principalParts);
}

/** `,"route":…` once per compiled route (routes are rebuilt, not changed, on reload). */
const routeParts = new WeakMap<CompiledRoute, string>();

function routeField(route: CompiledRoute | undefined): string {
  if (route === undefined) return '';
  let s = routeParts.get(route);
  if (s === undefined) {
    s = field('route', route.name);
    routeParts.set(route, s);
  }
  return s;
}

/**
 * The audit line of a finished request without building the event: byte for byte
 * `JSON.stringify(buildRequestEvent(ctx, status, error))` when no decision trace is attached
 * (property-tested), at a fraction of the cost. `decision` and `reasons` are what
 * {@link decisionOf} and the merged reason list give; returns undefined when the request carries
 * a trace, which only the generic path writes.
 */
export function requestEventLine(
  ctx: RequestContext,
  status: number,
  error: GatehouseError | undefined,
  decision: AuditEvent['decision'],
  reasons: readonly string[],
): string | undefined {
  const trace = ctx.extra['trace'];
  if (Array.isArray(trace) && trace.length > 0) return undefined;
  const p = ctx.principal;
  const stripped = ctx.extra['strippedHeaders'];
  let line = `{"time":"${isoNow()}","type":"request"${field('request_id', ctx.id)}${field('trace_id', ctx.tracing?.traceId)}${routeField(ctx.route)}${field('method', ctx.method)}${field('path', ctx.path)}${field('host', ctx.host)}${field('client_ip', ctx.clientIp)}`;
  if (p !== undefined) line += principalFields(p);
  line += `,"decision":"${decision}","reasons":${stringList(reasons)}${field('rule', ctx.rule)},"status":${status}`;
  if (error !== undefined) {
    line += `${field('error', error.code)}${field('detail', error.detail === undefined ? undefined : redactTokens(error.detail))}`;
  }
  const now = performance.now();
  line += `${field('upstream_status', ctx.upstreamStatus)}${field('latency_ms', Math.round((now - ctx.start) * 1000) / 1000)}${field('upstream_ms', upstreamMs(ctx, now))}`;
  if (Array.isArray(stripped) && stripped.length > 0)
    line += `,"stripped_headers":${stringList(stripped as string[])}`;
  const dropped = ctx.extra['droppedCookies'];
  if (Array.isArray(dropped)) line += `,"dropped_cookies":${stringList(dropped as string[])}`;
  return `${line}}`;
}

/**
 * The reasons of a finished request: the context's, then the error's not already listed. The
 * context's own list (not a copy) when the error adds nothing.
 */
export function mergedReasons(ctx: RequestContext, error: GatehouseError | undefined): readonly string[] {
  if (error === undefined || error.reasons.every((r) => ctx.reasons.includes(r))) return ctx.reasons;
  const reasons = ctx.reasons.slice();
  for (const r of error.reasons) if (!reasons.includes(r)) reasons.push(r);
  return reasons;
}
