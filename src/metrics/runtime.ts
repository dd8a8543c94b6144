import {
  monitorEventLoopDelay,
  PerformanceObserver,
  constants,
  type IntervalHistogram,
} from 'node:perf_hooks';
import { CallbackMetric } from './registry.js';

/** V8 collection kinds (perf_hooks `detail.kind`) by label. */
const KINDS: ReadonlyArray<readonly [number, string]> = [
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
];

/**
 * Event-loop delay sampling interval (ms). The sampling timer wakes the process even when it is
 * idle: at 10 ms an idle Gatehouse woke ~100 times a second (0.6 % of a core), which on a host
 * with many instances on one core (the benchmark keeps ~20 resident, pinned together) preempts
 * the busy one ~2000 times a second. At 50 ms a stall still shows in full in `max` (the next
 * sample waits for it) and the quantiles get 20 samples a second.
 */
const LOOP_SAMPLE_MS = 50;
/** Seconds of a histogram value beyond the sampling interval it includes (never negative). */
const beyondSchedule = (ns: number): number => Math.max(0, ns / 1e9 - LOOP_SAMPLE_MS / 1000);

interface GcTotals {
  count: number;
  seconds: number;
}

/**
 * What makes a latency tail inside the process: garbage-collection pauses and event-loop
 * delay. GC entries come from a `PerformanceObserver` (one callback per collection, nothing per
 * request); the loop delay from `monitorEventLoopDelay` (a timer every {@link LOOP_SAMPLE_MS}
 * sampling how late it fires). Both start with the first metrics registry of the process and
 * run until it exits.
 */
class RuntimeStats {
  readonly gc = new Map<string, GcTotals>(KINDS.map(([, k]) => [k, { count: 0, seconds: 0 }]));
  /** Longest single pause since start, in seconds. */
  maxPause = 0;
  readonly loop: IntervalHistogram;

  constructor() {
    const byKind = new Map(KINDS);
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const detail = (e as unknown as { detail?: { kind?: number } }).detail;
        const kind = byKind.get(detail?.kind ?? -1) ?? 'minor';
        const t = this.gc.get(kind) as GcTotals;
        const s = e.duration / 1000;
        t.count++;
        t.seconds += s;
        if (s > this.maxPause) this.maxPause = s;
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    this.loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
    this.loop.enable();
  }
}

let stats: RuntimeStats | undefined;

/**
 * `nodejs_gc_*` (collections and pause time by kind, longest pause) and
 * `nodejs_eventloop_delay_seconds` (p50, p99, max since start): where a p99 tail comes from.
 */
export function runtimeMetrics(): CallbackMetric[] {
  const s = (stats ??= new RuntimeStats());
  const byKind = (f: (t: GcTotals) => number) =>
    [...s.gc].map(([kind, t]) => ({ labels: { kind }, value: f(t) }));
  return [
    new CallbackMetric('nodejs_gc_runs_total', 'Garbage collections by kind.', 'counter', () =>
      byKind((t) => t.count),
    ),
    new CallbackMetric(
      'nodejs_gc_pause_seconds_total',
      'Time paused in garbage collection, by kind.',
      'counter',
      () => byKind((t) => t.seconds),
    ),
    new CallbackMetric(
      'nodejs_gc_pause_max_seconds',
      'Longest single garbage-collection pause since start.',
      'gauge',
      () => [{ value: s.maxPause }],
    ),
    new CallbackMetric(
      'nodejs_eventloop_delay_seconds',
      `Event-loop delay beyond schedule since start (sampled every ${LOOP_SAMPLE_MS} ms): p50, p99 and max.`,
      'gauge',
      () => [
        { labels: { quantile: '0.5' }, value: beyondSchedule(s.loop.percentile(50)) },
        { labels: { quantile: '0.99' }, value: beyondSchedule(s.loop.percentile(99)) },
        { labels: { quantile: '1' }, value: beyondSchedule(s.loop.max) },
      ],
    ),
  ];
}
