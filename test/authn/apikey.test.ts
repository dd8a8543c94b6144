import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream, type RecordingUpstream } from '../helpers/upstream.js';
import { startGatehouse, type TestGateway } from '../helpers/gatehouse.js';
import { send } from '../helpers/http.js';
import { hashApiKey } from '../../src/authn/apikey.js';

const ACME = 'ak_live_acme_3f9c2a8b7d6e5f4a3b2c1d0e';
const GLOBEX = 'ak_live_globex_9a8b7c6d5e4f3a2b1c0d9e8f';
const OLD = 'ak_live_old_0000000000000000000000000000';
const FILEKEY = 'ak_file_key_1111111111111111111111111111';

let up: RecordingUpstream;
let gh: TestGateway;
let ghQuery: TestGateway;

before(async () => {
  up = await startUpstream();
  const dir = mkdtempSync(join(tmpdir(), 'gh-apikeys-'));
  writeFileSync(
    join(dir, 'keys.yaml'),
    `keys:\n  - hash: ${hashApiKey(FILEKEY)}\n    client_id: from-file\n    scopes: [reports:read]\n`,
  );
  const config = {
    upstreams: { app: { url: up.url } },
    api_keys: {
      file: 'keys.yaml',
      keys: [
        {
          id: 'acme-2025',
          hash: hashApiKey(ACME),
          client_id: 'acme-billing',
          name: 'ACME billing',
          scopes: ['invoices:read'],
          attributes: { tenant: 'acme' },
        },
        { hash: hashApiKey(GLOBEX), client_id: 'globex', attributes: { tenant: 'globex' } },
        { hash: hashApiKey(OLD), client_id: 'old', expires_at: '2020-01-01T00:00:00Z' },
      ],
    },
    routes: [
      {
        name: 'acme-only',
        match: { path: '/acme' },
        upstream: 'app',
        auth: 'apikey',
        rules: [{ effect: 'allow', when: { claim: { path: 'tenant', equals: 'acme' } } }],
      },
      {
        name: 'reports',
        match: { path: '/reports' },
        upstream: 'app',
        auth: 'apikey',
        rules: [{ effect: 'allow', when: { scope: 'reports:read' } }],
      },
      { name: 'any', match: { path: '/any' }, upstream: 'app', auth: 'apikey', allow: 'authenticated' },
    ],
  };
  gh = await startGatehouse(config, { baseDir: dir });
  ghQuery = await startGatehouse(
    { ...config, api_keys: { ...config.api_keys, query_param: 'api_key' } },
    { baseDir: dir },
  );
});
after(async () => {
  await gh.close();
  await ghQuery.close();
  await up.close();
});

test('hashApiKey gives the sha256:<hex> form the config expects', () => {
  assert.equal(hashApiKey('abc'), 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('a valid key authenticates as a client principal whose attributes rules can test; the key is not forwarded', async () => {
  const r = await send(gh.url, '/acme/invoices', { headers: { 'X-API-Key': ACME } });
  assert.equal(r.status, 200);
  const seen = up.received.at(-1);
  assert.equal(seen?.headers['x-api-key'], undefined, 'the upstream never sees the API key');
  const ev = gh.audit.at(-1);
  assert.equal(ev?.client_id, 'acme-billing');
  assert.equal(ev?.subject, 'acme-billing');
  assert.equal(ev?.credential_id, 'acme-2025');
  assert.equal(ev?.provider, 'apikey');
  assert.ok(!JSON.stringify(ev).includes(ACME), 'the audit event never carries the key');

  const other = await send(gh.url, '/acme/invoices', { headers: { 'X-API-Key': GLOBEX } });
  assert.equal(other.status, 403, 'a rule on the tenant attribute denies the other tenant');
});

test('keys from the keys file work, with their scopes', async () => {
  assert.equal((await send(gh.url, '/reports', { headers: { 'x-api-key': FILEKEY } })).status, 200);
  assert.equal((await send(gh.url, '/reports', { headers: { 'x-api-key': ACME } })).status, 403);
});

test('unknown, expired or duplicated keys: 401 GH_APIKEY_INVALID', async () => {
  for (const headers of [
    { 'x-api-key': 'ak_live_guess' },
    { 'x-api-key': `${ACME}x` },
    { 'x-api-key': OLD },
  ]) {
    const r = await send(gh.url, '/any', { headers });
    assert.equal(r.status, 401, JSON.stringify(headers));
    assert.equal(r.json().error, 'GH_APIKEY_INVALID');
    assert.match(String(r.headers['www-authenticate']), /^APIKey/);
  }
  const dup = await send(gh.url, '/any', {
    headers: [
      ['x-api-key', ACME],
      ['X-Api-Key', GLOBEX],
    ],
  });
  assert.equal(dup.status, 401);
  assert.equal(dup.json().error, 'GH_APIKEY_INVALID');
});

test('no key at all: 401 and nothing forwarded', async () => {
  const n = up.received.length;
  const r = await send(gh.url, '/any');
  assert.equal(r.status, 401);
  assert.equal(up.received.length, n);
});

test('the query parameter is accepted only when opted in, and removed before forwarding', async () => {
  const refused = await send(gh.url, `/any/x?api_key=${ACME}&page=2`);
  assert.equal(refused.status, 401, 'query keys are off by default');
  const ok = await send(ghQuery.url, `/any/x?api_key=${ACME}&page=2`);
  assert.equal(ok.status, 200);
  assert.equal(up.received.at(-1)?.url, '/any/x?page=2');
  const twice = await send(ghQuery.url, `/any/x?api_key=${ACME}&api_key=${GLOBEX}`);
  assert.equal(twice.status, 401);
});
