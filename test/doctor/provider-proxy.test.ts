import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { doctorJson, only, workdir } from './helpers.js';

// `gatehouse doctor` against real discovery/JWKS servers, one deliberately wrong provider
// setting per test, through the real CLI.

let idp: IdpServer;
const wd = workdir();

before(async () => {
  idp = await startIdp();
});
after(async () => {
  await idp.close();
  wd.cleanup();
});

function config(provider: Record<string, unknown>): string {
  return wd.write(`p-${Math.random().toString(36).slice(2)}.yaml`, { providers: { main: provider } });
}

test('provider.jwks: a jwks_uri that answers 404', async () => {
  const file = config({
    issuer: idp.issuer,
    audiences: ['a'],
    discovery: false,
    jwks_uri: `${idp.origin}/keys`,
  });
  const { run, report } = await doctorJson(['-c', file]);
  assert.equal(run.code, 1);
  const f = only(report, 'provider.jwks');
  assert.equal(f.severity, 'error');
  assert.equal(f.what, 'the JWKS cannot be fetched');
  assert.match(f.evidence ?? '', /GET http:\/\/127\.0\.0\.1:\d+\/keys: HTTP 404/);
});

test('the probes go through the provider outbound proxy (an IdP name only the proxy resolves)', async () => {
  const proxy = await startConnectProxy({ hosts: { 'idp.corp.test': '127.0.0.1' } });
  const corp = await startIdp({ host: 'idp.corp.test' });
  try {
    const file = config({ issuer: corp.issuer, audiences: [corp.audience], proxy: proxy.url });
    const { run, report } = await doctorJson(['-c', file, '--only', 'provider']);
    assert.equal(run.code, 0, run.stdout);
    assert.equal(only(report, 'provider.jwks').severity, 'ok');
    assert.ok(proxy.forwards.includes(corp.discoveryUrl), proxy.forwards.join(', '));
    assert.ok(proxy.forwards.includes(corp.jwksUri), 'proxy.forwards.includes(corp.jwksUri)');
  } finally {
    await corp.close();
    await proxy.close();
  }
});
