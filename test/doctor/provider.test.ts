import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { startIdp, type IdpServer } from '../helpers/idp-server.js';
import { closedPort, doctorJson, only, startOpenIdServer, workdir } from './helpers.js';

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
    assert.ok(f.fix?.includes(`https://login.microsoftonline.com/${TENANT}/v2.0`));
  } finally {
    await op.close();
  }
});

test('provider.discovery: nothing listening at the issuer is an error naming the connection failure', async () => {
  const port = await closedPort();
  const { run, report } = await doctorJson([
    '-c',
    config({ issuer: `http://127.0.0.1:${port}`, audiences: ['a'] }),
  ]);
  assert.equal(run.code, 1);
  const f = only(report, 'provider.discovery');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /ECONNREFUSED/);
  assert.match(f.fix ?? '', /cannot be reached/);
});

test('provider.discovery: an IdP outage (503) is reported as the IdP being down', async () => {
  idp.outage = '503';
  try {
    const { report } = await doctorJson(['-c', config({ issuer: idp.issuer, audiences: [idp.audience] })]);
    const f = only(report, 'provider.discovery');
    assert.match(f.evidence ?? '', /HTTP 503/);
    assert.match(f.fix ?? '', /down or overloaded/);
  } finally {
    idp.outage = 'none';
  }
});

test('provider.discovery: an IdP that never answers is cut off by --timeout', async () => {
  idp.outage = 'hang';
  try {
    const started = Date.now();
    const { report } = await doctorJson([
      '-c',
      config({ issuer: idp.issuer, audiences: ['a'] }),
      '--timeout',
      '300ms',
    ]);
    const f = only(report, 'provider.discovery');
    assert.match(f.evidence ?? '', /no answer within 300 ms/);
    assert.ok(Date.now() - started < 20_000);
  } finally {
    idp.outage = 'none';
  }
});

test('provider.jwks_key: an RSA key under 2048 bits is unusable', async () => {
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
  const op = await startOpenIdServer({ extraJwks: [{ ...weak, kid: 'weak-1', alg: 'RS256', use: 'sig' }] });
  try {
    const { report } = await doctorJson(['-c', config({ issuer: op.origin, audiences: ['a'] })]);
    const f = only(report, 'provider.jwks_key');
    assert.equal(f.severity, 'error');
    assert.match(f.evidence ?? '', /weak-1: .*2048/);
    assert.equal(only(report, 'provider.jwks').severity, 'ok', 'the other key still verifies');
  } finally {
    await op.close();
  }
});

test('provider.jwks_key: an encryption key (use=enc) is flagged', async () => {
  const enc = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  const op = await startOpenIdServer({ extraJwks: [{ ...enc, kid: 'enc-1', use: 'enc', alg: 'RSA-OAEP' }] });
  try {
    const { report } = await doctorJson(['-c', config({ issuer: op.origin, audiences: ['a'] })]);
    const f = only(report, 'provider.jwks_key');
    assert.equal(f.severity, 'warning');
    assert.match(f.what, /enc-1 is an encryption key \(use=enc\)/);
  } finally {
    await op.close();
  }
});

test('provider.algorithms: the IdP signs with RS256, the provider allows only ES256', async () => {
  const { run, report } = await doctorJson([
    '-c',
    config({ issuer: idp.issuer, audiences: ['a'], algorithms: ['ES256'] }),
  ]);
  assert.equal(run.code, 1);
  const f = only(report, 'provider.algorithms');
  assert.equal(f.severity, 'error');
  assert.match(f.evidence ?? '', /offered: RS256 .*allowed: ES256/);
  assert.match(f.fix ?? '', /algorithms to include RS256/);
});

test('provider.clock: an IdP clock 5 minutes ahead exceeds clock_skew 1m', async () => {
  const op = await startOpenIdServer({ dateOffsetMs: 5 * 60_000 });
  try {
    const { run, report } = await doctorJson([
      '-c',
      config({ issuer: op.origin, audiences: ['a'], clock_skew: '1m' }),
    ]);
    assert.equal(run.code, 1);
    const f = only(report, 'provider.clock');
    assert.equal(f.severity, 'error');
    assert.match(f.evidence ?? '', /this machine is 5 min( \d+ s)? behind the IdP/);
    assert.match(f.what, /not yet valid/);
  } finally {
    await op.close();
  }
});
