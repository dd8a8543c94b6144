import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { hashApiKey } from '../../src/authn/apikey.js';

// Upstream farms through the real gateway: two or three real upstreams on 127.0.0.1, requests
// over real sockets, the farm seen only through responses, audit, readiness and metrics.

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

/** An upstream answering `200 <name>`; `slow` ms before answering; health path per `health()`. */
async function named(
  name: string,
  opts: { slow?: number; health?: () => number } = {},
): Promise<RecordingUpstream> {
  const up = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/health') {
      res.writeHead(opts.health?.() ?? 200, { 'content-length': '2' });
      return res.end('hc');
    }
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(name.length) });
      res.end(name);
    };
    if (opts.slow) setTimeout(answer, opts.slow);
    else answer();
  });
  open.push(up);
  return up;
}

async function gatehouse(config: Record<string, unknown>): Promise<TestGateway> {
  const gh = await startGatehouse(config);
  open.push(gh);
  return gh;
}

function tally(bodies: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bodies) out[b] = (out[b] ?? 0) + 1;
  return out;
}

/** The `/health` path excluded: what the application saw. */
function appRequests(up: RecordingUpstream): number {
  return up.received.filter((r) => r.url !== '/health').length;
}

test('round robin with weights 3:1 spreads 40 requests 30/10, interleaved', async () => {
  const [a, b] = [await named('a'), await named('b')];
  const gh = await gatehouse({
    upstreams: { farm: { targets: [{ url: a.url, weight: 3 }, { url: b.url }] } },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const bodies: string[] = [];
  for (let i = 0; i < 40; i++) bodies.push((await send(gh.url, `/r${i}`)).body);
  assert.deepEqual(tally(bodies), { a: 30, b: 10 });
  assert.deepEqual(bodies.slice(0, 4).sort(), ['a', 'a', 'a', 'b']);
});

test('least_in_flight sends most requests to the fast target while the slow one is busy', async () => {
  const [slow, fast] = [await named('slow', { slow: 300 }), await named('fast')];
  const gh = await gatehouse({
    upstreams: { farm: { targets: [{ url: slow.url }, { url: fast.url }], balance: 'least_in_flight' } },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const bodies: string[] = [];
  const until = Date.now() + 900;
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      while (Date.now() < until) bodies.push((await send(gh.url, '/x')).body);
    }),
  );
  const t = tally(bodies);
  assert.ok((t.fast ?? 0) > 5 * (t.slow ?? 0), `fast ${t.fast} vs slow ${t.slow}`);
  assert.ok((t.slow ?? 0) >= 1, 'the slow target still gets requests');
});

test('sticky keeps each principal on one target and moves it when that target goes down', async () => {
  const ups = [await named('a'), await named('b'), await named('c')];
  const keys = Array.from({ length: 9 }, (_, i) => `ak_farm_user_${i}_0123456789abcdef`);
  const gh = await gatehouse({
    upstreams: {
      farm: {
        targets: ups.map((u) => ({ url: u.url })),
        balance: 'sticky',
        passive_health: { max_failures: 1, cool_down: '1m' },
      },
    },
    api_keys: { keys: keys.map((k, i) => ({ hash: hashApiKey(k), client_id: `user-${i}` })) },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'apikey', allow: 'authenticated' }],
  });
  const as = async (k: string) => {
    const r = await send(gh.url, '/app', { headers: { 'x-api-key': k } });
    assert.equal(r.status, 200);
    return r.body;
  };
  const home = new Map<string, string>();
  for (const k of keys) {
    const first = await as(k);
    for (let i = 0; i < 4; i++) assert.equal(await as(k), first, 'same user, same target');
    home.set(k, first);
  }
  assert.ok(new Set(home.values()).size >= 2, 'users spread over targets');
  const victim = home.get(keys[0] as string) as string;
  await (ups[['a', 'b', 'c'].indexOf(victim)] as RecordingUpstream).close();
  for (const k of keys) {
    const now = await as(k); // never fails: the refused connection is retried elsewhere
    if (home.get(k) === victim) {
      assert.notEqual(now, victim);
      assert.equal(await as(k), now, 'moved users stay on their new target');
    } else assert.equal(now, home.get(k), 'users of healthy targets stay');
  }
});

test('active health check marks a target down (500 on its path) and back up', async () => {
  let bStatus = 200;
  const a = await named('a');
  const b = await named('b', { health: () => bStatus });
  const gh = await gatehouse({
    upstreams: {
      farm: {
        targets: [{ url: a.url }, { url: b.url }],
        health_check: {
          path: '/health',
          interval: '50ms',
          timeout: '500ms',
          unhealthy_threshold: 2,
          healthy_threshold: 2,
        },
      },
    },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const ready = async () => (await send(gh.url, '/.gatehouse/ready')).json<ReadyBody>();
  assert.equal((await ready()).upstreams?.farm?.healthy_targets, 2);
  bStatus = 500;
  await waitFor(async () => (await ready()).upstreams?.farm?.healthy_targets === 1, 3000, 'b marked down');
  const down = (await ready()).upstreams?.farm?.targets.find((t) => t.target === b.url);
  assert.equal(down?.healthy, false);
  assert.equal(down?.check_up, false);
  const before = appRequests(b);
  const bodies: string[] = [];
  for (let i = 0; i < 10; i++) bodies.push((await send(gh.url, '/x')).body);
  assert.deepEqual(tally(bodies), { a: 10 });
  assert.equal(appRequests(b), before, 'no application request reached the unhealthy target');
  const metrics = (await send(gh.url, '/.gatehouse/metrics')).body;
  assert.match(
    metrics,
    new RegExp(`gatehouse_upstream_target_healthy\\{upstream="farm",target="${b.url}"\\} 0`),
  );
  assert.match(
    metrics,
    new RegExp(`gatehouse_upstream_target_healthy\\{upstream="farm",target="${a.url}"\\} 1`),
  );
  assert.ok(
    gh.logs.some((l) => l.msg === 'upstream target failed its health check' && l.target === b.url),
    "gh.logs.some((l) => l.msg === 'upstream target failed its health check' && l.target === b.url)",
  );
  bStatus = 204;
  await waitFor(async () => (await ready()).upstreams?.farm?.healthy_targets === 2, 3000, 'b back up');
  const again: string[] = [];
  for (let i = 0; i < 10; i++) again.push((await send(gh.url, '/x')).body);
  assert.deepEqual(tally(again), { a: 5, b: 5 });
});

interface ReadyBody {
  ready: boolean;
  upstreams?: Record<
    string,
    {
      healthy_targets: number;
      targets: Array<{
        target: string;
        healthy: boolean;
        check_up: boolean;
        in_flight: number;
        ejected_until?: string;
      }>;
    }
  >;
}

test('a closed port is ejected after connect failures; idempotent requests and a buffered POST never fail', async () => {
  const a = await named('a');
  const deadPort = await freePort();
  const dead = `http://127.0.0.1:${deadPort}`;
  const gh = await gatehouse({
    upstreams: {
      farm: {
        targets: [{ url: dead }, { url: a.url }],
        passive_health: { max_failures: 3, cool_down: '1m' },
      },
    },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push((await send(gh.url, `/g${i}`)).status);
  assert.deepEqual(new Set(statuses), new Set([200]), 'zero client-visible failures');
  const post = await send(gh.url, '/form', {
    method: 'POST',
    body: 'x=1&y=2',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(post.status, 200);
  assert.equal(post.body, 'a');
  const got = a.received.find((r) => r.url === '/form');
  assert.equal(got?.body?.toString(), 'x=1&y=2', 'the buffered body was resent whole');
  const retried = gh.audit.filter((e) => e.type === 'request' && e.reasons.includes('upstream.retried'));
  assert.equal(retried.length, 3, 'retried until ejected (max_failures 3), then the dead target is skipped');
  const ready = (await send(gh.url, '/.gatehouse/ready')).json<ReadyBody>();
  const t = ready.upstreams?.farm?.targets.find((x) => x.target === dead);
  assert.equal(t?.healthy, false);
  assert.equal(t?.check_up, true);
  assert.ok(
    t?.ejected_until !== undefined && Date.parse(t.ejected_until) > Date.now(),
    't?.ejected_until !== undefined && Date.parse(t.ejected_until) > Date.now()',
  );
  const metrics = (await send(gh.url, '/.gatehouse/metrics')).body;
  assert.match(
    metrics,
    new RegExp(`gatehouse_upstream_target_failures_total\\{upstream="farm",target="${dead}"\\} 3`),
  );
  assert.match(
    metrics,
    new RegExp(`gatehouse_upstream_target_ejections_total\\{upstream="farm",target="${dead}"\\} 1`),
  );
  assert.match(
    metrics,
    new RegExp(`gatehouse_upstream_target_requests_total\\{upstream="farm",target="${a.url}"\\} 21`),
  );
});

test('a streamed POST (request_buffer_size: 0) is retried when nothing was written', async () => {
  const a = await named('a');
  const dead = `http://127.0.0.1:${await freePort()}`;
  const gh = await gatehouse({
    server: { request_buffer_size: 0 },
    upstreams: { farm: { targets: [{ url: dead }, { url: a.url }] } },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const body = 'z'.repeat(10_000);
  const r = await send(gh.url, '/upload', { method: 'POST', body });
  assert.equal(r.status, 200);
  assert.equal(a.received.find((x) => x.url === '/upload')?.body?.toString(), body);
});

test('every target down → 503 GH_UPSTREAM_NO_HEALTHY_TARGET with Retry-After, audited', async () => {
  const [d1, d2] = [await freePort(), await freePort()];
  const gh = await gatehouse({
    upstreams: {
      farm: {
        targets: [{ url: `http://127.0.0.1:${d1}` }, { url: `http://127.0.0.1:${d2}` }],
        passive_health: { max_failures: 1, cool_down: '20s' },
      },
    },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const first = await send(gh.url, '/x', { headers: { accept: 'application/json' } });
  assert.equal(first.status, 502, 'both tried (one retry), the connect error is reported');
  assert.equal(first.json().error, 'GH_UPSTREAM_UNAVAILABLE');
  const r = await send(gh.url, '/x', { headers: { accept: 'application/json' } });
  assert.equal(r.status, 503);
  assert.equal(r.json().error, 'GH_UPSTREAM_NO_HEALTHY_TARGET');
  const wait = Number(r.headers['retry-after']);
  assert.ok(wait >= 1 && wait <= 20, `Retry-After ${wait}`);
  await sleep(10);
  const ev = gh.audit.filter((e) => e.type === 'request').at(-1);
  assert.equal(ev?.status, 503);
  assert.equal(ev?.error, 'GH_UPSTREAM_NO_HEALTHY_TARGET');
  const ready = await send(gh.url, '/.gatehouse/ready');
  assert.equal(ready.status, 200, 'one dead farm does not make Gatehouse unready');
  assert.equal(ready.json<ReadyBody>().upstreams?.farm?.healthy_targets, 0);
});

test('a single url keeps the readiness body unchanged and config errors name exact keys', async () => {
  const a = await named('a');
  const gh = await gatehouse({
    upstreams: { one: { url: a.url } },
    routes: [{ match: { path: '/' }, upstream: 'one', auth: 'none' }],
  });
  assert.deepEqual((await send(gh.url, '/.gatehouse/ready')).json(), { ready: true });
  await assert.rejects(
    startGatehouse({
      upstreams: {
        both: { url: a.url, targets: [{ url: a.url }] },
        none: {},
      },
      routes: [{ match: { path: '/' }, upstream: 'both', auth: 'none' }],
    }),
    (e: Error) => {
      assert.match(e.message, /upstreams\.both\.targets: give either url or targets, not both/);
      assert.match(e.message, /upstreams\.none\.url: give either url or targets/);
      return true;
    },
  );
  await assert.rejects(
    startGatehouse({
      upstreams: {
        mixed: { targets: [{ url: a.url }, { url: 'https://127.0.0.1:1' }, { url: `${a.url}/other` }] },
      },
      routes: [{ match: { path: '/' }, upstream: 'mixed', auth: 'none' }],
    }),
    (e: Error) => {
      assert.match(e.message, /upstreams\.mixed\.targets\[1\]\.url: every target must use http:\/\//);
      assert.match(
        e.message,
        /upstreams\.mixed\.targets\[2\]\.url: every target must have the path of the first/,
      );
      return true;
    },
  );
  await assert.rejects(
    startGatehouse({
      upstreams: {
        hc: {
          targets: [{ url: a.url, weight: 0 }],
          balance: 'random',
          health_check: { path: '/a b', interval: '0s', expected_status: ['399-200'] },
        },
      },
      routes: [{ match: { path: '/' }, upstream: 'hc', auth: 'none' }],
    }),
    (e: Error) => {
      assert.match(e.message, /upstreams\.hc\.targets\[0\]\.weight:/);
      assert.match(e.message, /upstreams\.hc\.balance:/);
      assert.match(e.message, /upstreams\.hc\.health_check\.path: expected a path starting with "\/"/);
      assert.match(e.message, /upstreams\.hc\.health_check\.interval: expected at least 10ms/);
      assert.match(e.message, /upstreams\.hc\.health_check\.expected_status\[0\]:/);
      return true;
    },
  );
});

test('a full connection queue is Gatehouse refusing, not the target failing: no ejection', async () => {
  const slow = await named('slow', { slow: 200 });
  const gh = await gatehouse({
    upstreams: {
      farm: {
        targets: [{ url: slow.url }],
        max_connections: 1,
        max_queue: 0,
        passive_health: { max_failures: 1 },
      },
    },
    routes: [{ match: { path: '/' }, upstream: 'farm', auth: 'none' }],
  });
  const json = { headers: { accept: 'application/json' } };
  const [one, two] = await Promise.all([send(gh.url, '/a', json), send(gh.url, '/b', json)]);
  assert.deepEqual([one.status, two.status].sort(), [200, 503]);
  assert.equal((one.status === 503 ? one : two).json().error, 'GH_UPSTREAM_BUSY');
  const after = await send(gh.url, '/c', json);
  assert.equal(after.status, 200, 'the target was not ejected');
});
