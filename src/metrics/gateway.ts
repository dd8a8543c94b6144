import type { RequestContext } from '../pipeline/context.js';
import { routeCacheOf } from '../cache/cache.js';
import {
  CallbackMetric,
  Counter,
  Histogram,
  Registry,
  type CounterChild,
  type HistogramChild,
  type Sample,
} from './registry.js';
import { processMetrics } from './process.js';
import { runtimeMetrics } from './runtime.js';
import { sessionCacheMetrics } from '../session/metrics.js';
import { FarmMetrics } from '../upstream/farm/metrics.js';
import type { Farm } from '../upstream/farm/farm.js';

/** Counters a limits store keeps (read at scrape time). */
export interface LimitCounters {
  readonly allowed: number;
  readonly rejected: number;
  readonly storeErrors: number;
  readonly failedOpen: number;
  readonly failedClosed: number;
  /** Rejections per limit name. */
  readonly rejectedBy: ReadonlyMap<string, number>;
}

/** Counters the response cache keeps (read at scrape time). */
export interface CacheCounters {
  readonly hits: number;
  readonly misses: number;
  readonly stored: number;
  /** Responses not stored, by reason. */
  readonly notStored: ReadonlyMap<string, number>;
}

/** What the metrics read of one runtime state; the server extracts it from the state's services. */
export interface StateStats {
  readonly limits: LimitCounters | undefined;
  readonly cache: CacheCounters | undefined;
  /** Size of the in-memory response cache, when one exists. */
  cacheUsage(): { bytes: number; entries: number } | undefined;
  /** Upstream farms, for per-target metrics. */
  readonly farms: readonly Farm[];
}

/** Audit decision of a finished request (the `decision` label). */
export type MetricDecision = 'allow' | 'deny' | 'error';

/** Route label of requests that matched no route (internal endpoints, 404s, parser errors). */
export const NO_ROUTE = '(none)';

const DECISIONS: readonly MetricDecision[] = ['allow', 'deny', 'error'];
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;
const MS_PER_S = 1000;

/** Pre-resolved children of one route: per request only property reads and increments. */
interface RouteSeries {
  readonly name: string;
  /** `status class × decision` request counters, created on first use. */
  readonly requests: (CounterChild | undefined)[];
  readonly duration: HistogramChild;
  readonly upstream: HistogramChild;
  readonly reasons: Map<string, CounterChild>;
}

function statusClass(status: number): number {
  const c = Math.floor(status / 100);
  return c >= 1 && c <= 5 ? c - 1 : 5;
}

function decisionIndex(d: MetricDecision): number {
  return d === 'allow' ? 0 : d === 'deny' ? 1 : 2;
}

/**
 * Every metric of one gateway, kept across reloads: request, decision and error counters
 * updated by the recorder once per finished request, and scrape-time views of the counters the
 * limits and cache services keep (summed over every runtime state, so reloads never make them
 * go down) and of the process.
 */
export class GatehouseMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #upstream: Histogram;
  readonly #decisions: Counter;
  readonly #errors: Counter;
  readonly #reloads: Counter;
  readonly #routes = new Map<string, RouteSeries>();
  readonly #errorChildren = new Map<string, CounterChild>();
  readonly #limitStats = new Set<LimitCounters>();
  readonly #cacheStats = new Set<CacheCounters>();
  /** Size of the current runtime state's in-memory response cache (gauges). */
  #cacheUsage: StateStats['cacheUsage'] = () => undefined;
  #cacheBypass = 0;
  #ready: () => boolean = () => false;
  /** Per-target metrics of upstream farms. */
  readonly #farmMetrics = new FarmMetrics();

  constructor() {
    const r = this.registry;
    this.#requests = r.register(
      new Counter(
        'gatehouse_requests_total',
        'Finished requests by route, status class and audit decision.',
        ['route', 'status_class', 'decision'],
      ),
    );
    this.#duration = r.register(
      new Histogram(
        'gatehouse_request_duration_seconds',
        'Time from accepting a request to its end, by route.',
        ['route'],
      ),
    );
    this.#upstream = r.register(
      new Histogram(
        'gatehouse_upstream_duration_seconds',
        'Time from dispatching a request upstream to the end of the upstream response, by route.',
        ['route'],
      ),
    );
    this.#decisions = r.register(
      new Counter(
        'gatehouse_decisions_total',
        'Reason codes of finished requests (the same codes as the audit event), by route.',
        ['route', 'reason'],
      ),
    );
    this.#errors = r.register(
      new Counter('gatehouse_errors_total', 'Requests answered with a Gatehouse error, by error code.', [
        'code',
      ]),
    );
    r.register(
      new CallbackMetric(
        'gatehouse_ratelimit_rejections_total',
        'Requests rejected by a rate limit or quota, by limit name.',
        'counter',
        () => this.#rejections(),
      ),
    );
    r.register(
      new CallbackMetric(
        'gatehouse_ratelimit_store_errors_total',
        'Limit checks that failed because the limit store (Redis) was unreachable.',
        'counter',
        () => [{ value: this.#sumLimits((s) => s.storeErrors) }],
      ),
    );
    r.register(
      new CallbackMetric(
        'gatehouse_cache_requests_total',
        'Response-cache lookups by result: hit, miss, or bypass (cached route, request not cacheable).',
        'counter',
        () => [
          { labels: { result: 'hit' }, value: this.#sumCache((s) => s.hits) },
          { labels: { result: 'miss' }, value: this.#sumCache((s) => s.misses) },
          { labels: { result: 'bypass' }, value: this.#cacheBypass },
        ],
      ),
    );
    r.register(
      new CallbackMetric(
        'gatehouse_cache_bytes',
        'Bytes held by the in-memory response cache.',
        'gauge',
        () => [{ value: this.#cacheUsage()?.bytes ?? 0 }],
      ),
    );
    r.register(
      new CallbackMetric(
        'gatehouse_cache_entries',
        'Responses held by the in-memory response cache.',
        'gauge',
        () => [{ value: this.#cacheUsage()?.entries ?? 0 }],
      ),
    );
    r.register(
      new CallbackMetric(
        'gatehouse_cache_stored_total',
        'Responses stored in the response cache.',
        'counter',
        () => [{ value: this.#sumCache((s) => s.stored) }],
      ),
    );
    this.#reloads = r.register(
      new Counter('gatehouse_config_reloads_total', 'Configuration reloads by result.', ['result']),
    );
    this.#reloads.labels('success');
    this.#reloads.labels('failure');
    r.register(
      new CallbackMetric(
        'gatehouse_ready',
        '1 when Gatehouse is ready to serve (/.gatehouse/ready).',
        'gauge',
        () => [{ value: this.#ready() ? 1 : 0 }],
      ),
    );
    for (const m of processMetrics()) r.register(m);
    for (const m of runtimeMetrics()) r.register(m);
    for (const m of sessionCacheMetrics()) r.register(m);
    for (const m of this.#farmMetrics.metrics()) r.register(m);
  }

  /**
   * Records one finished request. `reasons` and `decision` are the ones of its audit event.
   * Called by the recorder exactly once per request; never throws.
   */
  observe(
    ctx: RequestContext,
    status: number,
    decision: MetricDecision,
    reasons: readonly string[],
    errorCode: string | undefined,
  ): void {
    const s = this.#series(ctx.route?.name ?? NO_ROUTE);
    const idx = statusClass(status) * 3 + decisionIndex(decision);
    let req = s.requests[idx];
    if (req === undefined) {
      req = this.#requests.labels(s.name, CLASSES[statusClass(status)] as string, decision);
      s.requests[idx] = req;
    }
    req.value++;
    const now = performance.now();
    s.duration.observe((now - ctx.start) / MS_PER_S);
    if (ctx.upstreamStart !== undefined) {
      const from = ctx.upstreamDispatch ?? ctx.start;
      s.upstream.observe(((ctx.upstreamEnd ?? now) - from) / MS_PER_S);
    }
    for (const r of reasons) {
      let c = s.reasons.get(r);
      if (c === undefined) {
        c = this.#decisions.labels(s.name, r);
        s.reasons.set(r, c);
      }
      c.value++;
    }
    if (errorCode !== undefined) {
      let e = this.#errorChildren.get(errorCode);
      if (e === undefined) {
        e = this.#errors.labels(errorCode);
        this.#errorChildren.set(errorCode, e);
      }
      e.value++;
    }
    if (ctx.route?.mutators.length && routeCacheOf(ctx) !== undefined && !ctx.responseHeaders.has('X-Cache'))
      this.#cacheBypass++;
  }

  /** Counts a request the HTTP parser refused before a context existed (`Gateway.#clientError`). */
  clientError(code: string): void {
    this.#errors.labels(code).inc();
  }

  /** Counts a configuration reload. */
  configReload(result: 'success' | 'failure'): void {
    this.#reloads.labels(result).inc();
  }

  /** Starts reading the limit and cache counters of a (new) runtime state; `ready` feeds `gatehouse_ready`. */
  attachState(stats: StateStats, ready: () => boolean): void {
    if (stats.limits) this.#limitStats.add(stats.limits);
    if (stats.cache) this.#cacheStats.add(stats.cache);
    this.#cacheUsage = stats.cacheUsage;
    this.#ready = ready;
    this.#farmMetrics.attach([...stats.farms]);
  }

  /** The exposition text. */
  expose(): string {
    return this.registry.expose();
  }

  /**
   * In cluster mode, answers a scrape with the whole cluster's exposition (set by the worker
   * wiring, `src/cluster/worker.ts`); undefined in a single process.
   */
  clusterSource: (() => Promise<string>) | undefined;

  /** What `/.gatehouse/metrics` serves: the cluster's metrics when in a cluster, else {@link expose}. */
  exposeAll(): string | Promise<string> {
    if (!this.clusterSource) return this.expose();
    return this.clusterSource().catch(() => this.expose());
  }

  #series(name: string): RouteSeries {
    let s = this.#routes.get(name);
    if (s === undefined) {
      s = {
        name,
        requests: new Array<CounterChild | undefined>(CLASSES.length * DECISIONS.length),
        duration: this.#duration.labels(name),
        upstream: this.#upstream.labels(name),
        reasons: new Map(),
      };
      this.#routes.set(name, s);
    }
    return s;
  }

  #sumLimits(f: (s: LimitCounters) => number): number {
    let n = 0;
    for (const s of this.#limitStats) n += f(s);
    return n;
  }

  #sumCache(f: (s: CacheCounters) => number): number {
    let n = 0;
    for (const s of this.#cacheStats) n += f(s);
    return n;
  }

  #rejections(): Sample[] {
    const by = new Map<string, number>();
    for (const s of this.#limitStats) for (const [k, v] of s.rejectedBy) by.set(k, (by.get(k) ?? 0) + v);
    return [...by].map(([limit, value]) => ({ labels: { limit }, value }));
  }
}

/** When the forwarder stamps the dispatch time (`ctx.upstreamDispatch`), upstream time starts there. */
