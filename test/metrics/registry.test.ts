import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallbackMetric, Counter, Gauge, Histogram, Registry } from '../../src/metrics/registry.js';
import { parseExposition } from './parse.js';

test('counters, gauges and histograms render as parseable text format 0.0.4', () => {
  const r = new Registry();
  const c = r.register(
    new Counter('t_requests_total', 'Requests.\nSecond line \\ backslash', ['route', 'code']),
  );
  const g = r.register(new Gauge('t_inflight', 'In flight.'));
  const h = r.register(new Histogram('t_seconds', 'Latency.', ['route'], [0.1, 0.5, 1]));
  r.register(
    new CallbackMetric('t_cb', 'Computed.', 'gauge', () => [
      { labels: { kind: 'a' }, value: 2 },
      { value: Infinity },
    ]),
  );
  const child = c.labels('we"ird\\route\nname', '200');
  child.inc();
  child.inc(2);
  c.labels('other-route', '500').inc();
  g.labels().set(7);
  const hc = h.labels('api');
  for (const v of [0.05, 0.1, 0.3, 0.7, 5]) hc.observe(v);
  const text = r.expose();
  assert.match(text, /^# HELP t_requests_total Requests\.\\nSecond line \\\\ backslash$/m);
  assert.match(text, /^t_requests_total\{route="we\\"ird\\\\route\\nname",code="200"\} 3$/m);
  const e = parseExposition(text);
  assert.equal(
    e.value('t_requests_total', { route: 'we"ird\\route\nname' }),
    3,
    'label values round-trip through escaping',
  );
  assert.equal(e.value('t_requests_total', { code: '500' }), 1);
  assert.equal(e.value('t_inflight'), 7);
  assert.equal(e.types.get('t_seconds'), 'histogram');
  assert.equal(e.value('t_seconds_bucket', { le: '0.1' }), 2, 'le is inclusive');
  assert.equal(e.value('t_seconds_bucket', { le: '0.5' }), 3);
  assert.equal(e.value('t_seconds_bucket', { le: '1' }), 4);
  assert.equal(e.value('t_seconds_bucket', { le: '+Inf' }), 5);
  assert.equal(e.value('t_seconds_count'), 5);
  assert.ok(
    Math.abs(e.value('t_seconds_sum') - 6.15) < 1e-9,
    "Math.abs(e.value('t_seconds_sum') - 6.15) < 1e-9",
  );
  assert.equal(e.value('t_cb', { kind: 'a' }), 2);
  assert.match(text, /^t_cb \+Inf$/m);
});

test('the same label values resolve to the same child; past the cap new ones share "other"', () => {
  const c = new Counter('t_total', 'x', ['reason'], 3);
  assert.equal(c.labels('a'), c.labels('a'));
  c.labels('a').inc();
  c.labels('b').inc();
  c.labels('c').inc();
  c.labels('attacker-1').inc();
  c.labels('attacker-2').inc();
  const r = new Registry();
  r.register(c);
  const e = parseExposition(r.expose());
  assert.equal(e.samples.length, 4, 'cardinality is bounded');
  assert.equal(e.value('t_total', { reason: 'other' }), 2);
});

test('invalid names, reserved labels, unsorted buckets and duplicate registration are refused', () => {
  assert.throws(() => new Counter('bad-name', 'x'));
  assert.throws(() => new Histogram('h', 'x', ['le']));
  assert.throws(() => new Histogram('h', 'x', [], [1, 0.5]));
  const r = new Registry();
  r.register(new Gauge('g', 'x'));
  assert.throws(() => r.register(new Gauge('g', 'x')));
});

test('the test parser rejects malformed expositions (so the gateway test can fail)', () => {
  assert.throws(() => parseExposition('x 1\n'), /no TYPE/);
  assert.throws(() => parseExposition('# HELP x h\n# TYPE x counter\nx{a="1} 1\n'));
  assert.throws(() => parseExposition('# HELP x h\n# TYPE x counter\nx 1\nx 2\n'), /duplicate/);
  assert.throws(
    () =>
      parseExposition(
        '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
      ),
    /cumulative/,
  );
});
