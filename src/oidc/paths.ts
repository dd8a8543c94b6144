import { routePathProblem } from '../routing/router.js';

/** The browser-facing session endpoints whose paths an operator may choose (`session.paths`). */
export interface SessionPaths {
  /** Redirect URI path registered at the IdP (authorization response). */
  readonly callback: string;
  /** Starts a login: `<start>?rd=<target>`. */
  readonly start: string;
  /** Ends the session (RP-initiated logout). */
  readonly logout: string;
  /** The signed-in principal as JSON. */
  readonly userinfo: string;
}

export const PATH_KEYS = ['callback', 'start', 'logout', 'userinfo'] as const;

/** Gatehouse's own defaults. */
export const DEFAULT_PATHS: SessionPaths = Object.freeze({
  callback: '/.gatehouse/callback',
  start: '/.gatehouse/login',
  logout: '/.gatehouse/logout',
  userinfo: '/.gatehouse/userinfo',
});

/** `session.paths: oauth2-proxy`: the paths an IdP registration made for oauth2-proxy uses. */
export const OAUTH2_PROXY_PATHS: SessionPaths = Object.freeze({
  callback: '/oauth2/callback',
  start: '/oauth2/start',
  logout: '/oauth2/sign_out',
  userinfo: '/oauth2/userinfo',
});

/** A route as far as path collisions go. */
interface RouteLike {
  readonly match: { readonly path: string; readonly path_type: 'prefix' | 'exact' };
}

type PathsInput = 'oauth2-proxy' | Partial<Record<(typeof PATH_KEYS)[number], string>> | undefined;

/**
 * The session endpoint paths: defaults (with `session.login.redirect_path` as the callback),
 * overridden by `session.paths` (the `oauth2-proxy` preset or single keys). Refuses, through
 * `fail(keyPath, message)`: non-normalised paths, paths under `/.well-known/`, paths under
 * `/.gatehouse/` other than the session defaults (Gatehouse's own endpoints live there), two keys
 * on one path, and a path a route would otherwise serve (an exact route on it, or a prefix
 * route other than `/` that covers it: Gatehouse answers the endpoint before routing).
 */
export function resolvePaths(
  input: PathsInput,
  redirectPath: string,
  routes: readonly RouteLike[],
  fail: (path: string, message: string) => void,
): SessionPaths {
  const given = input === 'oauth2-proxy' ? OAUTH2_PROXY_PATHS : (input ?? {});
  const at = (k: string) => (input === 'oauth2-proxy' ? 'session.paths' : `session.paths.${k}`);
  if (typeof input === 'object' && input.callback !== undefined && redirectPath !== DEFAULT_PATHS.callback)
    fail('session.paths.callback', 'conflicts with session.login.redirect_path: set only one of them');
  const out: Record<string, string> = {
    ...DEFAULT_PATHS,
    callback: redirectPath,
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
  };
  const seen = new Map<string, string>();
  for (const k of PATH_KEYS) {
    const p = out[k] as string;
    const own = k in given;
    const problem = routePathProblem(p);
    if (problem) fail(at(k), `${JSON.stringify(p)}: ${problem}`);
    else if (p === '/' || p.endsWith('/'))
      fail(at(k), `${JSON.stringify(p)}: expected a path without a trailing "/"`);
    else if (p.startsWith('/.well-known/'))
      fail(at(k), `${JSON.stringify(p)}: /.well-known/ is reserved for metadata documents`);
    else if (own && p.startsWith('/.gatehouse/') && !Object.values(DEFAULT_PATHS).includes(p))
      fail(
        at(k),
        `${JSON.stringify(p)}: /.gatehouse/ holds Gatehouse's own endpoints; keep a default there or choose a path outside it (e.g. "/oauth2/${k}")`,
      );
    const other = seen.get(p);
    if (other !== undefined) fail(at(k), `${JSON.stringify(p)} is also session.paths.${other}`);
    seen.set(p, k);
    if (!own || problem) continue;
    routes.forEach((r, i) => {
      const rp = r.match.path;
      const covers =
        r.match.path_type === 'exact'
          ? rp === p
          : rp !== '/' && (p === rp || p.startsWith(rp.endsWith('/') ? rp : `${rp}/`));
      if (covers)
        fail(
          at(k),
          `${JSON.stringify(p)} collides with routes[${i}].match.path ${JSON.stringify(rp)}: Gatehouse answers ${p} itself, the route would never see it`,
        );
    });
  }
  return Object.freeze(out as unknown as SessionPaths);
}
