import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { startIdp, type TestIdp } from '../identity/idp.js';

// Upgrades: WebSocket only, only on routes with `websocket: true`; h2c and other protocols are
// never tunnelled; an upstream that declines the upgrade is relayed and the client connection
// ends cleanly.

interface Seen {
  readonly kind: 'request' | 'upgrade';
  readonly req: IncomingMessage;
}

let upstream: Server;
const seen: Seen[] = [];
let gh: TestGateway;
let idp: TestIdp;

const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const accept = (key: string) =>
  createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');

/** What a raw client read, and whether the server closed the connection (vs. our timeout). */
interface RawResult {
  readonly text: string;
  readonly closed: boolean;
}

/** Writes `data`, optionally `then` after the first response bytes; reads until close or `ms`. */
function rawExchange(data: string, opts: { ms?: number; then?: string } = {}): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(gh.port, '127.0.0.1');
    let text = '';
    let sent = false;
    const t = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, opts.ms ?? 3000);
    s.on('data', (d) => {
      text += d.toString('latin1');
      if (opts.then && !sent && text.includes('\r\n\r\n')) {
        sent = true;
        s.write(opts.then);
      }
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve({ text, closed: true });
    });
    s.on('error', (e) => (text ? undefined : reject(e)));
    s.write(data);
  });
}

const wsRequest = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

const lastAudit = (): AuditEvent => gh.audit[gh.audit.length - 1] as AuditEvent;

before(async () => {
  upstream = createServer((req, res) => {
    seen.push({ kind: 'request', req });
    req.resume();
    req.on('end', () => res.end(`plain ${req.method} ${req.url}`));
  });
  upstream.on('upgrade', (req, socket: Socket) => {
    seen.push({ kind: 'upgrade', req });
    const url = req.url ?? '';
    if (url.startsWith('/ws/decline-chunked')) {
      socket.end(
        'HTTP/1.1 426 Upgrade Required\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
      );
      return;
    }
    if (url.startsWith('/ws/decline')) {
      socket.end(
        'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 14\r\nX-App: declined\r\n\r\nnot for you...',
      );
      return;
    }
    if (url.startsWith('/ws/not-websocket')) {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n');
      return;
    }
    const key = String(req.headers['sec-websocket-key']);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n` +
        'Set-Cookie: gatehouse_session=fixated; Path=/\r\nSet-Cookie: app=1\r\n\r\n',
    );
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  idp = await startIdp();
  gh = await startGatehouse({
    upstreams: { app: { url } },
    routes: [
      { name: 'ws', match: { path: '/ws' }, upstream: 'app', auth: 'none', websocket: true },
      {
        name: 'ws-bearer',
        match: { path: '/secure-ws' },
        upstream: 'app',
        auth: 'bearer',
        allow: 'authenticated',
        websocket: true,
      },
      { name: 'plain', match: { path: '/' }, upstream: 'app', auth: 'none' },
    ],
    providers: { corp: idp.provider },
  });
});

after(async () => {
  await gh?.close();
  await idp?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

test('a WebSocket upgrade on a websocket route is tunnelled both ways; Gatehouse cookies in the 101 are dropped', async () => {
  const r = await rawExchange(wsRequest('/ws/chat'), { then: 'ping', ms: 1500 });
  assert.match(r.text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(r.text, new RegExp(`sec-websocket-accept: ${accept(WS_KEY).replace(/[+/=]/g, '\\$&')}`, 'i'));
  assert.match(r.text, /echo:ping/);
  assert.doesNotMatch(r.text, /gatehouse_session/, 'the upstream cannot set the session cookie');
  assert.match(r.text, /set-cookie: app=1/i, "the app's own cookie passes");
  const ev = gh.audit.find((e) => e.path === '/ws/chat' && e.status === 101) as AuditEvent;
  assert.ok(ev.reasons.includes('response.cookie.dropped'), "ev.reasons.includes('response.cookie.dropped')");
  assert.deepEqual(ev.dropped_cookies, ['gatehouse_session']);
});

test('a WebSocket upgrade on a route without websocket: true is refused 400 and never reaches the upstream', async () => {
  const before = seen.length;
  const r = await rawExchange(wsRequest('/chat'));
  assert.match(r.text, /^HTTP\/1\.1 400 /);
  assert.match(r.text, /"error":"GH_UPGRADE_NOT_ALLOWED"/);
  assert.match(r.text, /"request_id":"[^"]+"/);
  assert.ok(r.closed, 'the connection is closed after the refusal, not left hanging');
  assert.equal(seen.length, before);
  assert.equal(lastAudit().error, 'GH_UPGRADE_NOT_ALLOWED');
});

test('Upgrade: h2c on a request without a body is served as plain HTTP/1.1, never upgraded', async () => {
  const before = seen.length;
  const r = await rawExchange(
    'GET /page HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
  );
  assert.match(r.text, /^HTTP\/1\.1 200 /);
  assert.match(r.text, /plain GET \/page/);
  assert.match(r.text, /connection: close/i);
  assert.ok(r.closed, 'r.closed');
  assert.equal(seen.length, before + 1);
  const got = seen[seen.length - 1] as Seen;
  assert.equal(got.kind, 'request', 'the upstream saw an ordinary request');
  assert.equal(got.req.headers.upgrade, undefined);
  assert.equal(got.req.headers['http2-settings'], undefined);
  assert.ok(
    lastAudit().reasons.includes('upgrade.ignored'),
    "lastAudit().reasons.includes('upgrade.ignored')",
  );
});

test('Upgrade to another protocol on a request with a body is refused 400 and never reaches the upstream', async () => {
  const before = seen.length;
  const r = await rawExchange(
    'POST /form HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nContent-Length: 5\r\n\r\nhello',
  );
  assert.match(r.text, /^HTTP\/1\.1 400 /);
  assert.match(r.text, /GH_UPGRADE_NOT_ALLOWED/);
  assert.ok(r.closed, 'r.closed');
  assert.equal(seen.length, before);
});

test('a WebSocket upgrade to a protected route without credentials gets 401 and never reaches the upstream', async () => {
  const before = seen.length;
  const r = await rawExchange(wsRequest('/secure-ws'));
  assert.match(r.text, /^HTTP\/1\.1 401 /);
  assert.ok(r.closed, 'r.closed');
  assert.equal(seen.length, before);
});

test('an upstream that declines the upgrade is relayed as it answered, then the connection closes cleanly', async () => {
  const r = await rawExchange(wsRequest('/ws/decline'));
  assert.match(r.text, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.match(r.text, /x-app: declined/i);
  assert.match(r.text, /\r\n\r\nnot for you\.\.\.$/);
  assert.ok(r.closed, 'no hanging socket');
  const ev = lastAudit();
  assert.equal(ev.status, 403);
  assert.equal(ev.upstream_status, 403);
  assert.ok(ev.reasons.includes('upgrade.declined'), "ev.reasons.includes('upgrade.declined')");

  const c = await rawExchange(wsRequest('/ws/decline-chunked'));
  assert.match(c.text, /^HTTP\/1\.1 426 /);
  assert.match(c.text, /hello/);
  assert.match(c.text, / world/);
  assert.ok(c.closed, 'c.closed');
});

test('a 101 that switches to something other than websocket is a 502, not a tunnel', async () => {
  const r = await rawExchange(wsRequest('/ws/not-websocket'));
  assert.match(r.text, /^HTTP\/1\.1 502 /);
  assert.match(r.text, /GH_UPSTREAM_BAD_RESPONSE/);
  assert.ok(r.closed, 'r.closed');
});

test('CONNECT (a forward-proxy tunnel) is answered 405 GH_METHOD_NOT_ALLOWED, audited, never tunnelled', async () => {
  const before = seen.length;
  const r = await rawExchange('CONNECT internal.corp:443 HTTP/1.1\r\nHost: internal.corp:443\r\n\r\n');
  assert.match(r.text, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
  assert.match(r.text, /"error":"GH_METHOD_NOT_ALLOWED"/);
  assert.ok(r.closed, 'r.closed');
  assert.equal(seen.length, before);
  assert.equal(lastAudit().error, 'GH_METHOD_NOT_ALLOWED');
});
