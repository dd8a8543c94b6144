import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { doctorJson, only, startOpenIdServer, workdir } from './helpers.js';

// `gatehouse doctor` against real discovery/JWKS servers, one deliberately wrong provider
// setting per test, through the real CLI.

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
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

test('a provider that lines up: every provider check ok, exit 0', async () => {
  const { run, report } = await doctorJson(['-c', config({ issuer: idp.issuer, audiences: [idp.audience] })]);
  assert.equal(run.code, 0, run.stdout);
  for (const id of [
    'provider.discovery',
    'provider.issuer',
    'provider.jwks',
    'provider.algorithms',
    'provider.clock',
  ])
    assert.equal(only(report, id).severity, 'ok', id);
  assert.equal(report.summary.errors, 0);
});

test('provider.issuer: a trailing slash is named as such, with the exact issuer to set', async () => {
  const { run, report } = await doctorJson([
    '-c',
    config({ issuer: `${idp.issuer}/`, audiences: [idp.audience] }),
  ]);
  assert.equal(run.code, 1);
  const f = only(report, 'provider.issuer');
  assert.equal(f.severity, 'error');
  assert.match(f.what, /trailing slash/);
  assert.ok(f.fix?.includes(`set providers.main.issuer: "${idp.issuer}"`), f.fix);
});

test('provider.issuer: Entra ID v1 (sts.windows.net) configured while the tenant answers v2', async () => {
  const op = await startOpenIdServer({
    issuerInDocument: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  });
  try {
    const file = config({
      issuer: `https://sts.windows.net/${TENANT}/`,
      discovery_url: op.discoveryUrl,
      preset: 'entra_v1',
      audiences: ['api://intranet'],
    });
    const { run, report } = await doctorJson(['-c', file]);
    assert.equal(run.code, 1);
    const f = only(report, 'provider.issuer');
    assert.match(f.what, /Entra ID v1 issuer configured, the IdP says v2/);
    assert.match(f.fix ?? '', /accessTokenAcceptedVersion/);
  } finally {
    await op.close();
  }
});

test('provider.issuer: an Entra tenant name where the issuer carries the tenant id', async () => {
  const op = await startOpenIdServer({
    issuerInDocument: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  });
  try {
    const file = config({
      issuer: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0',
      discovery_url: op.discoveryUrl,
      preset: 'entra',
      audiences: ['api://intranet'],
    });
    const { report } = await doctorJson(['-c', file]);
    const f = only(report, 'provider.issuer');
    assert.match(
      f.what,
      /tenant name "contoso\.onmicrosoft\.com" configured where Entra ID puts the tenant id/,
    );
    assert.ok(
      f.fix?.includes(`https://login.microsoftonline.com/${TENANT}/v2.0`),
      'f.fix?.includes(`https://login.microsoftonline.com/${TENANT}/v2.0`)',
    );
  } finally {
    await op.close();
  }
});
