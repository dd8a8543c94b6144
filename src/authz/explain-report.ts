import type { TraceEntry } from '../pipeline/decision.js';
import type { Principal } from '../pipeline/principal.js';

/** What `gatehouse explain` found for one request; printed as text or as `--json`. */
export interface ExplainReport {
  request: { method: string; url: string; client_ip: string; host?: string; path?: string };
  route?:
    | { matched: true; name: string; key_path: string; public: boolean; authenticators: string[] }
    | { matched: false; error: string; detail?: string | undefined };
  authentication: {
    checks: TraceEntry[];
    principal?: Principal;
    error?: { code: string; status: number; detail?: string | undefined };
  };
  /** The authoriser trace: policies, rules, criteria, then the decision. */
  rules: TraceEntry[];
  decision?: {
    allow: boolean;
    status: number;
    code?: string | undefined;
    reasons: string[];
    rule?: string | undefined;
    www_authenticate?: string | undefined;
    /** What the refused client is told: the reason code (JSON `reason`) and the words of the page. */
    public_reason?: { code: string; text: string } | undefined;
  };
}

const OK = '✓';
const NO = '✗';

const NESTING = /\.(?:all|any)\[\d+\]|\.not\b/g;

function entry(t: TraceEntry, indent: string): string {
  const lead = t.check.length - t.check.trimStart().length;
  const path = t.check.trimStart().split(' ', 3).slice(0, 2).join(' ');
  const depth = lead > 0 ? (path.match(NESTING)?.length ?? 0) : 0;
  const pad = indent + ' '.repeat(lead + 2 * depth);
  return `${pad}${t.pass ? OK : NO} ${t.check.trimStart()}${t.detail ? ` — ${t.detail}` : ''}\n`;
}

function principalLines(p: Principal): string {
  const rows: [string, unknown][] = [
    ['subject', `${p.subject} (${p.kind}, ${p.method})`],
    ['provider', p.provider],
    ['issuer', p.issuer],
    ['name', p.name],
    ['email', p.email],
    ['client id', p.clientId],
    ['tenant', p.tenant],
    [
      'groups',
      p.groups.length
        ? p.groups.join(', ')
        : p.groupsOverage
          ? '(overage: not listed in the token)'
          : '(none)',
    ],
    ['roles', p.roles.length ? p.roles.join(', ') : '(none)'],
    ['scopes', p.scopes.length ? p.scopes.join(' ') : '(none)'],
    ['expires', p.expiresAt === undefined ? undefined : new Date(p.expiresAt * 1000).toISOString()],
    ['claims', JSON.stringify(p.claims)],
  ];
  return rows
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  ${k.padEnd(10)} ${String(v)}\n`)
    .join('');
}

/** Human-readable rendering of an {@link ExplainReport}. */
export function renderExplain(r: ExplainReport): string {
  let out = `Request    ${r.request.method} ${r.request.url} (client ${r.request.client_ip})\n`;
  if (r.request.path !== undefined)
    out += `Path       ${r.request.path} (normalised) on host ${r.request.host ?? ''}\n`;
  const route = r.route;
  if (route?.matched) {
    const auth = route.public ? 'auth: none (public)' : `auth: ${route.authenticators.join(', ')}`;
    out += `Route      ${OK} ${route.name} (${route.key_path}), ${auth}\n`;
  } else if (route) {
    out += `Route      ${NO} ${route.error}${route.detail ? `: ${route.detail}` : ''}\n`;
  }
  if (route?.matched && !route.public) {
    out += 'Authentication\n';
    for (const c of r.authentication.checks) out += entry(c, '  ');
    if (r.authentication.error)
      out += `  ${NO} ${r.authentication.error.code}${r.authentication.error.detail ? `: ${r.authentication.error.detail}` : ''}\n`;
    if (r.authentication.principal) out += `Principal\n${principalLines(r.authentication.principal)}`;
  }
  const rules = r.rules.filter((t) => t.check !== 'decision');
  if (rules.length) {
    out += 'Rules\n';
    for (const t of rules)
      out += entry(t, t.check.startsWith('policy') ? '  ' : t.check.startsWith('rule') ? '    ' : '    ');
  }
  const d = r.decision;
  if (d) {
    const verdict = d.allow ? 'ALLOW' : 'DENY';
    out += `Decision   ${verdict} ${d.status}${d.code ? ` ${d.code}` : ''} (${d.reasons.join(', ')})${d.rule ? ` by ${d.rule}` : ''}\n`;
    if (d.www_authenticate) out += `           WWW-Authenticate: ${d.www_authenticate}\n`;
    if (d.public_reason)
      out += `           the client is told: ${d.public_reason.code} — "${d.public_reason.text}"\n`;
  }
  return out;
}
