import { GatehouseError } from '../errors/index.js';
import { parseDuration } from '../util/units.js';
import type { FeedEntry } from './feed.js';
import { principalOf, reasonOf } from './decisions.js';
import { addInto, bucketOf, BUCKETS, quantile, TopK } from './histogram.js';

/** Counters and latency histograms of one step (all routes, or one route). */
class Cell {
  requests = 0;
  allowed = 0;
  denied = 0;
  rateLimited = 0;
  cacheHits = 0;
  cacheMisses = 0;
  readonly gateway = new Uint32Array(BUCKETS);
  readonly upstream = new Uint32Array(BUCKETS);

  add(e: FeedEntry): void {
    this.requests++;
    if (e.decision === 'allow') this.allowed++;
    else this.denied++;
    if (e.error === 'GH_RATE_LIMITED' || e.error === 'GH_QUOTA_EXCEEDED') this.rateLimited++;
    if (e.cache === 'hit') this.cacheHits++;
    else if (e.cache === 'miss') this.cacheMisses++;
    const up = e.upstreamMs;
    const g = this.gateway;
    const gi = bucketOf(up === undefined ? e.totalMs : e.totalMs - up);
    g[gi] = (g[gi] as number) + 1;
    if (up !== undefined) {
      const u = this.upstream;
      const ui = bucketOf(up);
      u[ui] = (u[ui] as number) + 1;
    }
  }

  merge(o: Cell): void {
    this.requests += o.requests;
    this.allowed += o.allowed;
    this.denied += o.denied;
    this.rateLimited += o.rateLimited;
    this.cacheHits += o.cacheHits;
    this.cacheMisses += o.cacheMisses;
    addInto(this.gateway, o.gateway);
    addInto(this.upstream, o.upstream);
  }
}

/** One time step: totals, per-route cells (allocated when the route has traffic) and top-k. */
class Step {
  start = -1;
  total = new Cell();
  readonly routes = new Map<string, Cell>();
  readonly reasons = new TopK(TOP_K);
  readonly principals = new TopK(TOP_K);

  reset(start: number): void {
    this.start = start;
    this.total = new Cell();
    this.routes.clear();
    this.reasons.clear();
    this.principals.clear();
  }
}

/** Counters kept per step by the top-k lists (deny reasons, denied principals). */
const TOP_K = 20;
const FINE_MS = 10_000;
const COARSE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** A time-indexed ring of steps. */
class StepRing {
  readonly steps: Step[];
  constructor(
    readonly stepMs: number,
    n: number,
  ) {
    this.steps = Array.from({ length: n }, () => new Step());
  }

  at(t: number): Step {
    const start = t - (t % this.stepMs);
    const s = this.steps[Math.floor(start / this.stepMs) % this.steps.length] as Step;
    if (s.start !== start) s.reset(start);
    return s;
  }
}

/** One point of `GET /api/analytics`. */
export interface SeriesPoint {
  t: string;
  requests: number;
  allowed: number;
  denied: number;
  rate_limited: number;
  cache_hits: number;
  cache_misses: number;
  gateway_p50: number | null;
  gateway_p95: number | null;
  gateway_p99: number | null;
  upstream_p50: number | null;
  upstream_p95: number | null;
  upstream_p99: number | null;
}

function point(start: number, c: Cell): SeriesPoint {
  return {
    t: new Date(start).toISOString(),
    requests: c.requests,
    allowed: c.allowed,
    denied: c.denied,
    rate_limited: c.rateLimited,
    cache_hits: c.cacheHits,
    cache_misses: c.cacheMisses,
    gateway_p50: quantile(c.gateway, 0.5),
    gateway_p95: quantile(c.gateway, 0.95),
    gateway_p99: quantile(c.gateway, 0.99),
    upstream_p50: quantile(c.upstream, 0.5),
    upstream_p95: quantile(c.upstream, 0.95),
    upstream_p99: quantile(c.upstream, 0.99),
  };
}

function top(m: Map<string, number>, n = 10): [string, number][] {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/**
 * Request analytics over a bounded window: 10-second steps for the last hour and one-minute
 * steps for `admin.retention.analytics_window`, each with counters and fixed logarithmic latency
 * histograms (gateway and upstream time apart), per route, and space-saving top-k lists of deny
 * reasons and denied principals. Memory is fixed by the window and the number of busy routes
 * (docs/console.md, "Retention and memory"); nothing grows with traffic.
 */
export class Analytics {
  readonly #fine = new StepRing(FINE_MS, HOUR_MS / FINE_MS);
  readonly #coarse: StepRing;

  constructor(readonly windowMs: number) {
    this.#coarse = new StepRing(COARSE_MS, Math.ceil(windowMs / COARSE_MS));
  }

  /** Feed listener: counts one finished request. */
  readonly add = (e: FeedEntry): void => {
    const f = this.#fine.at(e.t);
    const c = this.#coarse.at(e.t);
    f.total.add(e);
    c.total.add(e);
    const r = e.route ?? '(no route)';
    let fr = f.routes.get(r);
    if (fr === undefined) f.routes.set(r, (fr = new Cell()));
    fr.add(e);
    let cr = c.routes.get(r);
    if (cr === undefined) c.routes.set(r, (cr = new Cell()));
    cr.add(e);
    if (e.decision !== 'allow') {
      c.reasons.add(reasonOf(e) ?? 'unknown');
      c.principals.add(principalOf(e).name ?? '(anonymous)');
    }
  };

  /** Parses `window` (15m, 1h, 24h, … up to the retention); GH_ADMIN_BAD_REQUEST otherwise. */
  parseWindow(w: string | null): number {
    const ms = parseDuration(w ?? '15m');
    if (ms === undefined || ms < 60_000 || ms > this.windowMs)
      throw new GatehouseError(
        'GH_ADMIN_BAD_REQUEST',
        `window=${w}: expected a duration from 1m to ${this.windowMs / 60_000}m (admin.retention.analytics_window)`,
      );
    return ms;
  }

  /** The analytics of the last `windowMs`, optionally of one route. */
  query(windowMs: number, route: string | undefined, now = Date.now()) {
    const ring = windowMs <= HOUR_MS ? this.#fine : this.#coarse;
    const stepMs =
      windowMs <= HOUR_MS ? FINE_MS : Math.max(COARSE_MS, Math.ceil(windowMs / 1440 / COARSE_MS) * COARSE_MS);
    const end = now - (now % stepMs) + stepMs;
    const from = end - Math.ceil(windowMs / stepMs) * stepMs;
    const points = new Map<number, Cell>();
    for (let t = from; t < end; t += stepMs) points.set(t, new Cell());
    const routes = new Map<string, Cell>();
    for (const s of ring.steps) {
      if (s.start < from || s.start >= end) continue;
      const at = points.get(s.start - ((s.start - from) % stepMs));
      const c = route === undefined ? s.total : s.routes.get(route);
      if (at !== undefined && c !== undefined) at.merge(c);
      for (const [name, rc] of s.routes) {
        let acc = routes.get(name);
        if (acc === undefined) routes.set(name, (acc = new Cell()));
        acc.merge(rc);
      }
    }
    const reasons = new Map<string, number>();
    const principals = new Map<string, number>();
    for (const s of this.#coarse.steps) {
      if (s.start < now - windowMs - COARSE_MS) continue;
      s.reasons.mergeInto(reasons);
      s.principals.mergeInto(principals);
    }
    return {
      window: `${windowMs / 60_000}m`,
      step_s: stepMs / 1000,
      series: [...points].map(([t, c]) => point(t, c)),
      top_deny_reasons: top(reasons).map(([reason, count]) => ({ reason, count })),
      top_denied_principals: top(principals).map(([name, count]) => ({ name, count })),
      routes: [...routes]
        .sort((a, b) => b[1].requests - a[1].requests)
        .map(([name, c]) => {
          const all = new Uint32Array(BUCKETS);
          addInto(all, c.gateway);
          return {
            route: name,
            requests: c.requests,
            denied: c.denied,
            p50: quantile(all, 0.5),
            p95: quantile(all, 0.95),
            p99: quantile(all, 0.99),
            upstream_p95: quantile(c.upstream, 0.95),
          };
        }),
    };
  }
}
