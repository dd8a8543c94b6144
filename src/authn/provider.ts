import type { Logger } from 'pino';
import { Discovery, discoveryUrlFor } from './discovery.js';
import { IdpHttp } from './http.js';
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
}

/** Compiles one provider. No network: keys load in `start()` or on first use. */
export function compileProvider(name: string, cfg: ProviderConfig, deps: ProviderDeps): Provider {
  const http = new IdpHttp(cfg.http_timeout);
  const wantsDiscovery = cfg.discovery ?? cfg.jwks_uri === undefined;
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
