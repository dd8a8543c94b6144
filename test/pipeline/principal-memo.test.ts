import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoGet, memoized, memoSet, withMemo, type Principal } from '../../src/pipeline/principal.js';
import { valueEncoding } from '../../src/identity/encode.js';
import { identityMutator } from '../../src/identity/inject.js';
import { compileTemplate, type CompiledTemplate } from '../../src/identity/template.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import { sessionPrincipal } from '../../src/oidc/principal.js';
import { userPrincipal } from '../identity/fixtures.js';

// Values derived from one principal (identity headers, the audit line's principal members, a
// signed assertion) live on the principal itself, not in a WeakMap keyed by it: see
// pipeline/principal.ts for the collector measurement behind that.

const enc = valueEncoding('percent');
const groupsHeader = identityMutator({
  headers: [{ name: 'X-Auth-Groups', render: compileTemplate('{groups}', enc, ',') as CompiledTemplate }],
  forwardToken: 'auto',
  maxBytes: 8192,
  encoding: enc,
  easyAuth: undefined,
  clientCertHeaders: false,
  assertion: undefined,
});

function headersFor(p: Principal): Record<string, string> {
  const ctx = { principal: p, inject: new Map<string, string>(), drop: new Set<string>(), extra: {} };
  groupsHeader.mutate(ctx as unknown as RequestContext);
  return Object.fromEntries(ctx.inject);
}

test('a derived value is made once per principal and owner, and each owner keeps its own', () => {
  const p = userPrincipal();
  const a = {};
  const b = {};
  let made = 0;
  const make = () => `v${++made}`;
  assert.equal(memoized(p, a, make), 'v1');
  assert.equal(memoized(p, a, make), 'v1', 'the second use reads the memo');
  assert.equal(memoized(p, b, make), 'v2', 'another owner makes its own value');
  assert.equal(memoized(userPrincipal(), a, make), 'v3', 'another principal object too');
  assert.equal(made, 3);
});

test('the memo never shows: not in JSON, keys or copies; a copied principal starts without values', () => {
  const p = userPrincipal();
  memoSet(p, {}, 'secret-ish derived value');
  assert.ok(!JSON.stringify(p).includes('derived'), 'JSON carries no memo');
  assert.deepEqual(Object.keys(p), Object.keys({ ...p }), 'no extra key');
  assert.deepEqual(Object.getOwnPropertySymbols({ ...p }), [], 'a spread copy has no memo slot');
  // A principal derived by copying with other groups (as the session principal is made from the
  // token's) must render its own headers, never the original's.
  assert.deepEqual(headersFor(p), { 'X-Auth-Groups': 'g-admins,g-finance,g-staff' });
  const copy: Principal = { ...p, groups: ['g-other'] };
  assert.deepEqual(headersFor(copy), { 'X-Auth-Groups': 'g-other' });
  assert.deepEqual(headersFor(withMemo({ ...p, groups: ['g-third'] })), { 'X-Auth-Groups': 'g-third' });
  assert.deepEqual(
    headersFor(p),
    { 'X-Auth-Groups': 'g-admins,g-finance,g-staff' },
    'the original is intact',
  );
});

test('the session principal gets a memo of its own, not the mapped token principal’s', () => {
  const token = userPrincipal();
  assert.deepEqual(headersFor(token), { 'X-Auth-Groups': 'g-admins,g-finance,g-staff' });
  const s = sessionPrincipal(
    token.claims as Record<string, unknown>,
    () => ({ ...token, groups: ['g-finance'] }),
    {
      provider: 'corp',
      sessionId: 'session-1',
      expiresAt: Date.now() + 3600_000,
      maxGroups: 200,
      referencedGroups: new Set(['g-finance']),
    },
  );
  assert.deepEqual(headersFor(s), { 'X-Auth-Groups': 'g-finance' });
  const owner = {};
  memoSet(s, owner, 'kept');
  assert.equal(memoGet(s, owner), 'kept', 'the session principal has a memo slot');
  assert.equal(memoGet(token, owner), undefined, 'separate from the token principal’s');
});

test('a principal made without a memo slot keeps nothing and makes the value on every use', () => {
  const { ...plain } = userPrincipal();
  const owner = {};
  let made = 0;
  memoized(plain as Principal, owner, () => ++made);
  memoized(plain as Principal, owner, () => ++made);
  assert.equal(made, 2);
  assert.equal(memoGet(plain as Principal, owner), undefined);
});

test('owners per principal are bounded: past eight (routes rebuilt by reloads), the oldest goes', () => {
  const p = userPrincipal();
  const owners = Array.from({ length: 9 }, () => ({}));
  owners.forEach((o, i) => memoSet(p, o, i));
  assert.equal(memoGet(p, owners[0]!), undefined, 'the first owner was dropped');
  for (let i = 1; i < 9; i++) assert.equal(memoGet(p, owners[i]!), i);
  memoSet(p, owners[5]!, 'updated');
  assert.equal(memoGet(p, owners[5]!), 'updated', 'an owner replaces its own value in place');
});
