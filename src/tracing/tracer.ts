import type { RequestContext } from '../pipeline/context.js';
import type { RequestTrace } from '../pipeline/tracing.js';
import type { TracingConfig } from './schema.js';
import { IdSource, parseTraceparent, sampledByRatio } from './propagation.js';
import { RequestSpans } from './recorder.js';
import type { SpanSink } from './span.js';

/** Printable ASCII of a `tracestate` that may be passed on (W3C: at most 512 characters kept). */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * Starts one {@link RequestTrace} per request of a runtime state: continues a valid incoming
 * `traceparent` as `tracing.incoming` allows, otherwise starts a new trace; decides sampling
 * (parent flag or `sample_ratio`) once, at the start.
 */
export class Tracer {
  readonly ids = new IdSource();

  constructor(
    private readonly cfg: Pick<TracingConfig, 'incoming' | 'respect_parent_sampled' | 'sample_ratio'>,
    readonly sink: SpanSink,
  ) {}

  start(ctx: RequestContext): RequestTrace {
    const h = ctx.req.headers;
    const incoming = this.cfg.incoming;
    const parent =
      h.traceparent === undefined ||
      incoming === 'ignore' ||
      (incoming === 'trusted_proxies' && !ctx.peerTrusted)
        ? undefined
        : parseTraceparent(h.traceparent);
    if (parent === undefined) {
      const traceId = this.ids.traceId();
      return new RequestSpans(
        this,
        ctx,
        traceId,
        undefined,
        sampledByRatio(traceId, this.cfg.sample_ratio),
        undefined,
      );
    }
    const sampled = this.cfg.respect_parent_sampled
      ? parent.sampled
      : sampledByRatio(parent.traceId, this.cfg.sample_ratio);
    const ts = h.tracestate;
    const tracestate = typeof ts === 'string' && TRACESTATE.test(ts) ? ts : undefined;
    return new RequestSpans(this, ctx, parent.traceId, parent.spanId, sampled, tracestate);
  }
}
