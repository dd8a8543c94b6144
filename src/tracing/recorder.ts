import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import type { ChildSpan, RequestTrace } from '../pipeline/tracing.js';
import type { GatehouseError } from '../errors/index.js';
import { decisionOf, mergedReasons } from '../audit/build.js';
import { formatTraceparent, type IdSource } from './propagation.js';
import { Kind, type AttrValue, type SpanRecord, type SpanSink } from './span.js';

const NOOP_CHILD: ChildSpan = Object.freeze({ end() {} });

/** An open span: ids and start fixed, attributes filled in as the request goes. */
interface OpenSpan {
  readonly name: string;
  readonly kind: Kind;
  readonly spanId: string;
  readonly parentId: string;
  readonly start: number;
  readonly attributes: Record<string, AttrValue>;
  end: number;
  error: string | undefined;
}

/** What a request trace needs from its tracer. */
export interface TraceHost {
  readonly ids: IdSource;
  readonly sink: SpanSink;
}

/**
 * The spans of one request: `gatehouse.request` (server), `authn` with the IdP calls it made,
 * `authz` and `upstream` (client). Spans of an unsampled request are not recorded, but the ids
 * are still made so the upstream receives a valid `traceparent` (sampled flag off).
 */
export class RequestSpans implements RequestTrace {
  readonly spanId: string;
  private authn: OpenSpan | undefined;
  private upstreamSpan: OpenSpan | undefined;
  private readonly done: OpenSpan[] = [];
  private ended = false;

  constructor(
    private readonly host: TraceHost,
    private readonly ctx: RequestContext,
    readonly traceId: string,
    /** The caller's span id when its trace is continued. */
    private readonly parentId: string | undefined,
    readonly sampled: boolean,
    /** The caller's `tracestate`, passed on with a continued trace. */
    private readonly tracestate: string | undefined,
  ) {
    this.spanId = host.ids.spanId();
  }

  private open(name: string, kind: Kind, parentId: string, start: number): OpenSpan {
    return {
      name,
      kind,
      spanId: this.host.ids.spanId(),
      parentId,
      start,
      attributes: {},
      end: 0,
      error: undefined,
    };
  }

  authnStart(): void {
    if (!this.sampled || this.authn !== undefined) return;
    this.authn = this.open('authn', Kind.Internal, this.spanId, performance.now());
  }

  authnEnd(principal: Principal | undefined): void {
    const s = this.authn;
    if (s === undefined || s.end !== 0) return;
    s.end = performance.now();
    s.attributes['gatehouse.authn.result'] = principal === undefined ? 'none' : 'ok';
    if (principal !== undefined) {
      s.attributes['gatehouse.authn.method'] = principal.method;
      s.attributes['gatehouse.authn.provider'] = principal.provider;
      s.attributes['gatehouse.principal.kind'] = principal.kind;
    }
    this.done.push(s);
  }

  authz(start: number, allow: boolean, rule: string | undefined, reason: string | undefined): void {
    if (!this.sampled) return;
    const s = this.open('authz', Kind.Internal, this.spanId, start);
    s.end = performance.now();
    s.attributes['gatehouse.authz.result'] = allow ? 'allow' : 'deny';
    if (rule !== undefined) s.attributes['gatehouse.authz.policy'] = rule;
    if (reason !== undefined) s.attributes['gatehouse.reason'] = reason;
    if (!allow) s.error = reason ?? 'deny';
    this.done.push(s);
  }

  child(name: string, attributes: Readonly<Record<string, string | number | boolean>>): ChildSpan {
    if (!this.sampled || this.ended) return NOOP_CHILD;
    const parent = this.authn !== undefined && this.authn.end === 0 ? this.authn.spanId : this.spanId;
    const s = this.open(name, Kind.Client, parent, performance.now());
    Object.assign(s.attributes, attributes);
    return {
      end: (error?: string) => {
        if (s.end !== 0) return;
        s.end = performance.now();
        s.error = error;
        // A call that outlives its request (a shared JWKS fetch) is exported on its own.
        if (this.ended) this.host.sink.add([this.finish(s)]);
        else this.done.push(s);
      },
    };
  }

  upstream(headers: string[], target: string): void {
    const s = this.open('upstream', Kind.Client, this.spanId, performance.now());
    this.upstreamSpan = s;
    for (let i = headers.length - 2; i >= 0; i -= 2) {
      const n = headers[i] as string;
      if ((n.length === 11 || n.length === 10) && /^trace(?:parent|state)$/i.test(n)) headers.splice(i, 2);
    }
    headers.push('traceparent', formatTraceparent(this.traceId, s.spanId, this.sampled));
    if (this.tracestate !== undefined) headers.push('tracestate', this.tracestate);
    const colon = target.lastIndexOf(':');
    const port = colon > 0 && !target.endsWith(']') ? Number(target.slice(colon + 1)) : NaN;
    s.attributes['server.address'] = colon > 0 && Number.isInteger(port) ? target.slice(0, colon) : target;
    if (Number.isInteger(port)) s.attributes['server.port'] = port;
    s.attributes['http.request.method'] = this.ctx.method;
  }

  end(status: number, err: GatehouseError | undefined): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.sampled) return;
    const ctx = this.ctx;
    const now = performance.now();
    const code = err?.code;
    const a = this.authn;
    if (a !== undefined && a.end === 0) {
      a.end = now;
      a.attributes['gatehouse.authn.result'] = 'error';
      a.error = code ?? 'unfinished';
      this.done.push(a);
    }
    const u = this.upstreamSpan;
    if (u !== undefined) {
      const dispatched = ctx.upstreamDispatch;
      u.end = ctx.upstreamEnd ?? now;
      if (ctx.upstreamStatus !== undefined) u.attributes['http.response.status_code'] = ctx.upstreamStatus;
      if (ctx.reasons.includes('upstream.retried')) u.attributes['gatehouse.upstream.retried'] = true;
      if (dispatched !== undefined) u.attributes['gatehouse.upstream.dispatch_ms'] = dispatched - u.start;
      if (ctx.upstreamStatus === undefined || ctx.upstreamStatus >= 500)
        u.error = ctx.upstreamStatus === undefined ? (code ?? 'no response') : `HTTP ${ctx.upstreamStatus}`;
      this.done.push(u);
    }
    const reasons = mergedReasons(ctx, err);
    const attrs: Record<string, AttrValue> = {
      'http.request.method': ctx.method,
      'url.path': ctx.path,
      'url.scheme': ctx.scheme,
      'server.address': ctx.host,
      'client.address': ctx.clientIp,
      'http.response.status_code': status,
      'gatehouse.request_id': ctx.id,
      'gatehouse.decision': decisionOf(ctx, status, err),
      'gatehouse.reasons': reasons.slice(),
    };
    const route = ctx.route;
    if (route !== undefined) {
      attrs['gatehouse.route'] = route.name;
      attrs['http.route'] = route.config.match.path;
    }
    if (ctx.rule !== undefined) attrs['gatehouse.rule'] = ctx.rule;
    const p = ctx.principal;
    if (p !== undefined) {
      attrs['gatehouse.principal.kind'] = p.kind;
      attrs['gatehouse.authn.method'] = p.method;
    }
    if (code !== undefined) attrs['error.type'] = code;
    const out: SpanRecord[] = [
      {
        name: 'gatehouse.request',
        kind: Kind.Server,
        traceId: this.traceId,
        spanId: this.spanId,
        parentId: this.parentId,
        remoteParent: this.parentId !== undefined,
        start: ctx.start,
        end: now,
        attributes: attrs,
        error: code !== undefined ? code : status >= 500 ? `HTTP ${status}` : undefined,
      },
    ];
    for (const s of this.done) out.push(this.finish(s));
    this.host.sink.add(out);
  }

  private finish(s: OpenSpan): SpanRecord {
    return {
      name: s.name,
      kind: s.kind,
      traceId: this.traceId,
      spanId: s.spanId,
      parentId: s.parentId,
      remoteParent: false,
      start: s.start,
      end: s.end,
      attributes: s.attributes,
      error: s.error,
    };
  }
}
