import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { parseExposition } from './parse.js';

// Where a latency tail comes from, at /.gatehouse/metrics: garbage-collection pauses by kind and
// event-loop delay, measured in the real process.

test('GC pauses and event-loop delay are exposed, consistent, and see a blocked loop', async () => {
  const up = await startUpstream();
  const gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const scrape = async () => parseExposition((await send(gh.url, '/.gatehouse/metrics')).body);
    // The delay monitor records from its second sample on: let it take some (about 20) first.
    await sleep(1000);
    // Garbage: enough short-lived objects for several scavenges.
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += JSON.stringify({ i, s: 'x'.repeat(64) }).length;
    assert.ok(keep > 0, 'keep > 0');
    // Block the loop for a while: the delay histogram samples it.
    const until = Date.now() + 120;
    while (Date.now() < until);
    await sleep(150);
    const m = await scrape();
    assert.ok(m.value('nodejs_gc_runs_total', { kind: 'minor' }) > 0, 'scavenges counted');
    assert.ok(m.value('nodejs_gc_pause_seconds_total', { kind: 'minor' }) > 0, 'their pause time summed');
    assert.ok(m.value('nodejs_gc_pause_max_seconds') > 0, "m.value('nodejs_gc_pause_max_seconds') > 0");
    const p50 = m.value('nodejs_eventloop_delay_seconds', { quantile: '0.5' });
    const p99 = m.value('nodejs_eventloop_delay_seconds', { quantile: '0.99' });
    const max = m.value('nodejs_eventloop_delay_seconds', { quantile: '1' });
    assert.ok(p50 <= p99 && p99 <= max, `${p50} ≤ ${p99} ≤ ${max}`);
    assert.ok(max >= 0.05, `the 120 ms block shows as delay beyond schedule (max ${max} s)`);
    assert.ok(p50 < 0.04, `an idle loop is on schedule: the sampling interval is not counted (p50 ${p50} s)`);
  } finally {
    await gh.close();
    await up.close();
  }
});
