import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { watchWire, type WireStats } from '../helpers/wire.js';
import { hashApiKey } from '../../src/authn/apikey.js';
import { LINGER_BYTES, LINGER_MS } from '../../src/server/linger.js';

// Item 7 of issue 12: a refusal decided while the request body is still arriving reaches the
// client (lingering close instead of a reset), and nothing of the body reaches the upstream.

let up: RecordingUpstream;
let wire: WireStats;
let gh: TestGateway;

before(async () => {
  up = await startUpstream();
  wire = watchWire(up.server);
  gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    api_keys: { keys: [{ hash: hashApiKey('gh_test_key_refusal_aaaaaaaaaaaaaaaa'), client_id: 'svc' }] },
    routes: [
      { match: { path: '/private' }, upstream: 'app', auth: 'apikey', allow: 'authenticated' },
      { match: { path: '/small' }, upstream: 'app', auth: 'none', max_body_size: '1kb' },
    ],
  });
});
after(async () => {
  await gh.close();
  await up.close();
});

/** What an uploading client saw. */
interface Upload {
  /** Everything read, latin1. */
  readonly text: string;
  /** The first socket error (a write after the server closed, a reset), if any. */
  readonly error: string | undefined;
  readonly bodyBytesSent: number;
}

/**
 * Sends `head`, then `bodyBytes` of body (chunked when asked) as fast as the connection takes
 * them, and reads only once the whole body is sent or a write failed — like the many HTTP
 * libraries that send the request before they look at the response. The response waits unread
 * in the client's receive buffer meanwhile: a server that closes with bytes of the body still
 * arriving provokes a reset, and the reset throws that response away. Closes once a complete
 * response (head + Content-Length body) was read; gives up after 10 s.
 */
function upload(port: number, head: string, bodyBytes: number, chunked: boolean): Promise<Upload> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    let error: string | undefined;
    const giveUp = setTimeout(() => s.destroy(), 10_000);
    s.pause();
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const cl = /\r\ncontent-length: *(\d+)/i.exec(text);
      if (end >= 0 && cl && text.length >= end + 4 + Number(cl[1])) s.end();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
      s.resume();
    });
    s.on('close', () => {
      clearTimeout(giveUp);
      resolve({ text, error, bodyBytesSent: sent });
    });
    const piece = Buffer.alloc(64 * 1024, 0x61);
    const sizeLine = `${piece.length.toString(16)}\r\n`;
    const pump = (): void => {
      while (sent < bodyBytes && !s.destroyed) {
        sent += piece.length;
        let ok: boolean;
        if (chunked) {
          s.write(sizeLine);
          s.write(piece);
          ok = s.write('\r\n');
        } else ok = s.write(piece);
        if (!ok) return void s.once('drain', pump);
      }
      if (s.destroyed) return;
      if (chunked) s.write('0\r\n\r\n');
      // Everything sent: now read the answer.
      s.resume();
    };
    s.write(head);
    pump();
  });
}

const BODY = 4 * 1024 * 1024;

for (const c of [
  {
    name: '401 without credentials (Content-Length body)',
    head: `POST /private HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${BODY}\r\n\r\n`,
    chunked: false,
    status: 401,
    code: 'GH_UNAUTHENTICATED',
  },
  {
    name: '401 without credentials (chunked body)',
    head: 'POST /private HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n',
    chunked: true,
    status: 401,
    code: 'GH_UNAUTHENTICATED',
  },
  {
    name: '413 by Content-Length over max_body_size',
    head: `POST /small HTTP/1.1\r\nHost: app.test\r\nContent-Length: ${BODY}\r\n\r\n`,
    chunked: false,
    status: 413,
    code: 'GH_BODY_TOO_LARGE',
  },
  {
    name: '413 for a chunked body passing max_body_size',
    head: 'POST /small HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n',
    chunked: true,
    status: 413,
    code: 'GH_BODY_TOO_LARGE',
  },
]) {
  test(`early refusal is read by an uploading client, 20 times: ${c.name}`, async () => {
    const bytesBefore = wire.bytes();
    const acceptedBefore = wire.accepted;
    for (let i = 0; i < 20; i++) {
      const r = await upload(gh.port, c.head, BODY, c.chunked);
      assert.match(
        r.text,
        new RegExp(`^HTTP/1\\.1 ${c.status} `),
        `round ${i}: ${r.error ?? 'no error'}, read ${JSON.stringify(r.text)}`,
      );
      assert.match(r.text, /\r\nconnection: close\r\n/i);
      assert.ok(r.text.includes(`"error":"${c.code}"`), r.text);
    }
    assert.equal(wire.accepted, acceptedBefore, 'no upstream connection was opened');
    assert.equal(wire.bytes(), bytesBefore, 'the upstream received zero bytes');
    const events = gh.audit.filter((e) => e.status === c.status).slice(-20);
    assert.equal(events.length, 20, 'every refusal is audited');
  });
}

test('a small body sent in one piece to a refusing route: answered, nothing upstream', async () => {
  const bytesBefore = wire.bytes();
  const r = await upload(
    gh.port,
    'POST /private HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n\r\nhello',
    0,
    false,
  );
  assert.match(r.text, /^HTTP\/1\.1 401 /);
  assert.equal(wire.bytes(), bytesBefore);
});

test('the lingering close is bounded: a client that never stops sending is cut after LINGER_BYTES', async () => {
  // allowHalfOpen: the gateway's FIN does not end this side (Node's default would).
  const s = connect({ port: gh.port, host: '127.0.0.1', allowHalfOpen: true });
  let error: string | undefined;
  s.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code));
  let sent = 0;
  s.write('POST /private HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000000000\r\n\r\n');
  const piece = Buffer.alloc(256 * 1024, 0x61);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (!s.destroyed && sent < 200 * 1024 * 1024) {
        sent += piece.length;
        if (!s.write(piece)) return void s.once('drain', pump);
      }
      resolve();
    };
    s.on('close', () => resolve());
    pump();
  });
  s.destroy();
  assert.ok(error === 'ECONNRESET' || error === 'EPIPE', `cut with ${error}`);
  assert.ok(sent >= LINGER_BYTES, `the gateway read on after its answer (${sent} bytes went in)`);
  assert.ok(sent < LINGER_BYTES + 32 * 1024 * 1024, `and stopped: ${sent} bytes went in`);
  assert.ok(performance.now() - t0 < LINGER_MS, 'cut by the byte bound, before the time bound');
});

test('the lingering close is bounded: a client that stays silent and open is closed after LINGER_MS', async () => {
  const from = '127.0.0.9';
  const s = connect({ port: gh.port, host: '127.0.0.1', localAddress: from, allowHalfOpen: true });
  s.on('error', () => undefined);
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString('latin1')));
  const t0 = performance.now();
  s.write('POST /private HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000\r\n\r\nabc');
  await new Promise((resolve) => s.once('end', resolve));
  assert.match(text, /^HTTP\/1\.1 401 /);
  assert.ok(performance.now() - t0 < 1000, 'the answer and the half-close come at once');
  const admission = gh.gateway.admission;
  assert.equal(admission.usage(from).connections, 1, 'the gateway still reads the connection');
  while (admission.usage(from).connections > 0 && performance.now() - t0 < LINGER_MS + 3000)
    await new Promise((r) => setTimeout(r, 50));
  const lingered = performance.now() - t0;
  assert.equal(admission.usage(from).connections, 0, 'the gateway closed its end');
  assert.ok(lingered >= LINGER_MS - 100 && lingered < LINGER_MS + 2000, `closed after ${lingered} ms`);
  s.destroy();
});
