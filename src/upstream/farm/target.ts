import type { H1Pool } from '../h1/client.js';
import type { UpstreamTarget } from '../target.js';

/** How passive ejection counts failures, fixed at load. */
export interface PassivePolicy {
  /** Consecutive failures that eject (0: never). */
  readonly maxFailures: number;
  readonly count5xx: boolean;
  /** Milliseconds an ejected target gets no requests. */
  readonly coolDown: number;
}

/** What readiness reports for one target. */
export interface TargetSnapshot {
  readonly target: string;
  readonly weight: number;
  /** Eligible for requests now (up by the active check and not ejected). */
  readonly healthy: boolean;
  /** The active health check's verdict (true when there is none). */
  readonly check_up: boolean;
  readonly in_flight: number;
  readonly consecutive_failures: number;
  /** ISO time until which the target is ejected, when it is. */
  readonly ejected_until?: string;
}

/**
 * One server of a farm: its own connection pool and dedicated-connection address, its weight,
 * and its health — the active check's verdict (`up`) and passive ejection (`ejectedUntil`,
 * after `maxFailures` consecutive failures). Counters feed the per-target metrics.
 */
export class FarmTarget {
  /** Requests sent to it and not finished. */
  inFlight = 0;
  /** Smooth weighted round robin: current weight. */
  current = 0;
  /** Verdict of the active health check (true without one). */
  up = true;
  /** `Date.now()` until which it is ejected; 0 when it is not. */
  ejectedUntil = 0;
  consecutiveFailures = 0;
  /** Totals for metrics. */
  requests = 0;
  failures = 0;
  ejections = 0;
  /** Mixed into sticky hashes: fixed per target so a user's target depends on the URL only. */
  readonly seed: number;

  constructor(
    /** Label: the target's origin, e.g. `http://10.0.0.5:8080`. */
    readonly id: string,
    readonly index: number,
    readonly weight: number,
    readonly pool: H1Pool,
    readonly address: UpstreamTarget,
    private readonly policy: PassivePolicy,
  ) {
    this.seed = fnv1a(id);
  }

  /** Takes requests now: checked up and not ejected (an expired ejection is lifted here). */
  available(now: number): boolean {
    if (!this.up) return false;
    if (this.ejectedUntil === 0) return true;
    if (now < this.ejectedUntil) return false;
    // Cool-down over: tried again; one more failure ejects it again (the count is kept).
    this.ejectedUntil = 0;
    return true;
  }

  /** A request ended with a response head: a 5xx counts as a failure when configured. */
  responded(status: number): void {
    if (status >= 500 && this.policy.count5xx) this.failed();
    else this.consecutiveFailures = 0;
  }

  /** A request failed (connect failure, reset, timeout). */
  failed(): void {
    this.failures++;
    const n = ++this.consecutiveFailures;
    const max = this.policy.maxFailures;
    if (max > 0 && n >= max && this.ejectedUntil === 0) {
      this.ejectedUntil = Date.now() + this.policy.coolDown;
      this.ejections++;
    }
  }

  /** State for `/.gatehouse/ready`. */
  snapshot(now: number): TargetSnapshot {
    const ejected = this.ejectedUntil !== 0 && now < this.ejectedUntil;
    return {
      target: this.id,
      weight: this.weight,
      healthy: this.up && !ejected,
      check_up: this.up,
      in_flight: this.inFlight,
      consecutive_failures: this.consecutiveFailures,
      ...(ejected ? { ejected_until: new Date(this.ejectedUntil).toISOString() } : {}),
    };
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
