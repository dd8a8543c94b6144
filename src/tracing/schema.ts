import { z } from 'zod';
import { duration, httpUrl } from '../util/units.js';

/** `tracing.otlp`: where spans go (OTLP over HTTP). */
const otlpSchema = z
  .object({
    endpoint: httpUrl.describe(
      'OTLP/HTTP traces URL of the collector, path included, e.g. `http://collector:4318/v1/traces`.',
    ),
    protocol: z
      .enum(['http/protobuf', 'http/json'])
      .default('http/protobuf')
      .describe(
        'Encoding: `http/protobuf` (the OTLP default; about a third of the CPU of JSON) or `http/json`. The OpenTelemetry Collector, Jaeger and Tempo take both on port 4318.',
      ),
    headers: z
      .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name'), z.string())
      .default({})
      .describe('Extra request headers for the collector (e.g. an API key). Values are never logged.'),
    timeout: duration.default(10_000).describe('Time limit of one export request.'),
  })
  .strict()
  .describe('OTLP/HTTP exporter.');

/** `tracing`: W3C Trace Context spans exported with OpenTelemetry (docs/tracing.md). */
export const tracingSchema = z
  .object({
    otlp: otlpSchema,
    service_name: z
      .string()
      .min(1)
      .default('gatehouse')
      .describe('`service.name` resource attribute of every span.'),
    sample_ratio: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe(
        'Share of new traces recorded (by trace id, so every worker and hop agrees). 1: all, 0: none (traceparent still propagated).',
      ),
    incoming: z
      .enum(['continue', 'trusted_proxies', 'ignore'])
      .default('continue')
      .describe(
        "A valid incoming `traceparent`: `continue` the client's trace, continue it only from `server.trusted_proxies`, or `ignore` it (every request starts a new trace).",
      ),
    respect_parent_sampled: z
      .boolean()
      .default(true)
      .describe(
        'When a trace is continued, its `sampled` flag decides whether the request is recorded (W3C parent-based sampling); false: `sample_ratio` decides for every request.',
      ),
    max_queue: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(8192)
      .describe('Spans held for export; beyond it new spans are dropped and counted.'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      // 128, not OpenTelemetry's 512: a batch is serialised on the event loop in one go, and
      // at 512 spans that stall set the traced row's p99 (docs/benchmarks.md, "Export batches").
      .default(128)
      .describe('Most spans in one export request (each batch is serialised on the event loop in one go).'),
    batch_interval: duration.default(2000).describe('Longest wait before a partial batch is sent.'),
    shutdown_timeout: duration
      .default(3000)
      .describe('Longest wait for the last export at shutdown or reload.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.batch_size > c.max_queue)
      ctx.addIssue({
        code: 'custom',
        path: ['batch_size'],
        message: `batch_size (${c.batch_size}) must not exceed max_queue (${c.max_queue})`,
      });
  })
  .describe('Distributed tracing: W3C traceparent spans exported over OTLP/HTTP. Off when absent.');

export type TracingConfig = z.output<typeof tracingSchema>;

/** The slice of the root config the tracing feature reads. */
export interface TracingGlobals {
  readonly tracing?: TracingConfig | undefined;
  readonly server: { readonly trusted_proxies: readonly string[] };
}
