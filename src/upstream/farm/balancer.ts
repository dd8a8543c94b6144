import type { RequestContext } from '../../pipeline/context.js';
import { fnv1a, type FarmTarget } from './target.js';

/** Chooses a target for one request. */
export interface Balancer {
  /**
   * An available target not in `tried` (bit `i` set: target `i` was tried), or `undefined`
   * when none is. `ctx` is absent for callers without a request (never for sticky keys).
   */
  pick(ctx: RequestContext | undefined, tried: number, now: number): FarmTarget | undefined;
}

/** `balance:` values. */
export type BalanceMode = 'round_robin' | 'least_in_flight' | 'sticky';

/**
 * Builds the balancer of a farm at load. `stickyFallback` keys requests without a principal
 * for `sticky`: the client address, or plain round robin.
 */
export function createBalancer(
  mode: BalanceMode,
  targets: readonly FarmTarget[],
  stickyFallback: 'client_ip' | 'round_robin',
): Balancer {
  const rr = new SmoothRoundRobin(targets);
  if (mode === 'round_robin') return rr;
  if (mode === 'least_in_flight') return new LeastInFlight(targets);
  return new Sticky(targets, rr, stickyFallback === 'round_robin');
}

/**
 * Smooth weighted round robin (nginx's): each pick adds every available target's weight to its
 * `current`, takes the largest and subtracts the total from it — weights 5:1:1 give
 * `a a b a c a a`, never five `a` in a row. No allocation per pick.
 */
class SmoothRoundRobin implements Balancer {
  constructor(private readonly targets: readonly FarmTarget[]) {}

  pick(_ctx: RequestContext | undefined, tried: number, now: number): FarmTarget | undefined {
    let best: FarmTarget | undefined;
    let total = 0;
    for (const t of this.targets) {
      if ((tried & (1 << t.index)) !== 0 || !t.available(now)) continue;
      t.current += t.weight;
      total += t.weight;
      if (best === undefined || t.current > best.current) best = t;
    }
    if (best !== undefined) best.current -= total;
    return best;
  }
}

/**
 * Fewest requests in flight relative to weight (`(in_flight + 1) / weight`); ties go to the
 * target after the one picked last, so equal idle targets still alternate.
 */
class LeastInFlight implements Balancer {
  private next = 0;

  constructor(private readonly targets: readonly FarmTarget[]) {}

  pick(_ctx: RequestContext | undefined, tried: number, now: number): FarmTarget | undefined {
    const ts = this.targets;
    const n = ts.length;
    let best: FarmTarget | undefined;
    for (let k = 0; k < n; k++) {
      const t = ts[(this.next + k) % n] as FarmTarget;
      if ((tried & (1 << t.index)) !== 0 || !t.available(now)) continue;
      if (best === undefined || (t.inFlight + 1) * best.weight < (best.inFlight + 1) * t.weight) best = t;
    }
    if (best !== undefined) this.next = (best.index + 1) % n;
    return best;
  }
}

/**
 * Session affinity by weighted rendezvous hashing: the principal (`provider` + `subject`), or
 * without one the client address, is hashed with each target's seed and the highest score
 * wins. A user stays on one target while it is available; when it is not, only that target's
 * users move (to their next-best target), and they return once it is back.
 */
class Sticky implements Balancer {
  constructor(
    private readonly targets: readonly FarmTarget[],
    private readonly rr: Balancer,
    /** Requests without principal go round robin instead of by client address. */
    private readonly anonymousRoundRobin: boolean,
  ) {}

  pick(ctx: RequestContext | undefined, tried: number, now: number): FarmTarget | undefined {
    const p = ctx?.principal;
    if (ctx === undefined || (p === undefined && this.anonymousRoundRobin))
      return this.rr.pick(ctx, tried, now);
    const key = p !== undefined ? `${p.provider}\0${p.subject}` : ctx.clientIp;
    const h = fnv1a(key);
    let best: FarmTarget | undefined;
    let bestScore = -Infinity;
    for (const t of this.targets) {
      if ((tried & (1 << t.index)) !== 0 || !t.available(now)) continue;
      const score = t.weight / -Math.log(unit(h ^ t.seed));
      if (score > bestScore) {
        bestScore = score;
        best = t;
      }
    }
    return best;
  }
}

/** A well-mixed 32-bit value (murmur3 finaliser) mapped into (0, 1). */
function unit(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return ((x >>> 0) + 1) / 4294967297;
}
