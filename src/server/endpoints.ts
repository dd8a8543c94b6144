import type { RuntimeState } from '../config/compile.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import { sendJson } from './respond.js';
import type { GatehouseMetrics } from '../metrics/gateway.js';
import { metricsEndpoint, METRICS_PATH } from '../metrics/endpoint.js';
import { upstreamReadiness } from '../upstream/farm/report.js';
import { missingDependencies } from './readiness.js';

/**
 * Liveness and readiness endpoints: `/.gatehouse/health` answers as long as the process serves;
 * `/.gatehouse/ready` once start work finished and every identity provider's keys (and the login
 * provider's discovery) are loaded — load balancers use it; while one is missing it answers 503
 * `{ ready: false, missing: [{ kind: 'jwks' | 'login', provider }] }` (liveness stays 200);
 * `/.gatehouse/metrics` (Prometheus) unless `server.metrics.enabled` is false.
 */
export function registerBuiltinEndpoints(
  state: RuntimeState,
  isReady: () => boolean,
  metrics: GatehouseMetrics,
): void {
  const exact = state.endpoints.exact as Map<string, InternalEndpoint>;
  exact.set('/.gatehouse/ready', {
    path: '/.gatehouse/ready',
    handle: (ctx) => {
      const missing = missingDependencies(state);
      const ready = isReady() && missing.length === 0;
      const body = missing.length ? { ready, missing } : { ready };
      sendJson(ctx.res, ready ? 200 : 503, { ...body, ...upstreamReadiness(state) }, ctx.id);
    },
  });
  metrics.attachState(state, isReady);
  if (state.config.server.metrics.enabled)
    exact.set(METRICS_PATH, metricsEndpoint(metrics, state.config.server.metrics));
  if (!exact.has('/.gatehouse/health')) {
    exact.set('/.gatehouse/health', {
      path: '/.gatehouse/health',
      handle: (ctx) => sendJson(ctx.res, 200, { status: 'ok' }, ctx.id),
    });
  }
}
