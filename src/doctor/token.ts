/**
 * Token checks (`--token`): which provider would take the token, and every mismatch named —
 * `iss`, `aud`, `alg`, `typ`, `exp`/`nbf`, lifetime against the provider and session settings,
 * claims the rules read that the token lacks, Entra ID group overage — then the verdict of the
 * real verifier (`explainToken`, the code path of a request).
 * @module
 */
import { explainToken } from '../authn/explain.js';
import { looksLikeJws, parseCompactJws, type ParsedJws } from '../authn/jws.js';
import { DEFAULT_TYPS, normalizeTyp, type Provider } from '../authn/provider.js';
import type { Principal } from '../pipeline/principal.js';
import type { DoctorContext } from './context.js';
import { diagnoseIssuer } from './issuer.js';
import { finding, type Finding } from './report.js';
import { claimFindings, timeFindings } from './token-claims.js';

/** What the header checks need from the token: its provider and the principal it maps to. */
export interface TokenSubject {
  readonly provider: string | undefined;
  readonly principal: Principal | undefined;
  /** Length of the token, for the size of a forwarded `Authorization` header. */
  readonly tokenBytes?: number | undefined;
}

/** Runs the token checks; no findings when no token was given. */
export async function checkToken(
  ctx: DoctorContext,
  opts: { token?: string | undefined },
): Promise<{ findings: Finding[]; subject: TokenSubject | undefined }> {
  if (opts.token === undefined || ctx.registry === undefined) return { findings: [], subject: undefined };
  const raw = opts.token.trim().replace(/^bearer +/i, '');
  const out: Finding[] = [];
  let provider: Provider | undefined;
  let principal: Principal | undefined;
  if (looksLikeJws(raw)) {
    let jws: ParsedJws | undefined;
    try {
      jws = parseCompactJws(raw);
    } catch (e) {
      out.push(
        finding.error(
          'token.format',
          'token',
          'the token is not a well-formed JWT',
          (e as Error).message,
          'pass the access token itself (three base64url parts), not an ID token file or a cookie',
        ),
      );
    }
    if (jws) {
      provider = pickProvider(ctx, jws, out);
      if (provider) principal = mismatches(ctx, provider, jws, out);
    }
  }
  const ex = await explainToken(ctx.registry, raw, provider ? { providers: [provider.name] } : {});
  if (ex.error) {
    const failed = ex.checks.filter((c) => !c.pass).map((c) => `${c.check}: ${c.detail ?? 'failed'}`);
    out.push(
      finding.error(
        'token.verify',
        provider ? `providers.${provider.name}` : 'token',
        `Gatehouse refuses this token: ${ex.error.code}`,
        failed.join('\n') || ex.error.detail,
        'fix the mismatches above; `gatehouse explain -c FILE --token T METHOD URL` shows every check for one request',
      ),
    );
  } else if (ex.principal) {
    principal = ex.principal;
    out.push(
      finding.ok(
        'token.verify',
        `providers.${ex.principal.provider}`,
        'the token verifies (signature, issuer, audience, lifetime)',
        `subject ${ex.principal.subject} (${ex.principal.kind}); groups ${ex.principal.groups.length}, roles ${ex.principal.roles.length}, scopes ${ex.principal.scopes.length}`,
      ),
    );
  }
  return {
    findings: out,
    subject: { provider: provider?.name ?? principal?.provider, principal, tokenBytes: raw.length },
  };
}

/** The provider whose issuer the token names, or the one it was most likely meant for. */
function pickProvider(ctx: DoctorContext, jws: ParsedJws, out: Finding[]): Provider | undefined {
  const registry = ctx.registry;
  if (!registry) return undefined;
  const iss = jws.claims.iss;
  const all = [...registry.providers.values()];
  const exact = all.find((p) => p.issuer === iss);
  if (exact) {
    out.push(
      finding.ok(
        'token.provider',
        `providers.${exact.name}`,
        `provider "${exact.name}" takes this token (iss matches)`,
        `iss "${String(iss)}"`,
      ),
    );
    return exact;
  }
  const near =
    typeof iss === 'string'
      ? (all.find((p) => diagnoseIssuer(p.issuer, iss, '').kind !== 'other') ??
        all.find((p) => originOf(p.issuer) === originOf(iss)) ??
        (all.length === 1 ? all[0] : undefined))
      : undefined;
  const issuers = all.map((p) => `${p.name}: "${p.issuer}"`).join('\n');
  if (!near) {
    out.push(
      finding.error(
        'token.provider',
        'token',
        'no configured provider takes this token',
        `iss ${JSON.stringify(iss)}\nconfigured:\n${issuers}`,
        'add a provider for this issuer, or request the token from a configured IdP',
      ),
    );
    return undefined;
  }
  const d = diagnoseIssuer(near.issuer, String(iss), `providers.${near.name}.issuer`);
  out.push(
    finding.error(
      'token.iss',
      `providers.${near.name}`,
      `iss mismatch: ${d.label}`,
      `expected: "${near.issuer}"\nactual:   ${JSON.stringify(iss)}`,
      d.fix,
    ),
  );
  return near;
}

function originOf(u: string): string | undefined {
  try {
    return new URL(u).origin;
  } catch {
    return undefined;
  }
}

const MS_GRAPH = new Set(['https://graph.microsoft.com', '00000003-0000-0000-c000-000000000000']);

/** Every mismatch between the token and provider `p`; returns the principal the token maps to. */
function mismatches(ctx: DoctorContext, p: Provider, jws: ParsedJws, out: Finding[]): Principal | undefined {
  const subject = `providers.${p.name}`;
  const c = jws.claims;
  const h = jws.header;
  // aud
  const aud = c.aud === undefined ? [] : [c.aud].flat().map(String);
  if (p.audiences !== undefined && !aud.some((a) => p.audiences?.includes(a))) {
    const login = ctx.config.session?.login.client_id;
    const hint = aud.some((a) => MS_GRAPH.has(a))
      ? 'this is a Microsoft Graph token: request a scope of your own API (api://<app-id>/.default or api://<app-id>/<scope>) so Entra issues a token for it'
      : aud.some((a) => a === login || p.loginClientIds.has(a))
        ? 'this looks like an ID token (aud is the login client): send the access token instead'
        : p.config.preset.startsWith('entra') &&
            aud.some((a) => /^[0-9a-f-]{36}$/i.test(a)) &&
            p.audiences.some((a) => a.startsWith('api://'))
          ? 'Entra ID v2 access tokens carry the client id (GUID) in aud, v1 tokens the Application ID URI: add the GUID to audiences'
          : `add the token's audience to ${subject}.audiences if this API is meant, or request the token for ${p.audiences[0]}`;
    out.push(
      finding.error(
        'token.aud',
        subject,
        'audience mismatch',
        `expected one of: ${p.audiences.join(', ')}\nactual:   ${aud.length ? aud.join(', ') : '(no aud claim)'}`,
        hint,
      ),
    );
  } else
    out.push(
      finding.ok(
        'token.aud',
        subject,
        'audience accepted',
        `aud ${aud.join(', ') || '(none, insecure_allow_missing_audience)'}`,
      ),
    );
  // alg
  const alg = String(h.alg);
  if (!p.algorithms.has(alg))
    out.push(
      finding.error(
        'token.alg',
        subject,
        `algorithm ${alg} is not allowed for this provider`,
        `expected one of: ${[...p.algorithms].join(', ')}\nactual:   ${alg}`,
        alg === 'none'
          ? 'unsigned tokens are never accepted'
          : `add ${alg} to ${subject}.algorithms if the IdP signs with it (HS*: also shared_secret)`,
      ),
    );
  else out.push(finding.ok('token.alg', subject, `algorithm ${alg} is allowed`));
  // typ
  const typ = typeof h.typ === 'string' ? normalizeTyp(h.typ) : undefined;
  const okTyp =
    p.requiredTyp !== undefined ? typ === p.requiredTyp : typ === undefined || DEFAULT_TYPS.has(typ);
  if (!okTyp)
    out.push(
      finding.error(
        'token.typ',
        subject,
        'token type (typ header) not accepted',
        `expected: ${p.requiredTyp ?? 'absent, JWT or at+jwt'}\nactual:   ${JSON.stringify(h.typ)}`,
        p.requiredTyp !== undefined
          ? `remove ${subject}.required_typ, or have the IdP issue RFC 9068 (at+jwt) tokens`
          : `set ${subject}.required_typ: "${String(h.typ)}" if the IdP types its access tokens so`,
      ),
    );
  else
    out.push(finding.ok('token.typ', subject, 'token type accepted', `typ ${JSON.stringify(h.typ ?? null)}`));
  timeFindings(ctx, p, c, out);
  let principal: Principal | undefined;
  try {
    principal = p.mapper.map(c, 'jwt', 'doctor');
  } catch (e) {
    out.push(
      finding.error(
        'token.claims',
        subject,
        'the token cannot be mapped to a principal',
        (e as Error).message,
        `check ${subject}.preset and claims (subject claim)`,
      ),
    );
    return undefined;
  }
  claimFindings(ctx, p, c, principal, out);
  return principal;
}
