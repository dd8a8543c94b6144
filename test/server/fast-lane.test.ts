import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer as createHttpServer, Server as HttpServer, type Server } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { raw } from '../helpers/http.js';
import { FastResponse, type ResponseOwner } from '../../src/server/fast/response.js';

// ---------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client: exact bytes out, responses parsed strictly in (Content-Length, chunked,
// or no body), so stray or missing body bytes show up as a broken next response.
// ---------------------------------------------------------------------------------------------

interface Parsed {
  readonly status: number;
  /** The head as received, without the blank line. */
  readonly head: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Decoded body. */
  readonly body: string;
  /** Body bytes exactly as on the wire (chunk framing included). */
  readonly wire: string;
  get(name: string): string | undefined;
  count(name: string): number;
  json(): Record<string, unknown>;
}

function tryParse(buf: Buffer, noBody: boolean, ended: boolean): { res: Parsed; used: number } | undefined {
  const idx = buf.indexOf('\r\n\r\n');
  if (idx < 0) return undefined;
  const head = buf.toString('latin1', 0, idx);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine);
  if (!m) throw new Error(`not a response: ${JSON.stringify(buf.toString('latin1').slice(0, 200))}`);
  const status = Number(m[1]);
  const headers = lines.map((l) => {
    const c = l.indexOf(':');
    return [l.slice(0, c), l.slice(c + 1).trim()] as const;
  });
  const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
  let pos = idx + 4;
  let body: Buffer = Buffer.alloc(0);
  if (noBody || status < 200 || status === 204 || status === 304) {
    // no body
  } else if (/chunked/i.test(get('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return undefined;
      const size = parseInt(buf.toString('latin1', pos, eol), 16);
      if (Number.isNaN(size)) throw new Error(`bad chunk size at ${buf.toString('latin1', pos, eol)}`);
      if (buf.length < eol + 2 + size + 2) return undefined;
      if (buf.toString('latin1', eol + 2 + size, eol + 4 + size) !== '\r\n') throw new Error('bad chunk end');
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      pos = eol + 4 + size;
      if (size === 0) break;
    }
    body = Buffer.concat(parts);
  } else if (get('content-length') !== undefined) {
    const n = Number(get('content-length'));
    if (buf.length < pos + n) return undefined;
    body = buf.subarray(pos, pos + n);
    pos += n;
  } else {
    if (!ended) return undefined;
    body = buf.subarray(pos);
    pos = buf.length;
  }
  const res: Parsed = {
    status,
    head,
    headers,
    body: body.toString('utf8'),
    wire: buf.toString('latin1', idx + 4, pos),
    get,
    count: (n) => headers.filter(([k]) => k.toLowerCase() === n).length,
    json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown>,
  };
  return { res, used: pos };
}

/** Every client connection a test opened, destroyed at the end even when an assertion failed. */
const opened = new Set<RawConn>();

class RawConn extends EventEmitter {
  private buf: Buffer = Buffer.alloc(0);
  ended = false;
  closed = false;
  readonly opened = Date.now();
  endedAt = 0;

  private constructor(readonly socket: Socket) {
    super();
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.emit('change');
    });
    socket.on('end', () => {
      this.ended = true;
      this.endedAt = Date.now();
      this.emit('change');
    });
    socket.on('close', () => {
      this.closed = true;
      if (!this.ended) this.endedAt = Date.now();
      this.ended = true;
      this.emit('change');
    });
    socket.on('error', () => {});
  }

  static open(port: number, allowHalfOpen = false): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1', allowHalfOpen });
      s.once('connect', () => {
        const c = new RawConn(s);
        opened.add(c);
        resolve(c);
      });
      s.once('error', reject);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Bytes received and not consumed by {@link response}. */
  rest(): string {
    return this.buf.toString('latin1');
  }

  private until<T>(probe: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v: T | undefined;
        try {
          v = probe();
        } catch (e) {
          done();
          return reject(e as Error);
        }
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.ended && what !== 'end') {
          done();
          reject(new Error(`connection ended while waiting for ${what}; got ${JSON.stringify(this.rest())}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(this.rest())}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.off('change', check);
      };
      this.on('change', check);
      check();
    });
  }

  /** The next complete response (no body expected when `noBody`, e.g. for HEAD). */
  response(noBody = false, ms = 3000): Promise<Parsed> {
    return this.until(
      () => {
        const r = tryParse(this.buf, noBody, this.ended);
        if (!r) return undefined;
        this.buf = this.buf.subarray(r.used);
        return r.res;
      },
      ms,
      'a response',
    );
  }

  /** Resolves with ms from open to the server ending the connection. */
  async serverEnds(ms = 3000): Promise<number> {
    await this.until(() => (this.ended ? true : undefined), ms, 'end');
    return this.endedAt - this.opened;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------

let up: RecordingUpstream;
let ws: Server;
let gh: TestGateway;
let ghTimeouts: TestGateway;
let ghNode: TestGateway;

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: app.test\r\n${extra}\r\n`;

before(async () => {
  up = await startUpstream((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/slow':
        return void setTimeout(() => res.end(`slow ${url.search}`), Number(url.searchParams.get('ms')));
      case '/chunked':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first,');
        return void setTimeout(() => {
          res.write('second,');
          setTimeout(() => res.end('third'), 20);
        }, 20);
      case '/sized':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '11' });
        return void res.end(req.method === 'HEAD' ? undefined : 'hello world');
      case '/204':
        res.writeHead(204, { 'x-kind': 'no-content' });
        return void res.end();
      case '/304':
        res.writeHead(304, { etag: '"e1"' });
        return void res.end();
      case '/cached':
        res.writeHead(200, { etag: '"c1"', 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
        return void res.end('cached body');
    }
    const out = JSON.stringify({ method: req.method, url: req.url, body: body?.toString('latin1') ?? '' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
    res.end(out);
  });
  ws = createHttpServer((_req, res) => res.end('no'));
  ws.on('upgrade', (req, socket) => {
    const key = String(req.headers['sec-websocket-key']);
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => ws.listen(0, '127.0.0.1', () => r()));
  const config = (server: Record<string, unknown>) => ({
    server: { max_header_size: '4kb', ...server },
    cache: { max_size: '1mb' },
    upstreams: {
      app: { url: up.url },
      ws: { url: `http://127.0.0.1:${(ws.address() as AddressInfo).port}` },
    },
    routes: [
      { match: { path: '/ws' }, upstream: 'ws', auth: 'none', websocket: true },
      { match: { path: '/cached' }, upstream: 'app', auth: 'none', cache: { ttl: '60s' } },
      { match: { path: '/' }, upstream: 'app', auth: 'none' },
    ],
  });
  gh = await startGatehouse(config({}));
  ghTimeouts = await startGatehouse(
    config({ timeouts: { headers: '300ms', keep_alive: '300ms', idle: '500ms' } }),
  );
  ghNode = await startGatehouse(config({ fast_lane: false }));
});

after(async () => {
  for (const c of opened) c.destroy();
  await Promise.all([gh.close(), ghTimeouts.close(), ghNode.close()]);
  await up.close();
  ws.closeAllConnections();
  ws.close();
});

// --- pipelining and handover -------------------------------------------------------------------

test('three pipelined GETs in one write get three responses, in order, on one connection', async () => {
  const n = up.received.length;
  const c = await RawConn.open(gh.port);
  c.write(GET('/slow?ms=80&n=1') + GET('/slow?ms=0&n=2') + GET('/third'));
  const a = await c.response();
  const b = await c.response();
  const d = await c.response();
  assert.deepEqual([a.status, b.status, d.status], [200, 200, 200], `${a.head}\n${b.head}\n${d.head}`);
  assert.equal(a.body, 'slow ?ms=80&n=1');
  assert.equal(b.body, 'slow ?ms=0&n=2');
  assert.equal(JSON.parse(d.body).url, '/third');
  for (const r of [a, b, d]) assert.equal(r.get('connection'), 'keep-alive');
  assert.deepEqual(
    up.received.slice(n).map((r) => r.url),
    ['/slow?ms=80&n=1', '/slow?ms=0&n=2', '/third'],
  );
  await sleep(30);
  assert.equal(c.closed, false, 'the connection stays open for more requests');
  assert.equal(c.rest(), '', 'nothing but the three responses');
  c.write(GET('/fourth'));
  assert.equal(JSON.parse((await c.response()).body).url, '/fourth');
  c.destroy();
});

test('a GET then a POST with a body in one write: both answered in order, the body reaches the upstream intact', async () => {
  const n = up.received.length;
  // The body looks like a request head: it must be forwarded as bytes, never parsed.
  const body = 'field=1&x=GET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n';
  const c = await RawConn.open(gh.port);
  c.write(
    GET('/before') +
      `POST /submit HTTP/1.1\r\nHost: app.test\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  const first = await c.response();
  const second = await c.response();
  assert.equal(first.status, 200);
  assert.deepEqual(first.json(), { method: 'GET', url: '/before', body: '' });
  assert.equal(second.status, 200, second.head);
  assert.deepEqual(second.json(), { method: 'POST', url: '/submit', body });
  // The connection now belongs to Node's parser and keeps serving.
  c.write(GET('/after'));
  assert.equal((await c.response()).json().url, '/after');
  assert.deepEqual(
    up.received.slice(n).map((r) => [r.method, r.url, r.body?.toString('latin1') ?? '']),
    [
      ['GET', '/before', ''],
      ['POST', '/submit', body],
      ['GET', '/after', ''],
    ],
  );
  c.destroy();
});

const SMUGGLE =
  'POST / HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';

test('Content-Length with Transfer-Encoding gets 400 GH_REQUEST_SMUGGLING, first on a connection or after a served GET', async () => {
  const n = up.received.length;
  const fresh = await RawConn.open(gh.port);
  fresh.write(SMUGGLE);
  const r1 = await fresh.response();
  assert.equal(r1.status, 400);
  assert.equal(r1.json().error, 'GH_REQUEST_SMUGGLING');
  await fresh.serverEnds();

  const reused = await RawConn.open(gh.port);
  reused.write(GET('/served'));
  assert.equal((await reused.response()).status, 200);
  reused.write(SMUGGLE);
  const r2 = await reused.response();
  assert.equal(r2.status, 400);
  assert.equal(r2.json().error, 'GH_REQUEST_SMUGGLING');
  await reused.serverEnds();

  await sleep(50);
  assert.deepEqual(
    up.received.slice(n).map((r) => [r.method, r.url]),
    [['GET', '/served']],
    'the smuggling attempts never reach the upstream',
  );
});

test('a head over max_header_size gets 431 GH_HEADERS_TOO_LARGE, first on a connection or after a served GET', async () => {
  const n = up.received.length;
  const big = GET('/big', `X-Big: ${'a'.repeat(5000)}\r\n`);
  const fresh = await RawConn.open(gh.port);
  fresh.write(big);
  const r1 = await fresh.response();
  assert.equal(r1.status, 431);
  assert.equal(r1.json().error, 'GH_HEADERS_TOO_LARGE');
  assert.match(r1.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

  const reused = await RawConn.open(gh.port);
  reused.write(GET('/served'));
  assert.equal((await reused.response()).status, 200);
  // Sent in pieces: the lane sees the head grow past the limit without its blank line.
  reused.write(big.slice(0, 3000));
  await sleep(20);
  reused.write(big.slice(3000));
  const r2 = await reused.response();
  assert.equal(r2.status, 431);
  assert.equal(r2.json().error, 'GH_HEADERS_TOO_LARGE');
  await Promise.all([fresh.serverEnds(), reused.serverEnds()]);
  assert.deepEqual(
    up.received.slice(n).map((r) => r.url),
    ['/served'],
  );
});

test('a WebSocket upgrade after a served GET on the same connection still upgrades', async () => {
  const c = await RawConn.open(gh.port);
  c.write(GET('/plain'));
  assert.equal((await c.response()).status, 200);
  c.write(
    'GET /ws HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const up101 = await c.response(true);
  assert.equal(up101.status, 101);
  assert.equal(up101.get('sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  c.write('ping');
  await sleep(50);
  for (let i = 0; i < 20 && !c.rest().includes('echo:ping'); i++) await sleep(25);
  assert.equal(c.rest(), 'echo:ping');
  c.destroy();
});

// --- response framing --------------------------------------------------------------------------

test("HEAD gets the upstream's Content-Length and no body bytes; the connection serves a GET next", async () => {
  const c = await RawConn.open(gh.port);
  c.write(`HEAD /sized HTTP/1.1\r\nHost: app.test\r\n\r\n`);
  const head = await c.response(true);
  assert.equal(head.status, 200);
  assert.equal(head.get('content-length'), '11');
  assert.equal(head.count('transfer-encoding'), 0);
  await sleep(50);
  assert.equal(c.rest(), '', 'no body bytes after the HEAD response');
  c.write(GET('/sized'));
  const get = await c.response();
  assert.equal(get.status, 200);
  assert.equal(get.body, 'hello world');
  // Pipelined HEAD + GET: a stray body byte after the HEAD would break the second response.
  c.write(`HEAD /sized HTTP/1.1\r\nHost: app.test\r\n\r\n${GET('/sized')}`);
  assert.equal((await c.response(true)).get('content-length'), '11');
  assert.equal((await c.response()).body, 'hello world');
  c.destroy();
});

test('an upstream response without Content-Length reaches the client chunk-encoded with the exact body', async () => {
  const c = await RawConn.open(gh.port);
  c.write(GET('/chunked'));
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.get('transfer-encoding'), 'chunked');
  assert.equal(r.count('content-length'), 0);
  assert.equal(r.body, 'first,second,third');
  assert.match(r.wire, /\r\n0\r\n\r\n$/, 'terminated by the last chunk');
  c.write(GET('/next'));
  assert.equal((await c.response()).json().url, '/next', 'the connection is reusable after it');
  c.destroy();
});

test('204 and 304 responses carry no body and no framing; the connection stays in sync', async () => {
  const c = await RawConn.open(gh.port);
  c.write(GET('/204') + GET('/304') + GET('/after'));
  const r204 = await c.response();
  const r304 = await c.response();
  const after = await c.response();
  assert.equal(r204.status, 204);
  assert.equal(r204.get('x-kind'), 'no-content');
  assert.equal(r204.count('content-length'), 0, 'RFC 9110 §8.6: no Content-Length on 204');
  assert.equal(r204.count('transfer-encoding'), 0);
  assert.equal(r304.status, 304);
  assert.equal(r304.get('etag'), '"e1"');
  assert.equal(r304.count('transfer-encoding'), 0);
  assert.equal(after.json().url, '/after');
  c.destroy();
});

test('a 304 answered from the cache does not claim Content-Length: 0 (lane and Node alike)', async () => {
  for (const [name, g] of [
    ['fast lane', gh],
    ['node', ghNode],
  ] as const) {
    const c = await RawConn.open(g.port);
    c.write(GET('/cached'));
    const full = await c.response();
    assert.equal(full.body, 'cached body');
    c.write(GET('/cached', 'If-None-Match: "c1"\r\n'));
    const nm = await c.response();
    assert.equal(nm.status, 304, name);
    assert.equal(nm.get('x-cache'), 'HIT', name);
    // RFC 9110 §8.6: a 304 may only repeat the length of the 200 body (11), never a made-up 0.
    const cl = nm.get('content-length');
    assert.ok(cl === undefined || cl === '11', `${name}: 304 with Content-Length: ${cl}\n${nm.head}`);
    c.write(GET('/after'));
    assert.equal((await c.response()).json().url, '/after', name);
    c.destroy();
  }
});

test('keep-alive responses advertise the keep-alive timeout', async () => {
  const c = await RawConn.open(gh.port);
  c.write(GET('/ka'));
  const r = await c.response();
  assert.equal(r.get('connection'), 'keep-alive');
  assert.equal(r.get('keep-alive'), 'timeout=5');
  assert.ok(r.get('date'), 'Date is set');
  c.destroy();
});

test('Connection: close from the client: the response says close and the server closes after it', async () => {
  const n = up.received.length;
  const c = await RawConn.open(gh.port);
  c.write(GET('/last', 'Connection: close\r\n') + GET('/dropped'));
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(r.json().url, '/last');
  assert.equal(r.get('connection'), 'close');
  assert.equal(r.count('connection'), 1);
  assert.equal(r.count('keep-alive'), 0);
  await c.serverEnds(1000);
  assert.equal(c.rest(), '', 'nothing is answered after the closing response');
  assert.deepEqual(
    up.received.slice(n).map((x) => x.url),
    ['/last'],
  );
});

test('after a Connection: close response the server fully closes, even if the client keeps its side open', async (t) => {
  const local = await startGatehouse({
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  let closed = false;
  t.after(() => (closed ? undefined : local.close()));
  const c = await RawConn.open(local.port, true);
  c.write(GET('/bye', 'Connection: close\r\n'));
  assert.equal((await c.response()).get('connection'), 'close');
  await c.serverEnds(1000);
  // The client never sends its FIN. The server must not keep the socket (Node destroys it):
  // otherwise every such client holds a connection and graceful shutdown waits for its deadline.
  await sleep(50);
  const started = Date.now();
  closed = true;
  await local.close(); // deadline 2 s
  const took = Date.now() - started;
  c.destroy();
  assert.ok(took < 1000, `shutdown waited ${took} ms for a connection the server had already answered`);
});

test('error responses through the lane carry a single Connection: close header', async () => {
  const c = await RawConn.open(gh.port);
  c.write(GET('//evil.example/x'));
  const r = await c.response();
  assert.equal(r.status, 400);
  assert.equal(r.json().error, 'GH_BAD_REQUEST_TARGET');
  await c.serverEnds(1000);
  assert.equal(r.count('connection'), 1, r.head);
});

// --- hostile input: same answers with and without the lane ------------------------------------

test('fast_lane: false serves requests through Node and hostile input gets the same answers as the lane', async () => {
  const nodeListener = ghNode.gateway.listeners[0]!;
  assert.ok(nodeListener.server instanceof HttpServer, 'fast_lane: false listens with Node directly');
  assert.ok(!(gh.gateway.listeners[0]!.server instanceof HttpServer), 'the default uses the fast lane');

  const c = await RawConn.open(ghNode.port);
  c.write(GET('/one') + GET('/two'));
  assert.equal((await c.response()).json().url, '/one');
  assert.equal((await c.response()).json().url, '/two');
  c.destroy();

  const cases: Array<[string, string, number, string]> = [
    ['double slash', GET('//evil.example/x'), 400, 'GH_BAD_REQUEST_TARGET'],
    ['encoded traversal', GET('/a/..%2f..%2fadmin'), 400, 'GH_PATH_AMBIGUOUS'],
    ['absolute-form other host', 'GET http://evil.example/x HTTP/1.1\r\nHost: app.test\r\n\r\n', 400, ''],
    ['asterisk', 'GET * HTTP/1.1\r\nHost: app.test\r\n\r\n', 400, ''],
    ['no Host', 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n', 400, ''],
    ['obs-fold', 'GET / HTTP/1.1\r\nHost: app.test\r\nX-A: 1\r\n folded\r\n\r\n', 400, ''],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : app.test\r\n\r\n', 400, ''],
    ['control byte in target', 'GET /a\x01b HTTP/1.1\r\nHost: app.test\r\n\r\n', 400, ''],
    ['CL and TE', SMUGGLE, 400, 'GH_REQUEST_SMUGGLING'],
    ['oversized head', GET('/', `X-Big: ${'a'.repeat(5000)}\r\n`), 431, 'GH_HEADERS_TOO_LARGE'],
  ];
  const n = up.received.length;
  for (const [what, req, status, code] of cases) {
    const answers: Array<[number, string]> = [];
    for (const g of [gh, ghNode]) {
      const out = await raw(g.port, req, 2000);
      const m = /^HTTP\/1\.1 (\d{3})[\s\S]*?\r\n\r\n([\s\S]*)$/.exec(out);
      assert.ok(m, `${what}: no response from ${g === gh ? 'lane' : 'node'}: ${JSON.stringify(out)}`);
      answers.push([Number(m[1]), String((JSON.parse(m[2] as string) as { error: string }).error)]);
    }
    assert.deepEqual(answers[0], answers[1], `${what}: lane vs node`);
    assert.equal(answers[0]![0], status, what);
    if (code) assert.equal(answers[0]![1], code, what);
  }
  assert.equal(up.received.length, n, 'none of them reached the upstream');
});

test('two Host header lines are refused with 400 (RFC 9112 §3.2), with and without the lane', async () => {
  const n = up.received.length;
  for (const [name, g] of [
    ['fast lane', gh],
    ['node', ghNode],
  ] as const) {
    const out = await raw(g.port, 'GET /h HTTP/1.1\r\nHost: public.test\r\nHost: admin.test\r\n\r\n', 1000);
    assert.match(out, /^HTTP\/1\.1 400 /, `${name}: ${out.split('\r\n')[0]}`);
  }
  assert.equal(up.received.length, n, 'never forwarded (the upstream would see only the first Host)');
});

test('a head with bare-LF line endings is refused at once, as Node does, not after the headers timeout', async () => {
  for (const [name, g] of [
    ['node', ghNode],
    ['fast lane', gh],
  ] as const) {
    const started = Date.now();
    const out = await raw(g.port, 'GET / HTTP/1.1\nHost: app.test\n\n', 1500);
    const took = Date.now() - started;
    assert.match(out, /^HTTP\/1\.1 400 /, `${name}: after ${took} ms got ${JSON.stringify(out)}`);
    assert.ok(took < 1000, `${name}: answered after ${took} ms`);
  }
});

test('a client that half-closes after a partial pipelined head is not held until the headers timeout', async () => {
  const c = await RawConn.open(gh.port, true);
  c.write(GET('/complete') + 'GET /partial HTTP/1.1\r\nHo');
  c.socket.end();
  const r = await c.response();
  assert.equal(r.json().url, '/complete');
  // With nothing more to come the partial head can never complete: Node (and the lane, for the
  // same bytes as the first request on a connection) answers at once; the default headers timeout
  // is 10 s, and until then the connection also holds up graceful shutdown.
  await c.serverEnds(1500);
});

// --- timeouts ----------------------------------------------------------------------------------

test('headers timeout: half a head then silence gets 408 GH_REQUEST_TIMEOUT with a request id, and the socket closes', async () => {
  const n = up.received.length;
  const c = await RawConn.open(ghTimeouts.port);
  c.write('GET /stalled HTTP/1.1\r\nHost: app.test\r\nX-Half');
  const r = await c.response(false, 3000);
  const took = Date.now() - c.opened;
  assert.equal(r.status, 408);
  const body = r.json();
  assert.equal(body.error, 'GH_REQUEST_TIMEOUT');
  assert.equal(typeof body.message, 'string');
  assert.match(String(body.request_id), /^[0-9a-f-]{36}$/);
  assert.equal(r.get('x-request-id'), body.request_id);
  assert.equal(r.get('connection'), 'close');
  assert.ok(took >= 250 && took < 2000, `408 after ${took} ms for a 300 ms headers timeout`);
  await c.serverEnds(1000);
  assert.equal(up.received.length, n);
});

test('headers timeout also applies to the next head on a kept-alive connection', async () => {
  const c = await RawConn.open(ghTimeouts.port);
  c.write(GET('/first'));
  assert.equal((await c.response()).status, 200);
  c.write('GET /second HTTP/1.1\r\nHo');
  const r = await c.response(false, 3000);
  assert.equal(r.status, 408);
  assert.equal(r.json().error, 'GH_REQUEST_TIMEOUT');
  await c.serverEnds(1000);
});

test('keep-alive timeout: an idle connection is closed after about that long; one used within it is kept', async () => {
  const idle = await RawConn.open(ghTimeouts.port);
  idle.write(GET('/once'));
  await idle.response();
  const answered = Date.now();
  await idle.serverEnds(3000);
  const idleFor = Date.now() - answered;
  assert.ok(idleFor >= 250 && idleFor < 1200, `closed after ${idleFor} ms idle for a 300 ms keep-alive`);
  assert.equal(idle.rest(), '', 'closed without a response (no 408 for an idle connection)');

  const busy = await RawConn.open(ghTimeouts.port);
  const started = Date.now();
  for (let i = 0; i < 5; i++) {
    busy.write(GET(`/k${i}`));
    assert.equal((await busy.response()).json().url, `/k${i}`);
    await sleep(150);
  }
  assert.ok(Date.now() - started > 600, 'the connection outlived several keep-alive periods');
  assert.equal(busy.ended, false, 'a connection used within the keep-alive timeout stays open');
  busy.destroy();
});

test('idle timeout: a request whose upstream stays silent past timeouts.idle is cut off', async () => {
  const c = await RawConn.open(ghTimeouts.port);
  c.write(GET('/slow?ms=2500'));
  const took = await c.serverEnds(2000);
  assert.ok(took >= 450 && took < 1500, `connection closed after ${took} ms for a 500 ms idle timeout`);
  assert.equal(c.rest(), '', 'no partial response');
});

// --- FastResponse over a real socket pair --------------------------------------------------------

interface Pair {
  readonly server: Socket;
  readonly client: RawConn;
  readonly done: boolean[];
  owner(keepAliveSeconds?: number): ResponseOwner;
  close(): void;
}

async function pair(): Promise<Pair> {
  const srv = createNetServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<Socket>((r) => srv.once('connection', r));
  const client = await RawConn.open((srv.address() as AddressInfo).port);
  const server = await accepted;
  const done: boolean[] = [];
  return {
    server,
    client,
    done,
    owner: (keepAliveSeconds = 5) => ({
      socket: server,
      keepAliveSeconds,
      touch() {},
      responseDone(_res, close) {
        done.push(close);
      },
    }),
    close() {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
  return undefined;
}

test('FastResponse: header names and values that would inject lines throw and write nothing', async (t) => {
  const p = await pair();
  t.after(() => p.close());
  const res = new FastResponse(p.owner(), false, true);
  assert.equal(
    codeOf(() => res.setHeader('X-A', 'ok\r\nInjected: 1')),
    'ERR_INVALID_CHAR',
  );
  assert.equal(
    codeOf(() => res.setHeader('X-A', ['fine', 'bad\nInjected: 1'])),
    'ERR_INVALID_CHAR',
  );
  assert.equal(
    codeOf(() => res.setHeader('Bad Name', 'v')),
    'ERR_INVALID_HTTP_TOKEN',
  );
  assert.equal(
    codeOf(() => res.setHeader('X-A\r\nInjected', 'v')),
    'ERR_INVALID_HTTP_TOKEN',
  );
  assert.equal(
    codeOf(() => res.writeHead(200, { 'x-b': 'a\rb' })),
    'ERR_INVALID_CHAR',
  );
  assert.equal(
    codeOf(() => res.writeHead(200, ['x-c', 'ok', 'x\nd', 'v'])),
    'ERR_INVALID_HTTP_TOKEN',
  );
  assert.equal(
    codeOf(() => res.writeHead(200, 'OK\r\nInjected: 1')),
    'ERR_INVALID_CHAR',
  );
  await sleep(30);
  assert.equal(p.client.rest(), '', 'nothing was written');
  assert.equal(res.headersSent, false);
  // The response is still usable, and carries none of the refused lines.
  res.end('fine');
  const r = await p.client.response();
  assert.equal(r.status, 200);
  assert.equal(r.body, 'fine');
  assert.doesNotMatch(r.head, /Injected/);
});

test('FastResponse: end(body) without headers sends Content-Length, the body, Date and keep-alive', async (t) => {
  const p = await pair();
  t.after(() => p.close());
  const res = new FastResponse(p.owner(7), false, true);
  res.statusCode = 201;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end('héllo ✓');
  const r = await p.client.response();
  assert.equal(r.status, 201);
  assert.match(r.head, /^HTTP\/1\.1 201 Created\r\n/);
  assert.equal(r.get('content-length'), String(Buffer.byteLength('héllo ✓')));
  assert.equal(r.count('transfer-encoding'), 0);
  assert.equal(r.body, 'héllo ✓');
  assert.equal(r.get('content-type'), 'text/plain; charset=utf-8');
  assert.ok(!Number.isNaN(Date.parse(r.get('date') ?? '')), 'a valid Date');
  assert.equal(r.get('connection'), 'keep-alive');
  assert.equal(r.get('keep-alive'), 'timeout=7');
  assert.deepEqual(p.done, [false]);
  await sleep(20);
  assert.equal(p.client.rest(), '');
});

test('FastResponse: large bodies (past the single-buffer size) arrive intact, with a length or chunked', async (t) => {
  const big = Buffer.alloc(200 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = 33 + (i % 90);
  const p = await pair();
  t.after(() => p.close());
  const a = new FastResponse(p.owner(), false, true);
  a.end(big);
  const ra = await p.client.response();
  assert.equal(ra.get('content-length'), String(big.length));
  assert.equal(ra.body, big.toString('latin1'));
  const b = new FastResponse(p.owner(), false, true);
  b.writeHead(200, { 'content-type': 'application/octet-stream' });
  b.write(big.subarray(0, 100));
  b.write(big.subarray(100, 150_000));
  b.end(big.subarray(150_000));
  const rb = await p.client.response();
  assert.equal(rb.get('transfer-encoding'), 'chunked');
  assert.equal(rb.body, big.toString('latin1'));
  assert.deepEqual(p.done, [false, false]);
});

test('FastResponse: write() then end() is chunked and properly terminated', async (t) => {
  const p = await pair();
  t.after(() => p.close());
  const res = new FastResponse(p.owner(), false, true);
  res.setHeader('X-Stream', '1');
  assert.equal(res.write('alpha,'), true);
  res.write(Buffer.from('beta,'));
  res.write('');
  res.end('gamma');
  const r = await p.client.response();
  assert.equal(r.status, 200);
  assert.equal(r.get('transfer-encoding'), 'chunked');
  assert.equal(r.count('content-length'), 0);
  assert.equal(r.get('x-stream'), '1');
  assert.equal(r.body, 'alpha,beta,gamma');
  assert.equal(r.wire, '6\r\nalpha,\r\n5\r\nbeta,\r\n5\r\ngamma\r\n0\r\n\r\n');
});

test('FastResponse: headers cannot change after end', async (t) => {
  const p = await pair();
  t.after(() => p.close());
  const res = new FastResponse(p.owner(), false, true);
  res.end('x');
  assert.equal(
    codeOf(() => res.writeHead(500)),
    'ERR_HTTP_HEADERS_SENT',
  );
  assert.equal(
    codeOf(() => res.setHeader('X-Late', '1')),
    'ERR_HTTP_HEADERS_SENT',
  );
  const r = await p.client.response();
  assert.equal(r.status, 200);
  assert.equal(r.count('x-late'), 0);
});

test("FastResponse: 'finish' then 'close' fire once the last byte is written, not before", async (t) => {
  const p = await pair();
  t.after(() => p.close());
  const res = new FastResponse(p.owner(), false, true);
  const events: string[] = [];
  res.on('finish', () => {
    events.push('finish');
    assert.equal(res.writableFinished, true);
    assert.equal(p.server.writableLength, 0, 'nothing left in the socket buffer at finish');
  });
  res.on('close', () => events.push('close'));
  res.write('part,');
  res.end('end');
  assert.equal(res.writableEnded, true);
  assert.deepEqual(events, [], 'not finished synchronously');
  const r = await p.client.response();
  assert.equal(r.body, 'part,end');
  for (let i = 0; i < 20 && events.length < 2; i++) await sleep(5);
  assert.deepEqual(events, ['finish', 'close']);
  assert.deepEqual(p.done, [false]);
});

test('FastResponse: refusing keep-alive answers Connection: close and tells the owner to close', async (t) => {
  const p = await pair();
  t.after(() => p.close());
  const res = new FastResponse(p.owner(), false, false);
  res.end('bye');
  const r = await p.client.response();
  assert.equal(r.get('connection'), 'close');
  assert.equal(r.count('keep-alive'), 0);
  assert.equal(r.body, 'bye');
  for (let i = 0; i < 20 && p.done.length === 0; i++) await sleep(5);
  assert.deepEqual(p.done, [true]);
});

test('FastResponse: a HEAD response keeps the length of the body it was given but sends no body', async (t) => {
  const p = await pair();
  t.after(() => p.close());
  const res = new FastResponse(p.owner(), true, true);
  res.end('hello');
  const r = await p.client.response(true);
  assert.equal(r.get('content-length'), '5');
  await sleep(30);
  assert.equal(p.client.rest(), '', 'no body bytes');
});

test('FastResponse: end() on 204 and 304 sends no body and no Content-Length (as Node does)', async (t) => {
  const p = await pair();
  t.after(() => p.close());
  for (const status of [204, 304]) {
    const res = new FastResponse(p.owner(), false, true);
    res.statusCode = status;
    res.setHeader('ETag', '"x"');
    res.end();
    const r = await p.client.response();
    assert.equal(r.status, status);
    assert.equal(r.count('transfer-encoding'), 0, `${status}`);
    assert.equal(r.count('content-length'), 0, `${status}: RFC 9110 §8.6\n${r.head}`);
  }
  await sleep(20);
  assert.equal(p.client.rest(), '');
});
