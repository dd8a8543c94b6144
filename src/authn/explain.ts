import { isGatehouseError, type GatehouseError } from '../errors/index.js';
import type { TraceEntry } from '../pipeline/decision.js';
import type { Principal } from '../pipeline/principal.js';
import type { ProviderRegistry } from './providers.js';
import { collect } from './trace.js';

export { compileProviders, ProviderRegistry } from './providers.js';

/** Result of {@link explainToken}. */
export interface TokenExplanation {
  readonly checks: TraceEntry[];
  readonly principal?: Principal;
  readonly error?: GatehouseError;
}

/**
 * Verifies `token` exactly as a request would (same code path, cache bypassed) and records every
 * check: format (size, shape), header, provider, crit, key headers, alg, typ, key, signature, iss,
 * aud, nbf, exp, iat, lifetime, max age, ID-token heuristics, cnf, principal, and for a
 * certificate-bound token cert_binding — which fails here, as the explained request has no TLS
 * connection. Introspected tokens add introspection and token_type. Fetches JWKS when needed.
 * `opts.now` is epoch milliseconds; `opts.providers` restricts the accepted providers (a route's
 * `providers`). A `Bearer ` prefix and surrounding whitespace are ignored.
 */
export async function explainToken(
  providers: ProviderRegistry,
  token: string,
  opts: { now?: number; providers?: readonly string[] } = {},
): Promise<TokenExplanation> {
  const checks: TraceEntry[] = [];
  const raw = token.trim().replace(/^bearer +/i, '');
  try {
    const principal = await providers
      .verifierFor(opts.providers)
      .verify(raw, { nowMs: opts.now, noCache: true, trace: collect(checks) });
    return { checks, principal };
  } catch (e) {
    if (isGatehouseError(e)) return { checks, error: e };
    throw e;
  }
}
