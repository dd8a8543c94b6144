import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { raw } from '../helpers/http.js';
import { H1Pool } from '../../src/upstream/h1/client.js';

// The upstream client writes the message framing itself (RFC 9112 §6). A client naming
// Content-Length in its Connection header made Gatehouse drop it as hop-by-hop and forward the
// body after a head without any length: the upstream read the body as a second request.

let up: RecordingUpstream;
let gh: TestGateway;

before(async () => {
  up = await startUpstream();
  gh = await startGatehouse({
    server: { request_buffer_size: '1kb' },
    upstreams: { app: { url: up.url } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
});
after(async () => {
  await gh.close();
  await up.close();
});

const SMUGGLED = 'GET /admin HTTP/1.1\r\nHost: app.test\r\n\r\n';

for (const connection of [
  'content-length',
  'Content-Length',
  'close, content-length',
  'keep-alive, CONTENT-LENGTH',
]) {
  test(`Connection: ${connection} cannot strip the body's length (buffered body)`, async () => {
    const n = up.received.length;
    const out = await raw(
      gh.port,
      `POST /form HTTP/1.1\r\nHost: app.test\r\nConnection: ${connection}\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
      1000,
    );
    assert.match(out, /^HTTP\/1\.1 200 /);
    const got = up.received.slice(n);
    assert.deepEqual(
      got.map((r) => r.url),
      ['/form'],
      'exactly one request upstream',
    );
    assert.equal(got[0]?.headers['content-length'], String(SMUGGLED.length));
    assert.equal(got[0]?.body?.toString(), SMUGGLED, 'the body arrived as the body');
  });
}

test('Connection: content-length cannot strip the length of a streamed body either', async () => {
  const n = up.received.length;
  const body = `${SMUGGLED}${'x'.repeat(4000)}`;
  const out = await raw(
    gh.port,
    `PUT /big HTTP/1.1\r\nHost: app.test\r\nConnection: content-length\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    1000,
  );
  assert.match(out, /^HTTP\/1\.1 200 /);
  const got = up.received.slice(n);
  assert.deepEqual(
    got.map((r) => r.url),
    ['/big'],
  );
  assert.equal(got[0]?.bodyBytes, body.length);
});

test('H1Pool ignores framing fields in the header list and writes its own', async () => {
  const heads: string[] = [];
  const server: Server = createServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      heads.push(buf);
      buf = '';
      s.write('HTTP/1.1 204 No Content\r\n\r\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const pool = new H1Pool({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    maxConnections: 1,
    connectTimeout: 1000,
    headersTimeout: 1000,
    bodyTimeout: 1000,
    keepAliveTimeout: 1000,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      pool.request(
        {
          method: 'POST',
          path: '/x',
          headers: ['Host', 'h', 'Content-Length', '999', 'transfer-encoding', 'chunked', 'X-A', 'b'],
          body: Buffer.from('abc'),
        },
        { onHeaders() {}, onData: () => true, onComplete: resolve, onError: reject },
      );
    });
    assert.deepEqual(heads, ['POST /x HTTP/1.1\r\nHost: h\r\nX-A: b\r\ncontent-length: 3\r\n\r\nabc']);
  } finally {
    await pool.destroy();
    await new Promise((r) => server.close(r));
  }
});
