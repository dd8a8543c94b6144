/**
 * Tracing micro-benchmark (docs/architecture.md, "Tracing"): the per-request cost of recording
 * a request's four spans (request, authn, authz, upstream with ~12 attributes) with
 * Gatehouse's recorder versus OpenTelemetry's SDK tracer (BasicTracerProvider +
 * explicit context passing), both handing every ended span on (ours: converted to
 * ReadableSpan, as at export) and dropping it; and what an AsyncLocalStorage context per request adds on top.
 * Also the export-side encoding cost per span, OTLP JSON versus protobuf.
 * Run: node --import tsx bench/tracing-micro.ts
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context, trace, SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { toReadable } from '../src/tracing/export.js';
import { Tracer } from '../src/tracing/tracer.js';
import type { RequestContext } from '../src/pipeline/context.js';
import type { SpanRecord } from '../src/tracing/span.js';

const N = Number(process.env.N ?? 200_000);
const resource = resourceFromAttributes({ 'service.name': 'bench' });
let sdkKept = 0;
/** Takes every ended span, as a batch processor's queue would, and drops it. */
const discard: SpanProcessor = {
  onStart() {},
  onEnd(s: ReadableSpan) {
    if (s.ended) sdkKept++;
  },
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve(),
};

const ctx = {
  id: 'b6f1c7c2-5a4e-4d8e-9c1b-2f1f0e7a9d11',
  req: { headers: {} },
  method: 'GET',
  path: '/bench',
  scheme: 'http',
  host: 'app.example.com',
  clientIp: '127.0.0.1',
  peerTrusted: false,
  reasons: ['rule.allow'],
  rule: 'staff',
  route: { name: 'bench', config: { match: { path: '/' } } },
  principal: { kind: 'user', method: 'jwt', provider: 'corp' },
  start: 0,
  upstreamStatus: 200,
  upstreamDispatch: undefined,
  upstreamEnd: undefined,
} as unknown as RequestContext;

function ours(): number {
  let kept = 0;
  const tracer = new Tracer(
    { incoming: 'continue', respect_parent_sampled: true, sample_ratio: 1 },
    // The export-time conversion to ReadableSpan is counted here too: it costs the same core.
    { add: (s: readonly SpanRecord[]) => void (kept += s.map((r) => toReadable(r, resource)).length) },
  );
  const headers: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    (ctx as { start: number }).start = performance.now();
    const t = tracer.start(ctx);
    t.authnStart();
    t.authnEnd(ctx.principal);
    t.authz(performance.now(), true, 'staff', 'rule.allow');
    headers.length = 0;
    t.upstream(headers, '127.0.0.1:8080');
    t.end(200, undefined);
  }
  const ns = ((performance.now() - t0) * 1e6) / N;
  if (kept !== N * 4) throw new Error(`recorded ${kept}`);
  return ns;
}

function sdk(withAls: boolean): number {
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [discard],
  });
  const tracer = provider.getTracer('gatehouse');
  const als = new AsyncLocalStorage<unknown>();
  const one = () => {
    const root = tracer.startSpan('gatehouse.request', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'url.path': '/bench', 'url.scheme': 'http' },
    });
    const c = trace.setSpan(context.active(), root);
    const a = tracer.startSpan('authn', {}, c);
    a.setAttributes({
      'gatehouse.authn.result': 'ok',
      'gatehouse.authn.method': 'jwt',
      'gatehouse.authn.provider': 'corp',
    });
    a.end();
    const z = tracer.startSpan('authz', {}, c);
    z.setAttributes({ 'gatehouse.authz.result': 'allow', 'gatehouse.authz.policy': 'staff' });
    z.end();
    const u = tracer.startSpan('upstream', { kind: SpanKind.CLIENT }, c);
    const tp = `00-${u.spanContext().traceId}-${u.spanContext().spanId}-01`;
    u.setAttributes({ 'server.address': '127.0.0.1', 'server.port': 8080, 'http.response.status_code': 200 });
    u.end();
    root.setAttributes({
      'http.response.status_code': 200,
      'gatehouse.request_id': ctx.id,
      'gatehouse.route': 'bench',
      'gatehouse.decision': 'allow',
      'gatehouse.reasons': ['rule.allow'],
      'client.address': '127.0.0.1',
    });
    root.end();
    return tp;
  };
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    if (withAls) als.run(i, one);
    else one();
  }
  const ns = ((performance.now() - t0) * 1e6) / N;
  if (sdkKept < N * 4) throw new Error(`sdk ended ${sdkKept}`);
  sdkKept = 0;
  return ns;
}

/** Export-side cost: encoding one batch of 512 request spans, per span. */
function encode(ser: typeof JsonTraceSerializer): number {
  const spans: SpanRecord[] = [];
  const tracer = new Tracer(
    { incoming: 'continue', respect_parent_sampled: true, sample_ratio: 1 },
    { add: (s: readonly SpanRecord[]) => void spans.push(...s) },
  );
  while (spans.length < 512) {
    const t = tracer.start(ctx);
    t.upstream([], '127.0.0.1:8080');
    t.end(200, undefined);
  }
  const R = 40;
  const t0 = performance.now();
  for (let i = 0; i < R; i++) ser.serializeRequest(spans.map((r) => toReadable(r, resource)));
  return ((performance.now() - t0) * 1e6) / (R * spans.length);
}

// Warm up every path, then measure each three times and keep the best.
for (const f of [ours, () => sdk(false), () => sdk(true)]) f();
const best = (f: () => number) => Math.min(f(), f(), f());
const a = best(ours);
const b = best(() => sdk(false));
const c = best(() => sdk(true));
const j = Math.min(encode(JsonTraceSerializer), encode(JsonTraceSerializer), encode(JsonTraceSerializer));
const p = Math.min(
  encode(ProtobufTraceSerializer),
  encode(ProtobufTraceSerializer),
  encode(ProtobufTraceSerializer),
);
console.log(`export encoding per span: http/json ${j.toFixed(0)} ns · http/protobuf ${p.toFixed(0)} ns`);
console.log(
  `per request, 4 spans: recorder ${a.toFixed(0)} ns · OpenTelemetry SDK ${b.toFixed(0)} ns · SDK + AsyncLocalStorage.run ${c.toFixed(0)} ns`,
);
