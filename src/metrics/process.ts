import { readdirSync } from 'node:fs';
import { CallbackMetric } from './registry.js';

const START_SECONDS = Math.round((Date.now() / 1000 - process.uptime()) * 1000) / 1000;

function openFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}

/**
 * The standard `process_*` metrics (names as in the Prometheus client libraries) plus the V8
 * heap, all read at scrape time.
 */
export function processMetrics(): CallbackMetric[] {
  const metrics = [
    new CallbackMetric('process_cpu_user_seconds_total', 'User CPU time spent in seconds.', 'counter', () => [
      { value: process.cpuUsage().user / 1e6 },
    ]),
    new CallbackMetric(
      'process_cpu_system_seconds_total',
      'System CPU time spent in seconds.',
      'counter',
      () => [{ value: process.cpuUsage().system / 1e6 }],
    ),
    new CallbackMetric(
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds.',
      'counter',
      () => {
        const u = process.cpuUsage();
        return [{ value: (u.user + u.system) / 1e6 }];
      },
    ),
    new CallbackMetric('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', () => [
      { value: process.memoryUsage.rss() },
    ]),
    new CallbackMetric(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      'gauge',
      () => [{ value: START_SECONDS }],
    ),
    new CallbackMetric('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', 'gauge', () => [
      { value: process.memoryUsage().heapUsed },
    ]),
  ];
  if (openFds() !== undefined) {
    metrics.push(
      new CallbackMetric('process_open_fds', 'Number of open file descriptors.', 'gauge', () => [
        { value: openFds() ?? 0 },
      ]),
    );
  }
  return metrics;
}
