import type { RuntimeState } from '../config/compile.js';
import type { InternalEndpoint } from '../pipeline/stages.js';
import { sendJson } from './respond.js';

/**
 * Liveness and readiness endpoints: `/.gatehouse/health` answers as long as the process serves;
 * `/.gatehouse/ready` once start work (keys, stores) finished — load balancers use it.
 */
export function registerBuiltinEndpoints(state: RuntimeState, isReady: () => boolean): void {
  const exact = state.endpoints.exact as Map<string, InternalEndpoint>;
  exact.set('/.gatehouse/ready', {
    path: '/.gatehouse/ready',
    handle: (ctx) => sendJson(ctx.res, isReady() ? 200 : 503, { ready: isReady() }, ctx.id),
  });
  if (!exact.has('/.gatehouse/health')) {
    exact.set('/.gatehouse/health', {
      path: '/.gatehouse/health',
      handle: (ctx) => sendJson(ctx.res, 200, { status: 'ok' }, ctx.id),
    });
  }
}
