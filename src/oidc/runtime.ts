import type { Logger } from 'pino';
import type { AuditEvent } from '../audit/event.js';
import type { CompileContext } from '../pipeline/feature.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import type { SessionConfig, SessionGlobals } from '../session/schema.js';
import { KeyRing } from '../session/keyring.js';
import type { SessionStore, SessionStoreConfig } from '../session/store.js';
import { createSessionStore, storeConfigOf } from '../session/create-store.js';
import { MemorySessionStore } from '../session/memory-store.js';
import { safeReturnTo, type ReturnToOptions } from './redirect.js';
import type { OidcClient } from './client.js';
import { LoginStateCodec } from './state.js';
import { SessionManager, type SessionEvents } from './sessions.js';
import { referencedGroups } from './principal.js';
import { resolvePaths, type SessionPaths } from './paths.js';
import { buildLogins, loginRefresher, type LoginRuntime, type Logins } from './logins.js';
import { PAGES_SERVICE, type PageSet } from '../pages/index.js';

/** Name of the service holding the {@link SessionRuntime}. */
export const SESSION_SERVICE = 'session';

/** Everything the session endpoints and authenticator share, compiled once per config load. */
export interface SessionRuntime {
  readonly cfg: SessionConfig;
  /** Provider of the default login (`session.login`). */
  readonly provider: string;
  /** Every login by name (`session.login` first, then `session.logins`). */
  readonly logins: Logins;
  /** `session.login`. */
  readonly defaultLogin: LoginRuntime;
  /** Templates for the chooser page (src/pages), when loaded. */
  readonly pages: PageSet | undefined;
  /** `https://gatehouse.example.com` — from server.external_url, never from request headers. */
  readonly origin: string;
  readonly redirectUri: string;
  /** Paths of the session endpoints (`session.paths`), validated at load. */
  readonly paths: SessionPaths;
  readonly secure: boolean;
  readonly cookieName: string;
  /** `session.cookie_domain` (no leading dot): the session cookie's `Domain`, else host-only. */
  readonly cookieDomain: string | undefined;
  readonly statePrefix: string;
  readonly keys: KeyRing;
  readonly store: SessionStore;
  /** The default login's client. */
  readonly client: OidcClient;
  readonly states: LoginStateCodec;
  readonly sessions: SessionManager;
  readonly returnTo: ReturnToOptions;
  /** Absolute URL the IdP sends the browser to after logout. */
  readonly postLogoutRedirect: string;
  readonly logger: Logger;
  audit(
    ctx: RequestContext | undefined,
    event: Partial<AuditEvent> & Pick<AuditEvent, 'type' | 'decision' | 'status'>,
  ): void;
}

interface AuditLike {
  emit(e: AuditEvent): void;
}

interface SharedStore {
  readonly key: string;
  readonly store: SessionStore;
  refs: number;
}

/**
 * The session store survives config reloads when the gateway provides a `persistent` service
 * map (kept for the gateway's lifetime): a reload with the same store settings reuses it, so
 * in-memory sessions are not lost. Reference-counted; closed when the last state using it closes.
 */
function acquireStore(
  cctx: CompileContext<SessionGlobals>,
  cfg: SessionStoreConfig,
): { store: SessionStore; release: () => Promise<void> } {
  const persistent = cctx.services.get('persistent') as Map<string, unknown> | undefined;
  const key = JSON.stringify(cfg);
  const held = persistent?.get('session.store') as SharedStore | undefined;
  let shared: SharedStore;
  if (held && held.key === key) {
    shared = held;
    shared.refs++;
  } else {
    shared = { key, store: createSessionStore(cfg, cctx.logger), refs: 1 };
    persistent?.set('session.store', shared);
  }
  let released = false;
  return {
    store: shared.store,
    release: async () => {
      if (released) return;
      released = true;
      if (--shared.refs > 0) return;
      if (persistent?.get('session.store') === shared) persistent.delete('session.store');
      await shared.store.close();
    },
  };
}

/**
 * Builds the session runtime from `session` (and `server.external_url`, `providers`). Reports
 * problems with exact key paths through `cctx.issue` and returns undefined when it cannot build.
 */
export function buildSessionRuntime(cctx: CompileContext<SessionGlobals>): SessionRuntime | undefined {
  const cfg = cctx.config.session;
  if (!cfg) return undefined;
  const login = cfg.login;
  let ok = true;
  const fail = (path: string, message: string) => {
    ok = false;
    cctx.issue(path, message);
  };
  // With session.sso the login host (redirect URI, login state) is session.sso.login_url.
  const ext = cfg.sso?.login_url ?? cctx.config.server.external_url;
  if (ext === undefined) {
    fail(
      'server.external_url',
      'required when `session` is configured: the login redirect URI is built from it (never from the Host header)',
    );
  }
  let keys: KeyRing | undefined;
  try {
    keys = KeyRing.fromSecrets(cfg.secrets);
  } catch (e) {
    fail('session.secrets', (e as Error).message);
  }
  if (!ok || !ext || !keys) return undefined;

  const origin = new URL(ext).origin;
  const secure = origin.startsWith('https:');
  const cookieDomain = cfg.cookie_domain?.replace(/^\./, '').toLowerCase();
  const cookieName =
    cfg.cookie_name ??
    (secure ? (cookieDomain ? '__Secure-gatehouse' : '__Host-gatehouse') : 'gatehouse_session');
  if (cookieDomain !== undefined) {
    const loginHost = new URL(origin).hostname;
    if (loginHost !== cookieDomain && !loginHost.endsWith(`.${cookieDomain}`))
      fail('session.cookie_domain', `the login host ${loginHost} is not under "${cookieDomain}"`);
    else if (cfg.sso !== undefined)
      fail(
        'session.cookie_domain',
        'choose one: session.sso (host-only cookies through a handoff) or one parent-domain cookie',
      );
    if (cookieName.startsWith('__Host-'))
      fail(
        'session.cookie_name',
        `"${cookieName}": a __Host- cookie cannot carry the Domain of session.cookie_domain`,
      );
  }
  if (!secure && (cookieName.startsWith('__Host-') || cookieName.startsWith('__Secure-'))) {
    fail(
      'session.cookie_name',
      `"${cookieName}" needs https: browsers only accept __Host-/__Secure- cookies with Secure (server.external_url is http)`,
    );
  }
  if (!secure && !cfg.insecure_http_cookies) {
    fail(
      'session.insecure_http_cookies',
      `server.external_url is plain http (${origin}): the session cookie would travel unencrypted. Use an https external_url, or set session.insecure_http_cookies: true for local development only`,
    );
  }
  const routes = (cctx.config as { routes?: Parameters<typeof resolvePaths>[2] }).routes ?? [];
  const paths = resolvePaths(cfg.paths, login.redirect_path, routes, fail);
  const returnTo: ReturnToOptions = {
    origin,
    allowedDomains: cookieDomain
      ? [...login.allowed_redirect_domains, `.${cookieDomain}`]
      : login.allowed_redirect_domains,
  };
  const postLogoutRaw = login.post_logout_redirect_uri ?? `${origin}/`;
  const postLogout = safeReturnTo(postLogoutRaw, returnTo);
  if (postLogout === undefined) {
    fail(
      'session.login.post_logout_redirect_uri',
      'must be on server.external_url or a host in allowed_redirect_domains (http(s), no userinfo)',
    );
  }
  const logger = cctx.logger.child({ area: 'session' });
  const referenced = referencedGroups(cctx.config);
  const logins = buildLogins(cctx, cfg, referenced, logger, fail);
  if (!ok || logins === undefined) return undefined;
  const defaultLogin = [...logins.values()][0] as LoginRuntime;

  if (!secure && !cctx.dryRun)
    logger.warn(
      { origin },
      'INSECURE: session.insecure_http_cookies is on: session cookies are issued over plain http and can be read and replayed by anyone on the network',
    );
  const { store, release } = cctx.dryRun
    ? { store: new MemorySessionStore() as SessionStore, release: () => Promise.resolve() }
    : acquireStore(cctx, storeConfigOf(cfg));
  const principalOf = (
    claims: Record<string, unknown>,
    id: string,
    expiresAt: number,
    login?: string,
  ): Principal =>
    ((login !== undefined ? logins.get(login) : undefined) ?? defaultLogin).principalOf(
      claims,
      id,
      expiresAt,
    );

  const auditLog = cctx.services.get('audit') as AuditLike | undefined;
  const audit: SessionRuntime['audit'] = (ctx, event) => {
    if (!auditLog) return;
    const base: AuditEvent = {
      time: new Date().toISOString(),
      request_id: ctx?.id ?? '',
      path: ctx?.path,
      host: ctx?.host,
      method: ctx?.method,
      client_ip: ctx?.clientIp,
      provider: defaultLogin.provider,
      auth_method: 'session',
      reasons: [],
      latency_ms: ctx ? performance.now() - ctx.start : 0,
      ...event,
    };
    try {
      auditLog.emit(base);
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'audit emit failed');
    }
  };
  const events: SessionEvents = {
    refreshed: (_id, rec) =>
      audit(undefined, {
        type: 'session.refreshed',
        decision: 'allow',
        status: 200,
        subject: rec.p.subject,
        credential_id: rec.p.credentialId,
        reasons: ['session.refreshed'],
      }),
    ended: (_id, rec, reason, detail) =>
      audit(undefined, {
        type: 'session.ended',
        decision: 'allow',
        status: 200,
        subject: rec?.p.subject,
        credential_id: rec?.p.credentialId,
        reasons: [`session.${reason}`],
        detail,
      }),
  };
  const sessions = new SessionManager(
    store,
    keys,
    loginRefresher(logins, defaultLogin),
    { absolute: cfg.absolute_lifetime, idle: cfg.idle_timeout, refreshBefore: cfg.refresh_before },
    logger,
    principalOf,
    events,
  );
  if (!cctx.dryRun)
    for (const l of logins.values()) {
      const c = l.client;
      cctx.onStart(() => c.start());
    }
  cctx.onClose(async () => {
    for (const l of logins.values()) l.client.close();
    await release();
  });
  return {
    cfg,
    provider: defaultLogin.provider,
    logins,
    defaultLogin,
    pages: cctx.services.get(PAGES_SERVICE) as PageSet | undefined,
    origin,
    redirectUri: `${origin}${paths.callback}`,
    paths,
    secure,
    cookieName,
    cookieDomain,
    statePrefix: secure ? '__Host-gh-state-' : 'gh-state-',
    keys,
    store,
    client: defaultLogin.client,
    states: new LoginStateCodec(keys, secure ? '__Host-gh-state-' : 'gh-state-'),
    sessions,
    returnTo,
    postLogoutRedirect: postLogout as string,
    logger,
    audit,
  };
}
