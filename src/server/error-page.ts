import type { RuntimeState } from '../config/compile.js';
import type { RequestContext } from '../pipeline/context.js';
import { PAGES_SERVICE, type PageSet } from '../pages/index.js';
import type { ErrorPageOptions } from './respond.js';

/** Key of the session runtime in the state's services (see src/oidc/runtime.ts). */
const SESSION_SERVICE = 'session';
const DEFAULT_PATHS = { start: '/.gatehouse/login', logout: '/.gatehouse/logout' };

/** What this module reads of the session runtime (src/oidc/runtime.ts): its endpoint paths. */
interface SessionLike {
  readonly paths?: { readonly start: string; readonly logout: string } | undefined;
}

/**
 * The error page options of a request: the configuration's pages, and — when a login is
 * configured — "Sign out" and "Switch account" for a signed-in browser user (session), or
 * "Sign in" for a request without an identity on a route that accepts sessions, at the
 * configured `session.paths`. Links are relative to the host the browser is on; `rd` brings the
 * user back to the page.
 */
export function errorPageOptions(
  ctx: Pick<RequestContext, 'principal' | 'route' | 'path' | 'query'>,
  state: Pick<RuntimeState, 'services'>,
): ErrorPageOptions {
  const pages = state.services.get(PAGES_SERVICE) as PageSet | undefined;
  const rt = state.services.get(SESSION_SERVICE) as SessionLike | undefined;
  if (rt === undefined) return { pages };
  const { start, logout } = rt.paths ?? DEFAULT_PATHS;
  const rd = encodeURIComponent(ctx.path + ctx.query);
  const p = ctx.principal;
  const viaSession = ctx.route?.authenticators.some((a) => a.id === 'session') === true;
  if (p?.method === 'session') {
    return {
      pages,
      signOutUrl: logout,
      switchAccountUrl: `${start}?prompt=select_account&rd=${rd}`,
    };
  }
  return { pages, signInUrl: p === undefined && viaSession ? `${start}?rd=${rd}` : undefined };
}
