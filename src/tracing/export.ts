import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord, SpanSink } from './span.js';
import { traceCounters } from './metrics.js';

/** The part of an OpenTelemetry SpanExporter the queue uses (OTLPTraceExporter in production). */
export interface Exporter {
  export(spans: ReadableSpan[], done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/** Export queue limits (`tracing.max_queue`, `batch_size`, `batch_interval`). */
export interface QueueOptions {
  readonly maxQueue: number;
  readonly batchSize: number;
  readonly intervalMs: number;
  /** Called (at most every 30 s) when an export fails: the message for the log. */
  readonly onFailure: (message: string) => void;
}

const SCOPE = Object.freeze({ name: 'gatehouse' });
const WARN_EVERY_MS = 30_000;

function hrTime(perfMs: number): HrTime {
  const ms = performance.timeOrigin + perfMs;
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
}

/** A recorded span in the SDK's ReadableSpan shape, for the OTLP transformer. */
export function toReadable(r: SpanRecord, resource: Resource): ReadableSpan {
  const ctx: SpanContext = { traceId: r.traceId, spanId: r.spanId, traceFlags: 1 };
  const parent: SpanContext | undefined =
    r.parentId === undefined
      ? undefined
      : { traceId: r.traceId, spanId: r.parentId, traceFlags: 1, isRemote: r.remoteParent };
  const dur = Math.max(0, r.end - r.start);
  const durS = Math.floor(dur / 1000);
  return {
    name: r.name,
    kind: r.kind as number,
    spanContext: () => ctx,
    parentSpanContext: parent,
    startTime: hrTime(r.start),
    endTime: hrTime(r.end),
    duration: [durS, Math.round((dur - durS * 1000) * 1e6)],
    status: r.error === undefined ? { code: 0 } : { code: 2, message: r.error },
    attributes: r.attributes as ReadableSpan['attributes'],
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/**
 * The bounded export queue between the request path and the OTLP exporter. Adding spans is an
 * array push (or a dropped-span count when the queue is full); batches leave on a timer or when
 * one is full, one export request at a time, so a slow or absent collector only fills the queue
 * and spans are dropped and counted — requests never wait.
 */
export class ExportQueue implements SpanSink {
  private queue: SpanRecord[] = [];
  private inflight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private warnedAt = -Infinity;

  constructor(
    private readonly exporter: Exporter,
    private readonly resource: Resource,
    private readonly opts: QueueOptions,
  ) {
    this.timer = setInterval(() => this.flush(), opts.intervalMs).unref();
  }

  /** Spans waiting for export. */
  get size(): number {
    return this.queue.length;
  }

  add(spans: readonly SpanRecord[]): void {
    if (this.closed) {
      traceCounters.dropped += spans.length;
      return;
    }
    const q = this.queue;
    const room = this.opts.maxQueue - q.length;
    if (room >= spans.length) for (const s of spans) q.push(s);
    else {
      for (let i = 0; i < room; i++) q.push(spans[i] as SpanRecord);
      traceCounters.dropped += spans.length - Math.max(0, room);
    }
    if (q.length >= this.opts.batchSize && this.inflight === undefined) setImmediate(() => this.flush());
  }

  /** Sends one batch unless one is already on its way; resolves when it is answered. */
  flush(): Promise<void> {
    if (this.inflight !== undefined) return this.inflight;
    if (this.queue.length === 0) return Promise.resolve();
    const batch = this.queue.splice(0, this.opts.batchSize);
    this.inflight = new Promise<void>((resolve) => {
      const spans = batch.map((r) => toReadable(r, this.resource));
      try {
        this.exporter.export(spans, (result) => {
          if (result.code === 0) traceCounters.exported += batch.length;
          else this.failed(batch.length, result.error?.message ?? 'export failed');
          resolve();
        });
      } catch (e) {
        this.failed(batch.length, (e as Error).message);
        resolve();
      }
    }).then(() => {
      this.inflight = undefined;
      if (!this.closed && this.queue.length >= this.opts.batchSize) setImmediate(() => this.flush());
    });
    return this.inflight;
  }

  private failed(n: number, message: string): void {
    traceCounters.dropped += n;
    traceCounters.failedExports++;
    const now = performance.now();
    if (now - this.warnedAt >= WARN_EVERY_MS) {
      this.warnedAt = now;
      this.opts.onFailure(message);
    }
  }

  /**
   * Stops the timer, exports what is queued within `timeoutMs` and shuts the exporter down;
   * spans still queued then are counted as dropped.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    let timedOut = false;
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref()).then(() => {
      timedOut = true;
    });
    const drain = (async () => {
      while (!timedOut && (this.queue.length > 0 || this.inflight !== undefined)) await this.flush();
    })();
    await Promise.race([drain, deadline]);
    this.closed = true;
    traceCounters.dropped += this.queue.length;
    this.queue = [];
    await Promise.race([this.exporter.shutdown().catch(() => undefined), deadline]);
  }
}
