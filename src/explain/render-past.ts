import type { TraceEntry } from '../pipeline/decision.js';
import type { PastReport } from './past.js';

const OK = '✓';
const NO = '✗';

function line(t: TraceEntry, indent: string): string {
  return `${indent}${t.pass ? OK : NO} ${t.check.trimStart()}${t.detail ? ` — ${t.detail}` : ''}\n`;
}

/** Human-readable rendering of a {@link PastReport} (`gatehouse explain --request-id`). */
export function renderPast(r: PastReport): string {
  const q = r.request;
  let out = `Request    ${r.request_id} at ${q.time}\n`;
  out += `           ${q.method ?? '?'} ${q.host ?? ''}${q.path ?? ''} from ${q.client_ip ?? '?'}\n`;
  out += `Found in   ${r.found.map((f) => `${f.file}:${f.line} (${f.type})`).join(', ')}\n`;
  const route = r.route;
  if (route)
    out += `Route      ${route.name}${route.key_path ? ` (${route.key_path})` : ' (not in the current configuration)'}${route.authenticators?.length ? `, auth: ${route.authenticators.join(', ')}` : ''}\n`;
  else out += `Route      ${NO} none matched\n`;
  const c = r.credential;
  const who = [
    c.subject !== undefined ? `subject ${c.subject}` : undefined,
    c.token_kind,
    c.provider !== undefined ? `provider ${c.provider}` : undefined,
    c.client_id !== undefined ? `client ${c.client_id}` : undefined,
    c.tenant !== undefined ? `tenant ${c.tenant}` : undefined,
    c.credential_id !== undefined ? `credential ${c.credential_id}` : undefined,
  ].filter((x) => x !== undefined);
  out += `Credential ${c.kind}${who.length ? ` (${who.join(', ')})` : ''}\n`;
  out += 'Checks\n';
  for (const t of r.checks) out += line(t, '  ');
  if (r.rules.length) {
    out += `Rules${r.rules_source === 'reconstructed' ? ' (reconstructed from the deciding rule; audit.level: debug records every criterion)' : ''}\n`;
    for (const t of r.rules.filter((x) => x.check !== 'decision'))
      out += line(t, t.check.startsWith('policy') ? '  ' : t.check.startsWith('rule') ? '    ' : '      ');
  }
  const d = r.decision;
  out += `Decision   ${d.decision.toUpperCase()} ${d.status}${d.error ? ` ${d.error}` : ''} (${d.reasons.join(', ')})${d.rule ? ` by ${d.rule}` : ''}\n`;
  if (d.detail) out += `           ${d.detail}\n`;
  if (d.public_reason) out += `           the client was told: ${d.public_reason}\n`;
  if (r.upstream)
    out += `Upstream   ${r.upstream.status ?? '-'}${r.upstream.ms !== undefined ? ` in ${r.upstream.ms} ms` : ''}\n`;
  const t = r.timings;
  out += `Timings    total ${t.total_ms} ms${t.upstream_ms !== undefined ? `, upstream ${t.upstream_ms} ms` : ''}${t.gateway_ms !== undefined ? `, gateway ${t.gateway_ms} ms` : ''}\n`;
  for (const e of r.related)
    out += `Related    ${e.type} at ${e.time}: ${e.decision} (${e.reasons.join(', ')})\n`;
  return out;
}
