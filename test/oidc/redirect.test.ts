import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed, safeReturnTo } from '../../src/oidc/redirect.js';

const opts = {
  origin: 'https://app.example.com',
  allowedDomains: ['allowed.example.com', '.partner.example.org'],
};

const rejected: readonly string[] = [
  '',
  '//evil.com',
  '//evil.com/path',
  '///evil.com',
  '/\\evil.com',
  '\\\\evil.com',
  '\\/evil.com',
  '/%09/evil.com',
  '/%0a/evil.com',
  '/%0d%0a/evil.com',
  '/%00/evil.com',
  '/%5cevil.com',
  '/%5Cevil.com',
  '/%2f/evil.com',
  '/%2F%2Fevil.com',
  '/%252f%252fevil.com',
  '%2f%2fevil.com',
  '/.//evil.com',
  '/..//evil.com',
  '/%2e%2e//evil.com',
  'evil.com',
  'app?x=1',
  'https://evil.com',
  'https://evil.com/https://app.example.com',
  'https://app.example.com.evil.com',
  'https://app.example.com.evil.com/x',
  'https://allowed.example.com.evil.com/',
  'https://notallowed.example.com/',
  'https://evilpartner.example.org/',
  'https://user@app.example.com/',
  'https://user:pass@app.example.com/',
  'https://app.example.com@evil.com/',
  'https://allowed.example.com@evil.com/',
  'https://@allowed.example.com/',
  'https:evil.com',
  'https:/evil.com',
  'http://app.example.com/',
  'http://allowed.example.com/x',
  'javascript:alert(1)',
  'JavaScript:alert(document.cookie)',
  'javascript://app.example.com/%0aalert(1)',
  'data:text/html,<script>alert(1)</script>',
  'vbscript:msgbox',
  'file:///etc/passwd',
  'ftp://allowed.example.com/',
  '/\tevil',
  '/a\nb',
  '/a\rb',
  '\t/app',
  '/app ',
  ' /app',
  '/\u0000',
  'https://allowed.example.com/\t',
  'https://allow\ted.example.com/',
  '/%',
  '/%zz',
  `/${'a'.repeat(5000)}`,
];

for (const target of rejected) {
  test(`safeReturnTo rejects ${JSON.stringify(target).slice(0, 60)}`, () => {
    assert.equal(safeReturnTo(target, opts), undefined);
  });
}

const accepted: ReadonlyArray<readonly [string, string]> = [
  ['/', '/'],
  ['/app?x=1', '/app?x=1'],
  ['/app/page?x=1&y=%2F#frag', '/app/page?x=1&y=%2F#frag'],
  ['/a/./b/../c', '/a/c'],
  ['/files/a%2Fb', '/files/a%2Fb'],
  ['/my%20docs', '/my%20docs'],
  ['/caf%C3%A9', '/caf%C3%A9'],
  ['https://app.example.com/dashboard?tab=2', '/dashboard?tab=2'],
  ['HTTPS://APP.EXAMPLE.COM/x', '/x'],
  ['https://allowed.example.com/x', 'https://allowed.example.com/x'],
  ['https://ALLOWED.example.com:8443/x?y=1', 'https://allowed.example.com:8443/x?y=1'],
  ['https://partner.example.org/', 'https://partner.example.org/'],
  ['https://a.b.partner.example.org/p', 'https://a.b.partner.example.org/p'],
];

for (const [target, expected] of accepted) {
  test(`safeReturnTo accepts ${JSON.stringify(target)}`, () => {
    assert.equal(safeReturnTo(target, opts), expected);
  });
}

test('safeReturnTo: undefined target and an unparsable origin give undefined', () => {
  assert.equal(safeReturnTo(undefined, opts), undefined);
  assert.equal(safeReturnTo('/app', { origin: 'not a url', allowedDomains: [] }), undefined);
});

test('safeReturnTo: plain http is accepted only when Gatehouse itself runs on http (development)', () => {
  const dev = { origin: 'http://127.0.0.1:8080', allowedDomains: ['localhost'] };
  assert.equal(safeReturnTo('http://127.0.0.1:8080/app', dev), '/app');
  assert.equal(safeReturnTo('http://localhost:3000/x', dev), 'http://localhost:3000/x');
  assert.equal(safeReturnTo('http://127.0.0.1:9999/app', dev), undefined, 'another port is another origin');
  assert.equal(safeReturnTo('/app', dev), '/app');
});

test('safeReturnTo: without allowed domains only same-origin targets pass', () => {
  const strict = { origin: 'https://app.example.com', allowedDomains: [] };
  assert.equal(safeReturnTo('https://allowed.example.com/x', strict), undefined);
  assert.equal(safeReturnTo('https://app.example.com:443/x', strict), '/x');
  assert.equal(safeReturnTo('https://app.example.com:8443/x', strict), undefined);
});

test('hostAllowed: exact names and dot-suffixes, case-insensitive, no look-alikes', () => {
  const list = ['portal.example.com', '.corp.example'];
  assert.equal(hostAllowed('PORTAL.example.com', list), true);
  assert.equal(hostAllowed('corp.example', list), true);
  assert.equal(hostAllowed('x.corp.example', list), true);
  assert.equal(hostAllowed('xcorp.example', list), false);
  assert.equal(hostAllowed('portal.example.com.evil', list), false);
  assert.equal(hostAllowed('sub.portal.example.com', list), false);
});
