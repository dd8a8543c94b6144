import type { RequestContext } from '../pipeline/context.js';
import { clearCookie } from '../oidc/cookies.js';
import { sessionCookieId } from '../oidc/session-cookie.js';
import { addSetCookie, requireMethod, sendHtml, sendRedirect } from '../oidc/http.js';
import { renderPage } from '../pages/index.js';
import type { SsoRuntime } from './runtime.js';

/** Session ids are 32 random bytes in base64url (see `newSessionId`). */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * `/.gatehouse/logout` with `session.sso`, on any host: ends the *global* session server-side
 * (so every host's cookie, on every instance sharing the store, stops working at once), deletes
 * its host sessions, clears this host's cookie, then continues with RP-initiated logout at the
 * identity provider (OIDC RP-Initiated Logout 1.0 §2: `id_token_hint`, `post_logout_redirect_uri`
 * on the login host, `client_id`). Without an ID token (no session, or an IdP without
 * `end_session_endpoint`) it goes straight to the post-logout page.
 */
export async function handleSsoLogout(sso: SsoRuntime, ctx: RequestContext): Promise<void> {
  requireMethod(ctx, ['GET', 'POST']);
  if (ctx.method === 'POST') ctx.req.resume();
  const rt = sso.rt;
  const cookie = sessionCookieId(rt, ctx);
  const globalId = cookie === undefined || cookie === '' ? undefined : await sso.globalId(ctx, cookie);
  let idToken: string | undefined;
  let client = rt.client;
  if (globalId !== undefined && SESSION_ID.test(globalId)) {
    const ended = await rt.sessions.destroy(globalId, 'logout');
    const hosts = await sso.hostSessions.endAll(globalId);
    idToken = ended.idToken;
    // RP-initiated logout at the IdP of the session's own login (session.logins).
    const ln = ended.rec?.ln;
    if (ln !== undefined) client = rt.logins.get(ln)?.client ?? client;
    if (ended.rec) {
      rt.audit(ctx, {
        type: 'logout',
        decision: 'allow',
        status: 302,
        subject: ended.rec.p.subject,
        credential_id: ended.rec.p.credentialId,
        reasons: ['logout', 'logout.global'],
        records_deleted: hosts,
      });
    }
  }
  addSetCookie(ctx, clearCookie(rt.cookieName, rt.secure));
  ctx.reasons.push('logout');
  // `state` (RP-Initiated Logout §2) carries the app host back to the signed-out page, whose
  // "Sign in again" then returns there; it is checked against session.sso.hosts on the way back.
  const state = sso.hosts.appOrigin(ctx);
  const end =
    idToken !== undefined
      ? client.endSessionUrl({
          id_token_hint: idToken,
          post_logout_redirect_uri: sso.postLogoutRedirect,
          client_id: client.clientId,
          ...(state === undefined ? {} : { state }),
        })
      : undefined;
  const direct = new URL(sso.postLogoutRedirect);
  if (state !== undefined && direct.href === sso.signedOutUrl) direct.searchParams.set('state', state);
  sendRedirect(ctx, end?.href ?? direct.href);
}

/**
 * `/.gatehouse/signed-out` on the login host: Gatehouse's own "You are signed out" page, where
 * the identity provider returns after logout. It clears the login host's cookie (its session
 * already ended server-side) and never signs anyone in by itself.
 */
export async function handleSignedOut(sso: SsoRuntime, ctx: RequestContext): Promise<void> {
  requireMethod(ctx, ['GET', 'HEAD']);
  const rt = sso.rt;
  const id = sessionCookieId(rt, ctx);
  // Only a dead session's cookie is cleared: this page never ends a live session by itself.
  if (id !== undefined && !(SESSION_ID.test(id) && (await rt.sessions.load(id)) !== undefined))
    addSetCookie(ctx, clearCookie(rt.cookieName, rt.secure));
  ctx.reasons.push('logout.signed_out');
  const html = renderPage(
    'signed_out',
    {
      title: 'You are signed out',
      message:
        'You have been signed out of every application behind this Gatehouse and of your identity provider.',
      sign_in_url: signInAgain(sso, new URLSearchParams(ctx.query.slice(1)).get('state')),
      request_id: ctx.id,
    },
    sso.pages,
  );
  sendHtml(ctx, 200, html);
}

/** Where "Sign in again" leads: the app host logout started on (when it is listed), else the login host. */
function signInAgain(sso: SsoRuntime, state: string | null): string {
  if (state !== null) {
    try {
      const u = new URL(state);
      if (sso.hosts.originOf(u.host) === state) return `${state}/`;
    } catch {
      /* not a URL: ignored */
    }
  }
  return `${sso.hosts.loginOrigin}${sso.rt.paths.start}`;
}
