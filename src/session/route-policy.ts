import { GatehouseError } from '../errors/index.js';
import type { LoginRuntime } from '../oidc/logins.js';
import type { SessionRuntime } from '../oidc/runtime.js';
import type { SessionRecord } from '../oidc/sessions.js';
import type { StepUpRequest } from '../oidc/state.js';
import type { SessionRoute } from './schema.js';

/**
 * A route's session policy, compiled once at load: the logins whose sessions it accepts, tighter
 * lifetimes (tighter only: a route can never extend the global ones) and step-up requirements.
 */
export interface RoutePolicy {
  /** Logins accepted here, in configured order (every login when the route names none). */
  readonly logins: readonly LoginRuntime[];
  /** Names of {@link logins}; undefined when the route accepts every login. */
  readonly only: ReadonlySet<string> | undefined;
  readonly absolute: number | undefined;
  readonly idle: number | undefined;
  /** Idle-timer group: `session.group`, else the route host(s), else the route name. */
  readonly group: string;
  /** Step-up requirements (max_age in seconds), or undefined. */
  readonly stepUp: StepUpRequest | undefined;
}

/** Why a live session does not serve this route. */
export interface PolicyMiss {
  readonly code: 'GH_SESSION_LOGIN_NOT_ACCEPTED' | 'GH_SESSION_STEP_UP_REQUIRED' | 'GH_SESSION_ROUTE_EXPIRED';
  readonly reason: string;
  readonly detail: string;
  /** The login to sign in with again (the session's own for step-up and expiry). */
  readonly login: LoginRuntime | undefined;
}

/**
 * Compiles the route keys `login:` and `session:`. Problems go to `issue` with the exact key
 * path; returns the policy (or undefined when the route needs none: every login, no limits).
 */
export function compileRoutePolicy(
  rt: SessionRuntime,
  route: SessionRoute,
  keyPath: string,
  issue: (path: string, message: string) => void,
): RoutePolicy | undefined {
  const names =
    route.login === undefined ? undefined : typeof route.login === 'string' ? [route.login] : route.login;
  const logins: LoginRuntime[] = [];
  names?.forEach((n, i) => {
    const l = rt.logins.get(n);
    const at = typeof route.login === 'string' ? `${keyPath}.login` : `${keyPath}.login[${i}]`;
    if (l === undefined)
      issue(at, `unknown login "${n}"; expected one of ${[...rt.logins.keys()].join(', ')}`);
    else if (!logins.includes(l)) logins.push(l);
  });
  const s = route.session;
  const cfg = rt.cfg;
  if (s?.idle_timeout !== undefined && s.idle_timeout > cfg.idle_timeout)
    issue(
      `${keyPath}.session.idle_timeout`,
      `must not exceed session.idle_timeout (${cfg.idle_timeout} ms): route lifetimes only tighten`,
    );
  if (s?.absolute_lifetime !== undefined && s.absolute_lifetime > cfg.absolute_lifetime)
    issue(
      `${keyPath}.session.absolute_lifetime`,
      `must not exceed session.absolute_lifetime (${cfg.absolute_lifetime} ms): route lifetimes only tighten`,
    );
  const stepUp: StepUpRequest | undefined =
    s?.max_auth_age !== undefined || s?.require_acr !== undefined || s?.require_amr !== undefined
      ? {
          maxAge: s.max_auth_age === undefined ? undefined : Math.max(0, Math.floor(s.max_auth_age / 1000)),
          acr: s.require_acr,
          amr: s.require_amr,
        }
      : undefined;
  if (names === undefined && s === undefined) return undefined;
  const hosts = route.match.host === undefined ? [] : [route.match.host].flat();
  return {
    logins: names === undefined ? [...rt.logins.values()] : logins,
    only: names === undefined ? undefined : new Set(logins.map((l) => l.name)),
    absolute: s?.absolute_lifetime,
    idle: s?.idle_timeout,
    group:
      s?.group ??
      (hosts.length > 0 ? `host:${[...hosts].sort().join(',')}` : `route:${route.name ?? keyPath}`),
    stepUp,
  };
}

/** The login a session came from. */
export function sessionLogin(rt: SessionRuntime, rec: SessionRecord): LoginRuntime | undefined {
  return rec.ln === undefined ? rt.defaultLogin : rt.logins.get(rec.ln);
}

/** Whether a live session serves a route with this policy; `now` in epoch ms. */
export function checkPolicy(
  rt: SessionRuntime,
  p: RoutePolicy,
  rec: SessionRecord,
  now: number,
): PolicyMiss | undefined {
  const login = sessionLogin(rt, rec);
  const name = rec.ln ?? rt.defaultLogin.name;
  if (login === undefined || (p.only !== undefined && !p.only.has(name)))
    return {
      code: 'GH_SESSION_LOGIN_NOT_ACCEPTED',
      reason: 'session.login_not_accepted',
      detail: `session from login "${name}"; this route accepts ${[...(p.only ?? rt.logins.keys())].join(', ')}`,
      login: p.logins.length === 1 ? p.logins[0] : undefined,
    };
  if (p.absolute !== undefined && now - rec.c > p.absolute)
    return {
      code: 'GH_SESSION_ROUTE_EXPIRED',
      reason: 'session.route_expired',
      detail: `session is ${Math.round((now - rec.c) / 1000)}s old; this route allows ${p.absolute / 1000}s`,
      login,
    };
  if (p.idle !== undefined) {
    const last = rec.g?.[p.group] ?? rec.c;
    if (now - last > p.idle)
      return {
        code: 'GH_SESSION_ROUTE_EXPIRED',
        reason: 'session.route_idle',
        detail: `no request on ${p.group} for ${Math.round((now - last) / 1000)}s; this route allows ${p.idle / 1000}s`,
        login,
      };
  }
  const su = p.stepUp;
  if (su !== undefined) {
    const claims = rec.p.claims;
    const authTime = rec.at ?? Math.floor(rec.c / 1000);
    let why: string | undefined;
    if (su.maxAge !== undefined && now / 1000 - authTime > su.maxAge)
      why = `signed in ${Math.round(now / 1000 - authTime)}s ago; max_auth_age is ${su.maxAge}s`;
    else if (su.acr !== undefined && !(typeof claims.acr === 'string' && su.acr.includes(claims.acr)))
      why = `acr ${JSON.stringify(claims.acr ?? null)} is not one of ${JSON.stringify(su.acr)}`;
    else if (su.amr !== undefined) {
      const amr = Array.isArray(claims.amr) ? claims.amr : [];
      const missing = su.amr.filter((m) => !amr.includes(m));
      if (missing.length > 0) why = `amr ${JSON.stringify(amr)} lacks ${JSON.stringify(missing)}`;
    }
    if (why !== undefined)
      return { code: 'GH_SESSION_STEP_UP_REQUIRED', reason: 'session.step_up_required', detail: why, login };
  }
  return undefined;
}

/**
 * The 401 for a request that cannot be sent through the IdP (API, XHR): a specific code, and for
 * step-up the RFC 9470 challenge (`insufficient_user_authentication` with acr_values / max_age).
 */
export function policyError(p: RoutePolicy, miss: PolicyMiss): GatehouseError {
  const headers: Record<string, string> = {};
  if (miss.code === 'GH_SESSION_STEP_UP_REQUIRED') {
    const su = p.stepUp as StepUpRequest;
    let c =
      'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required"';
    if (su.acr !== undefined) c += `, acr_values="${su.acr.join(' ')}"`;
    if (su.maxAge !== undefined) c += `, max_age=${su.maxAge}`;
    headers['WWW-Authenticate'] = c;
  }
  return new GatehouseError(miss.code, miss.detail, { reasons: [miss.reason], headers });
}
