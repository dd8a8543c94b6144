import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError } from '../errors/index.js';
import { clearCookie } from './cookies.js';
import { sessionCookieId } from './session-cookie.js';
import { addSetCookie, readForm, requireMethod, sendRedirect } from './http.js';
import { safeReturnTo } from './redirect.js';
import type { SessionRuntime } from './runtime.js';
import { LogoutTokenVerifier } from './backchannel.js';
import { idpUnavailable } from './client.js';

/**
 * `/.gatehouse/logout[?rd=<target>]`: ends the server-side session (the old cookie never works
 * again), clears the cookie, then RP-initiated logout at the IdP's `end_session_endpoint` with
 * `id_token_hint` and `post_logout_redirect_uri` (OIDC RP-Initiated Logout 1.0 §2). `rd` must
 * pass the same redirect rules as login (and be registered at the IdP as a post-logout URI).
 */
export async function handleLogout(rt: SessionRuntime, ctx: RequestContext): Promise<void> {
  requireMethod(ctx, ['GET', 'POST']);
  if (ctx.method === 'POST') ctx.req.resume();
  const rd = new URLSearchParams(ctx.query.slice(1)).get('rd') ?? undefined;
  const target = (rd !== undefined ? safeReturnTo(rd, rt.returnTo) : undefined) ?? rt.postLogoutRedirect;
  const absolute = new URL(target, rt.origin).href;
  const id = sessionCookieId(rt, ctx);
  let idToken: string | undefined;
  let client = rt.client;
  if (id !== undefined && id !== '') {
    const ended = await rt.sessions.destroy(id, 'logout');
    idToken = ended.idToken;
    // RP-initiated logout at the IdP of the session's own login.
    const ln = ended.rec?.ln;
    if (ln !== undefined) client = rt.logins.get(ln)?.client ?? client;
    if (ended.rec) {
      rt.audit(ctx, {
        type: 'logout',
        decision: 'allow',
        status: 302,
        subject: ended.rec.p.subject,
        credential_id: ended.rec.p.credentialId,
        reasons: ['logout'],
      });
    }
  }
  addSetCookie(ctx, clearCookie(rt.cookieName, rt.secure, rt.cookieDomain));
  ctx.reasons.push('logout');
  const end =
    idToken !== undefined
      ? client.endSessionUrl({
          id_token_hint: idToken,
          post_logout_redirect_uri: absolute,
          client_id: client.clientId,
        })
      : undefined;
  sendRedirect(ctx, end?.href ?? target);
}

/**
 * A handler for `/.gatehouse/backchannel-logout` (OIDC Back-Channel Logout 1.0 §2.5): verifies
 * the `logout_token` and deletes every session of that IdP session (`sid`) or user (`sub`), on
 * every instance sharing the store. Answers 200 with `Cache-Control: no-store`, or 400.
 */
export function backchannelHandler(rt: SessionRuntime): (ctx: RequestContext) => Promise<void> {
  const verifiers = new Map<string, LogoutTokenVerifier>();
  return async (ctx) => {
    requireMethod(ctx, ['POST']);
    const form = await readForm(ctx.req, 64 * 1024);
    const token = form.get('logout_token');
    if (!token) throw new GatehouseError('GH_BACKCHANNEL_LOGOUT_INVALID', 'no logout_token parameter');
    // With several logins the (unverified) `iss` only selects whose keys verify the token.
    const iss = unverifiedIssuer(token);
    let login = rt.defaultLogin;
    for (const l of rt.logins.values()) if (l.client.metadata?.issuer === iss) login = l;
    let verifier = verifiers.get(login.name);
    if (verifier === undefined) {
      const cfg = await login.client.config();
      const md = cfg.serverMetadata();
      if (!md.jwks_uri) throw idpUnavailable('provider metadata has no jwks_uri');
      verifier = new LogoutTokenVerifier(md.jwks_uri, md.issuer, login.client.clientId, 10_000);
      verifiers.set(login.name, verifier);
    }
    const t = await verifier.verify(token);
    const index = t.sid !== undefined ? `sid:${t.sid}` : `sub:${t.sub as string}`;
    const deleted = await rt.store.deleteByIndex(index);
    ctx.reasons.push('logout.backchannel');
    rt.audit(ctx, {
      type: 'logout.backchannel',
      decision: 'allow',
      status: 200,
      subject: t.sub,
      reasons: ['logout.backchannel'],
      records_deleted: deleted,
      idp_sid_present: t.sid !== undefined,
    });
    ctx.res.writeHead(200, { 'cache-control': 'no-store', 'content-length': '0', 'x-request-id': ctx.id });
    ctx.res.end();
  };
}

/** The `iss` of a JWT without verifying it (only to pick the verifier), or undefined. */
function unverifiedIssuer(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as unknown;
    const iss = (payload as { iss?: unknown } | null)?.iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}
