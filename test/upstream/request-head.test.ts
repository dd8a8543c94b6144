import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markParsed, requestHead, type H1Request } from '../../src/upstream/h1/request-head.js';

const get = (headers: string[]): H1Request => ({ method: 'GET', path: '/x', headers, body: null });
const refused = (headers: string[]) =>
  assert.throws(
    () => requestHead(get(headers), false),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'ERR_INVALID_HEADER');
      return true;
    },
  );

test('values marked as taken from a parsed request head are written without a second scan; names are still checked', () => {
  const token = `Bearer ${'a'.repeat(900)}`;
  const h = ['Authorization', token, 'Accept', '*/*', 'X-Auth-User', 'alice'];
  markParsed(h, 4);
  assert.equal(
    requestHead(get(h), false),
    `GET /x HTTP/1.1\r\nAuthorization: ${token}\r\nAccept: */*\r\nX-Auth-User: alice\r\n\r\n`,
  );
  const badName = ['Bad Name', 'v'];
  markParsed(badName, 2);
  refused(badName);
});

test('values after the parsed prefix (Gatehouse’s own headers) are still refused when they could break framing', () => {
  for (const v of ['a\r\nX-Injected: 1', 'a\nb', 'a\0b', 'a\u010ab', 'a\x7fb']) {
    const h = ['Accept', '*/*', 'X-Auth-User', v];
    markParsed(h, 2);
    refused(h);
    refused(['Accept', '*/*', 'X-Auth-User', v]);
  }
});

test('an unmarked list (every caller but the proxy path) is checked in full', () => {
  refused(['Host', 'h', 'X-Evil', 'a\r\nX-Injected: 1']);
  const copied = ['Host', 'h', 'X-Evil', 'a\nb'];
  markParsed(copied, 4);
  // A copy (the tunnel appends its own headers to a copy) carries no mark.
  refused([...copied]);
});
