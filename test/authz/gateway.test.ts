import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { hashApiKey } from '../../src/authn/apikey.js';

// API keys give real principals (kind client, roles, scopes, attributes) through the full pipeline.
const KEYS = {
  reader: 'key-reader-0123456789abcdef',
  writer: 'key-writer-0123456789abcdef',
  banned: 'key-banned-0123456789abcdef',
};

let up: RecordingUpstream;
let gh: TestGateway;

before(async () => {
  up = await startUpstream();
  gh = await startGatehouse({
    upstreams: { app: { url: up.url } },
    api_keys: {
      keys: [
        {
          id: 'k-reader',
          hash: hashApiKey(KEYS.reader),
          client_id: 'reporting',
          scopes: ['orders:read'],
          roles: ['viewer'],
        },
        {
          id: 'k-writer',
          hash: hashApiKey(KEYS.writer),
          client_id: 'erp',
          scopes: ['orders:read', 'orders:write'],
          roles: ['viewer'],
        },
        {
          id: 'k-banned',
          hash: hashApiKey(KEYS.banned),
          client_id: 'old-bot',
          scopes: ['orders:read', 'orders:write'],
          attributes: { env: 'legacy' },
        },
      ],
    },
    policies: {
      machines: {
        rules: [
          { name: 'no-legacy', effect: 'deny', when: { claim: { path: 'env', equals: 'legacy' } } },
          {
            name: 'readers',
            effect: 'allow',
            when: { token_kind: 'client', methods: ['GET', 'HEAD'], scope: 'orders:read' },
          },
          {
            name: 'writers',
            effect: 'allow',
            when: { token_kind: 'client', methods: ['POST', 'PUT', 'DELETE'], scope: 'orders:write' },
          },
        ],
      },
    },
    routes: [
      { name: 'orders', match: { path: '/orders' }, upstream: 'app', auth: 'apikey', policy: 'machines' },
      {
        name: 'office',
        match: { path: '/office' },
        upstream: 'app',
        auth: 'none',
        rules: [{ name: 'lan', effect: 'allow', when: { source_ip: '10.0.0.0/8' } }],
      },
      { name: 'open', match: { path: '/open' }, upstream: 'app', auth: 'none' },
    ],
  });
});
after(async () => {
  await gh.close();
  await up.close();
});

const lastEvent = () => gh.audit[gh.audit.length - 1];

test('an allowed request reaches the upstream and is audited with its rule', async () => {
  const r = await send(gh.url, '/orders/1', { headers: { 'x-api-key': KEYS.reader } });
  assert.equal(r.status, 200);
  const ev = lastEvent();
  assert.deepEqual(
    [ev?.decision, ev?.rule, ev?.client_id, ev?.credential_id],
    ['allow', 'machines/readers', 'reporting', 'k-reader'],
  );
  assert.ok(ev?.reasons.includes('rule.allow'), "ev?.reasons.includes('rule.allow')");
});

test('missing scope: 403 insufficient_scope naming the scope, never forwarded', async () => {
  const n = up.received.length;
  const r = await send(gh.url, '/orders/1', { method: 'POST', headers: { 'x-api-key': KEYS.reader } });
  assert.equal(r.status, 403);
  assert.equal(r.json().error, 'GH_ACCESS_DENIED', 'API keys are not bearer tokens: plain 403');
  assert.equal(up.received.length, n);
  const ev = lastEvent();
  assert.deepEqual([ev?.decision, ev?.error, ev?.rule], ['deny', 'GH_ACCESS_DENIED', 'machines']);
  assert.ok(ev?.reasons.includes('rule.default_deny'), "ev?.reasons.includes('rule.default_deny')");
  assert.ok(
    ev?.reasons.includes('scope.missing:orders:write'),
    "ev?.reasons.includes('scope.missing:orders:write')",
  );
});

test('a matching deny rule wins over the allow rules', async () => {
  const r = await send(gh.url, '/orders/1', { headers: { 'x-api-key': KEYS.banned } });
  assert.equal(r.status, 403);
  assert.equal(r.json().error, 'GH_ACCESS_DENIED');
  assert.ok(!r.body.includes('legacy'), 'the rule detail stays out of the response');
  const ev = lastEvent();
  assert.deepEqual([ev?.rule, ev?.reasons.includes('rule.deny')], ['machines/no-legacy', true]);
});

test('no credential: 401 with a request id and no rule details', async () => {
  const r = await send(gh.url, '/orders/1');
  assert.equal(r.status, 401);
  assert.match(String(r.json().request_id), /^[0-9a-f-]{36}$/);
  assert.equal(lastEvent()?.decision, 'deny');
});

test('public route: allowed with route.public', async () => {
  const r = await send(gh.url, '/open');
  assert.equal(r.status, 200);
  assert.ok(lastEvent()?.reasons.includes('route.public'), "lastEvent()?.reasons.includes('route.public')");
});

test('public route with a source_ip rule: enforced, 403 from outside the CIDR', async () => {
  const n = up.received.length;
  const r = await send(gh.url, '/office');
  assert.equal(r.status, 403, 'rules on an auth: none route must be evaluated');
  assert.equal(up.received.length, n);
  assert.equal(lastEvent()?.rule, 'office');
});
