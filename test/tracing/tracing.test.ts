import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { startCollector, type Collector, type ReceivedSpan } from './collector.js';

let idp: IdpServer;
let up: RecordingUpstream;
let collector: Collector;
let gh: TestGateway;

const TP = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$/;

before(async () => {
  idp = await startIdp();
  up = await startUpstream();
  collector = await startCollector();
  gh = await startGatehouse({
    providers: {
      main: {
        issuer: idp.issuer,
        audiences: [idp.audience],
        jwks_uri: idp.jwksUri,
        jwks_cooldown: 0,
        introspection: {
          endpoint: idp.introspectionUrl,
          client_id: 'gatehouse',
          client_secret: 'introspection-secret',
        },
      },
    },
    upstreams: { app: { url: up.url } },
    routes: [
      { name: 'api', match: { path: '/api' }, upstream: 'app', auth: 'bearer', allow: 'authenticated' },
      {
        name: 'admin',
        match: { path: '/admin' },
        upstream: 'app',
        auth: 'bearer',
        rules: [{ name: 'admins-only', effect: 'allow', when: { group: 'admins' } }],
      },
      { name: 'pub', match: { path: '/pub' }, upstream: 'app', auth: 'none' },
    ],
    tracing: {
      otlp: { endpoint: collector.url, headers: { 'x-collector-key': 'k1' } },
      service_name: 'gatehouse-test',
      batch_interval: '50ms',
    },
  });
});

after(async () => {
  await gh.close();
  await collector.close();
  await up.close();
  await idp.close();
});

/** The spans of one trace, once its request span has arrived (plus `more` other spans). */
async function traceOf(traceId: string, names: string[]): Promise<Map<string, ReceivedSpan>> {
  const spans = await collector.waitFor((all) =>
    names.every((n) => all.some((s) => s.traceId === traceId && s.name === n)),
  );
  return new Map(spans.filter((s) => s.traceId === traceId).map((s) => [s.name, s]));
}

function lastUpstreamTraceparent(): RegExpExecArray {
  const tp = up.received[up.received.length - 1]?.headers.traceparent;
  const m = TP.exec(String(tp));
  assert.ok(m, `upstream traceparent ${String(tp)}`);
  return m;
}

test('an allowed request: request, authn, authz and upstream spans, linked; the upstream continues the trace', async () => {
  const token = await idp.token({ sub: 'alice' });
  const r = await send(gh.url, '/api/orders?secret=1', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  const [, traceId, upstreamParent, sampled] = lastUpstreamTraceparent();
  assert.equal(sampled, '1');
  const t = await traceOf(traceId!, ['gatehouse.request', 'authn', 'authz', 'upstream']);
  const req = t.get('gatehouse.request')!;
  const authn = t.get('authn')!;
  const authz = t.get('authz')!;
  const upstream = t.get('upstream')!;
  assert.equal(req.parentSpanId, undefined, 'a new trace: the request span is the root');
  for (const s of [authn, authz, upstream]) assert.equal(s.parentSpanId, req.spanId, s.name);
  assert.equal(upstream.spanId, upstreamParent, "the upstream's parent is the upstream span");
  assert.equal(req.kind, 2, 'server span (OTLP SPAN_KIND_SERVER)');
  assert.equal(upstream.kind, 3, 'client span (OTLP SPAN_KIND_CLIENT)');
  assert.equal(req.service, 'gatehouse-test');
  const audit = gh.audit.find((e) => e.trace_id === traceId);
  assert.ok(audit, 'the audit event carries the trace id');
  assert.equal(req.attributes['gatehouse.request_id'], audit.request_id);
  assert.equal(req.attributes['gatehouse.route'], 'api');
  assert.equal(req.attributes['http.request.method'], 'GET');
  assert.equal(req.attributes['http.response.status_code'], 200);
  assert.equal(req.attributes['url.path'], '/api/orders', 'the path, never the query');
  assert.equal(req.attributes['gatehouse.decision'], 'allow');
  assert.equal(req.attributes['gatehouse.principal.kind'], 'user');
  assert.equal(authn.attributes['gatehouse.authn.result'], 'ok');
  assert.equal(authn.attributes['gatehouse.authn.provider'], 'main');
  assert.equal(authz.attributes['gatehouse.authz.result'], 'allow');
  assert.equal(upstream.attributes['server.address'], '127.0.0.1');
  assert.equal(upstream.attributes['server.port'], up.port);
  assert.equal(upstream.attributes['http.response.status_code'], 200);
  const text = JSON.stringify([...t.values()]);
  assert.ok(!text.includes(token.slice(-20)), 'no token in any span');
  assert.equal(
    collector.requests.at(-1)?.headers['x-collector-key'],
    'k1',
    'configured collector headers are sent',
  );
});

test('an incoming traceparent is continued: same trace id, the request span is its child, tracestate passed on', async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parent = '00f067aa0ba902b7';
  const r = await send(gh.url, '/pub/x', {
    headers: { traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=abc' },
  });
  assert.equal(r.status, 200);
  const [, upTrace, upParent] = lastUpstreamTraceparent();
  assert.equal(upTrace, traceId);
  assert.notEqual(upParent, parent, 'the upstream gets a new parent id (our upstream span)');
  assert.equal(up.received.at(-1)?.headers.tracestate, 'vendor=abc');
  const t = await traceOf(traceId, ['gatehouse.request', 'upstream']);
  assert.equal(t.get('gatehouse.request')!.parentSpanId, parent);
  assert.equal(t.get('upstream')!.spanId, upParent);
});

test('a malformed or all-zero traceparent starts a new trace; the request is served', async () => {
  for (const bad of [
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    'garbage',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
  ]) {
    const r = await send(gh.url, '/pub/m', { headers: { traceparent: bad, tracestate: 'vendor=abc' } });
    assert.equal(r.status, 200, bad);
    const [whole, traceId] = lastUpstreamTraceparent();
    assert.notEqual(whole, bad);
    assert.ok(!bad.toLowerCase().includes(traceId!), `${bad}: a new trace id`);
    assert.equal(up.received.at(-1)?.headers.tracestate, undefined, 'no tracestate without its traceparent');
    const t = await traceOf(traceId!, ['gatehouse.request']);
    assert.equal(t.get('gatehouse.request')!.parentSpanId, undefined);
  }
});

test('an unsampled parent: the flag is passed on and nothing is exported for the request', async () => {
  const traceId = 'aaf92f3577b34da6a3ce929d0e0e4736';
  const r = await send(gh.url, '/pub/u', { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-00` } });
  assert.equal(r.status, 200);
  const [, upTrace, , sampled] = lastUpstreamTraceparent();
  assert.equal(upTrace, traceId);
  assert.equal(sampled, '0');
  // A later sampled request's spans arrive after this one's would have: none of it is there.
  const r2 = await send(gh.url, '/pub/u2');
  assert.equal(r2.status, 200);
  const [, later] = lastUpstreamTraceparent();
  await traceOf(later!, ['gatehouse.request']);
  assert.ok(
    !collector.spans.some((s) => s.traceId === traceId),
    '!collector.spans.some((s) => s.traceId === traceId)',
  );
});

test('a key the gateway has not seen: the JWKS fetch is a child span of authn', async () => {
  const key = await idp.addKey('RS256');
  const token = await idp.token({ sub: 'bob' }, { key });
  const jwksBefore = idp.counts.jwks;
  const r = await send(gh.url, '/api/new-key', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 200);
  assert.ok(idp.counts.jwks > jwksBefore, 'the JWKS was fetched');
  const [, traceId] = lastUpstreamTraceparent();
  const t = await traceOf(traceId!, ['gatehouse.request', 'authn', 'jwks.fetch']);
  const fetch = t.get('jwks.fetch')!;
  assert.equal(fetch.parentSpanId, t.get('authn')!.spanId);
  assert.equal(fetch.attributes['gatehouse.provider'], 'main');
  assert.equal(fetch.status.code ?? 0, 0);
  // The key is now cached: the next request makes no fetch span.
  const r2 = await send(gh.url, '/api/new-key', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r2.status, 200);
  const [, trace2] = lastUpstreamTraceparent();
  const t2 = await traceOf(trace2!, ['gatehouse.request', 'authn', 'authz', 'upstream']);
  assert.equal(t2.get('jwks.fetch'), undefined);
});

test('an opaque token: the introspection call is a child span of authn; a cached answer makes none', async () => {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  idp.setOpaque('opaque-trace-1', { active: true, sub: 'dave', aud: idp.audience, exp });
  const calls = idp.counts.introspect;
  const r = await send(gh.url, '/api/opaque', { headers: { authorization: 'Bearer opaque-trace-1' } });
  assert.equal(r.status, 200);
  assert.equal(idp.counts.introspect, calls + 1);
  const [, traceId] = lastUpstreamTraceparent();
  const t = await traceOf(traceId!, ['gatehouse.request', 'authn', 'introspection', 'upstream']);
  const call = t.get('introspection')!;
  assert.equal(call.parentSpanId, t.get('authn')!.spanId);
  assert.equal(call.kind, 3, 'client span');
  assert.equal(call.attributes['gatehouse.provider'], 'main');
  assert.equal(t.get('authn')!.attributes['gatehouse.authn.method'], 'introspection');
  assert.ok(!JSON.stringify(call).includes('opaque-trace-1'), 'never the token');
  const r2 = await send(gh.url, '/api/opaque', { headers: { authorization: 'Bearer opaque-trace-1' } });
  assert.equal(r2.status, 200);
  assert.equal(idp.counts.introspect, calls + 1, 'answered from the cache');
  const [, trace2] = lastUpstreamTraceparent();
  const t2 = await traceOf(trace2!, ['gatehouse.request', 'authn', 'authz', 'upstream']);
  assert.equal(t2.get('introspection'), undefined);
});

test('refused requests (401, 403): ERROR spans with the code and reason, never forwarded', async () => {
  const forwarded = up.received.length;
  const r401 = await send(gh.url, '/api/x');
  assert.equal(r401.status, 401);
  const token = await idp.token({ sub: 'carol', groups: ['staff'] });
  const r403 = await send(gh.url, '/admin/x', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r403.status, 403);
  assert.equal(up.received.length, forwarded, 'nothing reached the upstream');
  const ids = [r401, r403].map((r) => String(r.headers['x-request-id']));
  const events = ids.map((id) => gh.audit.find((e) => e.request_id === id)!);
  for (const e of events) assert.match(String(e.trace_id), /^[0-9a-f]{32}$/);
  const t401 = await traceOf(String(events[0]!.trace_id), ['gatehouse.request', 'authn', 'authz']);
  const t403 = await traceOf(String(events[1]!.trace_id), ['gatehouse.request', 'authn', 'authz']);
  const req401 = t401.get('gatehouse.request')!;
  assert.equal(req401.status.code, 2, 'ERROR');
  assert.equal(req401.status.message, events[0]!.error);
  assert.equal(req401.attributes['error.type'], events[0]!.error);
  assert.equal(req401.attributes['gatehouse.decision'], 'deny');
  assert.deepEqual(req401.attributes['gatehouse.reasons'], events[0]!.reasons);
  assert.equal(t401.get('authn')!.attributes['gatehouse.authn.result'], 'none');
  const req403 = t403.get('gatehouse.request')!;
  assert.equal(req403.status.code, 2);
  assert.equal(req403.attributes['http.response.status_code'], 403);
  assert.deepEqual(req403.attributes['gatehouse.reasons'], events[1]!.reasons);
  const authz = t403.get('authz')!;
  assert.equal(authz.status.code, 2);
  assert.equal(authz.attributes['gatehouse.authz.result'], 'deny');
  assert.ok(
    events[1]!.reasons.includes(String(authz.attributes['gatehouse.reason'])),
    "events[1]!.reasons.includes(String(authz.attributes['gatehouse.reason']))",
  );
  assert.equal(t401.get('upstream'), undefined);
  assert.equal(t403.get('upstream'), undefined);
});

test('an invalid token: the authn span ends in ERROR with the gateway error code', async () => {
  const r = await send(gh.url, '/api/x', { headers: { authorization: 'Bearer not.a.jwt' } });
  assert.equal(r.status, 401);
  const e = gh.audit.find((a) => a.request_id === r.headers['x-request-id'])!;
  const t = await traceOf(String(e.trace_id), ['gatehouse.request', 'authn']);
  assert.equal(t.get('authn')!.status.code, 2);
  assert.equal(t.get('authn')!.status.message, e.error);
  assert.equal(t.get('authz'), undefined, 'authorisation never ran');
});
