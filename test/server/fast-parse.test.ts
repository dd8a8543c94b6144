import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHead, type FastHead } from '../../src/server/fast/parse.js';

const MAX = 4096;

function parse(head: string | Buffer, max = MAX) {
  return parseHead(typeof head === 'string' ? Buffer.from(head, 'latin1') : head, max);
}

function accepted(head: string, max = MAX): FastHead {
  const r = parse(head, max);
  assert.equal(typeof r, 'object', `expected a fast head for ${JSON.stringify(head)}, got ${String(r)}`);
  return r as FastHead;
}

test('accepted heads: method, target, trimmed values, raw order and case, lower-cased map', () => {
  const text =
    'GET /a/b?x=1&y=%20#f HTTP/1.1\r\nHost:  app.example.com \r\nX-Mixed-Case:\tv1\t \r\n' +
    'accept: */*\r\nX-Empty:\r\nX-Colon: a:b: c\r\n\r\n';
  const h = accepted(text);
  assert.equal(h.method, 'GET');
  assert.equal(h.url, '/a/b?x=1&y=%20#f');
  assert.equal(h.length, Buffer.byteLength(text));
  assert.deepEqual(h.rawHeaders, [
    'Host',
    'app.example.com',
    'X-Mixed-Case',
    'v1',
    'accept',
    '*/*',
    'X-Empty',
    '',
    'X-Colon',
    'a:b: c',
  ]);
  assert.deepEqual(Object.entries(h.headers), [
    ['host', 'app.example.com'],
    ['x-mixed-case', 'v1'],
    ['accept', '*/*'],
    ['x-empty', ''],
    ['x-colon', 'a:b: c'],
  ]);

  const head = accepted('HEAD / HTTP/1.1\r\nhost: x\r\n\r\n');
  assert.equal(head.method, 'HEAD');
  assert.equal(head.url, '/');

  // Names that collide with Object.prototype members never become fields: Node's parser gets them.
  for (const name of ['__proto__', 'constructor', 'Constructor']) {
    assert.equal(
      parseHead(Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\n${name}: p\r\n\r\n`), 16 * 1024),
      'handover',
      name,
    );
  }
});

test('only the first head is parsed: its length excludes pipelined bytes after it', () => {
  const first = 'GET /one HTTP/1.1\r\nHost: x\r\n\r\n';
  const h = accepted(`${first}GET /two HTTP/1.1\r\nHost: x\r\n\r\nPOST`);
  assert.equal(h.url, '/one');
  assert.equal(h.length, first.length);
});

test('the size and field-count limits are inclusive', () => {
  const base = 'GET / HTTP/1.1\r\nHost: x\r\nX-Pad: \r\n\r\n';
  const exact = base.replace('X-Pad: ', `X-Pad: ${'p'.repeat(MAX - base.length)}`);
  assert.equal(exact.length, MAX);
  assert.equal(accepted(exact).length, MAX);
  assert.equal(parse(exact.replace('X-Pad: ', 'X-Pad: p')), 'handover');

  const fields = (n: number) =>
    `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: n - 1 }, (_, i) => `X-F${i}: ${i}\r\n`).join('')}\r\n`;
  assert.equal(accepted(fields(100)).rawHeaders.length, 200);
  assert.equal(parse(fields(101)), 'handover');
});

test('heads outside the fast subset are handed over to Node', () => {
  const ok = (lines: string) => `GET / HTTP/1.1\r\nHost: x\r\n${lines}\r\n`;
  const cases: Array<[string, string]> = [
    ['Content-Length', ok('Content-Length: 0\r\n')],
    ['Transfer-Encoding', ok('Transfer-Encoding: chunked\r\n')],
    ['Expect', ok('Expect: 100-continue\r\n')],
    ['Upgrade', ok('Upgrade: websocket\r\nConnection: Upgrade\r\n')],
    ['HTTP2-Settings', ok('HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n')],
    // Found by the differential test against llhttp (fast-parse.differential.test.ts).
    ['Proxy-Connection (llhttp closes on its close)', ok('Proxy-Connection: close\r\n')],
    ['Proxy-Connection, any value', ok('proxy-connection: keep-alive\r\n')],
    ['Set-Cookie (an array in Node’s req.headers)', ok('Set-Cookie: a=1\r\n')],
    ['listed names in any case', ok('CONTENT-length: 0\r\n')],
    ['duplicate field', ok('X-A: 1\r\nX-A: 2\r\n')],
    ['duplicate field, different case', ok('X-A: 1\r\nx-a: 2\r\n')],
    ['two Hosts', ok('host: y\r\n')],
    ['two Hosts, same value', ok('HOST: x\r\n')],
    ['no Host', 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n'],
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: x\r\n\r\n'],
    ['HTTP/2 version', 'GET / HTTP/2.0\r\nHost: x\r\n\r\n'],
    ['POST', 'POST / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['OPTIONS', 'OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['lower-case method', 'get / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['absolute-form target', 'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['asterisk target', 'GET * HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['authority target', 'GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['two spaces after method', 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['space in target', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['obs-text in target', 'GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['control byte in target', 'GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['obs-text in value', ok('X-A: caf\xe9\r\n')],
    ['control byte in value', ok('X-A: a\x00b\r\n')],
    ['DEL in value', ok('X-A: a\x7fb\r\n')],
    ['bare CR in value', ok('X-A: a\rb\r\n')],
    ['obs-fold', ok('X-A: 1\r\n  continued\r\n')],
    ['whitespace before colon', ok('X-A : 1\r\n')],
    ['tab before colon', ok('X-A\t: 1\r\n')],
    ['non-token name', ok('X(A): 1\r\n')],
    ['empty name', ok(': 1\r\n')],
    ['line without colon', ok('X-A\r\n')],
    ['bare LF ending a field', ok('X-A: 1\nX-B: 2\r\n')],
    ['bare LF ending the request line', 'GET / HTTP/1.1\nHost: x\r\n\r\n'],
    ['leading empty line', '\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'],
  ];
  for (const [what, head] of cases) assert.equal(parse(head), 'handover', what);
  // Over the limit before the blank line arrived: Node answers 431.
  assert.equal(parse(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(MAX)}`), 'handover');
  assert.equal(parse(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(MAX)}\r\n\r\n`), 'handover');
});

test('heads without their blank line yet are incomplete', () => {
  for (const partial of [
    '',
    'G',
    'GET / HTTP/1.1',
    'GET / HTTP/1.1\r\n',
    'GET / HTTP/1.1\r\nHost: x',
    'GET / HTTP/1.1\r\nHost: x\r\n',
    'GET / HTTP/1.1\r\nHost: x\r\n\r',
    'HEAD /x HTTP/1.1\r\nHost: x\r\nAccept: */',
  ])
    assert.equal(parse(partial), 'incomplete', JSON.stringify(partial));
  // Up to the limit without a terminator: still waiting; one byte more and Node takes it (431).
  const start = 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ';
  assert.equal(parse(start + 'a'.repeat(MAX - start.length)), 'incomplete');
  assert.equal(parse(start + 'a'.repeat(MAX - start.length + 1)), 'handover');
});
