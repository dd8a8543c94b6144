// The H1 pool's per-connection authenticator (used by Kerberos Negotiate) and connection reuse
// after a handler paused reading on a read that also held the end of the response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { H1Pool, type H1Handler, type H1Request } from '../../src/upstream/h1/client.js';

/** A raw upstream: answers every request on a connection with `answer(n)` (n: request number on it). */
async function rawServer(answer: (n: number, head: string) => string) {
  const heads: Array<{ conn: number; head: string }> = [];
  let conns = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((s) => {
    const conn = ++conns;
    sockets.add(s);
    let buf = '';
    let n = 0;
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        heads.push({ conn, head });
        s.write(answer(++n, head));
      }
    });
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    heads,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

function pool(port: number, authenticate?: ConstructorParameters<typeof H1Pool>[0]['authenticate']): H1Pool {
  return new H1Pool({
    host: '127.0.0.1',
    port,
    maxConnections: 1,
    connectTimeout: 2000,
    headersTimeout: 3000,
    bodyTimeout: 3000,
    keepAliveTimeout: 10_000,
    authenticate,
  });
}

function get(
  p: H1Pool,
  path: string,
  pauseFirst = false,
): Promise<{ status: number; body: string; error?: string }> {
  const req: H1Request = { method: 'GET', path, headers: ['Host', 'x'], body: null };
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    let first = true;
    const h: H1Handler = {
      onHeaders: (s) => {
        status = s;
      },
      onData: (c) => {
        body += c.toString();
        const pause = pauseFirst && first;
        first = false;
        return !pause;
      },
      onComplete: () => resolve({ status, body }),
      onError: (e) => resolve({ status, body, error: (e as { code?: string }).code ?? e.message }),
    };
    p.request(req, h);
  });
}

const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n';

test('the authenticator runs once per connection; its fields go on the first request only', async () => {
  const up = await rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  let calls = 0;
  const p = pool(up.port, async (_ex, handler) => {
    calls++;
    return { headers: ['Authorization', `Negotiate token-${calls}`], handler };
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await get(p, `/r${i}`)).status, 200);
    assert.equal(calls, 1);
    assert.equal(up.heads.length, 3);
    assert.ok(
      up.heads.every((h) => h.conn === 1),
      'up.heads.every((h) => h.conn === 1)',
    );
    assert.match(up.heads[0]!.head, /\r\nAuthorization: Negotiate token-1$/m);
    assert.doesNotMatch(up.heads[1]!.head + up.heads[2]!.head, /Authorization/);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('a failing authenticator fails the request and sends nothing', async () => {
  const up = await rawServer(() => 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  const p = pool(up.port, async () => {
    throw Object.assign(new Error('no ticket'), { code: 'NO_TICKET' });
  });
  try {
    const r = await get(p, '/x');
    assert.equal(r.error, 'NO_TICKET');
    assert.equal(up.heads.length, 0);
  } finally {
    await p.destroy();
    await up.close();
  }
});

test('a handler that paused on a read holding the end of the response leaves a connection that serves the next request', async () => {
  const up = await rawServer(() => CHUNKED);
  const p = pool(up.port);
  try {
    const first = await get(p, '/paused', true);
    assert.equal(first.body, 'abcdef');
    const second = await get(p, '/next');
    assert.equal(second.error, undefined, 'the reused connection reads its answer');
    assert.equal(second.body, 'abcdef');
    assert.ok(
      up.heads.every((h) => h.conn === 1),
      'the same connection',
    );
  } finally {
    await p.destroy();
    await up.close();
  }
});
