import { resourceFromAttributes } from '@opentelemetry/resources';
import type { Feature } from '../pipeline/feature.js';
import type { TracingGlobals } from './schema.js';
import { ExportQueue } from './export.js';
import { Tracer } from './tracer.js';
import { otlpExporter } from './otlp.js';

/** `cctx.services` key of the runtime state's {@link Tracer} (absent when tracing is off). */
export const TRACER_SERVICE = 'tracing';

/**
 * Distributed tracing (`tracing:`): one {@link Tracer} per runtime state, exporting through
 * OpenTelemetry's OTLP/HTTP exporter from a bounded queue. Absent config: no tracer, and the
 * request path keeps forwarding the client's `traceparent` untouched. A reload flushes the old
 * state's queue (bounded by `shutdown_timeout`) when the old state closes.
 */
export const tracingFeature: Feature<TracingGlobals> = {
  id: 'tracing',
  compileGlobal(cctx) {
    const cfg = cctx.config.tracing;
    if (cfg === undefined || cctx.dryRun) return;
    const exporter = otlpExporter(cfg.otlp);
    const logger = cctx.logger;
    const queue = new ExportQueue(
      exporter,
      resourceFromAttributes({ 'service.name': cfg.service_name, 'process.pid': process.pid }),
      {
        maxQueue: cfg.max_queue,
        batchSize: cfg.batch_size,
        intervalMs: cfg.batch_interval,
        onFailure: (message) =>
          logger.warn(
            { endpoint: cfg.otlp.endpoint, err: message },
            'trace export failed: spans are dropped (gatehouse_trace_spans_dropped_total) until the collector answers',
          ),
      },
    );
    cctx.services.set(TRACER_SERVICE, new Tracer(cfg, queue));
    cctx.onClose(() => queue.shutdown(cfg.shutdown_timeout));
  },
};
