import { test } from 'node:test';
import assert from 'node:assert/strict';
import { valueEncoding } from '../../src/identity/encode.js';
import { identityMutator, type IdentityPlan } from '../../src/identity/inject.js';
import { compileTemplate, type CompiledTemplate } from '../../src/identity/template.js';
import { isGatehouseError } from '../../src/errors/index.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { Principal } from '../../src/pipeline/principal.js';
import { userPrincipal } from './fixtures.js';

const enc = valueEncoding('percent');
const header = (name: string, t: string) => ({
  name,
  render: compileTemplate(t, enc, ',') as CompiledTemplate,
});

function plan(maxBytes = 8192): IdentityPlan {
  return {
    headers: [
      header('X-Auth-User', '{sub}'),
      header('X-Auth-Email', '{email}'),
      header('X-Auth-Groups', '{groups}'),
    ],
    forwardToken: 'auto',
    maxBytes,
    encoding: enc,
    easyAuth: undefined,
    clientCertHeaders: false,
    assertion: undefined,
  };
}

function run(m: ReturnType<typeof identityMutator>, p: Principal): Map<string, string> {
  const ctx = { principal: p, inject: new Map<string, string>(), drop: new Set<string>(), extra: {} };
  m.mutate(ctx as unknown as RequestContext);
  return ctx.inject;
}

test('a principal that serves many requests (a cached token) gets the same identity headers every time', () => {
  const m = identityMutator(plan());
  const alice = userPrincipal();
  const first = run(m, alice);
  assert.deepEqual(Object.fromEntries(first), {
    'X-Auth-User': alice.subject,
    'X-Auth-Email': 'alice@example.com',
    'X-Auth-Groups': 'g-admins,g-finance,g-staff',
  });
  for (let i = 0; i < 3; i++) assert.deepEqual(run(m, alice), first);
  // Another principal object renders its own values, and a missing value still omits its header.
  const bob = userPrincipal({ subject: 'bob', email: undefined, groups: ['g-b'] });
  assert.deepEqual(Object.fromEntries(run(m, bob)), { 'X-Auth-User': 'bob', 'X-Auth-Groups': 'g-b' });
  assert.deepEqual(run(m, alice), first);
});

test('the size limit applies on every request, also when the values were rendered before', () => {
  const m = identityMutator(plan(40));
  const alice = userPrincipal();
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => run(m, alice),
      (e: unknown) => isGatehouseError(e) && e.code === 'GH_IDENTITY_TOO_LARGE',
    );
  }
});
