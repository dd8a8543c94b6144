import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send, raw } from '../helpers/http.js';

let up: RecordingUpstream;
let gh: TestGateway;

before(async () => {
  up = await startUpstream();
  gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    routes: [
      { name: 'app', match: { path: '/app' }, upstream: 'app', auth: 'none' },
      {
        name: 'api',
        match: { host: 'api.example.com', path: '/' },
        upstream: 'app',
        auth: 'none',
        preserve_host: false,
      },
      { name: 'wild', match: { host: '*.example.com', path: '/' }, upstream: 'app', auth: 'none' },
      {
        name: 'strip',
        match: { path: '/svc' },
        upstream: 'app',
        auth: 'none',
        strip_prefix: '/svc',
        rewrite_prefix: '/v2',
      },
      {
        name: 'posts',
        match: { path: '/form', methods: ['POST'] },
        upstream: 'app',
        auth: 'none',
        max_body_size: '1kb',
      },
    ],
  });
});
after(async () => {
  await gh.close();
  await up.close();
});

const last = () => up.received[up.received.length - 1]!;

test('forwards a matched request and returns the upstream answer with a request id', async () => {
  const r = await send(gh.url, '/app/page?x=1');
  assert.equal(r.status, 200);
  assert.equal(last().url, '/app/page?x=1');
  assert.match(String(r.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.equal(last().headers['x-request-id'], r.headers['x-request-id']);
});

test('prefix matching respects segment boundaries: /apple is not /app', async () => {
  const n = up.received.length;
  const r = await send(gh.url, '/apple');
  assert.equal(r.status, 404);
  assert.equal(r.json().error, 'GH_ROUTE_NOT_FOUND');
  assert.match(String(r.json().request_id), /^[0-9a-f-]{36}$/);
  assert.equal(up.received.length, n, 'an unmatched request never reaches an upstream');
});

test('browsers get an HTML error page, API clients JSON; neither leaks internals', async () => {
  const html = await send(gh.url, '/nowhere', { headers: { accept: 'text/html,application/xhtml+xml' } });
  assert.equal(html.status, 404);
  assert.match(String(html.headers['content-type']), /text\/html/);
  assert.match(html.body, /GH_ROUTE_NOT_FOUND/);
  assert.doesNotMatch(html.body, /at .*\.ts|127\.0\.0\.1/);
});

test('method restrictions give 405 when the path matches but the method does not', async () => {
  const r = await send(gh.url, '/form', { method: 'GET' });
  assert.equal(r.status, 405);
  assert.equal(r.json().error, 'GH_METHOD_NOT_ALLOWED');
});

test('host routing: exact host beats wildcard; preserve_host false sends the upstream authority', async () => {
  await send(gh.url, '/x', { headers: { host: 'api.example.com' } });
  assert.equal(last().headers.host, new URL(up.url).host);
  assert.equal(last().headers['x-forwarded-host'], 'api.example.com');
  await send(gh.url, '/x', { headers: { host: 'www.example.com' } });
  assert.equal(last().headers.host, 'www.example.com');
});

test('strip_prefix and rewrite_prefix rewrite the forwarded path', async () => {
  await send(gh.url, '/svc/items/1?q=a');
  assert.equal(last().url, '/v2/items/1?q=a');
});

test('the normalised path is what the upstream receives', async () => {
  await send(gh.url, '/app//a/./b/../c/%61%7e');
  assert.equal(last().url, '/app/a/c/a~');
  const n = up.received.length;
  const bad = await send(gh.url, '/app/..%2fadmin');
  assert.equal(bad.status, 400);
  assert.equal(bad.json().error, 'GH_PATH_AMBIGUOUS');
  assert.equal(up.received.length, n);
});

test('hop-by-hop headers and headers named in Connection are removed; forwarding headers are rebuilt', async () => {
  await send(gh.url, '/app', {
    headers: {
      connection: 'keep-alive, x-secret-hop, x-forwarded-for',
      'x-secret-hop': '1',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic abc',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      forwarded: 'for=6.6.6.6',
      te: 'trailers',
    },
  });
  const h = last().headers;
  assert.equal(h['x-secret-hop'], undefined);
  assert.equal(h['keep-alive'], undefined);
  assert.equal(h['proxy-authorization'], undefined);
  assert.equal(h.te, undefined);
  assert.equal(
    h['x-forwarded-for'],
    '127.0.0.1',
    'untrusted client X-Forwarded-For is replaced, not appended',
  );
  assert.equal(h['x-forwarded-proto'], 'http');
  assert.match(String(h.forwarded), /^for=127\.0\.0\.1;host="127\.0\.0\.1:\d+";proto=http$/);
});

test('request smuggling: Content-Length with Transfer-Encoding is rejected and never forwarded', async () => {
  const n = up.received.length;
  const out = await raw(
    gh.port,
    'POST /app HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
  );
  assert.match(out, /^HTTP\/1\.1 400/);
  assert.match(out, /GH_REQUEST_SMUGGLING/);
  const out2 = await raw(
    gh.port,
    'POST /app HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
  );
  assert.match(out2, /^HTTP\/1\.1 400/);
  assert.equal(up.received.length, n);
});

test('bodies over max_body_size get 413, by Content-Length and when chunked', async () => {
  const n = up.received.length;
  const r = await send(gh.url, '/form', { method: 'POST', body: 'x'.repeat(2048) });
  assert.equal(r.status, 413);
  assert.equal(r.json().error, 'GH_BODY_TOO_LARGE');
  const out = await raw(
    gh.port,
    `POST /form HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n${'y'.repeat(2048)}\r\n0\r\n\r\n`,
  );
  assert.match(out, /^HTTP\/1\.1 413/);
  const ok = await send(gh.url, '/form', { method: 'POST', body: 'small' });
  assert.equal(ok.status, 200);
  assert.equal(up.received.length, n + 1 + (up.received.length - n - 1));
});

test('malformed Host and absolute-form targets naming another host are rejected', async () => {
  const a = await raw(
    gh.port,
    'GET http://evil.com/app HTTP/1.1\r\nHost: good.com\r\nConnection: close\r\n\r\n',
  );
  assert.match(a, /^HTTP\/1\.1 400/);
  assert.match(a, /GH_BAD_REQUEST_TARGET/);
  const b = await raw(gh.port, 'GET /app HTTP/1.1\r\nHost: a"b\r\nConnection: close\r\n\r\n');
  assert.match(b, /^HTTP\/1\.1 400/);
});

test('every request produces exactly one audit event carrying its request id', async () => {
  const before = gh.audit.length;
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => send(gh.url, i % 2 ? '/app' : '/nope')));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(gh.audit.length - before, 20);
  const ids = new Set(gh.audit.slice(before).map((e) => e.request_id));
  for (const r of rs)
    assert.ok(ids.has(String(r.headers['x-request-id'])), "ids.has(String(r.headers['x-request-id']))");
});

test('the access log has one line per request with route, status, durations and never the Authorization header', async () => {
  const r = await send(gh.url, '/app/log', {
    headers: { authorization: 'Bearer SECRET-TOKEN', cookie: 'a=SECRETCOOKIE' },
  });
  await new Promise((res) => setTimeout(res, 20));
  const line = gh.logs.find((l) => l.req_id === r.headers['x-request-id']);
  assert.ok(line, 'access log line present');
  assert.equal(line.route, 'app');
  assert.equal(line.status, 200);
  assert.equal(typeof line.duration_ms, 'number');
  assert.equal(typeof line.upstream_ms, 'number');
  assert.doesNotMatch(JSON.stringify(gh.logs), /SECRET-TOKEN|SECRETCOOKIE/);
});
