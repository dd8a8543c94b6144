import type { Logger } from 'pino';
import type { Feature } from '../pipeline/feature.js';
import { DecisionCache } from './decision-cache.js';
import type { ForwardAuthGlobals } from './schema.js';

/** What forward-auth keeps between requests of one runtime state (service {@link FORWARD_AUTH_SERVICE}). */
export interface ForwardAuthRuntime {
  /** `forward_auth.cache_ttl` > 0: the authentication cache. */
  readonly cache: DecisionCache | undefined;
  readonly logger: Logger;
}

/** Name of the service holding the {@link ForwardAuthRuntime}. */
export const FORWARD_AUTH_SERVICE = 'forward_auth';

/**
 * Forward-auth mode: `/.gatehouse/auth` (Traefik ForwardAuth, Caddy forward_auth) and
 * `/.gatehouse/auth/nginx` (nginx auth_request) and `/.gatehouse/ext_authz/…` (Envoy ext_authz) decide on a request another proxy holds, with
 * the same route table and stages as inline mode. Only peers in `server.trusted_proxies` may
 * call them; with no trusted proxies every call is refused. `forward_auth.cache_ttl` enables
 * the authentication cache (one per runtime state). The endpoints run the server's route table,
 * so the server registers them (`server/forward-auth.ts`) from this feature's runtime.
 */
export const forwardAuthFeature: Feature<ForwardAuthGlobals> = {
  id: 'forward-auth',
  compileGlobal(cctx) {
    const cfg = cctx.config.forward_auth;
    const ttl = cfg?.cache_ttl ?? 0;
    const rt: ForwardAuthRuntime = {
      cache: ttl > 0 ? new DecisionCache(ttl, cfg?.cache_max_entries ?? 10_000) : undefined,
      logger: cctx.logger,
    };
    cctx.services.set(FORWARD_AUTH_SERVICE, rt);
  },
};
