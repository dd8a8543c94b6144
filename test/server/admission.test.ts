import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request, type ServerResponse } from 'node:http';
import { startUpstream } from '../helpers/upstream.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { createPki, type TestPki } from '../helpers/certs.js';

// server.max_connections_per_client and server.max_in_flight_per_client.

let pki: TestPki | undefined;
after(() => pki?.cleanup());

async function until(probe: () => boolean, ms = 3000): Promise<void> {
  for (const end = Date.now() + ms; !probe();) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A raw client connection and what it read. */
interface RawConn {
  readonly socket: Socket;
  text(): string;
  closed(): boolean;
}

/** A raw connection from `from` that collects what it reads. */
async function rawConn(port: number, from: string): Promise<RawConn> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  let text = '';
  let closed = false;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  await new Promise((r) => socket.once('connect', r));
  return { socket, text: () => text, closed: () => closed };
}

/** A GET from `from` (fresh connection), optionally with X-Forwarded-For. */
function get(port: number, from: string, path: string, xff?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          localAddress: from,
          path,
          agent: false,
          headers: { host: 'app.test', ...(xff ? { 'x-forwarded-for': xff } : {}) },
        },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

async function holdingUpstream() {
  const held: ServerResponse[] = [];
  const up = await startUpstream((_req, res) => void held.push(res));
  return {
    up,
    held,
    releaseAll: () => {
      for (const res of held.splice(0)) res.end('done');
    },
  };
}

for (const fastLane of [true, false]) {
  test(`connection cap (fast_lane: ${fastLane}): the connection over the cap gets 429 raw and is closed, audited and counted`, async () => {
    const up = await startUpstream();
    const gh = await startGatehouse({
      server: { fast_lane: fastLane, max_connections_per_client: 3 },
      upstreams: { app: { url: up.url } },
      routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
    });
    try {
      const from = '127.0.0.30';
      const kept: RawConn[] = [];
      for (let i = 0; i < 3; i++) kept.push(await rawConn(gh.port, from));
      const over = await rawConn(gh.port, from);
      await until(over.closed);
      assert.match(over.text(), /^HTTP\/1\.1 429 Too Many Requests\r\n/);
      assert.match(over.text(), /\r\nRetry-After: 1\r\n/);
      assert.match(over.text(), /\r\nConnection: close\r\n/);
      const body = JSON.parse(over.text().slice(over.text().indexOf('\r\n\r\n') + 4)) as Record<
        string,
        string
      >;
      assert.equal(body.error, 'GH_TOO_MANY_CONNECTIONS');
      const ev = gh.audit.find((e) => e.error === 'GH_TOO_MANY_CONNECTIONS');
      assert.equal(ev?.status, 429);
      assert.equal(ev?.client_ip, from);
      assert.equal(ev?.request_id, body.request_id);
      // Other addresses are not affected, and the kept connections still serve requests.
      assert.equal((await get(gh.port, '127.0.0.1', '/other')).status, 200);
      kept[0]?.socket.write('GET /kept HTTP/1.1\r\nHost: app.test\r\n\r\n');
      await until(() => /^HTTP\/1\.1 200 /.test(kept[0]?.text() ?? ''));
      // A closed connection frees its place.
      kept[1]?.socket.destroy();
      await until(() => gh.gateway.admission.usage(from).connections === 2);
      assert.equal((await get(gh.port, from, '/again')).status, 200);
      const metrics = await send(gh.url, '/.gatehouse/metrics');
      assert.match(metrics.body, /gatehouse_errors_total\{code="GH_TOO_MANY_CONNECTIONS"\} 1\b/);
      for (const k of kept) k.socket.destroy();
    } finally {
      await gh.close();
      await up.close();
    }
  });
}

test('connection cap on a TLS listener: the connection over the cap is closed before the handshake', async () => {
  pki = createPki();
  const ca = pki.createCa('admission-ca');
  const leaf = ca.issue({ cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  const up = await startUpstream();
  const gh = await startGatehouse({
    server: {
      listeners: [{ address: '127.0.0.1', port: 0, tls: { cert: leaf.certPath, key: leaf.keyPath } }],
      max_connections_per_client: 1,
    },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  const tls = (from: string) =>
    new Promise<{ ok: boolean; socket: Socket }>((resolve) => {
      const s = tlsConnect({
        socket: connect({ host: '127.0.0.1', port: gh.port, localAddress: from }),
        ca: ca.cert,
        servername: 'localhost',
      });
      s.once('secureConnect', () => resolve({ ok: true, socket: s }));
      s.once('error', () => resolve({ ok: false, socket: s }));
    });
  try {
    const first = await tls('127.0.0.40');
    assert.equal(first.ok, true);
    const second = await tls('127.0.0.40');
    assert.equal(second.ok, false, 'no handshake over the cap');
    const third = await tls('127.0.0.41');
    assert.equal(third.ok, true, 'another address is served');
    third.socket.destroy();
    const ev = gh.audit.find((e) => e.error === 'GH_TOO_MANY_CONNECTIONS');
    assert.equal(ev?.client_ip, '127.0.0.40');
    first.socket.destroy();
  } finally {
    await gh.close();
    await up.close();
  }
});

test('trusted proxies are exempt from the connection cap', async () => {
  const up = await startUpstream();
  const gh = await startGatehouse({
    server: { max_connections_per_client: 2, trusted_proxies: ['127.0.0.50/32'] },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const conns: RawConn[] = [];
    for (let i = 0; i < 5; i++) conns.push(await rawConn(gh.port, '127.0.0.50'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(conns.filter((c) => c.closed()).length, 0);
    const untrusted: RawConn[] = [];
    for (let i = 0; i < 3; i++) untrusted.push(await rawConn(gh.port, '127.0.0.51'));
    await until(() => untrusted.filter((c) => c.closed()).length === 1);
    for (const c of [...conns, ...untrusted]) c.socket.destroy();
  } finally {
    await gh.close();
    await up.close();
  }
});

test('in-flight cap: the request over the cap gets 429 GH_TOO_MANY_IN_FLIGHT with Retry-After; others pass', async () => {
  const { up, held, releaseAll } = await holdingUpstream();
  const gh = await startGatehouse({
    server: { max_in_flight_per_client: 2 },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const a = [get(gh.port, '127.0.0.60', '/a1'), get(gh.port, '127.0.0.60', '/a2')];
    await until(() => held.length === 2);
    const over = await get(gh.port, '127.0.0.60', '/a3');
    assert.equal(over.status, 429);
    assert.equal(over.headers['retry-after'], '1');
    assert.equal((JSON.parse(over.body) as Record<string, string>).error, 'GH_TOO_MANY_IN_FLIGHT');
    const other = get(gh.port, '127.0.0.61', '/b1');
    await until(() => held.length === 3);
    releaseAll();
    for (const r of await Promise.all([...a, other])) assert.equal(r.status, 200);
    const again = get(gh.port, '127.0.0.60', '/a4');
    await until(() => held.length === 1);
    releaseAll();
    assert.equal((await again).status, 200, 'finished requests gave their places back');
    assert.deepEqual(up.received.map((r) => r.url).sort(), ['/a1', '/a2', '/a4', '/b1']);
    const ev = gh.audit.find((e) => e.error === 'GH_TOO_MANY_IN_FLIGHT');
    assert.equal(ev?.status, 429);
    assert.equal(ev?.client_ip, '127.0.0.60');
    await until(() => gh.gateway.admission.size === 0);
  } finally {
    releaseAll();
    await gh.close();
    await up.close();
  }
});

test('in-flight cap behind a trusted proxy counts each forwarded client; a proxy naming none is exempt', async () => {
  const { up, held, releaseAll } = await holdingUpstream();
  const gh = await startGatehouse({
    server: { max_in_flight_per_client: 1, trusted_proxies: ['127.0.0.70/32'] },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const proxy = '127.0.0.70';
    const first = get(gh.port, proxy, '/c1', '203.0.113.7');
    await until(() => held.length === 1);
    const over = await get(gh.port, proxy, '/c2', '203.0.113.7');
    assert.equal(over.status, 429);
    const others = [
      get(gh.port, proxy, '/d1', '203.0.113.8'),
      get(gh.port, proxy, '/p1'),
      get(gh.port, proxy, '/p2'),
    ];
    await until(() => held.length === 4);
    releaseAll();
    for (const r of await Promise.all([first, ...others])) assert.equal(r.status, 200);
    // From an untrusted peer the header is ignored: the peer itself is the client.
    const u1 = get(gh.port, '127.0.0.71', '/u1', '203.0.113.9');
    await until(() => held.length === 1);
    assert.equal((await get(gh.port, '127.0.0.71', '/u2', '203.0.113.10')).status, 429);
    releaseAll();
    assert.equal((await u1).status, 200);
  } finally {
    releaseAll();
    await gh.close();
    await up.close();
  }
});

test("pipelined requests on one connection count against the in-flight cap (Node's parser path)", async () => {
  const { up, held, releaseAll } = await holdingUpstream();
  const gh = await startGatehouse({
    server: { fast_lane: false, max_in_flight_per_client: 2 },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const c = await rawConn(gh.port, '127.0.0.80');
    c.socket.write(
      'GET /p1 HTTP/1.1\r\nHost: app.test\r\n\r\nGET /p2 HTTP/1.1\r\nHost: app.test\r\n\r\nGET /p3 HTTP/1.1\r\nHost: app.test\r\n\r\n',
    );
    await until(() => held.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(held.length, 2, 'the third pipelined request never reached the upstream');
    releaseAll();
    await until(() => (c.text().match(/HTTP\/1\.1 /g) ?? []).length === 3);
    const statuses = [...c.text().matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '200', '429'], 'answers stay in request order');
    c.socket.destroy();
  } finally {
    releaseAll();
    await gh.close();
    await up.close();
  }
});

test('every slot is released: errors, refusals, aborted clients and bodies leave the table empty', async () => {
  const { up, held, releaseAll } = await holdingUpstream();
  const gh = await startGatehouse({
    server: { max_in_flight_per_client: 50, max_connections_per_client: 50 },
    upstreams: { app: { url: up.url, max_connections: 1, max_queue: 1, timeouts: { queue: '200ms' } } },
    routes: [
      { match: { path: '/', methods: ['GET', 'POST'] }, upstream: 'app', auth: 'none', max_body_size: '1kb' },
    ],
  });
  try {
    const from = '127.0.0.90';
    const held1 = get(gh.port, from, '/held');
    await until(() => held.length === 1);
    const queued = get(gh.port, from, '/queued'); // times out in the queue: 503
    const busy = get(gh.port, from, '/busy'); // queue full: 503
    assert.equal((await get(gh.port, from, '/x', undefined)).status, 503);
    const notFound = await send(gh.url, '/.gatehouse/nope');
    assert.equal(notFound.status, 404);
    const bad = await rawConn(gh.port, from);
    bad.socket.write('GET /%2e%2e/x HTTP/1.1\r\nHost: app.test\r\n\r\n');
    const big = await rawConn(gh.port, from);
    big.socket.write('POST /big HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5000\r\n\r\nabc');
    const gone = await rawConn(gh.port, from);
    gone.socket.write('POST /gone HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\nabc');
    await new Promise((r) => setTimeout(r, 50));
    gone.socket.destroy();
    assert.equal((await queued).status, 503);
    assert.equal((await busy).status, 503);
    releaseAll();
    assert.equal((await held1).status, 200);
    await until(() => /^HTTP\/1\.1 400 /.test(bad.text()) && /^HTTP\/1\.1 413 /.test(big.text()));
    bad.socket.destroy();
    big.socket.destroy();
    await until(() => gh.gateway.admission.size === 0);
  } finally {
    releaseAll();
    await gh.close();
    await up.close();
  }
});
