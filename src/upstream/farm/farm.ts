import type { RequestContext } from '../../pipeline/context.js';
import { GatehouseError } from '../../errors/index.js';
import type { H1Exchange, H1Handler, H1Request } from '../h1/client.js';
import { wasUnsent } from '../h1/request-head.js';
import type { Balancer } from './balancer.js';
import type { HealthChecker } from './health.js';
import type { FarmTarget, TargetSnapshot } from './target.js';

/** What readiness reports for one farm. */
export interface FarmSnapshot {
  readonly balance: string;
  readonly healthy_targets: number;
  readonly targets: readonly TargetSnapshot[];
}

/**
 * The targets of one upstream with their balancer and health: `request` picks a target, sends
 * over its pool and, when the connection failed before any byte was written (refused, connect
 * timeout, TLS handshake), sends the same request to another target — at most once per
 * target; a target whose connections and queue are all taken sends the request on the same
 * way. Every outcome feeds passive ejection. Built once at load; per request one pick.
 */
export class Farm {
  constructor(
    readonly name: string,
    readonly balance: string,
    readonly targets: readonly FarmTarget[],
    private readonly balancer: Balancer,
    private readonly checker: HealthChecker | undefined,
    /** Seconds suggested to a client when no target is available and none comes back sooner. */
    private readonly retryAfter: number,
  ) {}

  /** Starts the active health checks, if configured. */
  start(): void {
    this.checker?.start();
  }

  /** Stops the health checks and closes every pool gracefully. */
  async close(): Promise<void> {
    this.checker?.stop();
    await Promise.all(this.targets.map((t) => t.pool.close()));
  }

  /** Stops the health checks and closes every connection now. */
  async destroy(): Promise<void> {
    this.checker?.stop();
    await Promise.all(this.targets.map((t) => t.pool.destroy()));
  }

  /** An available target for `ctx` not in `tried`, or undefined. */
  pick(ctx: RequestContext | undefined, tried = 0): FarmTarget | undefined {
    return this.balancer.pick(ctx, tried, Date.now());
  }

  /** Sends `req` for `ctx` to a target picked by the balancer; `handler` hears the outcome. */
  request(ctx: RequestContext, req: H1Request, handler: H1Handler): H1Exchange {
    const ex = new FarmExchange(this, ctx, req, handler);
    ex.send();
    return ex;
  }

  /** GH_UPSTREAM_NO_HEALTHY_TARGET with `Retry-After`: the soonest end of a cool-down, if any. */
  noTarget(): GatehouseError {
    const now = Date.now();
    let wait = this.retryAfter;
    for (const t of this.targets)
      if (t.up && t.ejectedUntil > now) wait = Math.min(wait, Math.ceil((t.ejectedUntil - now) / 1000));
    return new GatehouseError('GH_UPSTREAM_NO_HEALTHY_TARGET', `upstream ${this.name}: no target available`, {
      headers: { 'Retry-After': String(Math.max(1, wait)) },
    });
  }

  /** State for `/.gatehouse/ready`. */
  snapshot(): FarmSnapshot {
    const now = Date.now();
    const targets = this.targets.map((t) => t.snapshot(now));
    return { balance: this.balance, healthy_targets: targets.filter((t) => t.healthy).length, targets };
  }
}

/** Error codes of the pool itself and of the request body: never counted against a target. */
const NOT_TARGETS = new Set(['ERR_BODY_LENGTH', 'ERR_QUEUE_FULL', 'ERR_QUEUE_TIMEOUT', 'UND_ERR_CLOSED']);

/** One request through a farm: the current target's exchange, and the targets tried so far. */
class FarmExchange implements H1Exchange, H1Handler {
  private tried = 0;
  private target: FarmTarget | undefined;
  private inner: H1Exchange | undefined;
  private done = false;

  constructor(
    private readonly farm: Farm,
    private readonly ctx: RequestContext,
    private readonly req: H1Request,
    private readonly handler: H1Handler,
  ) {}

  /** Sends to the next target; false when none is left. */
  send(): boolean {
    const t = this.farm.pick(this.ctx, this.tried);
    if (t === undefined) {
      if (this.tried !== 0) return false;
      const err = this.farm.noTarget();
      this.done = true;
      process.nextTick(() => this.handler.onError(err));
      return true;
    }
    this.tried |= 1 << t.index;
    this.target = t;
    t.inFlight++;
    t.requests++;
    this.inner = t.pool.request(this.req, this);
    return true;
  }

  /**
   * Not the target's fault: the client's own body failed (too large, wrong length, aborted), or
   * our pool refused (its queue full or timed out, closing for a reload).
   */
  private notTargets(err: Error): boolean {
    const b = this.req.body;
    if (b !== null && !Buffer.isBuffer(b) && b.errored) return true;
    return err instanceof GatehouseError || NOT_TARGETS.has((err as { code?: string }).code ?? '');
  }

  private leave(): FarmTarget | undefined {
    const t = this.target;
    if (t !== undefined) t.inFlight--;
    this.target = undefined;
    return t;
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    this.leave();
    this.inner?.abort();
  }

  resume(): void {
    this.inner?.resume();
  }

  onHeaders(status: number, statusText: string, raw: string[]): void {
    this.target?.responded(status);
    this.handler.onHeaders(status, statusText, raw);
  }

  onData(chunk: Buffer, last: boolean): boolean {
    return this.handler.onData(chunk, last);
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    this.leave();
    this.handler.onComplete();
  }

  onError(err: Error): void {
    if (this.done) return;
    const t = this.leave();
    // A failure after a response head was already counted by `responded` (or was the client's).
    if (t !== undefined && this.ctx.upstreamStatus === undefined && !this.notTargets(err)) t.failed();
    // Nothing was written: the same request (its buffered body, or a stream not read yet) can
    // go to another target whatever its method — the first target never saw any of it. A full
    // queue refused the request at once, so another target with room may take it.
    if ((wasUnsent(err) || (err as { code?: string }).code === 'ERR_QUEUE_FULL') && this.send()) {
      this.ctx.reasons.push('upstream.retried');
      return;
    }
    this.done = true;
    this.handler.onError(err);
  }
}
