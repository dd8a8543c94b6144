import { GatehouseError } from '../errors/index.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import { CidrSet } from '../util/ip.js';
import type { GatehouseMetrics } from './gateway.js';
import { EXPOSITION_CONTENT_TYPE } from './registry.js';
import type { MetricsConfig } from './schema.js';

/** Path of the Prometheus endpoint. */
export const METRICS_PATH = '/.gatehouse/metrics';

/**
 * `/.gatehouse/metrics` (GET/HEAD): the text exposition of `metrics`. Clients whose address
 * (derived through the trusted-proxy chain, so a forged X-Forwarded-For changes nothing) is
 * outside `server.metrics.allow` get the same 404 as an unknown internal path.
 */
export function metricsEndpoint(metrics: GatehouseMetrics, cfg: MetricsConfig): InternalEndpoint {
  const allow = new CidrSet(cfg.allow);
  return {
    path: METRICS_PATH,
    handle(ctx) {
      if (!allow.has(ctx.clientIp))
        throw new GatehouseError(
          'GH_ROUTE_NOT_FOUND',
          `${METRICS_PATH}: ${ctx.clientIp} is not in server.metrics.allow`,
        );
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
        throw new GatehouseError('GH_METHOD_NOT_ALLOWED', `${ctx.method} ${METRICS_PATH}`, {
          headers: { Allow: 'GET, HEAD' },
        });
      const send = sendWith(ctx);
      const body = metrics.exposeAll();
      if (typeof body === 'string') return send(body);
      return body.then(send);
    },
  };
}

function sendWith(ctx: Parameters<InternalEndpoint['handle']>[0]) {
  return (body: string): void => {
    ctx.res.writeHead(200, {
      'content-type': EXPOSITION_CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      'x-request-id': ctx.id,
    });
    ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
  };
}
