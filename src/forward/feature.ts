import type { Feature } from '../pipeline/feature.js';
import { DecisionCache } from './decision-cache.js';
import { forwardAuthEndpoints, type ForwardAuthRuntime } from './endpoint.js';

/**
 * Forward-auth mode: `/.gatehouse/auth` (Traefik ForwardAuth, Caddy forward_auth) and
 * `/.gatehouse/auth/nginx` (nginx auth_request) and `/.gatehouse/ext_authz/…` (Envoy ext_authz) decide on a request another proxy holds, with
 * the same route table and stages as inline mode. Only peers in `server.trusted_proxies` may
 * call them; with no trusted proxies every call is refused. `forward_auth.cache_ttl` enables
 * the authentication cache (one per runtime state).
 */
export const forwardAuthFeature: Feature = {
  id: 'forward-auth',
  compileGlobal(cctx) {
    const cfg = cctx.config.forward_auth;
    const ttl = cfg?.cache_ttl ?? 0;
    const rt: ForwardAuthRuntime = {
      cache: ttl > 0 ? new DecisionCache(ttl, cfg?.cache_max_entries ?? 10_000) : undefined,
      logger: cctx.logger,
    };
    for (const ep of forwardAuthEndpoints(rt)) cctx.registerEndpoint(ep);
  },
};
