import type { GatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import type { TraceEntry } from '../pipeline/decision.js';
import type { AuditEvent } from './event.js';

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
 * id: the token `jti` or a hash prefix), decision, reasons, rule, statuses and latency; the
 * forged identity headers that were stripped; the decision trace when one was recorded
 * (`audit.level: debug`). Never the token, cookies or other headers.
 */
export function buildRequestEvent(ctx: RequestContext, status: number, error?: GatehouseError): AuditEvent {
  const p = ctx.principal;
  const stripped = ctx.extra['strippedHeaders'];
  const trace = ctx.extra['trace'];
  let reasons: string[];
  if (error === undefined) reasons = ctx.reasons.slice();
  else {
    reasons = ctx.reasons.slice();
    for (const r of error.reasons) if (!reasons.includes(r)) reasons.push(r);
  }
  return {
    time: new Date().toISOString(),
    type: 'request',
    request_id: ctx.id,
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
    latency_ms: Math.round((performance.now() - ctx.start) * 1000) / 1000,
    stripped_headers:
      Array.isArray(stripped) && stripped.length > 0 ? (stripped as string[]).slice() : undefined,
    trace: Array.isArray(trace) && trace.length > 0 ? (trace as TraceEntry[]) : undefined,
  };
}
