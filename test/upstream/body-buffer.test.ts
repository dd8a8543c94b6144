import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { watchWire, type WireStats } from '../helpers/wire.js';

// server.request_buffer_size: bodies up to it are read in full before an upstream connection is
// taken; larger ones stream once that much arrived.

const BUFFER = 16 * 1024;

let up: RecordingUpstream;
let wire: WireStats;
let gh: TestGateway;

before(async () => {
  up = await startUpstream();
  wire = watchWire(up.server);
  gh = await startGatehouse({
    server: { request_buffer_size: BUFFER, timeouts: { headers: '1s', request: '1s' } },
    upstreams: { app: { url: up.url, timeouts: { keep_alive: '50ms' } } },
    routes: [
      { match: { path: '/' }, upstream: 'app', auth: 'none' },
      { match: { path: '/limited' }, upstream: 'app', auth: 'none', max_body_size: '40kb' },
    ],
  });
});
after(async () => {
  await gh.close();
  await up.close();
});

/** A raw client connection that collects what it reads. */
class Client {
  text = '';
  closed = false;
  readonly socket: Socket;
  private constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
  }
  static async open(port: number): Promise<Client> {
    const c = new Client(port);
    await new Promise((r) => c.socket.once('connect', r));
    return c;
  }
  write(data: string | Buffer): void {
    this.socket.write(data);
  }
  /** Waits for a complete Content-Length response (or the close) and returns its status line. */
  async status(ms = 3000): Promise<string> {
    await until(() => {
      const end = this.text.indexOf('\r\n\r\n');
      const cl = /\r\ncontent-length: *(\d+)/i.exec(this.text);
      return this.closed || (end >= 0 && cl !== null && this.text.length >= end + 4 + Number(cl[1]));
    }, ms);
    return this.text.slice(0, this.text.indexOf('\r\n'));
  }
  close(): void {
    this.socket.destroy();
  }
}

async function until(probe: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !probe();) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the upstream has no connection left (its keep-alive is 50 ms). */
async function upstreamIdle(): Promise<void> {
  await until(() => wire.open === 0, 3000);
}

test('a small body arriving slowly holds no upstream connection; it is sent whole with its length', async () => {
  await upstreamIdle();
  const accepted = wire.accepted;
  const c = await Client.open(gh.port);
  c.write('POST /small HTTP/1.1\r\nHost: app.test\r\nContent-Length: 10\r\n\r\nhello');
  await sleep(200);
  assert.equal(wire.accepted, accepted, 'no upstream connection while the body is incomplete');
  c.write('world');
  assert.match(await c.status(), /^HTTP\/1\.1 200 /);
  const got = up.received.at(-1);
  assert.equal(got?.body?.toString(), 'helloworld');
  assert.equal(got?.headers['content-length'], '10');
  c.close();
});

test('a small chunked body is read in full and sent with Content-Length, not chunked', async () => {
  const c = await Client.open(gh.port);
  c.write('POST /chunked HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  await sleep(50);
  c.write('6\r\n world\r\n0\r\n\r\n');
  assert.match(await c.status(), /^HTTP\/1\.1 200 /);
  const got = up.received.at(-1);
  assert.equal(got?.url, '/chunked');
  assert.equal(got?.body?.toString(), 'hello world');
  assert.equal(got?.headers['content-length'], '11');
  assert.equal(got?.headers['transfer-encoding'], undefined);
  c.close();
});

test('an empty chunked body is sent with Content-Length: 0', async () => {
  const c = await Client.open(gh.port);
  c.write('POST /empty HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  assert.match(await c.status(), /^HTTP\/1\.1 200 /);
  const got = up.received.at(-1);
  assert.equal(got?.url, '/empty');
  assert.equal(got?.bodyBytes, 0);
  assert.equal(got?.headers['content-length'], '0');
  c.close();
});

test('a large body takes an upstream connection only once request_buffer_size arrived, then streams', async () => {
  await upstreamIdle();
  const accepted = wire.accepted;
  const total = 3 * BUFFER;
  const c = await Client.open(gh.port);
  c.write(`PUT /large HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${total}\r\n\r\n`);
  c.write(Buffer.alloc(BUFFER - 1, 0x61));
  await sleep(200);
  assert.equal(wire.accepted, accepted, 'still buffering: no upstream connection');
  c.write(Buffer.alloc(1, 0x62));
  await until(() => wire.accepted === accepted + 1, 2000);
  await until(() => wire.bytes() > 0 && wire.open === 1, 2000);
  c.write(Buffer.alloc(total - BUFFER, 0x63));
  assert.match(await c.status(), /^HTTP\/1\.1 200 /);
  const got = up.received.at(-1);
  assert.equal(got?.url, '/large');
  assert.equal(got?.bodyBytes, total);
  assert.equal(got?.body?.[BUFFER - 1], 0x62);
  assert.equal(got?.headers['content-length'], String(total));
  c.close();
});

test('a large chunked body streams chunked, every byte in order', async () => {
  const c = await Client.open(gh.port);
  c.write('POST /large-chunked HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n');
  const piece = Buffer.alloc(10_000);
  for (let i = 0; i < 5; i++) {
    piece.fill(0x30 + i);
    c.write(`${piece.length.toString(16)}\r\n`);
    c.write(piece);
    c.write('\r\n');
  }
  c.write('0\r\n\r\n');
  assert.match(await c.status(), /^HTTP\/1\.1 200 /);
  const got = up.received.at(-1);
  assert.equal(got?.bodyBytes, 50_000);
  assert.equal(got?.headers['transfer-encoding'], 'chunked');
  for (let i = 0; i < 5; i++) assert.equal(got?.body?.[i * 10_000 + 9_999], 0x30 + i);
  c.close();
});

test('a chunked body over max_body_size after streaming began: 413, the upstream exchange is cut', async () => {
  const n = up.received.length;
  const c = await Client.open(gh.port);
  c.write('POST /limited HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n');
  const piece = Buffer.alloc(8192, 0x61);
  for (let i = 0; i < 6; i++) c.write(`2000\r\n${piece.toString('latin1')}\r\n`);
  assert.match(await c.status(), /^HTTP\/1\.1 413 /);
  assert.match(c.text, /"error":"GH_BODY_TOO_LARGE"/);
  assert.equal(up.received.length, n, 'the upstream never got a complete request');
  c.close();
});

test('a body slower than timeouts.request: 408, no upstream connection was ever taken', async () => {
  await upstreamIdle();
  const accepted = wire.accepted;
  const c = await Client.open(gh.port);
  c.write('POST /slow HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\n');
  const drip = setInterval(() => c.write('x'), 100);
  try {
    assert.match(await c.status(3000), /^HTTP\/1\.1 408 /);
  } finally {
    clearInterval(drip);
  }
  assert.equal(wire.accepted, accepted);
  assert.ok(!up.received.some((r) => r.url === '/slow'), "!up.received.some((r) => r.url === '/slow')");
  await until(() => c.closed, 2000);
});

test('a client leaving while its body is buffered: recorded as 499 client.aborted, nothing upstream', async () => {
  await upstreamIdle();
  const accepted = wire.accepted;
  const c = await Client.open(gh.port);
  c.write('POST /gone HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100\r\n\r\nabc');
  await sleep(100);
  c.close();
  await until(() => gh.audit.some((e) => e.status === 499 && e.reasons.includes('client.aborted')), 2000);
  assert.equal(wire.accepted, accepted);
  await until(() => gh.gateway.admission.usage('127.0.0.1').inFlight === 0, 2000);
});
