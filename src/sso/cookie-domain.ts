import type { RequestContext } from '../pipeline/context.js';
import { sendRedirect } from '../oidc/http.js';
import type { SessionRuntime } from '../oidc/runtime.js';

/**
 * The `session` authenticator's challenge with `session.cookie_domain` (one parent-domain
 * cookie instead of host-only cookies): a browser navigation without a session on any host but
 * the login host is sent to the login host's login start path with `rd` = the page it asked
 * for. The login must run on the login host — its state cookie is host-only there and the
 * callback is there — and the parent-domain cookie it sets then reaches the page it came from.
 * `rd` is validated by the login endpoint (hosts under the cookie domain are allowed return
 * targets). False on the login host: the caller starts the login there.
 */
export function domainChallenge(rt: SessionRuntime, ctx: RequestContext): boolean {
  const login = new URL(rt.origin);
  if (ctx.hostHeader.toLowerCase() === login.host) return false;
  const here = `${login.protocol}//${ctx.hostHeader.toLowerCase()}${ctx.path}${ctx.query}`;
  ctx.reasons.push('login.login_host');
  sendRedirect(ctx, `${rt.origin}${rt.paths.start}?rd=${encodeURIComponent(here)}`);
  return true;
}
