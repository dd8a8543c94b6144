import type { Feature } from '../pipeline/feature.js';
import type { SessionGlobals, SessionRoute } from './schema.js';
import type { Mutator } from '../pipeline/stages.js';
import { GatehouseError } from '../errors/index.js';
import { withoutCookies } from '../oidc/cookies.js';
import { sessionCookieId } from '../oidc/session-cookie.js';
import { requireMethod, sendJsonBody } from '../oidc/http.js';
import { handleCallback, handleLoginEndpoint } from '../oidc/login.js';
import { backchannelHandler, handleLogout } from '../oidc/logout.js';
import { compileSso } from '../sso/feature.js';
import { ssoLoginEndpoint } from '../sso/endpoints.js';
import { handleSsoLogout } from '../sso/logout.js';
import type { SsoRuntime } from '../sso/runtime.js';
import { buildSessionRuntime, SESSION_SERVICE, type SessionRuntime } from '../oidc/runtime.js';

/**
 * Removes Gatehouse's own cookies (session and login state) from the `Cookie` header before
 * the request goes upstream, on every route: an upstream must never see a session id.
 */
function stripOwnCookies(rt: SessionRuntime): Mutator {
  return {
    id: 'session.strip-cookies',
    mutate(ctx) {
      const header = ctx.req.headers.cookie;
      if (header === undefined) return;
      const kept = withoutCookies(header, rt.cookieName, rt.statePrefix);
      if (kept === header) return;
      if (kept === undefined) ctx.drop.add('cookie');
      else ctx.inject.set('cookie', kept);
    },
  };
}

function registerEndpoints(
  rt: SessionRuntime,
  register: (path: string, handle: (ctx: Parameters<Mutator['mutate']>[0]) => Promise<void>) => void,
  sso: SsoRuntime | undefined,
): void {
  register(rt.paths.callback, (ctx) => handleCallback(rt, ctx));
  // With session.sso, login and logout on an app host go through the login host (src/sso).
  register(rt.paths.start, (ctx) => (sso ? ssoLoginEndpoint(sso, ctx) : handleLoginEndpoint(rt, ctx)));
  register(rt.paths.logout, (ctx) => (sso ? handleSsoLogout(sso, ctx) : handleLogout(rt, ctx)));
  register('/.gatehouse/backchannel-logout', backchannelHandler(rt));
  register(rt.paths.userinfo, async (ctx) => {
    requireMethod(ctx, ['GET', 'HEAD']);
    const cookie = sessionCookieId(rt, ctx);
    const id = cookie && sso ? await sso.globalId(ctx, cookie) : cookie;
    const rec = id ? await rt.sessions.load(id) : undefined;
    if (!rec) throw new GatehouseError('GH_SESSION_REQUIRED', `${ctx.path} without a live session`);
    const p = rec.p;
    ctx.principal = p;
    sendJsonBody(ctx, 200, {
      provider: p.provider,
      issuer: p.issuer,
      subject: p.subject,
      name: p.name,
      email: p.email,
      groups: p.groups,
      roles: p.roles,
      tenant: p.tenant,
      auth_method: p.method,
      session_expires_at: p.expiresAt,
      claims: p.claims,
    });
  });
}

/**
 * The session feature: browser single sign-on. Compiles `session` (store, key ring, OIDC client;
 * discovery deferred to start), registers `/.gatehouse/{callback,login,logout,userinfo,
 * backchannel-logout}`, and strips Gatehouse's cookies from every proxied request.
 */
export const sessionFeature: Feature<SessionGlobals> = {
  id: 'session',
  compileGlobal(cctx) {
    const rt = buildSessionRuntime(cctx);
    if (!rt) return;
    cctx.services.set(SESSION_SERVICE, rt);
    const sso = compileSso(cctx, rt);
    registerEndpoints(rt, (path, handle) => cctx.registerEndpoint({ path, handle }), sso);
  },
  compileRoute(route, keyPath, cctx, stages) {
    const r = route as typeof route & Pick<SessionRoute, 'login' | 'session'>;
    if ((r.login !== undefined || r.session !== undefined) && ![r.auth].flat().includes('session'))
      cctx.issue(
        `${keyPath}.${r.login !== undefined ? 'login' : 'session'}`,
        'applies to browser sessions only: add "session" to this route\'s auth',
      );
    const rt = cctx.services.get(SESSION_SERVICE) as SessionRuntime | undefined;
    if (!rt) return;
    stages.mutators.push(stripOwnCookies(rt));
    stages.ownCookieNames.add(rt.cookieName);
    stages.ownCookiePrefixes.push(rt.statePrefix);
  },
};
