import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HealthCheckConfig } from '../schema.js';
import type { FarmTarget } from './target.js';

/** Inclusive status ranges a check accepts. */
export type StatusRanges = readonly (readonly [number, number])[];

/** Compiles `expected_status` (`200`, `"200-399"`) into ranges once at load. */
export function statusRanges(spec: readonly (number | string)[]): StatusRanges {
  return spec.map((s) => {
    if (typeof s === 'number') return [s, s] as const;
    const [lo, hi] = s.split('-');
    return [Number(lo), Number(hi ?? lo)] as const;
  });
}

/** Hears verdict changes (logging). */
export type HealthListener = (target: FarmTarget, up: boolean, detail: string) => void;

/**
 * Active health checks of one farm: every `interval` each target gets one `GET path` on a
 * connection of its own (`Connection: close`, never the request pool or its queue), answered
 * within `timeout` with an expected status or counted as a failure. `unhealthy_threshold`
 * consecutive failures mark the target down (`FarmTarget.up`), `healthy_threshold` consecutive
 * successes mark it up again. Targets start up. One timer per farm, unref'd.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private readonly ok: number[];
  private readonly bad: number[];
  private readonly inFlight: (ClientRequest | undefined)[];
  private readonly accept: StatusRanges;

  constructor(
    private readonly targets: readonly FarmTarget[],
    private readonly cfg: HealthCheckConfig,
    private readonly hostHeader: string,
    private readonly onChange: HealthListener,
  ) {
    this.ok = targets.map(() => 0);
    this.bad = targets.map(() => 0);
    this.inFlight = targets.map(() => undefined);
    this.accept = statusRanges(cfg.expected_status);
  }

  /** Checks every target now, then every `interval`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.round(), this.cfg.interval).unref();
    this.round();
  }

  /** Stops checking; checks in progress are aborted. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const req of this.inFlight) req?.destroy();
  }

  private round(): void {
    for (const t of this.targets) if (this.inFlight[t.index] === undefined) this.check(t);
  }

  private check(t: FarmTarget): void {
    const a = t.address;
    const send = a.tls ? httpsRequest : httpRequest;
    let settled = false;
    const settle = (success: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.inFlight[t.index] = undefined;
      req.destroy();
      this.verdict(t, success, detail);
    };
    const req = send({
      ...(a.tls ?? {}),
      host: a.host,
      port: a.port,
      method: 'GET',
      path: this.cfg.path,
      agent: false,
      headers: { host: this.hostHeader, connection: 'close', 'user-agent': 'gatehouse-health-check' },
    });
    const timer = setTimeout(
      () => settle(false, `no answer within ${this.cfg.timeout} ms`),
      this.cfg.timeout,
    );
    timer.unref();
    this.inFlight[t.index] = req;
    req.on('response', (res) => {
      const s = res.statusCode ?? 0;
      res.resume();
      settle(
        this.accept.some(([lo, hi]) => s >= lo && s <= hi),
        `status ${s}`,
      );
    });
    req.on('error', (e: NodeJS.ErrnoException) => settle(false, e.code ?? e.message));
    req.end();
  }

  private verdict(t: FarmTarget, success: boolean, detail: string): void {
    const i = t.index;
    if (success) {
      this.bad[i] = 0;
      const n = (this.ok[i] = (this.ok[i] ?? 0) + 1);
      if (!t.up && n >= this.cfg.healthy_threshold) {
        t.up = true;
        // Back in service with a clean slate: earlier passive failures are history.
        t.consecutiveFailures = 0;
        t.ejectedUntil = 0;
        this.onChange(t, true, detail);
      }
    } else {
      this.ok[i] = 0;
      const n = (this.bad[i] = (this.bad[i] ?? 0) + 1);
      if (t.up && n >= this.cfg.unhealthy_threshold) {
        t.up = false;
        this.onChange(t, false, detail);
      }
    }
  }
}
