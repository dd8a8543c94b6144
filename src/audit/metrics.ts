import { CallbackMetric, type Sample } from '../metrics/registry.js';
import type { SinkStats } from './outbox.js';

/** What the audit metrics read: the counters of every delivery sink. */
export interface AuditStatsSource {
  readonly sinkStats: readonly SinkStats[];
}

function per(src: AuditStatsSource, f: (s: SinkStats) => number): () => Sample[] {
  return () => src.sinkStats.map((s) => ({ labels: { sink: s.name }, value: f(s) }));
}

/**
 * Scrape-time views of the audit sinks, by `sink` name:
 * `gatehouse_audit_events_written_total`, `gatehouse_audit_events_dropped_total` (lost for
 * good: buffer full, refused by the destination, still buffered at shutdown),
 * `gatehouse_audit_events_failed_total` (events in write attempts that failed; retries count
 * again), `gatehouse_audit_events_buffered` and `gatehouse_audit_sink_up` (0 from a failed
 * write until a write succeeds; with `on_failure: block`, requests are refused meanwhile).
 */
export function auditMetrics(src: AuditStatsSource): CallbackMetric[] {
  return [
    new CallbackMetric(
      'gatehouse_audit_events_written_total',
      'Audit events written by each sink.',
      'counter',
      per(src, (s) => s.written),
    ),
    new CallbackMetric(
      'gatehouse_audit_events_dropped_total',
      'Audit events lost by each sink: buffer full, refused by the destination, or still buffered at shutdown.',
      'counter',
      per(src, (s) => s.dropped),
    ),
    new CallbackMetric(
      'gatehouse_audit_events_failed_total',
      'Audit events in write attempts that failed, by sink (each retry counts again).',
      'counter',
      per(src, (s) => s.failed),
    ),
    new CallbackMetric(
      'gatehouse_audit_events_buffered',
      'Audit events waiting in each sink buffer.',
      'gauge',
      per(src, (s) => s.buffered),
    ),
    new CallbackMetric(
      'gatehouse_audit_sink_up',
      '1 while the audit sink writes, 0 from a failed write until a write succeeds again.',
      'gauge',
      per(src, (s) => (s.up ? 1 : 0)),
    ),
  ];
}
