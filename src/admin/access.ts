import type { CompileContext } from '../pipeline/feature.js';
import { emptyStages, type CompiledRoute } from '../pipeline/route.js';
import type { Authenticator, Authorizer } from '../pipeline/stages.js';
import type { RequestContext } from '../pipeline/context.js';
import type { AuthzGlobals, AuthzRoute } from '../authz/schema.js';
import { authzFeature } from '../authz/feature.js';
import { sessionAuthenticator } from '../session/authenticator.js';
import { compileRoutePolicy } from '../session/route-policy.js';
import { SESSION_SERVICE, type SessionRuntime } from '../oidc/runtime.js';
import { isBrowserNavigation, startLogin } from '../oidc/login.js';
import { SSO_SERVICE, type SsoRuntime } from '../sso/runtime.js';
import type { AdminConfig, AdminGlobals } from './schema.js';
import type { SessionRoute } from '../session/schema.js';

/** The route name console requests carry in audit events and `explain`. */
export const ADMIN_ROUTE = '(admin console)';

/** Set on admin-listener requests (`ctx.extra`): the decision feed leaves them out. */
export const ADMIN_REQUEST = 'admin.request';

/** Access control of the admin listener, compiled with the rest of the config (swapped on reload). */
export interface AdminAccess {
  readonly config: AdminConfig;
  /** A route-shaped object for `runStages`: session authenticator + the admin policy. */
  readonly route: CompiledRoute | undefined;
  /** The session runtime (sessions list/revoke), when `session` is configured. */
  readonly sessions: SessionRuntime | undefined;
  /** Client-certificate subjects that are admins (mTLS). */
  readonly mtlsSubjects: ReadonlySet<string>;
}

/**
 * The session authenticator with the console's own challenge: a browser without a session is
 * sent through the normal OIDC login and back to the admin listener (`publicUrl`); anything else
 * gets 401.
 */
function adminAuthenticator(
  rt: SessionRuntime,
  inner: Authenticator,
  publicUrl: () => string,
  login: SessionRuntime['defaultLogin'] | undefined,
): Authenticator {
  return {
    id: 'session',
    authenticate: (ctx) => inner.authenticate(ctx),
    async challenge(ctx: RequestContext): Promise<boolean> {
      if (!isBrowserNavigation(ctx)) return false;
      // The target is built from the configured admin URL and the normalised path: never from headers.
      await startLogin(rt, ctx, `${publicUrl()}${ctx.path}`, { login: login ?? rt.defaultLogin });
      return true;
    },
  };
}

/**
 * Compiles `admin.access`: the session authenticator (restricted to `login` when set) and an
 * authoriser from `policy`/`rules` built by the same rules engine as routes, so problems are
 * reported at `admin.access.*` key paths.
 */
export function compileAdminAccess(
  cctx: CompileContext<AdminGlobals & AuthzGlobals>,
  publicUrl: () => string,
): AdminAccess | undefined {
  const config = cctx.config.admin;
  if (config === undefined) return undefined;
  const a = config.access;
  const keyPath = 'admin.access';
  const rt = cctx.services.get(SESSION_SERVICE) as SessionRuntime | undefined;
  let route: CompiledRoute | undefined;
  if (a.rules !== undefined || a.policy !== undefined) {
    if (rt === undefined) {
      cctx.issue(
        keyPath,
        'signing in to the console needs a top-level `session` section (the OIDC login admins use); or admit admins by client certificate only (mtls_subjects, without rules/policy)',
      );
      return undefined;
    }
    const synthetic = {
      name: ADMIN_ROUTE,
      auth: 'session',
      match: { path: '/', path_type: 'prefix' as const },
      login: a.login,
      policy: a.policy,
      rules: a.rules,
    };
    const stages = emptyStages();
    authzFeature.compileRoute?.(synthetic as AuthzRoute, keyPath, cctx, stages);
    const policy = compileRoutePolicy(rt, synthetic as SessionRoute, keyPath, (p, m) => cctx.issue(p, m));
    const inner = sessionAuthenticator(
      rt,
      false,
      cctx.services.get(SSO_SERVICE) as SsoRuntime | undefined,
      policy,
    );
    const login = policy?.logins[0];
    route = Object.freeze({
      name: ADMIN_ROUTE,
      index: -1,
      keyPath,
      config: synthetic,
      methods: undefined,
      caseInsensitive: false,
      maxBodySize: 64 * 1024,
      upstream: undefined,
      preserveHost: false,
      stripPrefix: undefined,
      rewritePrefix: undefined,
      public: false,
      fastPath: false,
      authenticators: Object.freeze([adminAuthenticator(rt, inner, publicUrl, login)]),
      authorizer: stages.authorizer as Authorizer,
      limiters: [],
      mutators: [],
      stripNames: new Set<string>(),
      trustedHeaders: new Set<string>(),
      websocket: false,
      ownCookies: { names: new Set<string>(), prefixes: [] },
    }) as unknown as CompiledRoute;
  }
  return { config, route, sessions: rt, mtlsSubjects: new Set(a.mtls_subjects ?? []) };
}
