import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCookie } from 'cookie';
import {
  clearCookieVariants,
  cookieNamesWithPrefix,
  cookieValues,
  forEachCookie,
  readCookie,
} from '../../src/oidc/cookies.js';
import { fcParameters, fuzzSettings } from '../helpers/fuzz.js';

const NAME = 'gatehouse_session';

test('a cookie value containing " <session-cookie-name>=X" is not read as the session cookie (the old bug)', () => {
  // The previous scanner accepted the name after any space or tab, inside another cookie's value.
  assert.equal(readCookie(`theme=dark ${NAME}=planted`, NAME), undefined);
  assert.equal(readCookie(`theme="a\t${NAME}=planted"`, NAME), undefined);
  assert.equal(readCookie(`x=1 ${NAME}=planted; ${NAME}=real`, NAME), 'real');
  assert.equal(readCookie(`${NAME}x=1; x${NAME}=2`, NAME), undefined, 'exact names only');
  assert.equal(readCookie(`GATEHOUSE_SESSION=1`, NAME), undefined, 'names are case-sensitive');
  assert.equal(readCookie(` \t${NAME} \t= \tv1 \t; a=2`, NAME), 'v1', 'optional whitespace trimmed');
});

test('two cookies with the same name are ambiguous: readCookie returns none, cookieValues lists both', () => {
  const h = `${NAME}=host-cookie; other=1; ${NAME}=parent-domain-cookie`;
  assert.equal(readCookie(h, NAME), undefined);
  assert.deepEqual(cookieValues(h, NAME), ['host-cookie', 'parent-domain-cookie']);
  assert.deepEqual(cookieNamesWithPrefix('gh-state-a=1; gh-state-b=2; gh-state-a=3', 'gh-state-'), [
    'gh-state-a',
    'gh-state-b',
  ]);
});

test('clearing an ambiguous cookie covers host-only, every parent domain and every ancestor path', () => {
  const v = clearCookieVariants(NAME, 'hr.corp.example.com', '/app/reports/q3', true);
  for (const d of ['hr.corp.example.com', 'corp.example.com', 'example.com'])
    for (const p of ['/', '/app', '/app/reports', '/app/reports/q3'])
      assert.ok(
        v.includes(
          `${NAME}=; Path=${p}; HttpOnly; SameSite=Lax; Domain=${d}; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
        ),
        `${d} ${p}`,
      );
  assert.ok(
    v.includes(
      `${NAME}=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`,
    ),
    'v.includes(`${NAME}=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`)',
  );
  assert.ok(!v.some((c) => c.includes('Domain=com')), 'never a top-level domain');
  const host = clearCookieVariants('__Host-gatehouse', 'hr.corp.example.com', '/a/b', true);
  assert.ok(
    host.every((c) => !c.includes('Domain=') && c.includes('Path=/;')),
    '__Host- cookies only exist host-only on /',
  );
  assert.ok(
    clearCookieVariants(NAME, '127.0.0.1', '/', false).every((c) => !c.includes('Domain=')),
    "clearCookieVariants(NAME, '127.0.0.1', '/', false).every((c) => !c.includes('Domain='))",
  );
});

// Headers drawn from the characters that matter to a Cookie parser.
const headerArb = fc
  .array(fc.constantFrom(';', '=', ' ', '\t', '"', 'a', 'b', 'A', NAME, `${NAME}=`, 'x=1', '%41', ','), {
    maxLength: 24,
  })
  .map((parts) => parts.join(''));

test('differential: the parser agrees with the `cookie` package (first value per name, same names)', () => {
  const s = fuzzSettings(3000);
  fc.assert(
    fc.property(headerArb, (h) => {
      const ref = parseCookie(h, { decode: (x) => x });
      const mine = new Map<string, string>();
      forEachCookie(h, (n, v) => {
        if (!mine.has(n)) mine.set(n, v);
      });
      // `cookie` needs at least 2 characters; shorter headers hold no `name=value` with a name.
      if (h.length < 2) return [...mine.keys()].every((k) => k === '');
      assert.deepEqual(Object.keys(ref).sort(), [...mine.keys()].sort(), h);
      for (const [k, v] of mine) assert.equal(ref[k], v, `${JSON.stringify(h)} ${k}`);
      assert.deepEqual(cookieValues(h, NAME)[0], ref[NAME]);
    }),
    fcParameters(s),
  );
});
