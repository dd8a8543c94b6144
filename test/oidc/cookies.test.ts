import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clearCookie,
  cookieNamesWithPrefix,
  readCookie,
  serializeCookie,
  withoutCookies,
} from '../../src/oidc/cookies.js';

test('readCookie finds exact names only, and none when the name is sent twice', () => {
  const h = 'xgatehouse_session=evil; gatehouse_session=good; gatehouse_session=second';
  assert.equal(readCookie(h, 'gatehouse_session'), undefined);
  assert.equal(readCookie('xgatehouse_session=evil; gatehouse_session=good', 'gatehouse_session'), 'good');
  assert.equal(readCookie('gatehouse_session_x=1', 'gatehouse_session'), undefined);
  assert.equal(readCookie(undefined, 'a'), undefined);
  assert.equal(readCookie('a=1;b=2', 'b'), '2');
});

test('withoutCookies removes the session and every state cookie, keeps the rest, and drops an emptied header', () => {
  assert.equal(
    withoutCookies('theme=dark; gh_s=1; gh-state-abc=x; lang=en', 'gh_s', 'gh-state-'),
    'theme=dark; lang=en',
  );
  assert.equal(withoutCookies('gh_s=1; gh-state-abc=x', 'gh_s', 'gh-state-'), undefined);
  const untouched = 'theme=dark';
  assert.equal(withoutCookies(untouched, 'gh_s', 'gh-state-'), untouched);
  assert.equal(withoutCookies('gh_s_other=1; a=2', 'gh_s', 'gh-state-'), 'gh_s_other=1; a=2');
  assert.deepEqual(cookieNamesWithPrefix('a=1; gh-state-1=x; gh-state-2=y', 'gh-state-'), [
    'gh-state-1',
    'gh-state-2',
  ]);
});

test('cookies are HttpOnly, SameSite=Lax, Path=/, Secure on https, never with a Domain', () => {
  assert.equal(
    serializeCookie('__Host-gatehouse', 'v', { secure: true, maxAge: 60 }),
    '__Host-gatehouse=v; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=60',
  );
  assert.match(
    clearCookie('x', false),
    /^x=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970/,
  );
});
