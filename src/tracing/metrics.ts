import { CallbackMetric } from '../metrics/registry.js';

/** Process-wide span counters (they outlive reloads, like any Prometheus counter). */
export const traceCounters = {
  /** Spans the collector accepted. */
  exported: 0,
  /** Spans lost: queue full, failed export, or still queued at shutdown. */
  dropped: 0,
  /** Export requests that failed. */
  failedExports: 0,
};

/**
 * Scrape-time views of the tracing counters: `gatehouse_trace_spans_exported_total`,
 * `gatehouse_trace_spans_dropped_total` and `gatehouse_trace_export_failures_total`.
 */
export function tracingMetrics(): CallbackMetric[] {
  return [
    new CallbackMetric(
      'gatehouse_trace_spans_exported_total',
      'Spans accepted by the OTLP collector.',
      'counter',
      () => [{ value: traceCounters.exported }],
    ),
    new CallbackMetric(
      'gatehouse_trace_spans_dropped_total',
      'Spans lost: export queue full, export failed (collector down or refusing), or queued at shutdown.',
      'counter',
      () => [{ value: traceCounters.dropped }],
    ),
    new CallbackMetric(
      'gatehouse_trace_export_failures_total',
      'OTLP export requests that failed.',
      'counter',
      () => [{ value: traceCounters.failedExports }],
    ),
  ];
}
