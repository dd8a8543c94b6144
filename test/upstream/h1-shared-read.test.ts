import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { H1Pool, type H1Exchange, type H1Handler } from '../../src/upstream/h1/client.js';

// Plain-TCP upstream connections all read into one shared buffer (net `onread`). What a handler
// receives must not change when another connection reads afterwards, a head split across reads
// must survive the reads in between, and backpressure must still pause and resume the socket.

/** A raw upstream: `answer` writes the response for each request head it sees. */
async function upstream(answer: (s: Socket, path: string) => void): Promise<{ port: number; close(): void }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    let pending = '';
    s.on('data', (d) => {
      pending += d.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const path = pending.split(' ')[1] as string;
        pending = pending.slice(end + 4);
        answer(s, path);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** What a request saw: chunks kept by reference (no copy), as a proxy's queued writes would. */
interface Reply {
  status: number;
  raw: string[];
  chunks: Buffer[];
}

/** Sends GET `path`; `onData` answers backpressure. */
function send(
  pool: H1Pool,
  path: string,
  onData: (chunk: Buffer) => boolean = () => true,
): { exchange: H1Exchange; done: Promise<Reply> } {
  const reply: Reply = { status: 0, raw: [], chunks: [] };
  let exchange!: H1Exchange;
  const done = new Promise<Reply>((resolve, reject) => {
    const handler: H1Handler = {
      onHeaders(s, _t, r) {
        reply.status = s;
        reply.raw = r;
      },
      onData(chunk) {
        reply.chunks.push(chunk);
        return onData(chunk);
      },
      onComplete: () => resolve(reply),
      onError: reject,
    };
    exchange = pool.request({ method: 'GET', path, headers: ['Host', 'up.test'], body: null }, handler);
  });
  return { exchange, done };
}

const get = (pool: H1Pool, path: string) => send(pool, path).done;

const pool = (port: number) =>
  new H1Pool({
    host: '127.0.0.1',
    port,
    maxConnections: 4,
    connectTimeout: 2000,
    headersTimeout: 5000,
    bodyTimeout: 5000,
    keepAliveTimeout: 5000,
  });

test('body chunks a handler keeps are unchanged by later reads on other connections', async () => {
  const up = await upstream((s, path) => {
    const body = path.slice(1).repeat(1000);
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  const p = pool(up.port);
  try {
    const letters = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const replies = await Promise.all(letters.map((l) => get(p, `/${l}`)));
    // Every reply was read into the same memory; each must still hold its own letter.
    replies.forEach((r, i) => {
      const body = Buffer.concat(r.chunks).toString('latin1');
      assert.equal(body, (letters[i] as string).repeat(1000), `reply ${letters[i]}`);
    });
  } finally {
    await p.destroy();
    up.close();
  }
});

test('a response head split across reads, with another connection read in between, is parsed whole', async () => {
  const up = await upstream(async (s, path) => {
    if (path === '/slow') {
      const head = 'HTTP/1.1 200 OK\r\nX-Split: left-right\r\nContent-Length: 4\r\n\r\nslow';
      for (const part of [head.slice(0, 12), head.slice(12, 27), head.slice(27)]) {
        s.write(part);
        await sleep(40);
      }
    } else
      s.write(
        'HTTP/1.1 200 OK\r\nX-Other: zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\r\nContent-Length: 4\r\n\r\nfast',
      );
  });
  const p = pool(up.port);
  try {
    const slow = get(p, '/slow');
    await sleep(10);
    const fast = await get(p, '/fast');
    await sleep(45);
    assert.equal(Buffer.concat((await get(p, '/fast')).chunks).toString(), 'fast');
    const s = await slow;
    assert.equal(Buffer.concat(fast.chunks).toString(), 'fast');
    assert.deepEqual(s.raw, ['X-Split', 'left-right', 'Content-Length', '4']);
    assert.equal(Buffer.concat(s.chunks).toString(), 'slow');
  } finally {
    await p.destroy();
    up.close();
  }
});

test('backpressure: a handler that refuses a chunk pauses the upstream socket until resumed; bytes arrive intact', async () => {
  const size = 4 * 1024 * 1024;
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 7) & 0xff;
  const up = await upstream((s) => {
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
    s.write(body);
  });
  const p = pool(up.port);
  try {
    let refused = 0;
    let paused = false;
    let whilePaused = 0;
    const req = send(p, '/big', () => {
      if (paused) whilePaused++;
      if (refused === 3) return true;
      refused++;
      paused = true;
      setTimeout(() => {
        paused = false;
        req.exchange.resume();
      }, 30);
      return false;
    });
    const reply = await req.done;
    assert.equal(refused, 3, 'the handler refused three chunks');
    assert.equal(whilePaused, 0, 'no chunk arrived while the socket was paused');
    assert.ok(Buffer.concat(reply.chunks).equals(body), 'the body arrived byte for byte');
  } finally {
    await p.destroy();
    up.close();
  }
});
