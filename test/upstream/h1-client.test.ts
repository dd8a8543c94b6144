import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type Server as HttpServer,
} from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  H1Pool,
  H1Error,
  type H1Exchange,
  type H1Handler,
  type H1PoolOptions,
  type H1Request,
} from '../../src/upstream/h1/client.js';
import { freePort, waitFor } from '../helpers/ports.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { raw } from '../helpers/http.js';

// ---------------------------------------------------------------------------------------------
// Helpers

function newPool(port: number, opts: Partial<H1PoolOptions> = {}): H1Pool {
  return new H1Pool({
    host: '127.0.0.1',
    port,
    maxConnections: 4,
    connectTimeout: 1000,
    headersTimeout: 2000,
    bodyTimeout: 2000,
    keepAliveTimeout: 5000,
    ...opts,
  });
}

/** What a handler saw, in order. */
interface Outcome {
  status: number | undefined;
  statusText: string | undefined;
  raw: string[] | undefined;
  body: Buffer;
  error: (Error & { code?: string }) | undefined;
  /** 'headers', 'data', 'complete', 'error' in the order they fired. */
  events: string[];
}

interface Running {
  exchange: H1Exchange;
  outcome: Outcome;
  /** Resolves at onComplete or onError. */
  done: Promise<Outcome>;
}

/** Starts a request; `onData` (optional) decides the backpressure answer. */
function start(
  pool: H1Pool,
  req: Partial<H1Request> = {},
  hooks: { onData?: (chunk: Buffer) => boolean; onHeaders?: () => void } = {},
): Running {
  const outcome: Outcome = {
    status: undefined,
    statusText: undefined,
    raw: undefined,
    body: Buffer.alloc(0),
    error: undefined,
    events: [],
  };
  const chunks: Buffer[] = [];
  let resolve!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => (resolve = r));
  const handler: H1Handler = {
    onHeaders(status, statusText, raw) {
      outcome.events.push('headers');
      outcome.status = status;
      outcome.statusText = statusText;
      outcome.raw = raw;
      hooks.onHeaders?.();
    },
    onData(chunk) {
      outcome.events.push('data');
      chunks.push(Buffer.from(chunk));
      outcome.body = Buffer.concat(chunks);
      return hooks.onData ? hooks.onData(chunk) : true;
    },
    onComplete() {
      outcome.events.push('complete');
      resolve(outcome);
    },
    onError(err) {
      outcome.events.push('error');
      outcome.error = err as Error & { code?: string };
      resolve(outcome);
    },
  };
  const exchange = pool.request(
    { method: 'GET', path: '/', headers: ['Host', 'upstream.test'], body: null, ...req },
    handler,
  );
  return { exchange, outcome, done };
}

const run = (pool: H1Pool, req: Partial<H1Request> = {}) => start(pool, req).done;

/** One request as the raw upstream framed it. */
interface RawRequest {
  /** Everything received for this request, head and body (latin1). */
  readonly wire: string;
  readonly head: string;
  readonly method: string;
  /** 0-based index of the request on its connection. */
  readonly seq: number;
}

interface RawUpstream {
  readonly port: number;
  /** Accepted sockets, in order. */
  readonly sockets: Socket[];
  /** Bytes received per connection (latin1), whether or not a request was framed. */
  readonly bytes: string[];
  /** Sockets closed so far. */
  readonly closed: number;
  close(): Promise<void>;
}

/**
 * A `node:net` upstream whose answers are written byte for byte by the test. Requests are framed
 * minimally (head, then a Content-Length body or a chunked body up to `0\r\n\r\n`) and handed to
 * `onRequest` with the connection index and the request's index on that connection.
 */
async function rawUpstream(
  onRequest: (socket: Socket, req: RawRequest, conn: number) => void,
): Promise<RawUpstream> {
  const sockets: Socket[] = [];
  const bytes: string[] = [];
  const state = { closed: 0 };
  const server: NetServer = createNetServer((socket) => {
    const conn = sockets.length;
    sockets.push(socket);
    bytes.push('');
    socket.on('error', () => {});
    socket.on('close', () => state.closed++);
    let pending = '';
    let seq = 0;
    socket.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      bytes[conn] += s;
      pending += s;
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.slice(0, end + 4);
        let total = head.length;
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const term = pending.indexOf('0\r\n\r\n', head.length);
          if (term < 0) return;
          total = term + 5;
        } else if (cl) {
          total += Number(cl[1]);
          if (pending.length < total) return;
        }
        const wire = pending.slice(0, total);
        pending = pending.slice(total);
        onRequest(socket, { wire, head, method: head.slice(0, head.indexOf(' ')), seq: seq++ }, conn);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    bytes,
    get closed() {
      return state.closed;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const OK = (body = 'ok') => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

async function httpUpstream(
  handler: Parameters<typeof createHttpServer>[1],
): Promise<{ server: HttpServer; port: number; connections: () => number; close(): Promise<void> }> {
  const server = createHttpServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Keep-alive and concurrency

test('keep-alive: 20 sequential requests use one upstream connection', async () => {
  const up = await httpUpstream((req, res) => res.end(`you asked ${req.url}`));
  const pool = newPool(up.port);
  try {
    for (let i = 0; i < 20; i++) {
      const r = await run(pool, { path: `/n/${i}` });
      assert.equal(r.error, undefined);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), `you asked /n/${i}`);
    }
    assert.equal(up.connections(), 1);
    assert.equal(pool.size, 1);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('concurrency is bounded by maxConnections: 30 concurrent requests, at most 4 connections, all succeed', async () => {
  let open = 0;
  let peak = 0;
  const up = await httpUpstream((req, res) => {
    open++;
    peak = Math.max(peak, open);
    setTimeout(() => {
      open--;
      res.end(req.url);
    }, 15);
  });
  const pool = newPool(up.port, { maxConnections: 4 });
  try {
    const all = await Promise.all(Array.from({ length: 30 }, (_, i) => run(pool, { path: `/c/${i}` })));
    all.forEach((r, i) => {
      assert.equal(r.error, undefined, `request ${i}: ${String(r.error)}`);
      assert.equal(r.body.toString(), `/c/${i}`);
    });
    assert.ok(up.connections() <= 4, `${up.connections()} connections`);
    assert.ok(peak <= 4, `${peak} requests in flight at the upstream`);
    assert.ok(peak >= 2, 'requests did run in parallel');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('idle connections are closed after keepAliveTimeout', async () => {
  const up = await rawUpstream((s) => s.write(OK()));
  const pool = newPool(up.port, { keepAliveTimeout: 100 });
  try {
    assert.equal((await run(pool)).status, 200);
    assert.equal(pool.size, 1);
    await waitFor(() => up.closed === 1, 1000, 'the idle connection to close');
    assert.equal(pool.size, 0);
    // And the pool still works afterwards, on a new connection.
    assert.equal((await run(pool)).status, 200);
    assert.equal(up.sockets.length, 2);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Request bytes

test('the request line and headers are sent exactly, in order and case as given', async () => {
  const seen: string[] = [];
  const up = await rawUpstream((s, req) => {
    seen.push(req.wire);
    s.write(OK());
  });
  const pool = newPool(up.port);
  try {
    const r = await run(pool, {
      method: 'GET',
      path: '/a/b?x=1&y=%20',
      headers: ['Host', 'app.internal:8080', 'X-B', '2', 'x-a', '1', 'X-A', 'dup', 'Empty', ''],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(seen, [
      'GET /a/b?x=1&y=%20 HTTP/1.1\r\nHost: app.internal:8080\r\nX-B: 2\r\nx-a: 1\r\nX-A: dup\r\nEmpty: \r\n\r\n',
    ]);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a POST without a body says content-length: 0; a DELETE without a body adds nothing', async () => {
  const seen: string[] = [];
  const up = await rawUpstream((s, req) => {
    seen.push(req.wire);
    s.write(OK());
  });
  const pool = newPool(up.port);
  try {
    assert.equal((await run(pool, { method: 'POST', path: '/p', headers: ['Host', 'h'] })).status, 200);
    assert.equal((await run(pool, { method: 'DELETE', path: '/d', headers: ['Host', 'h'] })).status, 200);
    assert.deepEqual(seen, [
      'POST /p HTTP/1.1\r\nHost: h\r\ncontent-length: 0\r\n\r\n',
      'DELETE /d HTTP/1.1\r\nHost: h\r\n\r\n',
    ]);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a body stream without contentLength is sent chunked (empty chunks never end it early)', async () => {
  const seen: string[] = [];
  const up = await rawUpstream((s, req) => {
    seen.push(req.wire);
    s.write(OK());
  });
  const pool = newPool(up.port);
  try {
    const body = Readable.from([Buffer.from('hello'), Buffer.alloc(0), Buffer.from(' chunked world!')]);
    const r = await run(pool, { method: 'PUT', path: '/up', headers: ['Host', 'h'], body });
    assert.equal(r.status, 200);
    assert.deepEqual(seen, [
      'PUT /up HTTP/1.1\r\nHost: h\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nf\r\n chunked world!\r\n0\r\n\r\n',
    ]);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a body with contentLength is sent raw after the Content-Length the caller gave', async () => {
  const seen: string[] = [];
  const up = await rawUpstream((s, req) => {
    seen.push(req.wire);
    s.write(OK());
  });
  const pool = newPool(up.port);
  try {
    const body = Readable.from([Buffer.from('abc'), Buffer.from('\r\n0\r\n\r\n')]);
    const r = await run(pool, {
      method: 'POST',
      path: '/form',
      headers: ['Host', 'h', 'Content-Length', '10'],
      body,
      contentLength: 10,
    });
    assert.equal(r.status, 200);
    // The client writes the framing itself, from `contentLength` (the caller's field is dropped).
    assert.deepEqual(seen, ['POST /form HTTP/1.1\r\nHost: h\r\ncontent-length: 10\r\n\r\nabc\r\n0\r\n\r\n']);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a chunked upload reaches a node:http upstream intact, and the connection is reused after it', async () => {
  const up = await httpUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () =>
      res.end(`${req.headers['transfer-encoding']}:${Buffer.concat(chunks).toString('hex')}`),
    );
  });
  const pool = newPool(up.port);
  try {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(i * 37 + 1, i));
    const r = await run(pool, {
      method: 'POST',
      path: '/',
      headers: ['Host', 'h'],
      body: Readable.from(parts),
    });
    assert.equal(r.body.toString(), `chunked:${Buffer.concat(parts).toString('hex')}`);
    assert.equal((await run(pool)).status, 200);
    assert.equal(up.connections(), 1);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Header injection

test('header injection is refused and nothing reaches the upstream', async () => {
  const up = await rawUpstream((s) => s.write(OK()));
  const pool = newPool(up.port);
  try {
    const cases: Array<[Partial<H1Request>, string]> = [
      [{ headers: ['Host', 'h', 'X-Evil', 'a\r\nX-Injected: 1'] }, 'ERR_INVALID_HEADER'],
      [{ headers: ['Host', 'h', 'X-Evil', 'a\nb'] }, 'ERR_INVALID_HEADER'],
      [{ headers: ['Host', 'h', 'X-Evil', 'a\0b'] }, 'ERR_INVALID_HEADER'],
      [{ headers: ['Host', 'h', 'Bad Name', 'v'] }, 'ERR_INVALID_HEADER'],
      [{ headers: ['Host', 'h', 'X-Colon:', 'v'] }, 'ERR_INVALID_HEADER'],
      [{ headers: ['Host', 'h', '', 'v'] }, 'ERR_INVALID_HEADER'],
      [{ path: '/a b' }, 'ERR_INVALID_REQUEST_TARGET'],
      [{ path: '/a\r\nX-Injected: 1' }, 'ERR_INVALID_REQUEST_TARGET'],
      [{ method: 'GET /x HTTP/1.1\r\n' }, 'ERR_INVALID_REQUEST_TARGET'],
    ];
    for (const [req, code] of cases) {
      const r = await run(pool, req);
      assert.equal(r.error?.code, code, JSON.stringify(req));
      assert.ok(r.error instanceof H1Error, 'r.error instanceof H1Error');
      assert.deepEqual(r.events, ['error']);
    }
    assert.deepEqual(
      up.bytes.filter((b) => b !== ''),
      [],
      'not a byte written upstream',
    );
    // The pool is still usable, on the same connection.
    assert.equal((await run(pool)).status, 200);
    assert.ok(up.sockets.length <= 1, 'up.sockets.length <= 1');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Stale keep-alive connections

/** Answers the first request on each connection, then closes the connection at the next one. */
const closesOnSecondRequest = (s: Socket, req: RawRequest) => {
  if (req.seq === 0) s.write(OK(`conn${req.method}`));
  else s.destroy();
};

test('stale keep-alive: a GET on a connection the upstream just closed is retried once on a new one', async () => {
  const up = await rawUpstream(closesOnSecondRequest);
  const pool = newPool(up.port);
  try {
    const first = await run(pool);
    assert.equal(first.status, 200);
    const second = await run(pool, { path: '/again' });
    assert.equal(second.error, undefined);
    assert.equal(second.status, 200);
    assert.deepEqual(second.events, ['headers', 'data', 'complete']);
    assert.equal(up.sockets.length, 2, 'retried on a second connection');
    assert.match(up.bytes[0] as string, /GET \/again /, 'the first attempt did reach the stale connection');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('stale keep-alive: an idle connection the upstream closed is not used for the next request', async () => {
  const up = await rawUpstream((s, req) => {
    if (req.seq === 0) s.end(OK()); // no Connection: close, then FIN
  });
  const pool = newPool(up.port);
  try {
    assert.equal((await run(pool)).status, 200);
    await waitFor(() => pool.size === 0, 1000, 'the pool to drop the closed connection');
    const r = await run(pool);
    assert.equal(r.status, 200);
    assert.equal(up.sockets.length, 2);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('stale keep-alive: a POST with a body is not retried and fails', async () => {
  const up = await rawUpstream(closesOnSecondRequest);
  const pool = newPool(up.port);
  try {
    assert.equal((await run(pool)).status, 200);
    const r = await run(pool, {
      method: 'POST',
      headers: ['Host', 'h', 'Content-Length', '4'],
      body: Readable.from([Buffer.from('data')]),
      contentLength: 4,
    });
    assert.deepEqual(r.events, ['error']);
    assert.ok(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'].includes(r.error?.code ?? ''), String(r.error?.code));
    assert.equal(up.sockets.length, 1, 'never sent again');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a GET that fails on a fresh connection is not retried', async () => {
  const up = await rawUpstream((s) => s.destroy());
  const pool = newPool(up.port);
  try {
    const r = await run(pool);
    assert.deepEqual(r.events, ['error']);
    assert.equal(up.sockets.length, 1);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Timeouts and failures

test('headers timeout: an upstream that accepts and never answers fails with UND_ERR_HEADERS_TIMEOUT', async () => {
  const up = await rawUpstream(() => {});
  const pool = newPool(up.port, { headersTimeout: 200 });
  try {
    const t0 = performance.now();
    const r = await run(pool);
    const ms = performance.now() - t0;
    assert.equal(r.error?.code, 'UND_ERR_HEADERS_TIMEOUT');
    assert.deepEqual(r.events, ['error']);
    assert.ok(ms >= 180 && ms < 800, `${ms} ms`);
    assert.equal(up.sockets.length, 1, 'a timed-out GET is not retried');
    await waitFor(() => up.closed === 1, 1000, 'the connection to be closed');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('body timeout: head and part of the body then silence fails with UND_ERR_BODY_TIMEOUT after onHeaders', async () => {
  const up = await rawUpstream((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst'));
  const pool = newPool(up.port, { bodyTimeout: 200 });
  try {
    const t0 = performance.now();
    const r = await run(pool);
    const ms = performance.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'first');
    assert.deepEqual(r.events, ['headers', 'data', 'error']);
    assert.equal(r.error?.code, 'UND_ERR_BODY_TIMEOUT');
    assert.ok(ms >= 180 && ms < 800, `${ms} ms`);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a slow but steady body is not cut by the body timeout', async () => {
  const up = await rawUpstream(async (s) => {
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < 6; i++) {
      s.write('1\r\n.\r\n');
      await sleep(60);
    }
    s.write('0\r\n\r\n');
  });
  const pool = newPool(up.port, { bodyTimeout: 150 });
  try {
    const r = await run(pool);
    assert.equal(r.error, undefined);
    assert.equal(r.body.toString(), '......');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('the headers timeout runs from the end of the upload, not its start', async () => {
  // An upload that takes longer than headersTimeout while the upstream reads it steadily.
  const up = await httpUpstream((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`got ${n}`));
  });
  const pool = newPool(up.port, { headersTimeout: 250 });
  try {
    const body = new Readable({ read() {} });
    let i = 0;
    const timer = setInterval(() => {
      body.push(Buffer.alloc(1000, 'x'));
      if (++i === 8) {
        clearInterval(timer);
        body.push(null);
      }
    }, 60);
    const r = await run(pool, { method: 'POST', headers: ['Host', 'h'], body });
    clearInterval(timer);
    assert.equal(r.error, undefined, String(r.error?.code));
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'got 8000');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('connection refused surfaces ECONNREFUSED', async () => {
  const pool = newPool(await freePort());
  try {
    const r = await run(pool);
    assert.deepEqual(r.events, ['error']);
    assert.equal(r.error?.code, 'ECONNREFUSED');
    assert.equal(pool.size, 0);
  } finally {
    await pool.destroy();
  }
});

test('the upstream closing mid-body is an error after onHeaders, not a short success', async () => {
  const up = await rawUpstream((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf'));
  const pool = newPool(up.port);
  try {
    const r = await run(pool);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'half');
    assert.deepEqual(r.events, ['headers', 'data', 'error']);
    assert.equal(r.error?.code, 'UND_ERR_SOCKET');
    assert.equal(pool.size, 0);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('the upstream closing mid-chunk is an error too', async () => {
  const up = await rawUpstream((s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel'));
  const pool = newPool(up.port);
  try {
    const r = await run(pool);
    assert.deepEqual(r.events, ['headers', 'data', 'error']);
    assert.equal(r.error?.code, 'UND_ERR_SOCKET');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a malformed response fails with its HPE_* code and the connection is not reused', async () => {
  const up = await rawUpstream((s, _req, conn) => {
    if (conn === 0)
      s.write(
        'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      );
    else s.write(OK('fine'));
  });
  const pool = newPool(up.port);
  try {
    const bad = await run(pool);
    assert.deepEqual(bad.events, ['error']);
    assert.equal(bad.error?.code, 'HPE_UNEXPECTED_CONTENT_LENGTH');
    await waitFor(() => up.closed === 1, 1000, 'the bad connection to be closed');
    const good = await run(pool);
    assert.equal(good.body.toString(), 'fine');
    assert.equal(up.sockets.length, 2);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('an upstream answering with bare-LF line endings fails promptly, not at the headers timeout', async () => {
  const up = await rawUpstream((s) => s.write('HTTP/1.1 200 OK\nContent-Length: 2\n\nok'));
  const pool = newPool(up.port, { headersTimeout: 600 });
  try {
    const t0 = performance.now();
    const r = await run(pool);
    const ms = performance.now() - t0;
    assert.deepEqual(r.events, ['error']);
    assert.match(r.error?.code ?? '', /^HPE_/);
    assert.ok(ms < 300, `${ms} ms`);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Response framing seen through the pool

for (const [kind, response] of [
  ['Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
  ['chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
] as const) {
  test(`bytes after a complete ${kind} response: the outcome does not depend on how TCP splits them`, async () => {
    const extra = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil';
    const outcomes: string[][] = [];
    for (const split of [false, true]) {
      const up = await rawUpstream(async (s) => {
        if (!split) return void s.write(response + extra);
        s.write(response);
        await sleep(50);
        s.write(extra);
      });
      const pool = newPool(up.port);
      try {
        const r = await run(pool);
        assert.equal(r.body.toString(), 'ok', 'the extra bytes never count as body');
        // The connection is out of step: never reused.
        await waitFor(() => up.closed === 1, 1000, 'the connection to be closed');
        outcomes.push(r.events);
      } finally {
        await pool.destroy();
        await up.close();
      }
    }
    assert.deepEqual(outcomes[0], outcomes[1], 'one TCP segment vs two');
  });
}

test('a close-delimited response completes at EOF and its connection is not reused', async () => {
  const up = await rawUpstream((s, _req, conn) => {
    if (conn === 0) s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it');
    else s.write(OK('next'));
  });
  const pool = newPool(up.port);
  try {
    const r = await run(pool);
    assert.deepEqual(r.events.at(-1), 'complete');
    assert.equal(r.body.toString(), 'all of it');
    assert.equal((await run(pool)).body.toString(), 'next');
    assert.equal(up.sockets.length, 2);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('HEAD: a response with Content-Length completes without a body and the connection is reused', async () => {
  const seen: string[] = [];
  const up = await rawUpstream((s, req) => {
    seen.push(req.method);
    if (req.method === 'HEAD') s.write('HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n');
    else s.write(OK('after'));
  });
  const pool = newPool(up.port, { headersTimeout: 1000 });
  try {
    const head = await run(pool, { method: 'HEAD' });
    assert.deepEqual(head.events, ['headers', 'complete']);
    assert.deepEqual(head.raw, ['Content-Length', '12345']);
    const next = await run(pool);
    assert.equal(next.body.toString(), 'after');
    assert.equal(up.sockets.length, 1);
    assert.deepEqual(seen, ['HEAD', 'GET']);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('100 Continue and 103 before the final response: one onHeaders, with the final status', async () => {
  const up = await rawUpstream((s) =>
    s.write(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n!',
    ),
  );
  const pool = newPool(up.port);
  try {
    const r = await run(pool);
    assert.equal(r.status, 201);
    assert.equal(r.statusText, 'Created');
    assert.deepEqual(r.events, ['headers', 'data', 'complete']);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('the reason phrase reaches onHeaders as sent, spaces included', async () => {
  const up = await httpUpstream((_req, res) => {
    res.statusCode = 404;
    res.end('nope');
  });
  const pool = newPool(up.port);
  try {
    const r = await run(pool);
    assert.equal(r.error, undefined, String(r.error?.code));
    assert.equal(r.status, 404);
    assert.equal(r.statusText, 'Not Found');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Backpressure and abort

test('backpressure: after onData returns false, no more onData until resume()', async () => {
  const up = await rawUpstream(async (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\naaaa');
    await sleep(40);
    s.write('bbbb');
    await sleep(40);
    s.write('cccc');
  });
  const pool = newPool(up.port);
  try {
    let calls = 0;
    const running = start(pool, {}, { onData: () => ++calls > 1 });
    await waitFor(() => calls === 1, 1000, 'the first chunk');
    await sleep(200);
    assert.equal(calls, 1, 'paused: the rest of the body is not delivered');
    assert.deepEqual(running.outcome.events, ['headers', 'data']);
    running.exchange.resume();
    const r = await running.done;
    assert.equal(r.body.toString(), 'aaaabbbbcccc');
    assert.equal(r.events.at(-1), 'complete');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('backpressure: a pause longer than bodyTimeout is the client being slow, not the upstream', async () => {
  const up = await rawUpstream(async (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\naaaa');
    await sleep(30);
    s.write('bbbb');
  });
  const pool = newPool(up.port, { bodyTimeout: 150 });
  try {
    let paused = false;
    const running = start(pool, {}, { onData: () => ((paused = true), false) });
    await waitFor(() => paused, 1000, 'the first chunk');
    await sleep(400);
    running.exchange.resume();
    const r = await running.done;
    assert.equal(r.error, undefined, String(r.error?.code));
    assert.equal(r.body.toString(), 'aaaabbbb');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('abort(): the connection is closed and no callback fires afterwards', async () => {
  const up = await rawUpstream(async (s, _req, conn) => {
    if (conn > 0) return void s.write(OK());
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome');
    await sleep(50);
    if (!s.destroyed) s.write('more');
  });
  const pool = newPool(up.port);
  try {
    const running = start(pool);
    await waitFor(() => running.outcome.events.includes('data'), 1000, 'the first chunk');
    running.exchange.abort();
    const seenAtAbort = running.outcome.events.length;
    await waitFor(() => up.closed === 1, 1000, 'the upstream connection to close');
    await sleep(100);
    assert.deepEqual(running.outcome.events.slice(seenAtAbort), [], 'no callback after abort()');
    assert.equal(pool.size, 0);
    running.exchange.abort(); // a second abort is harmless
    // The pool carries on, on a new connection.
    const next = await run(pool);
    assert.deepEqual(next.events, ['headers', 'data', 'complete']);
    assert.equal(up.sockets.length, 2);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('abort() of a queued exchange: it is never sent and never reported', async () => {
  const up = await rawUpstream(async (s) => {
    await sleep(60);
    s.write(OK('slow'));
  });
  const pool = newPool(up.port, { maxConnections: 1 });
  try {
    const first = start(pool, { path: '/first' });
    const second = start(pool, { path: '/second' });
    second.exchange.abort();
    const r = await first.done;
    assert.equal(r.body.toString(), 'slow');
    await sleep(150);
    assert.deepEqual(second.outcome.events, []);
    assert.doesNotMatch(up.bytes.join(''), /\/second/);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Request body stream errors

/** `p`, or 'still pending' after `ms` (a test must not wait for the runner's timeout). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'still pending'> {
  return Promise.race([p, sleep(ms).then(() => 'still pending' as const)]);
}

test('a request body that errors mid-upload fails the exchange with that error and closes the connection', async () => {
  const up = await rawUpstream(() => {});
  const pool = newPool(up.port);
  try {
    const body = new Readable({ read() {} });
    const running = start(pool, { method: 'POST', headers: ['Host', 'h'], body });
    body.push(Buffer.from('partial'));
    await waitFor(() => up.bytes[0]?.includes('partial') ?? false, 1000, 'the first body bytes');
    const boom = new Error('client went away');
    body.destroy(boom);
    const r = await within(running.done, 1000);
    assert.notEqual(r, 'still pending');
    assert.deepEqual(running.outcome.events, ['error']);
    assert.equal(running.outcome.error, boom);
    await waitFor(() => up.closed === 1, 1000, 'the upstream connection to be closed');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a request body that errors while its request waits for a connection is reported, not thrown', async () => {
  const up = await rawUpstream(async (s) => {
    await sleep(100);
    s.write(OK());
  });
  const pool = newPool(up.port, { maxConnections: 1 });
  try {
    const first = start(pool, { path: '/first' });
    const body = new Readable({ read() {} });
    const queued = start(pool, { method: 'POST', path: '/queued', headers: ['Host', 'h'], body });
    const boom = new Error('too large');
    // What forward.ts's limitedBody does when a chunked body passes max_body_size.
    body.destroy(boom);
    assert.equal((await first.done).status, 200);
    const r = await within(queued.done, 1000);
    assert.notEqual(r, 'still pending', 'the queued exchange never heard of its body error');
    assert.deepEqual(queued.outcome.events, ['error']);
    assert.equal(queued.outcome.error, boom);
    assert.doesNotMatch(up.bytes.join(''), /\/queued/);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('a request body that errors while the connection is still being opened is reported, not thrown', async () => {
  const up = await rawUpstream((s) => s.write(OK()));
  const pool = newPool(up.port);
  try {
    const body = new Readable({ read() {} });
    const running = start(pool, { method: 'POST', headers: ['Host', 'h'], body });
    const boom = new Error('too large');
    body.destroy(boom);
    const r = await within(running.done, 1000);
    assert.notEqual(r, 'still pending', 'the exchange never heard of its body error');
    assert.deepEqual(running.outcome.events, ['error']);
    assert.equal(running.outcome.error, boom);
  } finally {
    await pool.destroy();
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Early responses while the request body is still being sent

/** 10 MiB in 64 KiB pieces, one per timer tick; counts what was read from it. */
function slowTenMiB(): { body: Readable; produced: () => number; stop: () => void } {
  const total = 10 * 1024 * 1024;
  const piece = Buffer.alloc(64 * 1024, 'u');
  let produced = 0;
  let timer: NodeJS.Timeout | undefined;
  const body = new Readable({
    read() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        if (produced >= total) return void body.push(null);
        produced += piece.length;
        body.push(piece);
      }, 1);
    },
  });
  return { body, produced: () => produced, stop: () => clearTimeout(timer) };
}

for (const mode of ['ignores the rest', 'ends its side'] as const) {
  test(`early response: the upstream answers 413 and ${mode} during a 10 MiB upload`, async () => {
    // Not rawUpstream: this one must not buffer 10 MiB of request.
    let answered = false;
    const sockets: Socket[] = [];
    const server = createNetServer((s) => {
      sockets.push(s);
      let got = 0;
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got < 100_000 || answered) return;
        answered = true;
        s.write('HTTP/1.1 413 Too-Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!');
        if (mode === 'ignores the rest') s.pause();
        else s.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const pool = newPool((server.address() as AddressInfo).port, { headersTimeout: 3000 });
    const upload = slowTenMiB();
    try {
      const t0 = performance.now();
      const r = await run(pool, {
        method: 'POST',
        path: '/upload',
        headers: ['Host', 'h', 'Content-Length', String(10 * 1024 * 1024)],
        body: upload.body,
        contentLength: 10 * 1024 * 1024,
      });
      assert.equal(r.error, undefined, String(r.error?.code));
      assert.equal(r.status, 413);
      assert.equal(r.statusText, 'Too-Large');
      assert.equal(r.body.toString(), 'too big!');
      assert.deepEqual(r.events, ['headers', 'data', 'complete']);
      assert.ok(performance.now() - t0 < 1500, 'performance.now() - t0 < 1500');
      assert.ok(upload.produced() < 10 * 1024 * 1024, 'the upload was not sent to the end first');
      await waitFor(() => pool.size === 0, 1000, 'the connection to be closed');
    } finally {
      upload.stop();
      await pool.destroy();
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
}

// ---------------------------------------------------------------------------------------------
// close() and destroy()

test('close(): waits for in-flight requests, fails queued and new ones with UND_ERR_CLOSED', async () => {
  const up = await rawUpstream(async (s) => {
    await sleep(100);
    s.write(OK('finished'));
  });
  const pool = newPool(up.port, { maxConnections: 1 });
  try {
    const order: string[] = [];
    const inflight = start(pool, { path: '/inflight' });
    const queued = start(pool, { path: '/queued' });
    void inflight.done.then(() => order.push('in-flight completed'));
    await waitFor(
      () => up.bytes[0]?.includes('/inflight') ?? false,
      1000,
      'the request to reach the upstream',
    );
    await pool.close().then(() => order.push('close resolved'));
    assert.deepEqual(order, ['in-flight completed', 'close resolved']);
    assert.equal((await inflight.done).body.toString(), 'finished');
    assert.equal((await queued.done).error?.code, 'UND_ERR_CLOSED');
    assert.equal(pool.size, 0);
    await waitFor(() => up.closed === 1, 1000, 'the kept-alive connection to be closed once done');
    const late = start(pool);
    assert.deepEqual(late.outcome.events, [], 'reported asynchronously, after request() returned');
    const r = await late.done;
    assert.equal(r.error?.code, 'UND_ERR_CLOSED');
    assert.deepEqual(r.events, ['error']);
    assert.equal(up.sockets.length, 1, 'no new connection after close()');
  } finally {
    await pool.destroy();
    await up.close();
  }
});

test('close() with only idle connections resolves at once and closes them', async () => {
  const up = await rawUpstream((s) => s.write(OK()));
  const pool = newPool(up.port);
  try {
    await run(pool);
    await pool.close();
    await waitFor(() => up.closed === 1, 1000, 'the idle connection to close');
  } finally {
    await up.close();
  }
});

test('destroy(): in-flight requests fail with UND_ERR_DESTROYED', async () => {
  const up = await rawUpstream(() => {});
  const pool = newPool(up.port);
  try {
    const running = start(pool);
    await waitFor(() => up.bytes[0] !== undefined && up.bytes[0] !== '', 1000, 'the request to be sent');
    await pool.destroy();
    const r = await running.done;
    assert.equal(r.error?.code, 'UND_ERR_DESTROYED');
    assert.equal(pool.size, 0);
  } finally {
    await up.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Through the gateway

test('gateway: an upstream response with both Content-Length and Transfer-Encoding is a 502 with a request id', async () => {
  const up = await rawUpstream((s) =>
    s.write(
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    ),
  );
  const gh = await startGatehouse({
    upstreams: { raw: { url: `http://127.0.0.1:${up.port}` } },
    routes: [{ match: { path: '/' }, upstream: 'raw', auth: 'none' }],
  });
  try {
    const r = await get(gh.url, '/smuggle');
    assert.equal(r.status, 502);
    const json = JSON.parse(r.body) as Record<string, unknown>;
    assert.equal(json.error, 'GH_UPSTREAM_BAD_RESPONSE');
    assert.match(String(json.request_id), /^[0-9a-f-]{36}$/);
    assert.equal(r.headers['x-request-id'], json.request_id);
    assert.doesNotMatch(r.body, /hello/);
  } finally {
    await gh.close();
    await up.close();
  }
});

test('gateway: the upstream reason phrase is relayed ("404 Not Found" is not a bad response)', async () => {
  const up = await httpUpstream((_req, res) => {
    res.statusCode = 404;
    res.end('missing');
  });
  const gh = await startGatehouse({
    upstreams: { app: { url: `http://127.0.0.1:${up.port}` } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none' }],
  });
  try {
    const r = await get(gh.url, '/gone');
    assert.equal(r.status, 404);
    assert.equal(r.statusMessage, 'Not Found');
    assert.equal(r.body, 'missing');
  } finally {
    await gh.close();
    await up.close();
  }
});

test('gateway: a chunked body over max_body_size to a cold upstream gets 413 and the gateway keeps serving', async () => {
  const up = await httpUpstream((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const gh = await startGatehouse({
    upstreams: { app: { url: `http://127.0.0.1:${up.port}` } },
    routes: [{ match: { path: '/' }, upstream: 'app', auth: 'none', max_body_size: '1kb' }],
  });
  try {
    // No idle upstream connection yet: the body passes the limit while the pool connects.
    const reply = await raw(
      gh.port,
      `POST /form HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${'y'.repeat(2048)}\r\n0\r\n\r\n`,
      1000,
    );
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.match(reply, /GH_BODY_TOO_LARGE/);
    assert.equal((await get(gh.url, '/after')).body, 'ok');
  } finally {
    await gh.close();
    await up.close();
  }
});

function get(
  base: string,
  path: string,
): Promise<{ status: number; statusMessage: string; headers: Record<string, unknown>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
