import type { Logger } from 'pino';
import type { CompileContext } from '../pipeline/feature.js';
import { Doorkeeper } from '../util/doorkeeper.js';
import { Lru } from '../util/lru.js';
import { compileProvider, type Provider } from './provider.js';
import { providerOutbound } from '../net/provider-outbound.js';
import type { ProvidersConfig } from './schema.js';
import { TokenVerifier, type CachedToken } from './verifier.js';

/** Default size of the verified-token cache (entries, shared by all routes of one config). */
export const DEFAULT_TOKEN_CACHE_ENTRIES = 10_000;

/** Options for {@link compileProviders}. */
export interface CompileProvidersOptions {
  readonly cacheEntries?: number;
  /** Cache a verified token on its first use instead of its second (tests). */
  readonly admitOnFirstUse?: boolean;
  /** Clock in epoch ms (tests). */
  readonly now?: () => number;
}

/**
 * Every configured identity provider, compiled once per config load, plus the verified-token
 * cache. Stored as the `providers` service; routes get a {@link TokenVerifier} per provider set.
 */
export class ProviderRegistry {
  readonly cache: Lru<string, CachedToken>;
  /** Admits a verified token to {@link cache} on its second use. */
  readonly doorkeeper: Doorkeeper | undefined;
  private readonly verifiers = new Map<string, TokenVerifier>();

  constructor(
    readonly providers: ReadonlyMap<string, Provider>,
    cacheEntries: number,
    admitOnFirstUse = false,
  ) {
    this.cache = new Lru(cacheEntries);
    this.doorkeeper = admitOnFirstUse || cacheEntries <= 0 ? undefined : new Doorkeeper(cacheEntries);
  }

  /** Provider names in config order. */
  get names(): string[] {
    return [...this.providers.keys()];
  }

  /**
   * The verifier for a set of provider names (default: all). Unknown names are ignored here;
   * route compilation reports them.
   */
  verifierFor(names?: readonly string[]): TokenVerifier {
    const chosen = (names ?? this.names).filter((n) => this.providers.has(n));
    const id = [...new Set(chosen)].sort().join(',');
    let v = this.verifiers.get(id);
    if (!v) {
      v = new TokenVerifier(
        id,
        [...new Set(chosen)].map((n) => this.providers.get(n) as Provider),
        this.cache,
        this.doorkeeper,
      );
      this.verifiers.set(id, v);
    }
    return v;
  }

  /**
   * Loads every provider's keys; rejects naming the first provider whose keys cannot be loaded.
   * With `tolerate`, never rejects: a provider whose keys cannot be loaded is logged and keeps
   * retrying in the background (its routes answer 503 `GH_IDP_UNAVAILABLE` until then, and
   * {@link unavailable} names it for readiness).
   */
  async start(opts: { readonly tolerate?: boolean; readonly logger?: Logger } = {}): Promise<void> {
    if (!opts.tolerate) {
      await Promise.all([...this.providers.values()].map((p) => p.start()));
      return;
    }
    const results = await Promise.allSettled([...this.providers.values()].map((p) => p.start()));
    results.forEach((r, i) => {
      if (r.status === 'rejected')
        opts.logger?.error(
          { provider: this.names[i], err: (r.reason as Error).message },
          'identity provider unavailable at start: its routes answer 503 until its keys load (retrying in the background)',
        );
    });
  }

  /** Providers whose signing keys are not usable now (never loaded, or stale beyond `jwks_stale`). */
  unavailable(): string[] {
    return [...this.providers.values()]
      .filter((p) => p.keys !== undefined && !p.keys.usable())
      .map((p) => p.name);
  }

  async close(): Promise<void> {
    this.cache.clear();
    this.doorkeeper?.clear();
    await Promise.all([...this.providers.values()].map((p) => p.close()));
  }
}

/**
 * Compiles the `providers` section. No network I/O: keys load in `start()` (deferred to
 * `cctx.onStart` by the feature) or lazily on first use (`gatehouse explain`).
 */
export function compileProviders(
  config: ProvidersConfig | undefined,
  cctx: { readonly logger: Logger; issue?: CompileContext['issue'] },
  opts: CompileProvidersOptions = {},
): ProviderRegistry {
  const map = new Map<string, Provider>();
  const issuers = new Map<string, string>();
  for (const [name, cfg] of Object.entries(config ?? {})) {
    if (cfg.insecure_allow_missing_audience) {
      cctx.logger.warn(
        { provider: name },
        `INSECURE: providers.${name}.insecure_allow_missing_audience is on: tokens from this provider are accepted for ANY audience${cfg.audiences ? ' when they carry none' : ''}`,
      );
    }
    const other = issuers.get(cfg.issuer);
    if (other !== undefined) {
      cctx.issue?.(
        `providers.${name}.issuer`,
        `issuer ${cfg.issuer} is also used by provider "${other}"; a route cannot accept both (tokens are matched to providers by issuer)`,
        'warning',
      );
    }
    issuers.set(cfg.issuer, name);
    map.set(
      name,
      compileProvider(name, cfg, {
        logger: cctx.logger,
        now: opts.now,
        outbound: providerOutbound(cctx, name, cfg),
      }),
    );
  }
  return new ProviderRegistry(map, opts.cacheEntries ?? DEFAULT_TOKEN_CACHE_ENTRIES, opts.admitOnFirstUse);
}
