import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { clearCookie, cookieNamesWithPrefix, readCookie, serializeCookie } from '../oidc/cookies.js';
import { addSetCookie, requireMethod, sendHtml, sendRedirect } from '../oidc/http.js';
import { handleLoginEndpoint, startLogin } from '../oidc/login.js';
import { loginErrorPage } from '../oidc/pages.js';
import { credentialId } from '../oidc/principal.js';
import { sessionCookieId } from '../oidc/session-cookie.js';
import { sendChooser } from '../oidc/chooser.js';
import type { LoginRuntime } from '../oidc/logins.js';
import type { StepUpRequest } from '../oidc/state.js';
import {
  hashNonce,
  newAttempt,
  openRequest,
  REQUEST_TTL_SECONDS,
  sealRequest,
  type HandoffNeed,
} from './handoff.js';
import { HANDOFF_PATH, START_PATH, type SsoRuntime } from './runtime.js';

/** Session ids are 32 random bytes in base64url (see `newSessionId`). */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
/** More pending attempts than this on one app host: the older nonce cookies are cleared. */
const MAX_PENDING = 6;

/**
 * On an app host without a session: binds a new attempt to this browser (a host-only nonce
 * cookie) and sends it to the login host with the sealed request. `returnTo` is a path (or
 * absolute URL) on `origin`; anything not on `origin` lands on `origin/`.
 */
export async function startHandoff(
  sso: SsoRuntime,
  ctx: RequestContext,
  origin: string,
  returnTo: string,
  need?: HandoffNeed,
): Promise<void> {
  const rt = sso.rt;
  const target = sso.hosts.safeAppUrl(returnTo.startsWith('/') ? `${origin}${returnTo}` : returnTo);
  const a = newAttempt();
  const sealed = await sealRequest(rt.keys, {
    origin,
    returnTo: target !== undefined && target.startsWith(`${origin}/`) ? target : `${origin}/`,
    nonceHash: a.nonceHash,
    rid: a.rid,
    need,
  });
  const pending = cookieNamesWithPrefix(ctx.req.headers.cookie, sso.noncePrefix);
  if (pending.length >= MAX_PENDING) for (const n of pending) addSetCookie(ctx, clearCookie(n, rt.secure));
  addSetCookie(
    ctx,
    serializeCookie(sso.noncePrefix + a.rid, a.nonce, { secure: rt.secure, maxAge: REQUEST_TTL_SECONDS }),
  );
  ctx.reasons.push('sso.start');
  sendRedirect(ctx, `${sso.hosts.loginOrigin}${START_PATH}?request=${encodeURIComponent(sealed)}`);
}

/**
 * The `session` authenticator's challenge with `session.sso` (a browser navigation without a
 * session): on an app host, the handoff; on any other host but the login host (say the bare IP),
 * a redirect to the login host's login start path — a login started elsewhere could not
 * complete, its state cookie would not reach the callback. False on the login host itself: the
 * caller starts the login there. `need` is what the route requires of a session (its accepted
 * logins, a step-up) and whether the current session was refused by it: sealed into the
 * request, so the login host signs in again rather than handing the same session back.
 */
export async function ssoChallenge(
  sso: SsoRuntime,
  ctx: RequestContext,
  need?: { logins?: readonly string[] | undefined; stepUp?: StepUpRequest | undefined; refused: boolean },
): Promise<boolean> {
  const origin = sso.hosts.appOrigin(ctx);
  if (origin !== undefined) {
    let refused: string | undefined;
    if (need?.refused === true) {
      const cookie = sessionCookieId(sso.rt, ctx);
      const id = cookie === undefined ? undefined : await sso.globalId(ctx, cookie);
      if (id !== undefined) refused = hashNonce(id);
    }
    const sealedNeed = need === undefined ? undefined : { logins: need.logins, stepUp: need.stepUp, refused };
    await startHandoff(sso, ctx, origin, ctx.path + ctx.query, sealedNeed);
    return true;
  }
  if (ctx.hostHeader.toLowerCase() === sso.hosts.loginHost) return false;
  ctx.reasons.push('sso.login_host');
  sendRedirect(ctx, `${sso.hosts.loginOrigin}${sso.rt.paths.start}`);
  return true;
}

/** The login start path (`/.gatehouse/login?rd=…`): on an app host through the login host's handoff, else as without SSO. */
export async function ssoLoginEndpoint(sso: SsoRuntime, ctx: RequestContext): Promise<void> {
  const origin = sso.hosts.appOrigin(ctx);
  if (origin === undefined) return handleLoginEndpoint(sso.rt, ctx);
  requireMethod(ctx, ['GET', 'HEAD']);
  const rd = new URLSearchParams(ctx.query.slice(1)).get('rd') ?? '/';
  await startHandoff(sso, ctx, origin, rd);
}

/**
 * `/.gatehouse/sso/start?request=…` on the login host: with a live session there, issues a
 * handoff code for the requesting app host and redirects to it (no identity provider round
 * trip); without one, signs in at the identity provider first and comes back here.
 */
export async function handleStart(sso: SsoRuntime, ctx: RequestContext): Promise<void> {
  requireMethod(ctx, ['GET']);
  const rt = sso.rt;
  if (ctx.hostHeader.toLowerCase() !== sso.hosts.loginHost)
    throw new GatehouseError(
      'GH_SSO_REQUEST_INVALID',
      `${START_PATH} on ${ctx.hostHeader}, not the login host`,
    );
  const sealed = new URLSearchParams(ctx.query.slice(1)).get('request');
  const req = await openRequest(rt.keys, sealed);
  // Re-checked here: the hosts may have changed (reload) since the request was sealed.
  if (
    sso.hosts.originOf(new URL(req.origin).host) !== req.origin ||
    sso.hosts.safeAppUrl(req.returnTo) === undefined
  )
    throw new GatehouseError('GH_SSO_REQUEST_INVALID', `app host ${req.origin} is not in session.sso.hosts`);
  const id = sessionCookieId(rt, ctx);
  const rec = id !== undefined && SESSION_ID.test(id) ? await rt.sessions.load(id) : undefined;
  const need = req.need;
  const candidates = (need?.logins ?? [...rt.logins.keys()])
    .map((n) => rt.logins.get(n))
    .filter((l): l is LoginRuntime => l !== undefined);
  if (
    rec === undefined ||
    id === undefined ||
    (need?.refused !== undefined && need.refused === hashNonce(id)) ||
    (need?.logins !== undefined && !need.logins.includes(rec.ln ?? rt.defaultLogin.name))
  ) {
    // Sign in (again) here, then come back: only a session that can serve the route is handed over.
    if (id !== undefined && rec === undefined) addSetCookie(ctx, clearCookie(rt.cookieName, rt.secure));
    const back = `${START_PATH}?request=${encodeURIComponent(sealed as string)}`;
    if (candidates.length > 1 && need?.stepUp === undefined) sendChooser(rt, ctx, candidates, back);
    else await startLogin(rt, ctx, back, { login: candidates[0], stepUp: need?.stepUp });
    return;
  }
  const code = await sso.handoffs.issue({ ...req, globalId: id });
  ctx.principal = rec.p;
  ctx.reasons.push('sso.handoff.issued');
  rt.audit(ctx, {
    type: 'sso.handoff.issued',
    decision: 'allow',
    status: 302,
    subject: rec.p.subject,
    credential_id: rec.p.credentialId,
    reasons: ['sso.handoff.issued'],
    detail: `for ${req.origin}`,
  });
  sendRedirect(ctx, `${req.origin}${HANDOFF_PATH}?code=${code}`);
}

/**
 * `/.gatehouse/sso/handoff?code=…` on an app host: redeems the code (see `Handoffs.redeem`),
 * checks the global session is still live, and gives this host its own host-only session
 * cookie (a new id: any previous host session here ends), then returns to the original URL.
 * Refusals are audited (`sso.handoff.failed`) and shown as an error page with their code.
 */
export async function handleHandoff(sso: SsoRuntime, ctx: RequestContext): Promise<void> {
  requireMethod(ctx, ['GET']);
  const rt = sso.rt;
  const origin = sso.hosts.appOrigin(ctx);
  const header = ctx.req.headers.cookie;
  try {
    if (origin === undefined)
      throw new GatehouseError('GH_SSO_HANDOFF_WRONG_HOST', `${ctx.hostHeader} is not in session.sso.hosts`);
    const code = new URLSearchParams(ctx.query.slice(1)).get('code');
    const rec = await sso.handoffs.redeem(code, origin, (rid) => {
      const name = sso.noncePrefix + rid;
      const v = readCookie(header, name);
      if (v !== undefined) addSetCookie(ctx, clearCookie(name, rt.secure));
      return v;
    });
    const global = await rt.sessions.load(rec.globalId);
    if (global === undefined)
      throw new GatehouseError('GH_SSO_SESSION_ENDED', 'the global session ended before the handoff');
    const previous = sessionCookieId(rt, ctx);
    if (previous !== undefined) await sso.hostSessions.end(previous);
    const hostId = await sso.hostSessions.create(rec.globalId, origin, global.x, [
      `sub:${global.p.subject}`,
      ...(global.isid === undefined ? [] : [`sid:${global.isid}`]),
    ]);
    addSetCookie(
      ctx,
      serializeCookie(rt.cookieName, hostId, {
        secure: rt.secure,
        maxAge: Math.floor((global.x - Date.now()) / 1000),
      }),
    );
    ctx.principal = global.p;
    ctx.reasons.push('sso.handoff');
    rt.audit(ctx, {
      type: 'sso.handoff',
      decision: 'allow',
      status: 302,
      subject: global.p.subject,
      credential_id: credentialId(hostId),
      reasons: ['sso.handoff'],
    });
    sendRedirect(ctx, rec.returnTo);
  } catch (e) {
    if (!isGatehouseError(e) || e.status >= 500) throw e;
    for (const r of e.reasons) if (!ctx.reasons.includes(r)) ctx.reasons.push(r);
    rt.audit(ctx, {
      type: 'sso.handoff.failed',
      decision: 'deny',
      status: e.status,
      error: e.code,
      reasons: e.reasons,
      detail: e.detail,
    });
    sendHtml(ctx, e.status, loginErrorPage(e, ctx.id, '/', sso.pages));
  }
}
