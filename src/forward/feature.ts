import type { Feature } from '../pipeline/feature.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { Router } from '../routing/router.js';
import { CidrSet } from '../util/ip.js';
import { DecisionCache } from './decision-cache.js';
import { forwardAuthEndpoints, type ForwardAuthRuntime } from './endpoint.js';

/**
 * Forward-auth mode: `/.gatehouse/auth` (Traefik ForwardAuth, Caddy forward_auth) and
 * `/.gatehouse/auth/nginx` (nginx auth_request) decide on a request another proxy holds, with
 * the same route table and stages as inline mode. Only peers in `server.trusted_proxies` may
 * call them; with no trusted proxies every call is refused. `forward_auth.cache_ttl` enables
 * the authentication cache (one per runtime state).
 */
export const forwardAuthFeature: Feature = {
  id: 'forward-auth',
  compileGlobal(cctx) {
    const services = cctx.services;
    const cfg = cctx.config.forward_auth;
    let trusted: CidrSet | undefined;
    const state = {
      // Built on first use: compileState validates server.trusted_proxies after the features ran.
      get trusted(): CidrSet {
        trusted ??= new CidrSet(cctx.config.server.trusted_proxies);
        return trusted;
      },
      get router(): Router<CompiledRoute> {
        const r = services.get('router') as Router<CompiledRoute> | undefined;
        if (!r) throw new Error('router service missing: src/config/compile.ts must set services.router');
        return r;
      },
    };
    const ttl = cfg?.cache_ttl ?? 0;
    const rt: ForwardAuthRuntime = {
      state,
      cache: ttl > 0 ? new DecisionCache(ttl, cfg?.cache_max_entries ?? 10_000) : undefined,
      logger: cctx.logger,
    };
    for (const ep of forwardAuthEndpoints(rt)) cctx.registerEndpoint(ep);
  },
};
