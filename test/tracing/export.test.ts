import { test, before, after } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { send } from '../helpers/http.js';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { startCollector, type Collector } from './collector.js';

let up: RecordingUpstream;
let collector: Collector;

before(async () => {
  up = await startUpstream();
  collector = await startCollector();
});

after(async () => {
  await collector.close();
  await up.close();
});

const routes = [{ name: 'pub', match: { path: '/' }, upstream: 'app', auth: 'none' }];

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `${name} in the metrics`);
  return Number(m[1]);
}

test('tracing off: the client traceparent and tracestate pass untouched, no trace_id, nothing exported', async () => {
  // Even with the OpenTelemetry environment variables pointing at a collector.
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = collector.url;
  const gh = await startGatehouse({ upstreams: { app: { url: up.url } }, routes });
  try {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    for (const headers of [{ traceparent: tp, tracestate: 'v=1' }, { traceparent: 'garbage' }, {}]) {
      const r = await send(gh.url, '/off', { headers: headers as Record<string, string> });
      assert.equal(r.status, 200);
      const got = up.received.at(-1)!.headers;
      assert.equal(got.traceparent, headers.traceparent);
      assert.equal(got.tracestate, headers.tracestate);
    }
    assert.ok(gh.audit.length >= 3, 'gh.audit.length >= 3');
    for (const e of gh.audit) assert.equal(e.trace_id, undefined);
    const m = await send(gh.url, '/.gatehouse/metrics');
    assert.equal(metric(m.body, 'gatehouse_trace_spans_exported_total'), 0);
  } finally {
    await gh.close();
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  }
  assert.equal(collector.requests.length, 0, 'no export attempt, even at shutdown');
});

test('collector down: requests are served, spans dropped and counted, one warning', async () => {
  const dead = await freePort();
  const gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    routes,
    tracing: {
      otlp: { endpoint: `http://127.0.0.1:${dead}/v1/traces`, timeout: '500ms' },
      batch_interval: '50ms',
    },
  });
  try {
    const before = metric(
      (await send(gh.url, '/.gatehouse/metrics')).body,
      'gatehouse_trace_spans_dropped_total',
    );
    for (let i = 0; i < 20; i++) assert.equal((await send(gh.url, `/down/${i}`)).status, 200);
    const until = Date.now() + 30_000;
    let dropped = before;
    while (dropped < before + 40 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      dropped = metric(
        (await send(gh.url, '/.gatehouse/metrics')).body,
        'gatehouse_trace_spans_dropped_total',
      );
    }
    // 20 requests × (request + upstream span); the metrics scrapes themselves add request spans.
    assert.ok(dropped >= before + 40, `dropped ${dropped - before}`);
    const warnings = gh.logs.filter((l) => String(l.msg).startsWith('trace export failed'));
    assert.equal(warnings.length, 1, 'warned once (rate-limited), not per batch');
  } finally {
    await gh.close();
  }
});

test('shutdown flushes the queue: spans still waiting for the batch timer reach the collector', async () => {
  const gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    routes,
    tracing: { otlp: { endpoint: collector.url }, batch_interval: '1h', service_name: 'flush-test' },
  });
  const r = await send(gh.url, '/flush');
  assert.equal(r.status, 200);
  const traceId = String(up.received.at(-1)!.headers.traceparent).split('-')[1];
  await gh.close();
  const names = collector.spans.filter((s) => s.traceId === traceId).map((s) => s.name);
  assert.deepEqual(names.sort(), ['gatehouse.request', 'upstream']);
});

test('a full queue drops new spans and counts them; requests are unaffected', async () => {
  // A collector that accepts the connection and never answers: one batch stays on its way.
  const hang = createServer(() => undefined);
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
  const port = (hang.address() as AddressInfo).port;
  const gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    routes,
    tracing: {
      otlp: { endpoint: `http://127.0.0.1:${port}/v1/traces`, timeout: '60s' },
      batch_interval: '1h',
      max_queue: 4,
      batch_size: 4,
    },
  });
  try {
    const before = metric(
      (await send(gh.url, '/.gatehouse/metrics')).body,
      'gatehouse_trace_spans_dropped_total',
    );
    for (let i = 0; i < 30; i++) assert.equal((await send(gh.url, `/q/${i}`)).status, 200);
    const m = await send(gh.url, '/.gatehouse/metrics');
    const dropped = metric(m.body, 'gatehouse_trace_spans_dropped_total') - before;
    // 61 spans made; at most one batch of 4 on its way and 4 queued.
    assert.ok(dropped >= 61 - 8, `dropped ${dropped}`);
  } finally {
    await gh.close();
    hang.closeAllConnections();
    hang.close();
  }
});

test('both encodings: http/protobuf (default) and http/json carry the same spans', async () => {
  for (const protocol of [undefined, 'http/json'] as const) {
    const gh = await startGatehouse({
      upstreams: { app: { url: up.url } },
      routes,
      tracing: {
        otlp: { endpoint: collector.url, ...(protocol ? { protocol } : {}) },
        batch_interval: '50ms',
      },
    });
    try {
      const seen = collector.requests.length;
      assert.equal((await send(gh.url, '/enc')).status, 200);
      const traceId = String(up.received.at(-1)!.headers.traceparent).split('-')[1];
      const spans = await collector.waitFor((all) => all.filter((s) => s.traceId === traceId).length === 2);
      const mine = spans.filter((s) => s.traceId === traceId);
      assert.deepEqual(mine.map((s) => s.name).sort(), ['gatehouse.request', 'upstream']);
      const req = mine.find((s) => s.name === 'gatehouse.request')!;
      assert.equal(req.attributes['http.response.status_code'], 200);
      assert.deepEqual(req.attributes['gatehouse.reasons'], ['route.public']);
      assert.equal(mine.find((s) => s.name === 'upstream')!.parentSpanId, req.spanId);
      const type = collector.requests.slice(seen).map((r) => r.headers['content-type']);
      assert.ok(
        type.includes(protocol === 'http/json' ? 'application/json' : 'application/x-protobuf'),
        `${protocol ?? 'default'}: ${type.join(', ')}`,
      );
    } finally {
      await gh.close();
    }
  }
});

test('incoming: ignore and trusted_proxies start a new trace for an untrusted client', async () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
  for (const [incoming, trusted, continued] of [
    ['ignore', ['127.0.0.1/32'], false],
    ['trusted_proxies', [], false],
    ['trusted_proxies', ['127.0.0.1/32'], true],
  ] as const) {
    const gh = await startGatehouse({
      server: { trusted_proxies: trusted },
      upstreams: { app: { url: up.url } },
      routes,
      tracing: { otlp: { endpoint: collector.url }, incoming, batch_interval: '50ms' },
    });
    try {
      assert.equal(
        (await send(gh.url, '/in', { headers: { traceparent: tp, tracestate: 'v=1' } })).status,
        200,
      );
      const got = up.received.at(-1)!.headers;
      const [, traceId, , flags] = String(got.traceparent).split('-');
      const what = `${incoming} (trusted: ${trusted.join() || 'none'})`;
      assert.equal(traceId === '4bf92f3577b34da6a3ce929d0e0e4736', continued, what);
      // Continued: the caller's unsampled decision holds; new trace: sample_ratio 1 records it.
      assert.equal(flags, continued ? '00' : '01', what);
      assert.equal(got.tracestate, continued ? 'v=1' : undefined, what);
    } finally {
      await gh.close();
    }
  }
});

test('config errors name the key path', () => {
  const base = { upstreams: { app: { url: 'http://127.0.0.1:1' } }, routes };
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ otlp: { endpoint: 'collector:4318' } }, 'tracing.otlp.endpoint', /absolute http/],
    [{}, 'tracing.otlp', /./],
    [{ otlp: { endpoint: 'http://c:4318/v1/traces' }, sample_ratio: 2 }, 'tracing.sample_ratio', /1/],
    [
      { otlp: { endpoint: 'http://c:4318/v1/traces', protocol: 'grpc' } },
      'tracing.otlp.protocol',
      /http\/json/,
    ],
    [{ otlp: { endpoint: 'http://c:4318/v1/traces' }, incoming: 'maybe' }, 'tracing.incoming', /continue/],
    [
      { otlp: { endpoint: 'http://c:4318/v1/traces' }, max_queue: 10, batch_size: 20 },
      'tracing.batch_size',
      /max_queue/,
    ],
    [
      { otlp: { endpoint: 'http://c:4318/v1/traces', headers: { 'bad header': 'x' } } },
      'tracing.otlp.headers',
      /key/i,
    ],
    [{ otlp: { endpoint: 'http://c:4318/v1/traces' }, sampling: 1 }, 'tracing', /sampling/],
  ];
  for (const [tracing, path, message] of cases) {
    try {
      validateConfig({ ...base, tracing });
      assert.fail(`accepted ${JSON.stringify(tracing)}`);
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
      const p = e.problems.find((x) => x.path.startsWith(path));
      assert.ok(p, `${JSON.stringify(tracing)}: expected a problem at ${path}, got ${e.message}`);
      assert.match(p.message, message);
    }
  }
});
