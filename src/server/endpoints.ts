import type { RuntimeState } from '../config/compile.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import { sendJson } from './respond.js';
import type { GatehouseMetrics } from '../metrics/gateway.js';
import { metricsEndpoint, METRICS_PATH } from '../metrics/endpoint.js';
import { upstreamReadiness } from '../upstream/farm/report.js';
import { missingDependencies } from './readiness.js';
import { forwardAuthEndpoints } from './forward-auth.js';
import { FORWARD_AUTH_SERVICE, type ForwardAuthRuntime } from '../forward/feature.js';
import { LIMITS_SERVICE, type LimitsService } from '../limits/feature.js';
import { CACHE_SERVICE, type CacheService } from '../cache/feature.js';
import { farmsOf } from '../upstream/farm/report.js';

/**
 * Liveness and readiness endpoints: `/.gatehouse/health` answers as long as the process serves;
 * `/.gatehouse/ready` once start work finished and every identity provider's keys (and the login
 * provider's discovery) are loaded — load balancers use it; while one is missing it answers 503
 * `{ ready: false, missing: [{ kind: 'jwks' | 'login', provider }] }` (liveness stays 200);
 * `/.gatehouse/metrics` (Prometheus) unless `server.metrics.enabled` is false; the forward-auth
 * endpoints (`server/forward-auth.ts`), which run this state's route table.
 */
export function registerBuiltinEndpoints(
  state: RuntimeState,
  isReady: () => boolean,
  metrics: GatehouseMetrics,
): void {
  const exact = state.endpoints.exact as Map<string, InternalEndpoint<RuntimeState>>;
  const fwd = state.services.get(FORWARD_AUTH_SERVICE) as ForwardAuthRuntime | undefined;
  if (fwd)
    for (const ep of forwardAuthEndpoints(fwd)) {
      if (ep.prefix) (state.endpoints.prefixes as InternalEndpoint<RuntimeState>[]).push(ep);
      else exact.set(ep.path, ep);
    }
  exact.set('/.gatehouse/ready', {
    path: '/.gatehouse/ready',
    handle: (ctx) => {
      const missing = missingDependencies(state);
      const ready = isReady() && missing.length === 0;
      const body = missing.length ? { ready, missing } : { ready };
      sendJson(ctx.res, ready ? 200 : 503, { ...body, ...upstreamReadiness(state) }, ctx.id);
    },
  });
  const limits = state.services.get(LIMITS_SERVICE) as LimitsService | undefined;
  const cache = state.services.get(CACHE_SERVICE) as CacheService | undefined;
  metrics.attachState(
    { limits: limits?.stats, cache: cache?.stats, cacheUsage: () => cache?.usage(), farms: farmsOf(state) },
    isReady,
  );
  if (state.config.server.metrics.enabled)
    exact.set(METRICS_PATH, metricsEndpoint(metrics, state.config.server.metrics));
  if (!exact.has('/.gatehouse/health')) {
    exact.set('/.gatehouse/health', {
      path: '/.gatehouse/health',
      handle: (ctx) => sendJson(ctx.res, 200, { status: 'ok' }, ctx.id),
    });
  }
}
