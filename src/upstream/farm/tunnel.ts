import type { GatehouseError } from '../../errors/index.js';
import type { RequestContext } from '../../pipeline/context.js';
import { wasUnsent } from '../h1/request-head.js';
import { openTunnel, type Tunnel, type TunnelHandler } from '../tunnel.js';
import type { FarmTarget } from './target.js';

/** What a farm tunnel needs of its farm: the balancer's pick and the answer when none is left. */
export interface TunnelBalancer {
  /** An available target for `ctx` not in the `tried` bit set, or undefined. */
  pick(ctx: RequestContext, tried: number): FarmTarget | undefined;
  /** `503 GH_UPSTREAM_NO_HEALTHY_TARGET` with `Retry-After`. */
  noTarget(): GatehouseError;
}

/**
 * Opens a WebSocket tunnel through a farm's balancer: the same pick as a plain request (so
 * sticky sessions land on their server), counted as a request of the target. A connection that
 * fails before any byte was written (refused, connect timeout, TLS handshake) counts against
 * the target for passive ejection and goes to another target, each at most once (reason
 * `upstream.retried`); the handshake's answer feeds the target's 5xx count like any response.
 * Returns the 503 to answer when no target is available at all.
 */
export function openFarmTunnel(
  farm: TunnelBalancer,
  ctx: RequestContext,
  path: string,
  headers: readonly string[],
  early: Buffer,
  h: TunnelHandler,
): Tunnel | GatehouseError {
  let tried = 0;
  let inner: Tunnel | undefined;
  const attempt = (): boolean => {
    const t = farm.pick(ctx, tried);
    if (t === undefined) return false;
    tried |= 1 << t.index;
    t.requests++;
    inner = openTunnel(t.address, path, headers, early, {
      onSwitched(raw, socket, rest) {
        t.responded(101);
        h.onSwitched(raw, socket, rest);
      },
      declined: {
        ...h.declined,
        onHead(status, text, raw) {
          t.responded(status);
          h.declined.onHead(status, text, raw);
        },
      },
      onError(err) {
        if (ctx.upstreamStatus === undefined) t.failed();
        if (wasUnsent(err) && attempt()) {
          ctx.reasons.push('upstream.retried');
          return;
        }
        h.onError(err);
      },
    });
    return true;
  };
  if (!attempt()) return farm.noTarget();
  return {
    abort: () => inner?.abort(),
    pause: () => inner?.pause(),
    resume: () => inner?.resume(),
  };
}
