import type { Logger } from 'pino';
import type { CompileContext } from '../pipeline/feature.js';
import type { Principal } from '../pipeline/principal.js';
import type { ExtraLoginConfig, LoginConfig, SessionConfig } from '../session/schema.js';
import { OidcClient, type TokenSet } from './client.js';
import { providerOutbound } from '../net/provider-outbound.js';
import { sessionPrincipal, type ClaimMapper } from './principal.js';
import { ClaimMapper as ProviderClaimMapper } from '../authn/mapper.js';
import { presetFor } from '../authn/presets.js';
import type { ProviderConfig } from '../authn/schema.js';
import { GatehouseError } from '../errors/index.js';

/** What a login needs from its `providers` entry. */
export interface ProviderLike {
  readonly issuer: string;
  readonly discovery_url?: string | undefined;
  readonly http_timeout?: number | undefined;
  readonly insecure_allow_http?: boolean | undefined;
  readonly proxy?: string | undefined;
  readonly ca?: string | undefined;
}

/**
 * One login (an OIDC client at one identity provider), compiled once: `session.login` and each
 * `session.logins` entry. Sessions remember the login that created them (refresh, logout and
 * route checks use it); the principal's `provider` is the login's provider, so rules test it with
 * `provider:` exactly as for that provider's bearer tokens.
 */
export interface LoginRuntime {
  readonly name: string;
  readonly label: string;
  /** The `providers` entry it signs in at. */
  readonly provider: string;
  readonly cfg: LoginConfig | ExtraLoginConfig;
  readonly client: OidcClient;
  /** The provider's claim mapping (presets, `claims:`), as for its bearer tokens; always a person. */
  principalOf(claims: Record<string, unknown>, id: string, expiresAt: number): Principal;
}

/** Every login of `session`, by name; the first is `session.login` (the default). */
export type Logins = ReadonlyMap<string, LoginRuntime>;

/** Key path of a login's settings for messages. */
export function loginKeyPath(cfg: SessionConfig, name: string): string {
  return cfg.logins !== undefined && Object.hasOwn(cfg.logins, name) && defaultName(cfg) !== name
    ? `session.logins.${name}`
    : 'session.login';
}

/** The name of `session.login`: its `name`, else its provider. */
export function defaultName(cfg: SessionConfig): string {
  return cfg.login.name ?? cfg.login.provider;
}

/**
 * Compiles `session.login` and `session.logins` into {@link LoginRuntime}s. Problems are reported
 * through `fail(keyPath, message)`; returns undefined when any login cannot be built.
 */
export function buildLogins(
  cctx: CompileContext<{ readonly providers?: Readonly<Record<string, unknown>> | undefined }>,
  cfg: SessionConfig,
  referenced: ReadonlySet<string>,
  logger: Logger,
  fail: (path: string, message: string) => void,
): Map<string, LoginRuntime> | undefined {
  const providers = (cctx.config.providers ?? {}) as Record<string, ProviderLike>;
  const entries: [string, string, LoginConfig | ExtraLoginConfig][] = [
    [defaultName(cfg), 'session.login', cfg.login],
  ];
  for (const [name, l] of Object.entries(cfg.logins ?? {})) {
    if (name === entries[0]![0])
      fail(
        `session.logins.${name}`,
        `"${name}" is already the name of session.login (set session.login.name to tell them apart)`,
      );
    else entries.push([name, `session.logins.${name}`, l]);
  }
  const out = new Map<string, LoginRuntime>();
  let ok = true;
  const bad = (path: string, message: string) => {
    ok = false;
    fail(path, message);
  };
  for (const [name, at, l] of entries) {
    const provider = providers[l.provider];
    if (!provider) {
      const known = Object.keys(providers);
      bad(
        `${at}.provider`,
        `unknown provider "${l.provider}"${known.length ? `; expected one of ${known.join(', ')}` : ' (no providers are defined)'}`,
      );
      continue;
    }
    const allowHttp = l.insecure_allow_http || provider.insecure_allow_http === true;
    const discoveryUrl = provider.discovery_url ?? provider.issuer;
    if (!allowHttp && !/^https:/i.test(discoveryUrl)) {
      bad(
        `${at}.insecure_allow_http`,
        `provider "${l.provider}" is not https (${discoveryUrl}); set insecure_allow_http: true for a local development IdP only`,
      );
      continue;
    }
    const client = new OidcClient(
      {
        provider: l.provider,
        issuer: discoveryUrl,
        clientId: l.client_id,
        clientSecret: l.client_secret,
        authMethod: l.token_endpoint_auth_method,
        allowHttp,
        timeoutSeconds: Math.max(1, Math.ceil((provider.http_timeout ?? 10_000) / 1000)),
        fetch: providerOutbound(cctx, l.provider, provider)?.fetch,
      },
      logger,
    );
    const providerMapper = new ProviderClaimMapper(l.provider, presetFor(provider as ProviderConfig));
    const mapper: ClaimMapper = (claims) => ({ ...providerMapper.map(claims, 'session', ''), kind: 'user' });
    out.set(name, {
      name,
      label: l.label ?? name,
      provider: l.provider,
      cfg: l,
      client,
      principalOf: (claims, id, expiresAt) =>
        sessionPrincipal(claims, mapper, {
          provider: l.provider,
          sessionId: id,
          expiresAt,
          maxGroups: l.max_groups,
          referencedGroups: referenced,
        }),
    });
  }
  return ok ? out : undefined;
}

/**
 * Refreshes with the client of the session's login (the default login for sessions from before
 * several logins); a login no longer configured rejects like a revoked grant (the session ends).
 */
export function loginRefresher(logins: Logins, fallback: LoginRuntime) {
  return {
    refresh: async (refreshToken: string, login?: string): Promise<TokenSet> => {
      const l = login === undefined ? fallback : logins.get(login);
      if (l === undefined)
        throw new GatehouseError('GH_LOGIN_CODE_EXCHANGE_FAILED', `login "${login}" is no longer configured`);
      return l.client.refresh(refreshToken);
    },
  };
}
