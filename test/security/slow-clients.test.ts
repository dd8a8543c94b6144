import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { watchWire } from '../helpers/wire.js';

// Item 6 of issue 12, the acceptance load test: slow-header and slow-body clients from other
// loopback addresses (Linux routes all of 127/8 to lo) must not starve a legitimate client.
// Bounded: 500 + 200 attack connections, 160 for the cap, 200 legitimate requests; a watchdog
// ends everything after 50 s.

const SLOW_HEADERS = 500;
const SLOW_BODIES = 200;
const PER_ADDRESS = 100;
const CAP = 150;
const UPSTREAM_MAX = 8;
const LEGIT = 200;

/** What the gateway sent on each attack connection (only refused ones get anything). */
const heard = new WeakMap<Socket, string>();

/** Opens a connection from `localAddress`; resolves once connected. */
function open(port: number, localAddress: string, all: Set<Socket>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    all.add(s);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => heard.set(s, (heard.get(s) ?? '') + d.toString('latin1')));
    s.once('connect', () => resolve(s));
    s.once('close', () => reject(new Error(`closed before connect from ${localAddress}`)));
  });
}

/** Polls `probe` every 20 ms for at most `ms`. */
async function until(probe: () => boolean, ms: number): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (probe()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return probe();
}

/** Opens `count` connections from `address`, 50 at a time (the accept queue stays short). */
async function openMany(port: number, address: string, count: number, all: Set<Socket>): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 50); j++) batch.push(open(port, address, all));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** One legitimate request from 127.0.0.1 on a fresh connection: status and milliseconds. */
function legit(port: number, i: number): Promise<{ status: number; ms: number }> {
  const post = i % 4 === 3;
  const body = post ? Buffer.alloc(2048, 0x62) : undefined;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        localAddress: '127.0.0.1',
        port,
        path: post ? `/legit/${i}` : `/page/${i}`,
        method: post ? 'POST' : 'GET',
        headers: { host: 'app.test', ...(body ? { 'content-length': String(body.length) } : {}) },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('legitimate request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

test('500 slow-header and 200 slow-body clients do not starve a legitimate client', async () => {
  const started = performance.now();
  const up = await startUpstream();
  const wire = watchWire(up.server);
  const gh = await startGatehouse({
    server: {
      timeouts: { headers: '40s', request: '40s', keep_alive: '40s' },
      max_connections_per_client: CAP,
      max_in_flight_per_client: CAP,
    },
    upstreams: {
      app: { url: up.url, max_connections: UPSTREAM_MAX, max_queue: 64, timeouts: { queue: '5s' } },
    },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  const sockets = new Set<Socket>();
  let dribble: NodeJS.Timeout | undefined;
  const watchdog = setTimeout(() => {
    for (const s of sockets) s.destroy();
  }, 50_000);
  try {
    // Slow headers: part of a head, then one byte of a header value at a time.
    const slowHead: Socket[] = [];
    for (let a = 0; a < SLOW_HEADERS / PER_ADDRESS; a++) {
      const conns = await openMany(gh.port, `127.0.0.${2 + a}`, PER_ADDRESS, sockets);
      for (const s of conns) s.write('GET /slow HTTP/1.1\r\nHost: app.test\r\nX-Slow: ');
      slowHead.push(...conns);
    }
    // Slow bodies: a complete head announcing 1 MB, then one byte of body at a time.
    const slowBody: Socket[] = [];
    for (let a = 0; a < SLOW_BODIES / PER_ADDRESS; a++) {
      const conns = await openMany(gh.port, `127.0.0.${7 + a}`, PER_ADDRESS, sockets);
      for (const s of conns)
        s.write('POST /upload/slow HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000000\r\n\r\nx');
      slowBody.push(...conns);
    }
    const attackers = [...slowHead, ...slowBody];
    dribble = setInterval(() => {
      for (const s of attackers) if (!s.destroyed) s.write('x');
    }, 250);
    await new Promise((r) => setTimeout(r, 1500));

    // The per-address connection cap: of 160 connections from one address, 10 are refused at
    // once (whichever were accepted last) and closed; 150 are kept.
    const capped = await openMany(gh.port, '127.0.0.20', CAP + 10, sockets);
    const refused = () => capped.filter((s) => s.destroyed);
    assert.ok(await until(() => refused().length === 10, 5000), `${refused().length} refused`);
    for (const s of refused()) {
      const text = heard.get(s) ?? '';
      assert.match(text, /^HTTP\/1\.1 429 /);
      assert.match(text, /"error":"GH_TOO_MANY_CONNECTIONS"/);
      assert.match(text, /\r\nRetry-After: 1\r\n/);
    }
    assert.equal(gh.gateway.admission.usage('127.0.0.20').connections, CAP);
    const capAudit = gh.audit.filter((e) => e.error === 'GH_TOO_MANY_CONNECTIONS');
    assert.equal(capAudit.length, 10, 'each refused connection is audited');
    assert.equal(capAudit[0]?.client_ip, '127.0.0.20');

    // Legitimate traffic from 127.0.0.1 while all of that is open: 4 at a time.
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < LEGIT) {
          const r = await legit(gh.port, next++);
          assert.equal(r.status, 200);
          latencies.push(r.ms);
        }
      }),
    );
    latencies.sort((x, y) => x - y);
    const p99 = latencies[Math.ceil(0.99 * latencies.length) - 1] as number;
    const p50 = latencies[Math.ceil(0.5 * latencies.length) - 1] as number;

    // Every attacker is still connected, and heard nothing: none was refused or timed out yet.
    const alive = attackers.filter((s) => !s.destroyed && !heard.has(s)).length;
    const slowUploadsUpstream = up.received.filter((r) => r.url.startsWith('/upload/')).length;
    const report = {
      p50_ms: Math.round(p50 * 10) / 10,
      p99_ms: Math.round(p99 * 10) / 10,
      attackers_alive: alive,
      upstream_max_open: wire.maxOpen,
      upstream_accepted: wire.accepted,
      slow_uploads_upstream: slowUploadsUpstream,
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
    console.log(`slow-clients: ${JSON.stringify(report)}`);
    assert.equal(alive, SLOW_HEADERS + SLOW_BODIES, 'the attack stayed open during the measurement');
    assert.ok(p99 < 1000, `legitimate p99 ${p99} ms`);
    assert.ok(wire.maxOpen <= UPSTREAM_MAX, `upstream saw ${wire.maxOpen} connections at once`);
    assert.equal(slowUploadsUpstream, 0, 'no slow upload reached the upstream');
    assert.equal(up.received.length, LEGIT, 'the upstream saw exactly the legitimate requests');
  } finally {
    clearInterval(dribble);
    clearTimeout(watchdog);
    for (const s of sockets) s.destroy();
    await gh.close();
    await up.close();
  }
  // A socket's 'close' comes one loop turn after the server's: give the counts that turn.
  await until(() => gh.gateway.admission.size === 0, 2000);
  assert.equal(gh.gateway.admission.size, 0, 'every connection and request slot was released');
});
