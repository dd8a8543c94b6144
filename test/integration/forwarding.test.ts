import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';
import { send, raw } from '../helpers/http.js';

let up: RecordingUpstream;
let slow: Server;
let ws: Server;
let gh: TestGateway;
let deadPort: number;

before(async () => {
  up = await startUpstream(undefined, { keepBody: 0 });
  slow = createServer((req, res) => {
    if (req.url?.startsWith('/slow-headers')) return void setTimeout(() => res.end('late'), 1500);
    if (req.url?.startsWith('/slow-body')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
      return void setTimeout(() => res.end('never'), 3000);
    }
    if (req.url?.startsWith('/drain')) {
      res.writeHead(200);
      res.write('start');
      return void setTimeout(() => res.end('-end'), 700);
    }
    res.end('ok');
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
  ws = createServer((_req, res) => res.end('no'));
  ws.on('upgrade', (req, socket) => {
    const key = String(req.headers['sec-websocket-key']);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Seen-User: ${req.headers['x-forwarded-user'] ?? 'none'}\r\n\r\n`,
    );
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', () => r()));
  deadPort = await freePort();
  const slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  gh = await startGatehouse({
    server: {
      listeners: [{ address: '127.0.0.1', port: 0 }],
      trusted_proxies: ['10.0.0.0/8', '127.0.0.1/32'],
    },
    upstreams: {
      app: { url: up.url },
      slow: { url: slowUrl, timeouts: { headers: '500ms', idle: '500ms' } },
      dead: { url: `http://127.0.0.1:${deadPort}`, timeouts: { connect: '500ms' } },
      ws: { url: `http://127.0.0.1:${(ws.address() as AddressInfo).port}` },
    },
    routes: [
      { match: { path: '/upload' }, upstream: 'app', auth: 'none', max_body_size: 'unlimited' },
      { match: { path: '/slow-headers' }, upstream: 'slow', auth: 'none' },
      { match: { path: '/slow-body' }, upstream: 'slow', auth: 'none' },
      { match: { path: '/drain' }, upstream: 'slow', auth: 'none' },
      { match: { path: '/dead' }, upstream: 'dead', auth: 'none' },
      { match: { path: '/ws' }, upstream: 'ws', auth: 'none', websocket: true },
      { match: { path: '/' }, upstream: 'app', auth: 'none' },
    ],
  });
});

after(async () => {
  await gh.close();
  await up.close();
  slow.closeAllConnections();
  slow.close();
  ws.closeAllConnections();
  ws.close();
});

test('upstream timeouts answer 504 GH_UPSTREAM_TIMEOUT', async () => {
  const r = await send(gh.url, '/slow-headers');
  assert.equal(r.status, 504);
  assert.equal(r.json().error, 'GH_UPSTREAM_TIMEOUT');
});

test('an idle upstream body after headers were sent cuts the response instead of hanging', async () => {
  const started = Date.now();
  await assert.rejects(send(gh.url, '/slow-body'));
  assert.ok(Date.now() - started < 2500, 'Date.now() - started < 2500');
});

test('connection refused answers 502 GH_UPSTREAM_UNAVAILABLE without internal addresses', async () => {
  const r = await send(gh.url, '/dead');
  assert.equal(r.status, 502);
  assert.equal(r.json().error, 'GH_UPSTREAM_UNAVAILABLE');
  assert.doesNotMatch(r.body, new RegExp(String(deadPort)));
});

test('a 1 GB upload streams through in bounded memory', async () => {
  const total = 1024 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024, 97);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const u = new URL(gh.url);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: '/upload',
        method: 'PUT',
        headers: { 'content-length': String(total) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
  clearInterval(sampler);
  assert.equal(status, 200);
  assert.equal(up.received[up.received.length - 1]?.bodyBytes, total);
  assert.ok(
    peak - rssBefore < 200 * 1024 * 1024,
    `RSS grew by ${Math.round((peak - rssBefore) / 1048576)} MB for a 1 GB body`,
  );
});

test('Expect: 100-continue gets 100 Continue and the body is forwarded', async () => {
  const out = await raw(
    gh.port,
    'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    300,
  );
  assert.match(out, /^HTTP\/1\.1 100 Continue/);
  const full = await new Promise<string>((resolve) => {
    const s = connect(gh.port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('100 Continue') && !buf.includes('200')) s.write('hello');
    });
    s.on('close', () => resolve(buf));
    s.write(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n',
    );
  });
  assert.match(full, /HTTP\/1\.1 200/);
  assert.equal(up.received[up.received.length - 1]?.bodyBytes, 5);
});

test('WebSocket upgrades are proxied both ways', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const s = connect(gh.port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n\r\n') && !buf.includes('echo:')) s.write('ping');
      if (buf.includes('echo:ping')) {
        s.destroy();
        resolve(buf);
      }
    });
    s.on('error', reject);
    s.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-User: mallory\r\n\r\n',
    );
  });
  assert.match(reply, /^HTTP\/1\.1 101/);
  assert.match(reply, /X-Seen-User: none/i, 'forged identity headers are stripped on upgrades too');
  assert.match(reply, /echo:ping/);
});

test('trusted proxies: X-Forwarded-For is appended and the client address is the right-most untrusted hop', async () => {
  await send(gh.url, '/xff', {
    headers: {
      'x-forwarded-for': '203.0.113.9, 10.1.2.3',
      'x-forwarded-proto': 'https',
      'x-request-id': 'trace-abc-123',
    },
  });
  const last = up.received[up.received.length - 1]!;
  assert.equal(last.headers['x-forwarded-for'], '203.0.113.9, 10.1.2.3, 127.0.0.1');
  assert.equal(last.headers['x-forwarded-proto'], 'https');
  assert.equal(
    last.headers['x-request-id'],
    'trace-abc-123',
    'a valid request id from a trusted proxy is kept',
  );
  const ev = gh.audit[gh.audit.length - 1]!;
  assert.equal(ev.client_ip, '203.0.113.9');
});

test('W3C traceparent passes through unchanged', async () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  await send(gh.url, '/tp', { headers: { traceparent: tp } });
  assert.equal(up.received[up.received.length - 1]?.headers.traceparent, tp);
});

test('graceful shutdown lets an in-flight request finish, then refuses new connections', async () => {
  const local = await startGatehouse({
    server: { shutdown_timeout: '5s' },
    upstreams: { slow: { url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` } },
    routes: [{ match: { path: '/' }, upstream: 'slow', auth: 'none' }],
  });
  const inflight = send(local.url, '/drain');
  await new Promise((r) => setTimeout(r, 150));
  const closing = local.close();
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.body, 'start-end');
  await closing;
  await assert.rejects(send(local.url, '/drain'));
});

test('while draining, requests already on an open connection are served, then the connection is closed promptly', async () => {
  const local = await startGatehouse({
    server: { shutdown_timeout: '5s' },
    upstreams: { slow: { url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` } },
    routes: [{ match: { path: '/' }, upstream: 'slow', auth: 'none' }],
  });
  const started = Date.now();
  const out = new Promise<string>((resolve) => {
    const s = connect(local.port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => (buf += d.toString()));
    s.on('close', () => resolve(buf));
    s.write('GET /drain HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n');
  });
  await new Promise((r) => setTimeout(r, 150));
  await Promise.all([local.close(), out]);
  const replies = (await out).split(/(?=HTTP\/1\.1 )/);
  assert.equal(replies.length, 2);
  for (const r of replies) assert.match(r, /^HTTP\/1\.1 200/);
  assert.ok(Date.now() - started < 1800, 'the connection was closed once idle, not at the shutdown deadline');
});
