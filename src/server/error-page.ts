import type { RuntimeState } from '../config/compile.js';
import type { RequestContext } from '../pipeline/context.js';
import { PAGES_SERVICE, type PageSet } from '../pages/index.js';
import type { ErrorPageOptions } from './respond.js';

/** Key of the session runtime in the state's services (see src/oidc/runtime.ts). */
const SESSION_SERVICE = 'session';
const LOGIN = '/.gatehouse/login';
const LOGOUT = '/.gatehouse/logout';

/**
 * The error page options of a request: the configuration's pages, and — when a login is
 * configured — "Sign out" and "Switch account" for a signed-in browser user (session), or
 * "Sign in" for a request without an identity on a route that accepts sessions. Links are
 * relative to the host the browser is on; `rd` brings the user back to the page.
 */
export function errorPageOptions(
  ctx: Pick<RequestContext, 'principal' | 'route' | 'path' | 'query'>,
  state: Pick<RuntimeState, 'services'>,
): ErrorPageOptions {
  const pages = state.services.get(PAGES_SERVICE) as PageSet | undefined;
  if (state.services.get(SESSION_SERVICE) === undefined) return { pages };
  const rd = encodeURIComponent(ctx.path + ctx.query);
  const p = ctx.principal;
  const viaSession = ctx.route?.authenticators.some((a) => a.id === 'session') === true;
  if (p?.method === 'session') {
    return {
      pages,
      signOutUrl: LOGOUT,
      switchAccountUrl: `${LOGIN}?prompt=select_account&rd=${rd}`,
    };
  }
  return { pages, signInUrl: p === undefined && viaSession ? `${LOGIN}?rd=${rd}` : undefined };
}
