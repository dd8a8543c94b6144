import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';

// Bearer tokens through the whole gateway: claim rules, insufficient_scope, Entra groups overage.
let idp: IdpServer;
let up: RecordingUpstream;
let gh: TestGateway;

before(async () => {
  idp = await startIdp();
  up = await startUpstream();
  gh = await startGatehouse({
    providers: {
      entra: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri, preset: 'entra' },
    },
    upstreams: { app: { url: up.url } },
    policies: {
      'report-admins': { rules: [{ name: 'admins', effect: 'allow', when: { group: 'Report-Admins' } }] },
    },
    routes: [
      {
        name: 'orders',
        match: { path: '/orders' },
        upstream: 'app',
        auth: 'bearer',
        rules: [
          {
            name: 'write',
            effect: 'allow',
            when: { token_kind: 'client', scopes_all: ['orders.read', 'orders.write'] },
          },
        ],
      },
      {
        name: 'reports',
        match: { path: '/reports' },
        upstream: 'app',
        auth: 'bearer',
        policy: 'report-admins',
      },
      {
        name: 'tenant',
        match: { path: '/tenant' },
        upstream: 'app',
        auth: 'bearer',
        rules: [
          {
            name: 'other-tenants',
            effect: 'deny',
            when: { not: { claim: { path: 'tid', equals: 'tenant-a' } } },
          },
          { name: 'everyone', effect: 'allow', when: { authenticated: true } },
        ],
      },
    ],
  });
});
after(async () => {
  await gh.close();
  await up.close();
  await idp.close();
});

const last = () => gh.audit[gh.audit.length - 1]!;

test('a machine token with every scope is forwarded', async () => {
  const t = await idp.token({ idtyp: 'app', scp: 'orders.read orders.write', azp: 'erp' });
  const r = await send(gh.url, '/orders/1', { headers: { authorization: `Bearer ${t}` } });
  assert.equal(r.status, 200);
  assert.deepEqual([last().decision, last().rule, last().client_id], ['allow', 'orders/write', 'erp']);
});

test('a machine token lacking a scope: 403 insufficient_scope naming it, nothing forwarded, one event', async () => {
  const n = up.received.length;
  const events = gh.audit.length;
  const t = await idp.token({ idtyp: 'app', scp: 'orders.read', azp: 'reporting' });
  const r = await send(gh.url, '/orders/1', { method: 'POST', headers: { authorization: `Bearer ${t}` } });
  assert.equal(r.status, 403);
  assert.equal(r.json().error, 'GH_INSUFFICIENT_SCOPE');
  assert.equal(r.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="orders.write"');
  assert.ok(!r.body.includes(t), 'the token is never echoed');
  assert.equal(up.received.length, n);
  assert.equal(gh.audit.length, events + 1);
  assert.deepEqual(last().reasons.slice(0, 2), ['rule.default_deny', 'scope.missing:orders.write']);
  assert.ok(!JSON.stringify(gh.audit).includes(t.split('.')[2]!), 'no token in the audit trail');
});

test('Entra groups overage is reported as the reason, not silently "no groups"', async () => {
  const t = await idp.token({ scp: 'user_impersonation', hasgroups: true, oid: 'alice-oid' });
  const r = await send(gh.url, '/reports/q1', { headers: { authorization: `Bearer ${t}` } });
  assert.equal(r.status, 403);
  assert.equal(r.json().error, 'GH_ACCESS_DENIED');
  assert.equal(last().subject, 'alice-oid');
  assert.deepEqual(last().reasons.slice(0, 3), [
    'rule.default_deny',
    'groups.overage',
    'group.missing:Report-Admins',
  ]);
  const member = await idp.token({ scp: 'user_impersonation', groups: ['Report-Admins'] });
  assert.equal(
    (await send(gh.url, '/reports/q1', { headers: { authorization: `Bearer ${member}` } })).status,
    200,
  );
});

test('a deny rule on a claim beats the allow-everyone rule', async () => {
  const a = await idp.token({ scp: 'x', tid: 'tenant-a' });
  const b = await idp.token({ scp: 'x', tid: 'tenant-b' });
  assert.equal((await send(gh.url, '/tenant', { headers: { authorization: `Bearer ${a}` } })).status, 200);
  const r = await send(gh.url, '/tenant', { headers: { authorization: `Bearer ${b}` } });
  assert.equal(r.status, 403);
  assert.deepEqual([last().rule, last().reasons[0]], ['tenant/other-tenants', 'rule.deny']);
});

test('no token: 401 with a Bearer challenge and no error attribute (RFC 6750 §3)', async () => {
  const r = await send(gh.url, '/orders/1');
  assert.equal(r.status, 401);
  assert.match(
    String(r.headers['www-authenticate']),
    /^Bearer resource_metadata="[^"]+", realm="gatehouse"$/,
  );
  assert.doesNotMatch(String(r.headers['www-authenticate']), /error=/);
});
