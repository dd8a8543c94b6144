import type { Feature } from '../pipeline/feature.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { Router } from '../routing/router.js';
import { forwardAuthEndpoints } from './endpoint.js';

/**
 * Forward-auth mode: `/.gatehouse/auth` (Traefik ForwardAuth, Caddy forward_auth) and
 * `/.gatehouse/auth/nginx` (nginx auth_request) decide on a request another proxy holds, with
 * the same route table and stages as inline mode. Only peers in `server.trusted_proxies` may
 * call them; with no trusted proxies every call is refused.
 */
export const forwardAuthFeature: Feature = {
  id: 'forward-auth',
  compileGlobal(cctx) {
    const services = cctx.services;
    const router = () => {
      const r = services.get('router') as Router<CompiledRoute> | undefined;
      if (!r) throw new Error('router service missing: src/config/compile.ts must set services.router');
      return r;
    };
    for (const ep of forwardAuthEndpoints(router)) cctx.registerEndpoint(ep);
  },
};
