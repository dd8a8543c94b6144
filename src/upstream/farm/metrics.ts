import { CallbackMetric, type Sample } from '../../metrics/registry.js';
import type { Farm } from './farm.js';
import type { FarmTarget } from './target.js';

type Totals = { requests: number; failures: number; ejections: number };

/**
 * Per-target metrics of the farms of the current runtime state (labels `upstream`, `target`):
 * requests, failures and ejections as counters that survive reloads (a replaced farm's totals
 * are kept and added), health and requests in flight as gauges of the current farms.
 */
export class FarmMetrics {
  #farms: readonly Farm[] = [];
  readonly #retired = new Map<string, Totals>();

  /** Starts reading `farms` (a new runtime state's); totals of farms no longer present are kept. */
  attach(farms: readonly Farm[]): void {
    for (const f of this.#farms) {
      if (farms.includes(f)) continue;
      for (const t of f.targets) {
        const k = key(f, t);
        const r = this.#retired.get(k) ?? { requests: 0, failures: 0, ejections: 0 };
        r.requests += t.requests;
        r.failures += t.failures;
        r.ejections += t.ejections;
        this.#retired.set(k, r);
      }
    }
    this.#farms = farms;
  }

  /** The metrics to register once. */
  metrics(): CallbackMetric[] {
    return [
      new CallbackMetric(
        'gatehouse_upstream_target_requests_total',
        'Requests (and WebSocket tunnels) sent to a farm target, retries included.',
        'counter',
        () => this.#totals((t) => t.requests),
      ),
      new CallbackMetric(
        'gatehouse_upstream_target_failures_total',
        'Failed requests of a farm target: connect failures, resets, timeouts, and 5xx when passive_health.count_5xx.',
        'counter',
        () => this.#totals((t) => t.failures),
      ),
      new CallbackMetric(
        'gatehouse_upstream_target_ejections_total',
        'Times a farm target was ejected after passive_health.max_failures consecutive failures.',
        'counter',
        () => this.#totals((t) => t.ejections),
      ),
      new CallbackMetric(
        'gatehouse_upstream_target_healthy',
        '1 when a farm target takes requests (health check up, not ejected), else 0.',
        'gauge',
        () => this.#gauge((t, now) => (t.snapshot(now).healthy ? 1 : 0)),
      ),
      new CallbackMetric(
        'gatehouse_upstream_target_in_flight',
        'Requests in flight to a farm target.',
        'gauge',
        () => this.#gauge((t) => t.inFlight),
      ),
    ];
  }

  #totals(f: (t: Totals) => number): Sample[] {
    const out = new Map<string, Sample>();
    for (const [k, r] of this.#retired) out.set(k, { labels: labels(k), value: f(r) });
    for (const farm of this.#farms)
      for (const t of farm.targets) {
        const k = key(farm, t);
        out.set(k, { labels: labels(k), value: f(t) + (out.get(k)?.value ?? 0) });
      }
    return [...out.values()];
  }

  #gauge(f: (t: FarmTarget, now: number) => number): Sample[] {
    const now = Date.now();
    const out: Sample[] = [];
    for (const farm of this.#farms)
      for (const t of farm.targets)
        out.push({ labels: { upstream: farm.name, target: t.id }, value: f(t, now) });
    return out;
  }
}

function key(f: Farm, t: FarmTarget): string {
  return `${f.name}\n${t.id}`;
}

function labels(k: string): Record<string, string> {
  const i = k.indexOf('\n');
  return { upstream: k.slice(0, i), target: k.slice(i + 1) };
}
