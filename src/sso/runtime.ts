import type { CompileContext } from '../pipeline/feature.js';
import type { RequestContext } from '../pipeline/context.js';
import type { SessionRuntime } from '../oidc/runtime.js';
import { PAGES_SERVICE, type PageSet } from '../pages/index.js';
import { Handoffs } from './handoff.js';
import { HostSessions } from './host-sessions.js';
import { SsoHosts } from './hosts.js';

/** Name of the service holding the {@link SsoRuntime} (absent without `session.sso`). */
export const SSO_SERVICE = 'sso';

/** Path of the login host's endpoint that issues handoffs. */
export const START_PATH = '/.gatehouse/sso/start';
/** Path of every app host's endpoint that redeems a handoff. */
export const HANDOFF_PATH = '/.gatehouse/sso/handoff';
/** Path of the "You are signed out" page on the login host. */
export const SIGNED_OUT_PATH = '/.gatehouse/signed-out';

/** The multi-host single sign-on of one configuration (`session.sso`). */
export interface SsoRuntime {
  readonly rt: SessionRuntime;
  readonly hosts: SsoHosts;
  readonly handoffs: Handoffs;
  readonly hostSessions: HostSessions;
  /** Prefix of the per-attempt nonce cookies on app hosts (stripped like login-state cookies). */
  readonly noncePrefix: string;
  /** Absolute URL of the signed-out page (the post-logout redirect URI unless configured). */
  readonly signedOutUrl: string;
  /** The configured pages (the signed-out page); the built-in ones when undefined. */
  readonly pages: PageSet | undefined;
  /** Where the IdP sends the browser after logout. */
  readonly postLogoutRedirect: string;
  /**
   * The global session id a session cookie stands for on this request: on an app host the
   * host session's global id (undefined when unknown or for another host), elsewhere the
   * cookie value itself (the login host and single-origin routes carry the global id).
   */
  globalId(ctx: RequestContext, cookie: string): Promise<string | undefined>;
}

/**
 * Compiles `session.sso` on top of the session runtime. Reports problems with their key paths
 * and returns undefined without `session.sso` or when it cannot build.
 */
export function buildSso(cctx: CompileContext, rt: SessionRuntime): SsoRuntime | undefined {
  const cfg = rt.cfg.sso;
  if (cfg === undefined) return undefined;
  let ok = true;
  const loginScheme = new URL(rt.origin).protocol;
  const loginHost = new URL(rt.origin).host;
  cfg.hosts.forEach((h, i) => {
    const path = `session.sso.hosts[${i}]`;
    if (!h.toLowerCase().startsWith(loginScheme)) {
      ok = false;
      cctx.issue(path, `must use the login host's scheme (${loginScheme.slice(0, -1)}, from ${rt.origin})`);
    } else if (!h.includes('*') && new URL(h).host === loginHost) {
      ok = false;
      cctx.issue(path, `is the login host (${rt.origin}); list only the app hosts`);
    }
  });
  if (!ok) return undefined;
  const hosts = new SsoHosts(rt.origin, cfg.hosts);
  const hostSessions = new HostSessions(rt.store);
  const signedOutUrl = `${rt.origin}${SIGNED_OUT_PATH}`;
  return {
    rt,
    hosts,
    handoffs: new Handoffs(rt.store, rt.keys, cfg.handoff_ttl),
    hostSessions,
    noncePrefix: `${rt.statePrefix}sso-`,
    signedOutUrl,
    pages: cctx.services.get(PAGES_SERVICE) as PageSet | undefined,
    postLogoutRedirect:
      rt.cfg.login.post_logout_redirect_uri === undefined ? signedOutUrl : rt.postLogoutRedirect,
    async globalId(ctx, cookie) {
      const origin = hosts.appOrigin(ctx);
      return origin === undefined ? cookie : hostSessions.globalId(cookie, origin);
    },
  };
}
