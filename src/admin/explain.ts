import { isAbsolute, resolve } from 'node:path';
import type { RuntimeState } from '../config/compile.js';
import type { AuditEvent } from '../audit/event.js';
import { redactTokens } from '../audit/build.js';
import { GatehouseError } from '../errors/index.js';
import { findAuditEvents, type FoundEvent } from '../explain/audit-scan.js';
import { pastReport, type PastReport } from '../explain/past.js';
import type { FeedEntry } from './feed.js';

/** Claim names whose values are secrets or single-use values: shown as `[hidden]`. */
const SECRET_CLAIM = /secret|password|passwd|token|key|code|nonce|hash|sid|jti|cnf|otp|pin/i;

/** A principal's claims for display: secret-looking names hidden, token-shaped values redacted. */
export function safeClaims(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claims)) {
    if (SECRET_CLAIM.test(k)) out[k] = '[hidden]';
    else if (typeof v === 'string') out[k] = redactTokens(v);
    else out[k] = JSON.parse(redactTokens(JSON.stringify(v ?? null))) as unknown;
  }
  return out;
}

/** The audit event of a ring entry (what the recorder wrote for it), for explain. */
function eventOf(e: FeedEntry): AuditEvent {
  const p = e.principal;
  return {
    time: new Date(e.t).toISOString(),
    type: 'request',
    request_id: e.id,
    route: e.route,
    method: e.method,
    path: e.path,
    host: e.host,
    client_ip: e.clientIp,
    provider: p?.provider,
    subject: p?.subject,
    client_id: p?.clientId,
    tenant: p?.tenant,
    token_kind: p?.kind,
    auth_method: p?.method,
    credential_id: p?.credentialId,
    decision: e.decision,
    reasons: e.reasons,
    rule: e.rule,
    status: e.status,
    error: e.error,
    upstream_status: e.upstreamStatus,
    latency_ms: Math.round(e.totalMs * 1000) / 1000,
    upstream_ms: e.upstreamMs === undefined ? undefined : Math.round(e.upstreamMs * 1000) / 1000,
  };
}

/** The audit files `gatehouse explain --request-id` reads by default (`audit.file`, file sinks). */
function auditFiles(state: RuntimeState, baseDir: string): string[] {
  const a = state.config.audit;
  const files = [
    ...(a.file === undefined ? [] : [a.file]),
    ...a.sinks.flatMap((s) => (s.type === 'file' ? [s.path] : [])),
  ];
  return [...new Set(files.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f))))];
}

/**
 * `GET /api/explain/:id`: the report `gatehouse explain --request-id ID --json` prints, from the
 * audit files when they hold the request (with the debug trace when recorded), else from the
 * recent decisions in memory; plus the principal's claims (secrets hidden) when still in memory.
 */
export async function explainRequest(
  id: string,
  state: RuntimeState,
  baseDir: string,
  recent: FeedEntry | undefined,
): Promise<PastReport & { claims?: Record<string, unknown> }> {
  let found: FoundEvent[] = [];
  const files = auditFiles(state, baseDir);
  if (files.length > 0) {
    try {
      found = await findAuditEvents(files, id);
    } catch {
      found = []; // an unreadable audit file: fall back to memory
    }
  }
  if (found.length === 0 && recent !== undefined)
    found = [{ file: '(memory)', line: 0, event: eventOf(recent) }];
  const report = pastReport(id, found, state.routes, state.config);
  if (report === undefined)
    throw new GatehouseError('GH_ADMIN_NOT_FOUND', `request id ${id} is not known here`);
  const claims = recent?.principal?.claims;
  return claims === undefined ? report : { ...report, claims: safeClaims(claims) };
}
