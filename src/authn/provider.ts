import type { Logger } from 'pino';
import { Discovery, discoveryUrlFor } from './discovery.js';
import { IdpHttp } from './http.js';
import type { Outbound } from '../net/outbound.js';
import { Introspector } from './introspection.js';
import { KeySet } from './keyset.js';
import { ClaimMapper } from './mapper.js';
import { presetFor } from './presets.js';
import type { ProviderConfig } from './schema.js';

/** `typ` compared as jose does (RFC 7515 §4.1.9: the `application/` prefix may be omitted). */
export function normalizeTyp(v: string): string {
  const l = v.toLowerCase();
  return v.includes('/') ? l : `application/${l}`;
}

/**
 * Default `max_token_lifetime`: 24 h covers Okta and Entra ID configurable lifetimes (at most
 * one day) and Auth0's default API token lifetime (86,400 s). Entra ID presets get 28 h: tokens
 * for resource APIs in Continuous Access Evaluation sessions live that long.
 */
export const DEFAULT_MAX_LIFETIME_MS = 24 * 3_600_000;
export const ENTRA_MAX_LIFETIME_MS = 28 * 3_600_000;

/**
 * Default `max_token_bytes`: 8 KiB. Entra ID presets get 16 KiB (the ceiling): a token lists up
 * to 200 group ids before Entra switches to the overage marker, about 12 KiB of token.
 */
export const DEFAULT_MAX_TOKEN_BYTES = 8 * 1024;
export const ENTRA_MAX_TOKEN_BYTES = 16 * 1024;

const isEntra = (cfg: ProviderConfig): boolean => cfg.preset === 'entra' || cfg.preset === 'entra_v1';

/** Default accepted `typ` values when `required_typ` is not set (absent is accepted too). */
export const DEFAULT_TYPS: ReadonlySet<string> = new Set(['application/jwt', 'application/at+jwt']);

/** An identity provider compiled from config: its own keys, claim mapping and rules. */
export interface Provider {
  readonly name: string;
  readonly config: ProviderConfig;
  readonly issuer: string;
  /** Accepted audiences; undefined when `insecure_allow_missing_audience` and none configured. */
  readonly audiences: readonly string[] | undefined;
  /** `insecure_allow_missing_audience`: a token without `aud` passes the audience check. */
  readonly allowMissingAudience: boolean;
  readonly algorithms: ReadonlySet<string>;
  readonly hmacSecret: Buffer | undefined;
  readonly skewSec: number;
  readonly maxAgeSec: number | undefined;
  /** `max_token_lifetime` in seconds. */
  readonly maxLifetimeSec: number;
  /** `max_token_bytes`: larger tokens are refused before parsing or introspection. */
  readonly maxTokenBytes: number;
  readonly requiredTyp: string | undefined;
  readonly rejectIdTokens: boolean;
  readonly loginClientIds: ReadonlySet<string>;
  readonly tokenType: 'jwt' | 'opaque' | 'auto';
  readonly keys: KeySet | undefined;
  readonly introspector: Introspector | undefined;
  readonly mapper: ClaimMapper;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Optional collaborators (tests inject a clock). */
export interface ProviderDeps {
  readonly logger: Logger;
  readonly now?: () => number;
  /** Replaces HTTP GETs of JWKS (tests that feed keys without a server). */
  readonly fetchJson?: (url: string) => Promise<unknown>;
  /** The provider's proxy and CA settings (`src/net/provider-outbound.ts`); default: the proxy environment. */
  readonly outbound?: Outbound | undefined;
}

/** Compiles one provider. No network: keys load in `start()` or on first use. */
export function compileProvider(name: string, cfg: ProviderConfig, deps: ProviderDeps): Provider {
  const http = new IdpHttp(cfg.http_timeout, deps.outbound);
  // Discovery is implied by a missing jwks_uri, and also by an introspection block without an
  // endpoint (the schema refuses that combination with `discovery: false`).
  const introspectionNeedsDiscovery =
    cfg.introspection !== undefined && cfg.introspection.endpoint === undefined;
  const wantsDiscovery = cfg.discovery ?? (cfg.jwks_uri === undefined || introspectionNeedsDiscovery);
  const discovery =
    wantsDiscovery || cfg.discovery_url !== undefined
      ? new Discovery(http, cfg.discovery_url ?? discoveryUrlFor(cfg.issuer), cfg.issuer)
      : undefined;
  const asymmetric = cfg.algorithms.some((a) => !a.startsWith('HS'));
  const keys =
    asymmetric && cfg.token_type !== 'opaque'
      ? new KeySet({
          provider: name,
          jwksUri: async () => {
            if (cfg.jwks_uri !== undefined) return cfg.jwks_uri;
            const d = await (discovery as Discovery).get();
            if (!d.jwks_uri)
              throw new Error(`discovery document ${(discovery as Discovery).url} has no jwks_uri`);
            return d.jwks_uri;
          },
          fetchJson: deps.fetchJson ?? ((url) => http.json(url)),
          refreshMs: cfg.jwks_refresh,
          staleMs: cfg.jwks_stale,
          cooldownMs: cfg.jwks_cooldown,
          logger: deps.logger,
          now: deps.now,
        })
      : undefined;
  const ic = cfg.introspection;
  const introspector = ic
    ? new Introspector(
        name,
        async () => {
          if (ic.endpoint !== undefined) return ic.endpoint;
          const d = await (discovery as Discovery).get();
          if (!d.introspection_endpoint)
            throw new Error(
              `discovery document ${(discovery as Discovery).url} has no introspection_endpoint`,
            );
          return d.introspection_endpoint;
        },
        {
          clientId: ic.client_id,
          clientSecret: ic.client_secret,
          authMethod: ic.auth_method,
          cacheTtlMs: ic.cache_ttl,
          negativeTtlMs: ic.negative_cache_ttl,
          budget: { ...ic.budget, burst: ic.budget_burst },
        },
        http,
        deps.logger,
        deps.now,
      )
    : undefined;
  return Object.freeze({
    name,
    config: cfg,
    issuer: cfg.issuer,
    audiences: cfg.audiences,
    allowMissingAudience: cfg.insecure_allow_missing_audience,
    algorithms: new Set<string>(cfg.algorithms),
    hmacSecret: cfg.shared_secret === undefined ? undefined : Buffer.from(cfg.shared_secret, 'utf8'),
    skewSec: cfg.clock_skew / 1000,
    maxAgeSec: cfg.max_token_age === undefined ? undefined : cfg.max_token_age / 1000,
    maxLifetimeSec:
      (cfg.max_token_lifetime ?? (isEntra(cfg) ? ENTRA_MAX_LIFETIME_MS : DEFAULT_MAX_LIFETIME_MS)) / 1000,
    maxTokenBytes: cfg.max_token_bytes ?? (isEntra(cfg) ? ENTRA_MAX_TOKEN_BYTES : DEFAULT_MAX_TOKEN_BYTES),
    requiredTyp: cfg.required_typ === undefined ? undefined : normalizeTyp(cfg.required_typ),
    rejectIdTokens: cfg.reject_id_tokens,
    loginClientIds: new Set(cfg.login_client_ids),
    tokenType: cfg.token_type,
    keys,
    introspector,
    mapper: new ClaimMapper(name, presetFor(cfg)),
    async start() {
      if (keys) {
        try {
          await keys.start();
        } catch (e) {
          throw new Error(`provider "${name}": ${(e as Error).message}`);
        }
      }
    },
    async close() {
      keys?.close();
      await http.close();
    },
  });
}
