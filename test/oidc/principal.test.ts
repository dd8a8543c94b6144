import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultClaimMapper,
  filterGroups,
  referencedGroups,
  sessionPrincipal,
} from '../../src/oidc/principal.js';
import type { GatehouseConfig } from '../../src/config/schema.js';

test('large group lists are filtered to the groups rules reference before they are stored', () => {
  const many = Array.from({ length: 500 }, (_, i) => `g${i}`);
  const referenced = new Set(['g7', 'g250', 'not-a-member']);
  assert.deepEqual(filterGroups(many, 200, referenced), ['g7', 'g250']);
  assert.equal(filterGroups(['a', 'b'], 200, referenced).length, 2, 'small lists are kept whole');
  assert.equal(filterGroups(many, 200, new Set()).length, 200, 'nothing referenced: capped');
  const p = sessionPrincipal({ sub: 'u', groups: many, nonce: 'n', at_hash: 'h' }, defaultClaimMapper, {
    provider: 'idp',
    sessionId: 'x'.repeat(43),
    expiresAt: 2_000_000_000_000,
    maxGroups: 200,
    referencedGroups: referenced,
  });
  assert.deepEqual(p.groups, ['g7', 'g250']);
  assert.deepEqual(p.claims.groups, ['g7', 'g250'], 'the claims rules can read are filtered too');
  assert.equal(p.claims.nonce, undefined);
  assert.equal(p.method, 'session');
  assert.equal(p.expiresAt, 2_000_000_000);
  assert.ok(!String(p.credentialId).includes('xxxx'), 'the session id is never exposed');
});

test('referencedGroups walks policies and route rules through all/any/not', () => {
  const config = {
    policies: {
      p: {
        rules: [{ effect: 'allow', when: { any: [{ group: 'a' }, { not: { groups_any: ['b', 'c'] } }] } }],
      },
    },
    routes: [{ rules: [{ effect: 'allow', when: { all: [{ groups_all: ['d'] }, { role: 'r' }] } }] }, {}],
  } as unknown as GatehouseConfig;
  assert.deepEqual([...referencedGroups(config)].sort(), ['a', 'b', 'c', 'd']);
});
