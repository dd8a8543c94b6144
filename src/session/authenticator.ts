import type { CompileContext } from '../pipeline/feature.js';
import type { AuthnGlobals, AuthnRoute } from '../authn/schema.js';
import type { RequestContext } from '../pipeline/context.js';
import { AUTHN_NONE, type Authenticator, type AuthnResult } from '../pipeline/stages.js';
import { clearCookie } from '../oidc/cookies.js';
import { sessionCookieId } from '../oidc/session-cookie.js';
import { addSetCookie } from '../oidc/http.js';
import { isBrowserNavigation, startLogin } from '../oidc/login.js';
import { safeReturnTo } from '../oidc/redirect.js';
import { ssoChallenge } from '../sso/endpoints.js';
import { domainChallenge } from '../sso/cookie-domain.js';
import { SSO_SERVICE, type SsoRuntime } from '../sso/runtime.js';
import { SESSION_SERVICE, type SessionRuntime } from '../oidc/runtime.js';
import { sendChooser } from '../oidc/chooser.js';
import {
  checkPolicy,
  compileRoutePolicy,
  policyError,
  type PolicyMiss,
  type RoutePolicy,
} from './route-policy.js';
import type { SessionRoute } from './schema.js';
import { EXTRA_SESSION_ACCESS_TOKEN, EXTRA_SESSION_ID_TOKEN } from '../identity/inject.js';

/** `ctx.extra` key: why this request's live session does not serve the route. */
const POLICY_MISS = 'session.policyMiss';

/** Session ids are 32 random bytes in base64url (see `newSessionId`). */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * The `session` authenticator: the browser's session cookie names a server-side session whose
 * principal (from the ID token and optionally userinfo) is used like a bearer token's. Without
 * a session, a browser navigation is redirected to the IdP; anything else gets 401.
 */
export function sessionAuthenticator(
  rt: SessionRuntime,
  needsTokens = false,
  sso?: SsoRuntime,
  policy?: RoutePolicy,
): Authenticator {
  // Without SSO host sessions, per-route idle groups or tokens to fetch, a live session the
  // store holds in memory answers synchronously: no Promise for the common request.
  const syncable = sso === undefined && policy === undefined && !needsTokens;
  const authenticateAsync = async (ctx: RequestContext, cookie: string): Promise<AuthnResult> => {
    // With session.sso, an app host's cookie names a host session linked to the global one.
    const id = sso === undefined ? cookie : await sso.globalId(ctx, cookie);
    const rec = id !== undefined && SESSION_ID.test(id) ? await rt.sessions.load(id) : undefined;
    if (rec === undefined) {
      addSetCookie(ctx, clearCookie(rt.cookieName, rt.secure, rt.cookieDomain));
      ctx.reasons.push('session.unknown');
      return AUTHN_NONE;
    }
    if (policy !== undefined) {
      const miss = checkPolicy(rt, policy, rec, Date.now());
      if (miss !== undefined) {
        // Not a session for this route: the challenge signs in again (or answers 401).
        ctx.extra[POLICY_MISS] = miss;
        ctx.reasons.push(miss.reason);
        return AUTHN_NONE;
      }
      if (policy.idle !== undefined)
        await rt.sessions.touchGroup(id as string, rec, policy.group, policy.idle);
    }
    if (needsTokens) {
      const t = await rt.sessions.tokens(id as string);
      if (t?.accessToken !== undefined) ctx.extra[EXTRA_SESSION_ACCESS_TOKEN] = t.accessToken;
      if (t?.idToken !== undefined) ctx.extra[EXTRA_SESSION_ID_TOKEN] = t.idToken;
    }
    return { kind: 'ok', principal: rec.p };
  };
  return {
    id: 'session',
    authenticate(ctx: RequestContext): AuthnResult | Promise<AuthnResult> {
      const cookie = sessionCookieId(rt, ctx);
      if (cookie === undefined) return AUTHN_NONE;
      if (syncable && SESSION_ID.test(cookie)) {
        const principal = rt.sessions.principalNow(cookie);
        if (principal !== undefined) return { kind: 'ok', principal };
      }
      return authenticateAsync(ctx, cookie);
    },
    async challenge(ctx: RequestContext): Promise<boolean> {
      const miss = ctx.extra[POLICY_MISS] as PolicyMiss | undefined;
      if (!isBrowserNavigation(ctx)) {
        if (miss !== undefined && policy !== undefined) throw policyError(policy, miss);
        return false;
      }
      const stepUp = miss?.code === 'GH_SESSION_STEP_UP_REQUIRED' ? policy?.stepUp : undefined;
      const candidates =
        miss?.login !== undefined ? [miss.login] : (policy?.logins ?? [...rt.logins.values()]);
      // On an SSO app host the login host signs in, for this route's logins and step-up.
      const need = {
        logins:
          miss?.login !== undefined || policy?.only !== undefined ? candidates.map((l) => l.name) : undefined,
        stepUp,
        refused: miss !== undefined,
      };
      if (sso !== undefined && (await ssoChallenge(sso, ctx, need))) return true;
      if (rt.cookieDomain !== undefined && domainChallenge(rt, ctx)) return true;
      const returnTo = safeReturnTo(ctx.path + ctx.query, rt.returnTo) ?? '/';
      if (candidates.length > 1) sendChooser(rt, ctx, candidates, returnTo);
      else await startLogin(rt, ctx, returnTo, { login: candidates[0], stepUp });
      return true;
    },
  };
}

/** Factory for `auth: session` in a route (see src/authn/registry.ts). */
export function sessionFactory(
  route: AuthnRoute,
  keyPath: string,
  cctx: CompileContext<AuthnGlobals>,
): Authenticator | undefined {
  const rt = cctx.services.get(SESSION_SERVICE) as SessionRuntime | undefined;
  if (rt === undefined) {
    if (cctx.config.session === undefined) {
      cctx.issue(
        `${keyPath}.auth`,
        '"session" needs a top-level `session` section (login provider, client id, secrets)',
      );
    }
    return undefined;
  }
  const id = route.identity;
  return sessionAuthenticator(
    rt,
    id?.forward_token === 'session' || id?.easy_auth?.include_tokens === true,
    cctx.services.get(SSO_SERVICE) as SsoRuntime | undefined,
    compileRoutePolicy(rt, route as unknown as SessionRoute, keyPath, (p, m) => cctx.issue(p, m)),
  );
}
